"""A course's settings: `course.toml` read and validated (pydantic: every error names the file, the
key and the fix), written (tomlkit: comments and order kept), and a new course created.

The folder layout is grader/course/paths.py; the late rule is grader/course/late.py."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import tomlkit
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from grader.clock import UTC, as_utc, now_utc
from grader.course.errors import CourseError
from grader.course.folders import ensure_exchange
from grader.course.ids import check_id, id_from_name
from grader.course.late import POLICIES, LateInfo, LatePolicy, late_info as _late_info
from grader.course.paths import (COURSE_FILE, DEFAULT_EXCHANGE, DEFAULT_GRADEBOOK, EXERCISES, HELDOUT_SEED_FILE,
                                 SOLUTIONS, SUBMITTED, course_path, find_course_dir, gradebook_url,
                                 write_heldout_seed)
from grader.exercise.spec import Exercise, SpecError, all_exercises, exercises_root, load_exercise, solutions_root

DEADLINE_EXAMPLE = "deadline = 2026-12-01T23:59:00Z"


@dataclass
class Course:
    """A course read from `<root>/course.toml`. `deadlines` maps each of its exercise ids to the
    exercise's deadline (an aware UTC datetime) or None; `exercise_ids` lists them in order."""

    root: Path
    id: str
    title: str
    deadlines: dict[str, datetime | None]
    late: LatePolicy = field(default_factory=LatePolicy)
    exchange_path: Path | None = None
    gradebook_url: str = ""
    hoda_dir: Path | None = None

    def __post_init__(self):
        self.root = Path(self.root).resolve()
        if self.exchange_path is None:
            self.exchange_path = self.root / DEFAULT_EXCHANGE
        if not self.gradebook_url:
            self.gradebook_url = gradebook_url(DEFAULT_GRADEBOOK, self.root)

    @property
    def toml_path(self) -> Path:
        return self.root / COURSE_FILE

    @property
    def exercises_dir(self) -> Path:
        return self.root / EXERCISES

    @property
    def solutions_dir(self) -> Path:
        return self.root / SOLUTIONS

    @property
    def submitted_dir(self) -> Path:
        return self.root / SUBMITTED

    @property
    def exercise_ids(self) -> list[str]:
        """The course's exercise ids, in course.toml's order."""
        return list(self.deadlines)

    def deadline(self, exercise_id: str) -> datetime | None:
        """The exercise's deadline (None: none); CourseError for an exercise not in the course."""
        self._known(exercise_id)
        return self.deadlines[exercise_id]

    def late_info(self, exercise_id: str, submitted_at: datetime | str) -> LateInfo:
        """late.late_info of a submission of this exercise stamped `submitted_at`."""
        return _late_info(self.late, self.deadline(exercise_id), submitted_at)

    def _known(self, exercise_id: str) -> None:
        if exercise_id not in self.deadlines:
            names = ", ".join(self.exercise_ids) or "none"
            raise CourseError(f"unknown exercise {exercise_id!r} in course {self.id}; its exercises are: {names}")

    def exercise(self, exercise_id: str) -> Exercise:
        """The exercise as this course has it: `exercises/<id>/`, paired with `solutions/<id>/`
        when the course has solutions (an instructor's course; a learner's has none)."""
        self._known(exercise_id)
        directory = self.exercises_dir / exercise_id
        solutions = self.solutions_dir if self.solutions_dir.is_dir() else None
        try:
            return load_exercise(directory, solutions)
        except SpecError as err:
            raise CourseError(f"{err} (exercise {exercise_id!r} of course {self.id})") from None

    def all_exercises(self) -> list[Exercise]:
        return [self.exercise(ex_id) for ex_id in self.deadlines]


# --- the schema of course.toml ---------------------------------------------------------------

def _number(key: str, value: Any, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) \
            or value < low or (high is not None and value > high):
        span = f"between {low:g} and {high:g}" if high is not None else f"a number >= {low:g}"
        raise ValueError(f"`{key}` must be {span}, not {value!r}")
    return float(value)


def _text(key: str, value: Any, example: str | None = None) -> str:
    if not isinstance(value, str):
        raise ValueError(f"`{key}` must be a string, not {value!r}")
    if example is not None and not value.strip():
        raise ValueError(f"`{key}` must not be empty (e.g. {example})")
    return value


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CourseTable(_Table):
    """[course]"""

    id: str
    title: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        return check_id(value, "id")

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("`title` must be a non-empty string")
        return value


