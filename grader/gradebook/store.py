"""The gradebook: students, exercises, submissions, gradings and overrides in one database.

SQLAlchemy 2.x; a SQLite file by default, any SQLAlchemy URL (PostgreSQL is tested). The tables are
`grader.gradebook.models`; the schema is made and evolved only by the Alembic migrations in
`grader/gradebook/migrations` (`Gradebook.upgrade`, run by every open). The coordinator of a batch
is the only writer. A grading is keyed by "submission sha256 : exercise hash : grader version"
(unique), and each `record_grading` (or `record_gradings`, a group of them) is one transaction: a
batch killed between two commits keeps every grading it committed, and a key recorded twice is one
row whose `attempts` counts the tries.

Gradings are shared by content: two submissions with the same sha256 for the same exercise (two
learners handing in the untouched template, or one learner handing in the same files twice) have
the same key, so one grading row serves them all. Reads join gradings to submissions by
(exercise, sha256), never by the submission id the row was recorded for.

Reads return typed rows (`grader.gradebook.rows`). Two rules live here and nowhere else: the
submission that counts (`counting_submissions`: the one collected last) and the late factor's
application (`grade_rows`: stored once at collect time, applied to the grading's score, never to an
override). One module because every read and write shares the session handling and those two rules
(about 520 lines). The dict-returning reads (`grades`, `gradings`, `submissions`, `latest_submission`,
`overrides`) are plain-dict views of those same typed rows, for JSON output and scripts: they
decide nothing themselves.
"""

from __future__ import annotations

import json
import math
import os
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Iterator

from sqlalchemy import and_, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from grader.clock import as_utc, now_utc
from grader.gradebook.database import (MIGRATIONS, GradebookError, alembic_config, check_sqlite_file, first_line,
                                       make_engine, parse_url, revision, upgrade)
from grader.gradebook.models import Base, ExerciseRecord, Grading, Override, Student, Submission, UTCDateTime
from grader.gradebook.rows import (STORED_STATES, GradeRow, GradingFault, GradingRow, GradingState, OverrideRow,
                                   SubmissionRow, late_score)
from grader.grading.result import Result

STATUSES = tuple(s.value for s in STORED_STATES)
FAULTS = tuple(f.value for f in GradingFault)
MAX_ERROR = 20_000  # characters of a grading's error kept in the gradebook


def _utc(value: datetime | str) -> datetime:
    try:
        return as_utc(value)
    except (TypeError, ValueError):
        raise GradebookError(f"{value!r} is not a date and time; give a datetime or an ISO 8601 string") from None


def _row(obj: Base) -> dict:
    return {c.key: getattr(obj, c.key) for c in inspect(obj).mapper.column_attrs}


