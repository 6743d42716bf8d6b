"""The gradebook: students, exercises, submissions, gradings and overrides in one database.

SQLAlchemy 2.x; a SQLite file by default, any SQLAlchemy URL (PostgreSQL is tested). The schema is
made and evolved only by the Alembic migrations in `grader/gradebook/migrations` (`Gradebook.upgrade`, run by
every open). The coordinator of a batch is the only writer. A grading is keyed by
"submission sha256 : exercise hash : grader version" (unique), and each `record_grading` is one
transaction: a batch killed between two gradings keeps every grading it committed, and a key
recorded twice is one row whose `attempts` counts the tries.

Gradings are shared by content: two submissions with the same sha256 for the same exercise (two
learners handing in the untouched template, or one learner handing in the same files twice) have
the same key, so one grading row serves them all. Reads join gradings to submissions by
(exercise, sha256), never by the submission id the row was recorded for.
"""

from __future__ import annotations

import json
import math
import os
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import (Boolean, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, MetaData,
                        String, Text, TypeDecorator, UniqueConstraint, and_, create_engine, event, inspect, select)
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
STATUSES = ("graded", "failed", "crashed")
# Why a failed grading is not a grade: the grader, the machine or the sandbox failed (retried and
# graded again by the next autograde); the submission itself cannot be graded (its files); the
# gradebook could not store the grading.
FAULTS = ("grader_fault", "submission", "database")
CONNECT_TIMEOUT_S = 5  # PostgreSQL: how long an unreachable server may keep `open` waiting
SQLITE_BUSY_MS = 30_000
SQLITE_MAGIC = b"SQLite format 3\x00"