class ExerciseTable(_Table):
    """[exercises.<id>]"""

    deadline: datetime | None = None

    @field_validator("deadline", mode="before")
    @classmethod
    def _deadline(cls, value: Any) -> datetime:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"`deadline` {value.isoformat()} has no time zone; write it in UTC with a Z, "
                                 f"e.g. {DEADLINE_EXAMPLE}")
            return as_utc(value)
        if isinstance(value, (date, time)):
            raise ValueError(f"`deadline` {value.isoformat()} needs a date, a time and a zone, e.g. {DEADLINE_EXAMPLE}")
        raise ValueError(f"`deadline` must be a TOML date-time (no quotes), e.g. {DEADLINE_EXAMPLE}; got {value!r}")


class LateTable(_Table):
    """[late]"""

    policy: str = "accept"
    grace_minutes: float = 0.0
    penalty_per_day: float | None = None
    max_days: float | None = None

    @field_validator("policy", mode="before")
    @classmethod
    def _policy(cls, value: Any) -> str:
        if value not in POLICIES:
            raise ValueError(f"`policy` must be one of {', '.join(repr(p) for p in POLICIES)}, not {value!r}")
        return value

    @field_validator("grace_minutes", "max_days", mode="before")
    @classmethod
    def _days(cls, value: Any, info) -> float:
        return _number(info.field_name, value, 0.0)

    @field_validator("penalty_per_day", mode="before")
    @classmethod
    def _fraction(cls, value: Any) -> float:
        return _number("penalty_per_day", value, 0.0, 1.0)

    @model_validator(mode="after")
    def _penalty_needs_a_rate(self) -> LateTable:
        if self.policy == "penalty" and self.penalty_per_day is None:
            raise ValueError('policy = "penalty" needs `penalty_per_day` (a fraction, e.g. 0.1 = 10% per day)')
        return self

    def policy_value(self) -> LatePolicy:
        return LatePolicy(policy=self.policy, grace_minutes=self.grace_minutes,
                          penalty_per_day=self.penalty_per_day or 0.0, max_days=self.max_days)


class ExchangeTable(_Table):
    """[exchange]"""

    path: str = DEFAULT_EXCHANGE

    @field_validator("path", mode="before")
    @classmethod
    def _path(cls, value: Any) -> str:
        return _text("path", value, 'path = "exchange"')


class GradebookTable(_Table):
    """[gradebook]"""

    url: str = DEFAULT_GRADEBOOK

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> str:
        return _text("url", value, 'url = "gradebook.sqlite"')


class DataTable(_Table):
    """[data]"""

    hoda_dir: str = ""

    @field_validator("hoda_dir", mode="before")
    @classmethod
    def _hoda(cls, value: Any) -> str:
        return _text("hoda_dir", value)


class CourseFile(_Table):
    """The whole of course.toml."""

    course: CourseTable
    exercises: dict[str, ExerciseTable] = Field(default_factory=dict)
    late: LateTable = Field(default_factory=LateTable)
    exchange: ExchangeTable = Field(default_factory=ExchangeTable)
    gradebook: GradebookTable = Field(default_factory=GradebookTable)
    data: DataTable = Field(default_factory=DataTable)
    server: dict[str, Any] = Field(default_factory=dict)  # `dlgrade serve`'s table, checked by grader/server/settings.py

    @model_validator(mode="before")
    @classmethod
    def _tables(cls, data: Any) -> Any:
        for name, value in data.items():
            if name in cls.model_fields and not isinstance(value, dict):
                raise ValueError(f"`{name}` must be a table ([{name}])")
        for ex_id, table in data.get("exercises", {}).items():
            check_id(ex_id, "exercise id")
            if not isinstance(table, dict):
                raise ValueError(f"[exercises.{ex_id}] must be a table, e.g. [exercises.{ex_id}] with "
                                 f"{DEADLINE_EXAMPLE}")
        return data


_TABLES = {name: info.annotation for name, info in CourseFile.model_fields.items()}


def _keys_of(table: str) -> str:
    model = ExerciseTable if table.startswith("exercises.") else _TABLES.get(table)
    return ", ".join(sorted(model.model_fields)) if isinstance(model, type) and issubclass(model, BaseModel) else ""


def _explain(error: dict) -> str:
    """One pydantic error as a one-line message that names the table, the key and the fix."""
    loc = [str(part) for part in error["loc"]]
    kind = error["type"]
    if loc and loc[0] == "exercises":
        table, key = (".".join(loc[:2]), loc[2]) if len(loc) > 2 else (".".join(loc), None)
    else:
        table, key = (loc[0], loc[1]) if len(loc) > 1 else ((loc[0], None) if loc else (None, None))
    if kind == "extra_forbidden":
        if key is None:
            return f"unknown table [{table}]; the tables are: {', '.join(f'[{t}]' for t in _TABLES)}"
        return f"unknown key `{key}` in [{table}]; the keys are: {_keys_of(table)}"
    if kind == "missing":
        if table == "course" and key is None:
            return "missing the [course] table with `id` and `title`"
        example = ' (e.g. id = "nn-2026")' if (table, key) == ("course", "id") else ""
        return f"missing `{key}` in [{table}]{example}"
    if kind == "value_error":
        message = str(error["ctx"]["error"])
    elif kind in ("model_type", "dict_type"):
        message = f"must be a table ([{table}])"
    else:
        message = f"`{key}`: {error['msg']}" if key else error["msg"]
    return f"[{table}] {message}" if table else message