class Gradebook:
    """One gradebook database. `Gradebook(url)` (or `Gradebook.open(url)`) connects and migrates it
    to the newest schema; `url` is a SQLAlchemy URL or a plain file path (a SQLite file)."""

    def __init__(self, url: str | os.PathLike):
        self.url, self.where = parse_url(url)
        self.engine = make_engine(self.url, self.where)
        self._Session = sessionmaker(self.engine, expire_on_commit=False)
        self._local = threading.local()  # the session of an open `transaction()`, per thread
        try:
            check_sqlite_file(self.url, self.where)
            self.upgrade()
        except BaseException:
            self.engine.dispose()
            raise

    @classmethod
    def open(cls, url: str | os.PathLike) -> "Gradebook":
        return cls(url)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Gradebook({self.where!r})"

    def upgrade(self) -> None:
        """Migrate the database to the newest schema (Alembic `upgrade head`); idempotent."""
        upgrade(self.engine, self.url, self.where)

    def revision(self) -> str | None:
        """The schema revision the database is at."""
        return revision(self.engine)

    # -- sessions -----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator["Gradebook"]:
        """Group calls into one transaction: all of them are committed, or none if the block raises."""
        if self._active is not None:
            yield self
            return
        with self._Session() as session, session.begin():
            self._local.session = session
            try:
                yield self
            finally:
                self._local.session = None

    @property
    def _active(self) -> Session | None:
        return getattr(self._local, "session", None)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        if self._active is not None:
            yield self._active
            return
        try:
            with self._Session() as session, session.begin():
                yield session
        except GradebookError:
            raise
        except SQLAlchemyError as err:
            raise GradebookError(f"the gradebook {self.where} failed: {first_line(err)}; "
                                 f"nothing of this change was written") from err

    # -- students and exercises -----------------------------------------------------------------

    def add_student(self, student_id: str, name: str | None = None) -> None:
        """Add a learner; adding one again changes nothing (but a new non-empty name)."""
        if not isinstance(student_id, str) or not 0 < len(student_id) <= 200:
            raise GradebookError(f"a student id must be a string of 1 to 200 characters, not {student_id!r}")
        with self._session() as s:
            row = s.get(Student, student_id)
            if row is None:
                s.add(Student(id=student_id, name=_fit(name, 400), created_at=now_utc()))
            elif name and row.name != _fit(name, 400):
                row.name = _fit(name, 400)

    def students(self) -> list[dict]:
        """Every learner: id, name, created_at."""
        with self._session() as s:
            return [_row(r) for r in s.scalars(select(Student).order_by(Student.id))]

    def upsert_exercise(self, exercise_id: str, title: str, content_hash: str) -> None:
        """Add an exercise or bring its title and content hash up to date."""
        if not isinstance(exercise_id, str) or not 0 < len(exercise_id) <= 200:
            raise GradebookError(f"an exercise id must be a string of 1 to 200 characters, not {exercise_id!r}")
        title = _fit(title, 400)
        with self._session() as s:
            row = s.get(ExerciseRecord, exercise_id)
            if row is None:
                s.add(ExerciseRecord(id=exercise_id, title=title, content_hash=content_hash, updated_at=now_utc()))
            elif (row.title, row.content_hash) != (title, content_hash):
                row.title, row.content_hash, row.updated_at = title, content_hash, now_utc()

    def exercises(self) -> list[dict]:
        """Every exercise: id, title, content_hash, updated_at."""
        with self._session() as s:
            return [_row(r) for r in s.scalars(select(ExerciseRecord).order_by(ExerciseRecord.id))]

    def _require(self, s: Session, student_id: str, exercise_id: str) -> None:
        if s.get(Student, student_id) is None:
            known = list(s.scalars(select(Student.id).order_by(Student.id).limit(9)))
            raise GradebookError(f"unknown student {student_id!r}; the gradebook knows "
                                 f"{_listing(known)}; `dlgrade grades` lists them all")
        if s.get(ExerciseRecord, exercise_id) is None:
            known = list(s.scalars(select(ExerciseRecord.id).order_by(ExerciseRecord.id).limit(9)))
            raise GradebookError(f"unknown exercise {exercise_id!r}; the gradebook knows "
                                 f"{_listing(known)}; `dlgrade grades` lists them all")

    # -- submissions ----------------------------------------------------------------------------

    def add_submission(self, student_id: str, exercise_id: str, sha256: str, submitted_at: datetime | str,
                       path: str | os.PathLike, late: bool = False, late_days: float = 0.0,
                       late_factor: float = 1.0) -> int:
        """Record a collected submission and return its id. `late_factor` is the collect-time
        decision of the late policy (`grader.course.late`), stored once and applied by `grade_rows`.
        The same (student, exercise, sha256, submitted_at) again returns the existing id and changes
        nothing, but records the factor of a submission stored before the gradebook kept it."""
        when = _utc(submitted_at)
        factor = _factor(late_factor)
        with self._session() as s:
            self._require(s, student_id, exercise_id)
            found = s.scalar(select(Submission).where(
                Submission.student_id == student_id, Submission.exercise_id == exercise_id,
                Submission.sha256 == sha256, Submission.submitted_at == when))
            if found is not None:
                if found.late_factor is None:
                    found.late_factor = factor
                return found.id
            row = Submission(student_id=student_id, exercise_id=exercise_id, sha256=sha256, submitted_at=when,
                             collected_at=now_utc(), late=bool(late), late_days=float(late_days),
                             late_factor=factor, path=str(path))
            s.add(row)
            s.flush()
            return row.id

    @staticmethod
    def _submissions_query(student_id: str | None, exercise_id: str | None):
        query = select(Submission).order_by(Submission.collected_at, Submission.id)
        if student_id is not None:
            query = query.where(Submission.student_id == student_id)
        if exercise_id is not None:
            query = query.where(Submission.exercise_id == exercise_id)
        return query

    def submission_rows(self, student: str | None = None, exercise: str | None = None) -> list[SubmissionRow]:
        """Submissions (all, or one learner's / one exercise's), oldest collected first."""
        with self._session() as s:
            return [_submission_row(r) for r in s.scalars(self._submissions_query(student, exercise))]

    @staticmethod
    def _counting(s: Session, student: str | None = None, exercise: str | None = None
                  ) -> dict[tuple[str, str], Submission]:
        """THE rule of the submission that counts for each (student, exercise): the one collected
        last (ties: the one added last). `counting_submissions` and `grade_rows` use it."""
        counting: dict[tuple[str, str], Submission] = {}
        for sub in s.scalars(Gradebook._submissions_query(student, exercise)):
            counting[(sub.student_id, sub.exercise_id)] = sub
        return counting

    def counting_submissions(self, student: str | None = None, exercise: str | None = None) -> list[SubmissionRow]:
        """The submission that counts for each (student, exercise) (all, or one learner's / one
        exercise's), sorted by (student, exercise): the one collected last. Batches grade these;
        grade rows and reports show these."""
        with self._session() as s:
            counting = self._counting(s, student, exercise)
            return [_submission_row(counting[pair]) for pair in sorted(counting)]

    def submissions(self, student_id: str | None = None, exercise_id: str | None = None) -> list[dict]:
        """`submission_rows` as dicts."""
        return [r.as_dict() for r in self.submission_rows(student_id, exercise_id)]

    def latest_submission(self, student_id: str, exercise_id: str) -> dict | None:
        """The submission that counts (`counting_submissions`), as a dict."""
        rows = self.counting_submissions(student_id, exercise_id)
        return rows[0].as_dict() if rows else None

    # -- gradings -------------------------------------------------------------------------------

    @staticmethod
    def grading_key(sha256: str, exercise_hash: str, grader_version: str) -> str:
        """The identity of a grading: the same submission, exercise and grader grade alike."""
        return f"{sha256}:{exercise_hash}:{grader_version}"

    def find_grading(self, key: str) -> dict | None:
        """The stored grading for `key` if it was graded (failed and crashed ones do not count)."""
        with self._session() as s:
            row = s.scalar(select(Grading).where(Grading.key == key, Grading.status == GradingState.GRADED.value))
            if row is None:
                return None
            data = _row(row)
            data["result_json"] = json.loads(row.result_json) if row.result_json else None
            return data

    def record_grading(self, submission_id: int, key: str, exercise_hash: str, grader_version: str,
                       result_json: dict | None, status: str | GradingState, device: str | None,
                       backend: str | None, duration_s: float | None, error: str | None = None,
                       fault: str | GradingFault | None = None) -> int:
        """Store one grading's outcome in one transaction and return its id. A key recorded again
        updates its row (attempts + 1): a grading is never counted twice. `result_json` is
        `Result.to_json()` (a Result is accepted too); score and max_score come from it, and only a
        graded grading has a score (a failed one keeps its result for the instructor, never a 0).
        `status` is a stored GradingState; `fault` (a GradingFault) says why a failed grading failed.
        Only graded ones are cached."""
        return self.record_gradings([GradingRecord(submission_id, key, exercise_hash, grader_version, result_json,
                                                   status, device, backend, duration_s, error, fault)])[0]

    def record_gradings(self, records: list["GradingRecord"]) -> list[int]:
        """Store several gradings in ONE transaction (all of them, or none if any is refused) and
        return their ids in order; each is stored as `record_grading` stores one. A batch's
        coordinator records its results this way, and records them one by one when a group fails,
        so that a refused row fails alone."""
        values = [_grading_values(r) for r in records]  # every record is checked before anything is written
        with self._session() as s:
            ids = {v["submission_id"] for v in values}
            known = set(s.scalars(select(Submission.id).where(Submission.id.in_(ids)))) if ids else set()
            for missing in sorted(ids - known):
                raise GradebookError(f"no submission {missing} in {self.where}; "
                                     f"record the submission (add_submission) before its grading")
            return [_upsert_grading(s, v) for v in values]

    def grading_rows(self, student: str | None = None, exercise: str | None = None) -> list[GradingRow]:
        """The gradings that apply to submissions (all, or one learner's / one exercise's): one row
        per (submission, grading of its content), oldest first."""
        same = Submission.__table__.alias("same_content")  # submissions with the same content
        query = (select(Submission, Grading)
                 .join(same, and_(same.c.exercise_id == Submission.exercise_id, same.c.sha256 == Submission.sha256))
                 .join(Grading, Grading.submission_id == same.c.id)
                 .order_by(Submission.student_id, Submission.exercise_id, Grading.created_at, Grading.id))
        if student is not None:
            query = query.where(Submission.student_id == student)
        if exercise is not None:
            query = query.where(Submission.exercise_id == exercise)
        with self._session() as s:
            return [_grading_row(sub, grading) for sub, grading in s.execute(query)]

    def gradings(self, student_id: str | None = None, exercise_id: str | None = None) -> list[dict]:
        """`grading_rows` as dicts, plus `id` (= grading_id) and `result` (a
        `grader.grading.result.Result`, or None when the grading is not a grade)."""
        out = []
        for row in self.grading_rows(student_id, exercise_id):
            data = asdict(row)
            data.update(id=row.grading_id, status=row.status.value, fault=row.fault.value if row.fault else None,
                        result=Result.from_json(row.result_json) if row.result_json and row.is_grade else None)
            out.append(data)
        return out

    # -- overrides and grades -------------------------------------------------------------------

    def override(self, student_id: str, exercise_id: str, score: float, reason: str, who: str) -> int:
        """Set a learner's score for an exercise by hand; the latest override counts and the earlier
        ones stay as history. Returns the override's id."""
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score) or score < 0:
            raise GradebookError(f"an override score must be a number >= 0, not {score!r}")
        with self._session() as s:
            self._require(s, student_id, exercise_id)
            row = Override(student_id=student_id, exercise_id=exercise_id, score=float(score),
                           reason=_fit(reason or "", MAX_ERROR), who=_fit(who or "", 200), created_at=now_utc())
            s.add(row)
            s.flush()
            return row.id

    def override_rows(self, student: str | None = None, exercise: str | None = None) -> list[OverrideRow]:
        """Every override (the history), oldest first."""
        query = select(Override).order_by(Override.id)
        if student is not None:
            query = query.where(Override.student_id == student)
        if exercise is not None:
            query = query.where(Override.exercise_id == exercise)
        with self._session() as s:
            return [OverrideRow(**_row(r)) for r in s.scalars(query)]

    def overrides(self, student_id: str | None = None, exercise_id: str | None = None) -> list[dict]:
        """`override_rows` as dicts."""
        return [asdict(r) for r in self.override_rows(student_id, exercise_id)]

    def grade_rows(self) -> list[GradeRow]:
        """One row per (student, exercise) with a collected submission, sorted: the counting
        submission's latest grading, its late factor applied to the grading's score (never to an
        override), and the latest override. See `GradeRow`."""
        with self._session() as s:
            counting = self._counting(s)
            latest_grading: dict[tuple[str, str], Grading] = {}  # (exercise, sha256) -> newest grading
            for ex_id, sha, grading in s.execute(
                    select(Submission.exercise_id, Submission.sha256, Grading)
                    .join(Grading, Grading.submission_id == Submission.id)
                    .order_by(Grading.created_at, Grading.id)):
                latest_grading[(ex_id, sha)] = grading
            latest_override = {(o.student_id, o.exercise_id): o
                               for o in s.scalars(select(Override).order_by(Override.id))}
        rows = []
        for (student, exercise), sub in sorted(counting.items()):
            grading = latest_grading.get((exercise, sub.sha256))
            over = latest_override.get((student, exercise))
            status = GradingState(grading.status) if grading is not None else GradingState.PENDING
            auto = grading.score if status is GradingState.GRADED else None
            factor = sub.late_factor if sub.late else 1.0  # an on-time submission is never penalized
            score = over.score if over is not None else late_score(auto, factor)
            rows.append(GradeRow(
                student=student, exercise=exercise, status=status, score=score,
                max_score=grading.max_score if grading is not None else None, auto_score=auto,
                late=bool(sub.late), late_days=float(sub.late_days or 0.0), late_factor=factor,
                overridden=over is not None, override_reason=over.reason if over is not None else None,
                graded_at=grading.created_at if grading is not None else None,
                submission_id=sub.id, sha256=sub.sha256, grading_id=grading.id if grading is not None else None,
                fault=GradingFault(grading.fault) if grading is not None and grading.fault else None,
                error=grading.error if grading is not None and status is not GradingState.GRADED else None))
        return rows

    def grades(self) -> list[dict]:
        """`grade_rows` as plain dicts (late factor applied), for JSON output: student, exercise, score,
        max_score, late, late_days, overridden, override_reason, status, graded_at, submission_id,
        sha256, auto_score, fault, error."""
        keys = ("student", "exercise", "score", "max_score", "late", "late_days", "overridden", "override_reason",
                "status", "graded_at", "submission_id", "sha256", "auto_score", "fault", "error")
        out = []
        for row in self.grade_rows():
            data = {k: getattr(row, k) for k in keys}
            data.update(status=row.status.value, fault=row.fault.value if row.fault else None)
            out.append(data)
        return out

    def grades_matrix(self) -> dict[str, dict[str, float | None]]:
        """{student: {exercise: score}} over every student and exercise (late factor applied); None
        where nothing counts."""
        matrix = {st["id"]: {ex["id"]: None for ex in self.exercises()} for st in self.students()}
        for row in self.grade_rows():
            matrix.setdefault(row.student, {})[row.exercise] = row.score
        return matrix