class GradebookError(Exception):
    """A problem the user can act on; the message is one line that says what to do."""


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | str) -> datetime:
    """An aware UTC datetime from a datetime (naive = UTC) or an ISO 8601 string."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        raise GradebookError(f"{value!r} is not a date and time; give a datetime or an ISO 8601 string")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and read back as an aware UTC datetime on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = _utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """The models. Constraint names follow one convention, so every database names them alike."""

    metadata = MetaData(naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class Student(Base):
    __tablename__ = "students"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


class Exercise(Base):
    __tablename__ = "exercises"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(String(400))
    content_hash: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("student_id", "exercise_id", "sha256", "submitted_at"),
                      Index(None, "exercise_id", "sha256"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"))
    exercise_id: Mapped[str] = mapped_column(ForeignKey("exercises.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    late_days: Mapped[float] = mapped_column(Float, default=0.0)
    path: Mapped[str] = mapped_column(Text)


class Grading(Base):
    __tablename__ = "gradings"
    __table_args__ = (CheckConstraint("status IN ('graded', 'failed', 'crashed')", name="status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    exercise_hash: Mapped[str] = mapped_column(String(128))
    grader_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    result_json: Mapped[str | None] = mapped_column(Text)
    device: Mapped[str | None] = mapped_column(String(200))
    backend: Mapped[str | None] = mapped_column(String(200))
    duration_s: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)  # when this result was recorded
    fault: Mapped[str | None] = mapped_column(String(32))  # one of FAULTS for a failed grading


class Override(Base):
    __tablename__ = "overrides"
    __table_args__ = (Index(None, "student_id", "exercise_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"))
    exercise_id: Mapped[str] = mapped_column(ForeignKey("exercises.id"))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


def _row(obj: Base) -> dict:
    return {c.key: getattr(obj, c.key) for c in inspect(obj).mapper.column_attrs}


def _first_line(err: BaseException) -> str:
    orig = getattr(err, "orig", None) or err
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


class Gradebook:
    """One gradebook database. `Gradebook(url)` (or `Gradebook.open(url)`) connects and migrates it
    to the newest schema; `url` is a SQLAlchemy URL or a plain file path (a SQLite file)."""

    def __init__(self, url: str | os.PathLike):
        self.url, self.where = self._parse(url)
        self.engine = self._make_engine()
        self._Session = sessionmaker(self.engine, expire_on_commit=False)
        self._local = threading.local()  # the session of an open `transaction()`, per thread
        try:
            self._check_sqlite_file()
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

    # -- opening ------------------------------------------------------------------------------

    @staticmethod
    def _parse(url: str | os.PathLike) -> tuple[URL, str]:
        text = os.fspath(url)
        if "://" not in text:
            path = Path(text).expanduser().resolve()
            return make_url(f"sqlite:///{path}"), str(path)
        try:
            parsed = make_url(text)
        except ArgumentError as err:
            raise GradebookError(f"{text} is not a database URL or a file path ({err}); "
                                 f"point --db at a file or a URL such as postgresql+psycopg://host/db") from None
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            return parsed, str(Path(parsed.database).expanduser().resolve())
        return parsed, parsed.render_as_string(hide_password=True)

    def _fail(self, why: str) -> GradebookError:
        return GradebookError(f"{self.where} is not a dlgrade gradebook / cannot be reached: {why}; "
                              f"restore it from a backup or point --db at another file")

    def _make_engine(self) -> Engine:
        backend = self.url.get_backend_name()
        args: dict[str, Any] = {}
        if backend == "sqlite":
            args["connect_args"] = {"timeout": SQLITE_BUSY_MS / 1000}
        elif backend == "postgresql":
            args["pool_pre_ping"] = True
            if "connect_timeout" not in self.url.query:
                args["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
        try:
            engine = create_engine(self.url, **args)
        except (ArgumentError, ImportError, SQLAlchemyError) as err:
            raise self._fail(f"{type(err).__name__}: {_first_line(err)}") from None
        if backend == "sqlite":
            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):
                cur = dbapi_conn.cursor()
                cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
                cur.execute("PRAGMA foreign_keys = ON")
                cur.close()
        return engine

    def _check_sqlite_file(self) -> None:
        """Refuse a file that is not SQLite before SQLite touches it (so nothing is written)."""
        if self.url.get_backend_name() != "sqlite" or self.url.database in (None, "", ":memory:"):
            return
        path = Path(self.where)
        if path.is_dir():
            raise self._fail("it is a directory")
        if path.is_file() and path.stat().st_size:
            with path.open("rb") as fh:
                if fh.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
                    raise self._fail("the file is not a SQLite database")
        elif not path.parent.is_dir():
            raise self._fail(f"the folder {path.parent} does not exist")

    def upgrade(self) -> None:
        """Migrate the database to the newest schema (Alembic `upgrade head`); idempotent."""
        from alembic import command
        from alembic.util.exc import CommandError

        cfg = alembic_config()
        try:
            with self.engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
                if tables and "alembic_version" not in tables:
                    raise self._fail(f"it holds other tables ({', '.join(sorted(tables)[:5])})")
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            if self.url.get_backend_name() == "sqlite" and self.url.database not in (None, "", ":memory:"):
                with self.engine.connect() as conn:  # WAL is a property of the file: set once it is ours
                    conn.exec_driver_sql("PRAGMA journal_mode = WAL")
        except CommandError as err:
            raise GradebookError(f"{self.where} was migrated by a newer dlgrade ({err}); "
                                 f"upgrade dlgrade or point --db at another file") from None
        except SQLAlchemyError as err:
            raise self._fail(_first_line(err)) from None

    def revision(self) -> str | None:
        """The schema revision the database is at."""
        from alembic.migration import MigrationContext
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

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
            raise GradebookError(f"the gradebook {self.where} failed: {_first_line(err)}; "
                                 f"nothing of this change was written") from err

    # -- students and exercises -----------------------------------------------------------------

    def add_student(self, student_id: str, name: str | None = None) -> None:
        """Add a learner; adding one again changes nothing (but a new non-empty name)."""
        if not isinstance(student_id, str) or not 0 < len(student_id) <= 200:
            raise GradebookError(f"a student id must be a string of 1 to 200 characters, not {student_id!r}")
        with self._session() as s:
            row = s.get(Student, student_id)
            if row is None:
                s.add(Student(id=student_id, name=_fit(name, 400), created_at=_now()))
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
            row = s.get(Exercise, exercise_id)
            if row is None:
                s.add(Exercise(id=exercise_id, title=title, content_hash=content_hash, updated_at=_now()))
            elif (row.title, row.content_hash) != (title, content_hash):
                row.title, row.content_hash, row.updated_at = title, content_hash, _now()

    def exercises(self) -> list[dict]:
        """Every exercise: id, title, content_hash, updated_at."""
        with self._session() as s:
            return [_row(r) for r in s.scalars(select(Exercise).order_by(Exercise.id))]

    def _require(self, s: Session, student_id: str, exercise_id: str) -> None:
        if s.get(Student, student_id) is None:
            known = list(s.scalars(select(Student.id).order_by(Student.id).limit(9)))
            raise GradebookError(f"unknown student {student_id!r}; the gradebook knows "
                                 f"{_listing(known)}; `dlgrade grades` lists them all")
        if s.get(Exercise, exercise_id) is None:
            known = list(s.scalars(select(Exercise.id).order_by(Exercise.id).limit(9)))
            raise GradebookError(f"unknown exercise {exercise_id!r}; the gradebook knows "
                                 f"{_listing(known)}; `dlgrade grades` lists them all")

    # -- submissions ----------------------------------------------------------------------------

    def add_submission(self, student_id: str, exercise_id: str, sha256: str, submitted_at: datetime | str,
                       path: str | os.PathLike, late: bool = False, late_days: float = 0.0) -> int:
        """Record a collected submission and return its id; the same (student, exercise, sha256,
        submitted_at) again returns the existing id and changes nothing."""
        when = _utc(submitted_at)
        with self._session() as s:
            self._require(s, student_id, exercise_id)
            found = s.scalar(select(Submission.id).where(
                Submission.student_id == student_id, Submission.exercise_id == exercise_id,
                Submission.sha256 == sha256, Submission.submitted_at == when))
            if found is not None:
                return found
            row = Submission(student_id=student_id, exercise_id=exercise_id, sha256=sha256, submitted_at=when,
                             collected_at=_now(), late=bool(late), late_days=float(late_days), path=str(path))
            s.add(row)
            s.flush()
            return row.id

    def submissions(self, student_id: str | None = None, exercise_id: str | None = None) -> list[dict]:
        """Submissions (all, or one learner's / one exercise's), oldest collected first."""
        query = select(Submission).order_by(Submission.collected_at, Submission.id)
        if student_id is not None:
            query = query.where(Submission.student_id == student_id)
        if exercise_id is not None:
            query = query.where(Submission.exercise_id == exercise_id)
        with self._session() as s:
            return [_row(r) for r in s.scalars(query)]

    def latest_submission(self, student_id: str, exercise_id: str) -> dict | None:
        """The submission that counts: the one collected last (ties: the one added last)."""
        subs = self.submissions(student_id, exercise_id)
        return subs[-1] if subs else None

    # -- gradings -------------------------------------------------------------------------------

    @staticmethod
    def grading_key(sha256: str, exercise_hash: str, grader_version: str) -> str:
        """The identity of a grading: the same submission, exercise and grader grade alike."""
        return f"{sha256}:{exercise_hash}:{grader_version}"

    def find_grading(self, key: str) -> dict | None:
        """The stored grading for `key` if it was graded (failed and crashed ones do not count)."""
        with self._session() as s:
            row = s.scalar(select(Grading).where(Grading.key == key, Grading.status == "graded"))
            return _grading_dict(row) if row is not None else None

    def record_grading(self, submission_id: int, key: str, exercise_hash: str, grader_version: str,
                       result_json: dict | None, status: str, device: str | None, backend: str | None,
                       duration_s: float | None, error: str | None = None, fault: str | None = None) -> int:
        """Store one grading's outcome in one transaction and return its id. A key recorded again
        updates its row (attempts + 1): a grading is never counted twice. `result_json` is
        `Result.to_json()` (a Result is accepted too); score and max_score come from it, and only a
        "graded" grading has a score (a failed one keeps its result for the instructor, never a 0).
        `fault` (one of FAULTS) says why a failed grading failed; only "graded" ones are cached."""
        if status not in STATUSES:
            raise GradebookError(f"grading status {status!r} is not one of {', '.join(STATUSES)}")
        if fault is not None and fault not in FAULTS:
            raise GradebookError(f"grading fault {fault!r} is not one of {', '.join(FAULTS)}")
        if status == "graded" and fault is not None:
            raise GradebookError(f"a graded grading has no fault (got {fault!r}); record it as failed")
        if hasattr(result_json, "to_json"):
            result_json = result_json.to_json()
        if status == "graded" and not isinstance(result_json, dict):
            raise GradebookError("a grading with status 'graded' needs its Result JSON")
        values = dict(submission_id=submission_id, key=key, exercise_hash=exercise_hash,
                      grader_version=grader_version, status=status,
                      score=_number(result_json, "score") if status == "graded" else None,
                      max_score=_number(result_json, "max_score"),
                      result_json=json.dumps(result_json, ensure_ascii=True) if result_json is not None else None,
                      device=_fit(device, 200), backend=_fit(backend, 200),
                      duration_s=float(duration_s) if duration_s is not None else None,
                      error=_fit(error, MAX_ERROR), fault=fault, created_at=_now())
        with self._session() as s:
            if s.get(Submission, submission_id) is None:
                raise GradebookError(f"no submission {submission_id} in {self.where}; "
                                     f"record the submission (add_submission) before its grading")
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
            row = s.scalar(select(Grading).where(Grading.key == key).with_for_update())
            if row is None:
                row = Grading(**values, attempts=1)
                s.add(row)
            else:
                for k, v in values.items():
                    setattr(row, k, v)
                row.attempts += 1
            s.flush()
            return row.id

    def gradings(self, student_id: str | None = None, exercise_id: str | None = None) -> list[dict]:
        """The gradings that apply to submissions (all, or one learner's / one exercise's): one row
        per (submission, grading of its content), oldest first, with `result_json` parsed (a dict)
        and `result` (a `grader.grading.result.Result`, or None when the grading failed or crashed: a failed
        grading may keep its `result_json` for the instructor, but it is not a grade)."""
        from grader.grading.result import Result
        same = Submission.__table__.alias("same_content")  # submissions with the same content
        query = (select(Submission, Grading)
                 .join(same, and_(same.c.exercise_id == Submission.exercise_id, same.c.sha256 == Submission.sha256))
                 .join(Grading, Grading.submission_id == same.c.id)
                 .order_by(Submission.student_id, Submission.exercise_id, Grading.created_at, Grading.id))
        if student_id is not None:
            query = query.where(Submission.student_id == student_id)
        if exercise_id is not None:
            query = query.where(Submission.exercise_id == exercise_id)
        rows = []
        with self._session() as s:
            for sub, grading in s.execute(query):
                row = _grading_dict(grading)
                row.update(grading_id=grading.id, submission_id=sub.id, recorded_for=grading.submission_id,
                           student_id=sub.student_id, exercise_id=sub.exercise_id, sha256=sub.sha256)
                row["result"] = (Result.from_json(row["result_json"])
                                 if row["result_json"] and grading.status == "graded" else None)
                rows.append(row)
        return rows

    # -- overrides and grades -------------------------------------------------------------------

    def override(self, student_id: str, exercise_id: str, score: float, reason: str, who: str) -> int:
        """Set a learner's score for an exercise by hand; the latest override counts and the earlier
        ones stay as history. Returns the override's id."""
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score) or score < 0:
            raise GradebookError(f"an override score must be a number >= 0, not {score!r}")
        with self._session() as s:
            self._require(s, student_id, exercise_id)
            row = Override(student_id=student_id, exercise_id=exercise_id, score=float(score),
                           reason=_fit(reason or "", MAX_ERROR), who=_fit(who or "", 200), created_at=_now())
            s.add(row)
            s.flush()
            return row.id

    def overrides(self, student_id: str | None = None, exercise_id: str | None = None) -> list[dict]:
        """Every override (the history), oldest first."""
        query = select(Override).order_by(Override.id)
        if student_id is not None:
            query = query.where(Override.student_id == student_id)
        if exercise_id is not None:
            query = query.where(Override.exercise_id == exercise_id)
        with self._session() as s:
            return [_row(r) for r in s.scalars(query)]

    def grades(self) -> list[dict]:
        """One row per (student, exercise) with a submission: the score that counts (the latest
        override, else the latest grading of the counting submission), max_score, late, late_days,
        overridden, override_reason, status ("graded" | "failed" | "crashed" | "pending": not graded
        yet) and graded_at; plus submission_id, sha256, auto_score (the grading's own score), and for
        a failed or crashed grading its fault (one of FAULTS, or None) and error (the cause). A
        grading that is not "graded" has no score: the row's score is None unless overridden."""
        with self._session() as s:
            counting: dict[tuple[str, str], Submission] = {}
            for sub in s.scalars(select(Submission).order_by(Submission.collected_at, Submission.id)):
                counting[(sub.student_id, sub.exercise_id)] = sub
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
            auto = grading.score if grading is not None and grading.status == "graded" else None
            rows.append({
                "student": student, "exercise": exercise,
                "score": over.score if over is not None else auto,
                "max_score": grading.max_score if grading is not None else None,
                "late": sub.late, "late_days": sub.late_days,
                "overridden": over is not None, "override_reason": over.reason if over is not None else None,
                "status": grading.status if grading is not None else "pending",
                "graded_at": grading.created_at if grading is not None else None,
                "submission_id": sub.id, "sha256": sub.sha256, "auto_score": auto,
                "fault": grading.fault if grading is not None else None,
                "error": grading.error if grading is not None and grading.status != "graded" else None,
            })
        return rows

    def grades_matrix(self) -> dict[str, dict[str, float | None]]:
        """{student: {exercise: score}} over every student and exercise; None where nothing counts."""
        matrix = {st["id"]: {ex["id"]: None for ex in self.exercises()} for st in self.students()}
        for row in self.grades():
            matrix.setdefault(row["student"], {})[row["exercise"]] = row["score"]
        return matrix


def alembic_config(url: str | None = None):
    """An Alembic Config for the gradebook's migrations (no alembic.ini needed)."""
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _listing(ids: list[str]) -> str:
    if not ids:
        return "none yet"
    return ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")


MAX_ERROR = 20_000  # characters of a grading's error kept in the gradebook


def _fit(value: str | None, limit: int) -> str | None:
    """`value` cleaned (no control character: PostgreSQL refuses NUL) and cut to fit a column of
    `limit` characters, so no value from a grading can overflow one."""
    if value is None:
        return None
    from grader.sandbox.inside.wire import clean_text
    return clean_text(value, limit)


def _number(result_json: dict | None, field: str) -> float | None:
    value = (result_json or {}).get(field)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _grading_dict(row: Grading) -> dict:
    data = _row(row)
    data["result_json"] = json.loads(row.result_json) if row.result_json else None
    return data


__all__ = ["Gradebook", "GradebookError", "STATUSES", "FAULTS", "MIGRATIONS", "alembic_config"]