def parse_course(text: str, root: Path, source: str = COURSE_FILE) -> Course:
    """A Course from the text of a course.toml found in `root`; CourseError names the file, the key
    and the fix."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CourseError(f"{source} is not valid TOML: {err}") from None
    try:
        parsed = CourseFile.model_validate(data)
    except ValidationError as err:
        raise CourseError(f"{source}: {_explain(err.errors()[0])}") from None
    root = Path(root).resolve()
    hoda = parsed.data.hoda_dir
    return Course(root=root, id=parsed.course.id, title=parsed.course.title or parsed.course.id,
                  deadlines={ex_id: table.deadline for ex_id, table in parsed.exercises.items()},
                  late=parsed.late.policy_value(), exchange_path=course_path(parsed.exchange.path, root),
                  gradebook_url=gradebook_url(parsed.gradebook.url, root),
                  hoda_dir=course_path(hoda, root) if hoda.strip() else None)


def load_course(path: Path | str | None = None) -> Course:
    """The course in `path` (a course folder or its course.toml); without a path, `$DLGRADE_COURSE`,
    else the nearest parent of the working directory that holds a course.toml."""
    if path is None and os.environ.get("DLGRADE_COURSE"):
        path = os.environ["DLGRADE_COURSE"]
    if path is None:
        found = find_course_dir()
        if found is None:
            raise CourseError(f"no {COURSE_FILE} in {Path.cwd()} or its parents; run `dlgrade init DIR` to "
                              "create a course, or cd into one")
        root = found
    else:
        path = Path(path).expanduser()
        root = path.parent if path.name == COURSE_FILE and not path.is_dir() else path
        if not root.is_dir():
            raise CourseError(f"{root} is not a folder; give a course folder (one with {COURSE_FILE}), or run "
                              f"`dlgrade init {root}` to create one")
        if not (root / COURSE_FILE).is_file():
            raise CourseError(f"no {COURSE_FILE} in {root}; run `dlgrade init {root}` to create a course there, "
                              "or give the folder of an existing course")
    toml_path = root.resolve() / COURSE_FILE
    try:
        text = toml_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CourseError(f"{toml_path} is not UTF-8 text; save it as UTF-8") from None
    except OSError as err:
        raise CourseError(f"cannot read {toml_path}: {err.strerror}") from None
    course = parse_course(text, root, str(toml_path))
    for ex_id in course.deadlines:
        if not (course.exercises_dir / ex_id / "exercise.toml").is_file():
            raise CourseError(f"{toml_path}: [exercises.{ex_id}] has no exercises/{ex_id}/exercise.toml in the "
                              "course; add the exercise folder or remove the table")
    return course


# --- writing course.toml (tomlkit: comments and order kept) ----------------------------------

def _number_item(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _table(*comments: str, **values: Any) -> tomlkit.items.Table:
    table = tomlkit.table()
    for line in comments:
        table.add(tomlkit.comment(line))
    for key, value in values.items():
        table.add(key, value)
    return table


def _add_exercises(doc: tomlkit.TOMLDocument, exercises: dict[str, datetime | None]) -> None:
    if not exercises:
        return
    tables = tomlkit.table(is_super_table=True)
    for ex_id, deadline in exercises.items():
        tables.add(ex_id, _table(**({} if deadline is None else {"deadline": as_utc(deadline).replace(microsecond=0)})))
    doc.add("exercises", tables)


def _late_table(late: LatePolicy, comments: bool) -> tomlkit.items.Table:
    notes = ('"accept": late work counts in full (flagged late); "penalty": each started day after the',
             'deadline costs penalty_per_day of the score; "reject": late work is not accepted.',
             "A submission up to grace_minutes after the deadline is on time; one more than max_days",
             "late is rejected under every policy.") if comments else ()
    values: dict[str, Any] = {"policy": late.policy, "grace_minutes": _number_item(late.grace_minutes)}
    if late.policy == "penalty" or late.penalty_per_day:
        values["penalty_per_day"] = _number_item(late.penalty_per_day)
    if late.max_days is not None:
        values["max_days"] = _number_item(late.max_days)
    return _table(*notes, **values)


def course_toml(course: Course, exchange: str = DEFAULT_EXCHANGE, gradebook: str = DEFAULT_GRADEBOOK,
                hoda_dir: str = "") -> str:
    """The instructor's course.toml (with comments) for a course's settings."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment("dlgrade course file. Deadlines are TOML date-times in UTC (the Z)."))
    doc.add("course", _table(id=course.id, title=course.title))
    _add_exercises(doc, course.deadlines)
    doc.add("late", _late_table(course.late, comments=True))
    doc.add("exchange", _table("The shared folder learners submit to: relative to this folder, or absolute",
                               "(on a JupyterHub server, a folder every learner can write to).", path=exchange))
    doc.add("gradebook", _table("A SQLAlchemy URL, or a SQLite file relative to this folder.", url=gradebook))
    doc.add("data", _table("The folder of the Hoda .cdb files (empty: the Keras exercises use scikit-learn's "
                           "digits).", hoda_dir=hoda_dir))
    return tomlkit.dumps(doc)