@dataclass(frozen=True)
class GradingRecord:
    """One grading's outcome to store (`Gradebook.record_gradings`); the fields are
    `record_grading`'s arguments."""

    submission_id: int
    key: str
    exercise_hash: str
    grader_version: str
    result_json: dict | None
    status: str | GradingState
    device: str | None = None
    backend: str | None = None
    duration_s: float | None = None
    error: str | None = None
    fault: str | GradingFault | None = None


def _grading_values(r: GradingRecord) -> dict:
    """The gradings row of a record, checked (GradebookError naming what is wrong)."""
    if r.status not in STATUSES:
        raise GradebookError(f"grading status {r.status!r} is not one of {', '.join(STATUSES)}")
    if r.fault is not None and r.fault not in FAULTS:
        raise GradebookError(f"grading fault {r.fault!r} is not one of {', '.join(FAULTS)}")
    status = GradingState(r.status)
    if status is GradingState.GRADED and r.fault is not None:
        raise GradebookError(f"a graded grading has no fault (got {r.fault!r}); record it as failed")
    result_json = r.result_json.to_json() if hasattr(r.result_json, "to_json") else r.result_json
    if status is GradingState.GRADED and not isinstance(result_json, dict):
        raise GradebookError("a grading with status 'graded' needs its Result JSON")
    return dict(submission_id=r.submission_id, key=r.key, exercise_hash=r.exercise_hash,
                grader_version=r.grader_version, status=status.value,
                score=_number(result_json, "score") if status is GradingState.GRADED else None,
                max_score=_number(result_json, "max_score"),
                result_json=json.dumps(result_json, ensure_ascii=True) if result_json is not None else None,
                device=_fit(r.device, 200), backend=_fit(r.backend, 200),
                duration_s=float(r.duration_s) if r.duration_s is not None else None,
                error=_fit(r.error, MAX_ERROR), fault=GradingFault(r.fault).value if r.fault is not None else None,
                created_at=now_utc())


def _upsert_grading(s: Session, values: dict) -> int:
    """Insert a grading, or update the row of its key (attempts + 1); returns the row's id."""
    dialect = s.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        stmt = insert(Grading).values(**values, attempts=1)
        update = {k: stmt.excluded[k] for k in values if k != "key"}
        stmt = stmt.on_conflict_do_update(index_elements=[Grading.key],
                                          set_={**update, "attempts": Grading.attempts + 1})
        return s.scalar(stmt.returning(Grading.id))
    row = s.scalar(select(Grading).where(Grading.key == values["key"]).with_for_update())
    if row is None:
        row = Grading(**values, attempts=1)
        s.add(row)
    else:
        for k, v in values.items():
            setattr(row, k, v)
        row.attempts += 1
    s.flush()
    return row.id


def _listing(ids: list[str]) -> str:
    if not ids:
        return "none yet"
    return ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")


def _fit(value: str | None, limit: int) -> str | None:
    """`value` cleaned (no control character: PostgreSQL refuses NUL) and cut to fit a column of
    `limit` characters, so no value from a grading can overflow one."""
    if value is None:
        return None
    from grader.sandbox.inside.wire import clean_text  # wire loads numpy: only when a value is written
    return clean_text(value, limit)


def _factor(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise GradebookError(f"a late factor is a number from 0 to 1, not {value!r}; it comes from the course's "
                             "late policy (grader.course.late)")
    return float(value)


def _number(result_json: dict | None, field: str) -> float | None:
    value = (result_json or {}).get(field)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _submission_row(sub: Submission) -> SubmissionRow:
    return SubmissionRow(id=sub.id, student_id=sub.student_id, exercise_id=sub.exercise_id, sha256=sub.sha256,
                         submitted_at=sub.submitted_at, collected_at=sub.collected_at, late=bool(sub.late),
                         late_days=float(sub.late_days or 0.0),
                         late_factor=sub.late_factor if sub.late else 1.0, path=sub.path)


def _grading_row(sub: Submission, g: Grading) -> GradingRow:
    return GradingRow(grading_id=g.id, submission_id=sub.id, recorded_for=g.submission_id,
                      student_id=sub.student_id, exercise_id=sub.exercise_id, sha256=sub.sha256, key=g.key,
                      exercise_hash=g.exercise_hash, grader_version=g.grader_version, status=GradingState(g.status),
                      score=g.score, max_score=g.max_score,
                      result_json=json.loads(g.result_json) if g.result_json else None, device=g.device,
                      backend=g.backend, duration_s=g.duration_s, attempts=g.attempts, error=g.error,
                      created_at=g.created_at, fault=GradingFault(g.fault) if g.fault else None)


__all__ = ["Gradebook", "GradingRecord", "GradebookError", "STATUSES", "FAULTS", "MIGRATIONS", "alembic_config",
           "Base", "UTCDateTime", "GradeRow", "GradingRow", "SubmissionRow", "OverrideRow", "GradingState",
           "GradingFault"]