def learner_course_toml(course: Course) -> str:
    """course.toml for learners: id, title, exercises and deadlines, the late policy and the
    exchange's absolute path; no gradebook, no solutions, no data paths."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"Course {course.id} for learners (made by `dlgrade`). Deadlines are in UTC."))
    doc.add("course", _table(id=course.id, title=course.title))
    _add_exercises(doc, course.deadlines)
    doc.add("late", _late_table(course.late, comments=False))
    doc.add("exchange", _table(path=str(Path(course.exchange_path).resolve())))
    return tomlkit.dumps(doc)


# --- creating a course ------------------------------------------------------------------------

def default_deadlines(exercise_ids: list[str], now: datetime | None = None) -> dict[str, datetime]:
    """One week apart, the first a week from `now`, each at 23:59 UTC."""
    today = as_utc(now or now_utc()).date()
    return {ex_id: datetime.combine(today + timedelta(days=7 * (i + 1)), time(23, 59), tzinfo=UTC)
            for i, ex_id in enumerate(exercise_ids)}


def _copy_folder(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".*"))


def init_course(directory: Path | str, course_id: str | None = None, title: str | None = None,
                now: datetime | None = None) -> Course:
    """Create a course in `directory` (new or empty): the bundled exercises and their solutions,
    course.toml with a deadline a week apart for each exercise, exchange/ and submitted/."""
    target = Path(directory).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise CourseError(f"{target} is a file; give a new or empty folder for the course")
    if target.is_dir() and any(target.iterdir()):
        raise CourseError(f"{target} is not empty; give a new or empty folder (nothing was changed)")
    if course_id is None:
        course_id = id_from_name(target.name)
    try:
        check_id(course_id, "course id")
    except ValueError as err:
        raise CourseError(str(err)) from None
    src_exercises = exercises_root()
    try:
        exercises = all_exercises(src_exercises, solutions=False)
    except (OSError, SpecError) as err:
        raise CourseError(f"cannot read the bundled exercises in {src_exercises}: {err}") from None
    if not exercises:
        raise CourseError(f"no exercises in {src_exercises}; reinstall dlgrade or set DLGRADE_EXERCISES")
    src_solutions = solutions_root()
    if src_solutions is None or not any((src_solutions / e.id).is_dir() for e in exercises):
        raise CourseError("no solutions/ to copy: a course needs the reference solutions and hidden tests; run "
                          "`dlgrade init` from the course checkout, or set DLGRADE_SOLUTIONS to its solutions/ folder")
    course = Course(root=target, id=course_id, title=title or course_id,
                    deadlines=dict(default_deadlines([e.id for e in exercises], now)),
                    late=LatePolicy(policy="penalty", grace_minutes=15, penalty_per_day=0.1, max_days=7))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=f".{target.name}.init-", dir=target.parent))
    except OSError as err:
        raise CourseError(f"cannot create {target}: {err.strerror}") from None
    try:
        os.chmod(build, 0o711)  # learners reach exchange/ (when it is inside), list nothing
        for ex in exercises:
            _copy_folder(ex.directory, build / EXERCISES / ex.id)
            if (src_solutions / ex.id).is_dir():
                _copy_folder(src_solutions / ex.id, build / SOLUTIONS / ex.id)
        (build / SOLUTIONS).mkdir(exist_ok=True)
        os.chmod(build / SOLUTIONS, 0o700)
        write_heldout_seed(build / SOLUTIONS / HELDOUT_SEED_FILE)
        (build / COURSE_FILE).write_text(course_toml(course), encoding="utf-8")
        os.chmod(build / COURSE_FILE, 0o600)
        os.chmod(build / EXERCISES, 0o700)
        (build / SUBMITTED).mkdir(mode=0o700)
        os.chmod(build / SUBMITTED, 0o700)
        ensure_exchange(build / DEFAULT_EXCHANGE)
        os.rename(build, target)  # onto a missing or empty folder: all or nothing
    except OSError as err:
        shutil.rmtree(build, ignore_errors=True)
        raise CourseError(f"cannot create the course in {target}: {err.strerror or err}") from None
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return load_course(target)
