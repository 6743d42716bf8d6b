"""A course: a folder with `course.toml`, the course's own copy of the exercises and solutions,
the exchange learners submit to, and the collected submissions.

```
<course>/
  course.toml        [course] id, title; [exercises.<id>] deadline; [late]; [exchange]; [gradebook]; [data]
  exercises/<id>/    learner material (exercise.toml, README.md, template.py, test_public.py)
  solutions/<id>/    reference solution + hidden tests (instructor only)
  exchange/          the shared folder learners submit to (see grader/exchange.py); [exchange] path
  submitted/<student>/<exercise>/   what `collect` picked, one submission per learner and exercise
```

Late rule: a submission is late when it is stamped after deadline + grace_minutes; its `late_days`
are counted from the deadline itself. `accept` keeps every late submission at full score,
`penalty` multiplies the score by `max(0, 1 - penalty_per_day * ceil(late_days))` (each started
day after the deadline costs `penalty_per_day`), `reject` refuses every late submission. Under
any policy a submission more than `max_days` late is rejected (score 0)."""

from __future__ import annotations

import math
import os
import re
import shutil
import stat
import tempfile
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from grader.clock import as_utc
from grader.course.ids import ID_PATTERN, check_id  # noqa: F401 (old names, importable here)
from grader.course.late import POLICIES, LateInfo, LatePolicy, apply_late_policy as _apply_late_policy, \
    late_info as _late_info
from grader.exercise.spec import Exercise, SpecError, all_exercises, exercises_root, load_exercise, solutions_root

COURSE_FILE = "course.toml"
DEFAULT_GRADEBOOK = "gradebook.sqlite"
DEFAULT_EXCHANGE = "exchange"

_KNOWN = {
    "course": {"id", "title"},
    "exercises": None,  # a table of exercise tables
    "late": {"policy", "grace_minutes", "penalty_per_day", "max_days"},
    "exchange": {"path"},
    "gradebook": {"url"},
    "data": {"hoda_dir"},
}
_EXERCISE_KEYS = {"deadline"}


class CourseError(Exception):
    """A course that cannot be found, created or read; the message names the problem and the fix."""


@dataclass
class Course:
    """A course read from `<root>/course.toml`. `exercises` maps each exercise id to its deadline
    (an aware UTC datetime) or None."""

    root: Path
    id: str
    title: str
    exercises: dict[str, datetime | None]
    late: LatePolicy = field(default_factory=LatePolicy)
    exchange_path: Path | None = None
    gradebook_url: str = ""
    hoda_dir: Path | None = None

    def __post_init__(self):
        self.root = Path(self.root).resolve()
        if self.exchange_path is None:
            self.exchange_path = self.root / DEFAULT_EXCHANGE
        if not self.gradebook_url:
            self.gradebook_url = _gradebook_url(DEFAULT_GRADEBOOK, self.root)

    @property
    def toml_path(self) -> Path:
        return self.root / COURSE_FILE

    @property
    def exercises_dir(self) -> Path:
        return self.root / "exercises"

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def submitted_dir(self) -> Path:
        return self.root / "submitted"

    def deadline(self, exercise_id: str) -> datetime | None:
        self._known(exercise_id)
        return self.exercises[exercise_id]

    def _known(self, exercise_id: str) -> None:
        if exercise_id not in self.exercises:
            names = ", ".join(self.exercises) or "none"
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
        return [self.exercise(ex_id) for ex_id in self.exercises]


# --- reading course.toml ---------------------------------------------------------------------

def _gradebook_url(url: str, root: Path) -> str:
    """A SQLAlchemy URL as is; a bare path (relative to the course) becomes a SQLite URL."""
    if "://" in url:
        return url
    path = Path(url).expanduser()
    return f"sqlite:///{path if path.is_absolute() else root / path}"


def _course_path(value: str, root: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


def _number(table: dict, key: str, where: str, low: float, high: float | None = None) -> float | None:
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) \
            or value < low or (high is not None and value > high):
        span = f"between {low:g} and {high:g}" if high is not None else f"a number >= {low:g}"
        raise CourseError(f"{where}: `{key}` must be {span}, not {value!r}")
    return float(value)


def _deadline(value: object, where: str) -> datetime:
    example = "deadline = 2026-12-01T23:59:00Z"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise CourseError(f"{where}: `deadline` {value.isoformat()} has no time zone; write it in UTC "
                              f"with a Z, e.g. {example}")
        return value.astimezone(timezone.utc)
    if isinstance(value, (date, time)):
        raise CourseError(f"{where}: `deadline` {value.isoformat()} needs a date, a time and a zone, e.g. {example}")
    raise CourseError(f"{where}: `deadline` must be a TOML date-time (no quotes), e.g. {example}; got {value!r}")


def parse_course(text: str, root: Path, source: str = COURSE_FILE) -> Course:
    """A Course from the text of a course.toml found in `root`; CourseError names the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CourseError(f"{source} is not valid TOML: {err}") from None
    for table, value in data.items():
        if table not in _KNOWN:
            raise CourseError(f"{source}: unknown table [{table}]; the tables are: "
                              f"{', '.join(f'[{t}]' for t in _KNOWN)}")
        if not isinstance(value, dict):
            raise CourseError(f"{source}: `{table}` must be a table ([{table}])")
        keys = _KNOWN[table]
        if keys is not None:
            unknown = sorted(set(value) - keys)
            if unknown:
                raise CourseError(f"{source}: unknown key `{unknown[0]}` in [{table}]; the keys are: "
                                  f"{', '.join(sorted(keys))}")
    head = data.get("course")
    if head is None:
        raise CourseError(f"{source}: missing the [course] table with `id` and `title`")
    if "id" not in head:
        raise CourseError(f"{source}: missing `id` in [course] (e.g. id = \"nn-2026\")")
    try:
        course_id = check_id(head["id"], "[course] id")
    except ValueError as err:
        raise CourseError(f"{source}: {err}") from None
    title = head.get("title", course_id)
    if not isinstance(title, str) or not title.strip():
        raise CourseError(f"{source}: [course] `title` must be a non-empty string")

    exercises: dict[str, datetime | None] = {}
    for ex_id, table in data.get("exercises", {}).items():
        where = f"{source} [exercises.{ex_id}]"
        try:
            check_id(ex_id, "exercise id")
        except ValueError as err:
            raise CourseError(f"{source}: {err}") from None
        if not isinstance(table, dict):
            raise CourseError(f"{where}: must be a table, e.g. [exercises.{ex_id}] with deadline = ...")
        unknown = sorted(set(table) - _EXERCISE_KEYS)
        if unknown:
            raise CourseError(f"{where}: unknown key `{unknown[0]}`; the keys are: {', '.join(sorted(_EXERCISE_KEYS))}")
        exercises[ex_id] = _deadline(table["deadline"], where) if "deadline" in table else None

    late_table = data.get("late", {})
    where = f"{source} [late]"
    policy = late_table.get("policy", "accept")
    if policy not in POLICIES:
        raise CourseError(f"{where}: `policy` must be one of {', '.join(repr(p) for p in POLICIES)}, not {policy!r}")
    penalty = _number(late_table, "penalty_per_day", where, 0.0, 1.0)
    if policy == "penalty" and penalty is None:
        raise CourseError(f"{where}: policy = \"penalty\" needs `penalty_per_day` (a fraction, e.g. 0.1 = 10% per day)")
    late = LatePolicy(policy=policy, grace_minutes=_number(late_table, "grace_minutes", where, 0.0) or 0.0,
                      penalty_per_day=penalty or 0.0, max_days=_number(late_table, "max_days", where, 0.0))

    def text_field(table: str, key: str, default: str) -> str:
        value = data.get(table, {}).get(key, default)
        if not isinstance(value, str):
            raise CourseError(f"{source} [{table}]: `{key}` must be a string, not {value!r}")
        return value

    exchange = text_field("exchange", "path", DEFAULT_EXCHANGE)
    if not exchange.strip():
        raise CourseError(f"{source} [exchange]: `path` must not be empty (e.g. path = \"exchange\")")
    gradebook = text_field("gradebook", "url", DEFAULT_GRADEBOOK)
    if not gradebook.strip():
        raise CourseError(f"{source} [gradebook]: `url` must not be empty (e.g. url = \"gradebook.sqlite\")")
    hoda = text_field("data", "hoda_dir", "")
    root = Path(root).resolve()
    return Course(root=root, id=course_id, title=title, exercises=exercises, late=late,
                  exchange_path=_course_path(exchange, root), gradebook_url=_gradebook_url(gradebook, root),
                  hoda_dir=_course_path(hoda, root) if hoda.strip() else None)


def find_course_dir(start: Path | None = None) -> Path | None:
    """The nearest folder from `start` (default: the working directory) upwards with a course.toml."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / COURSE_FILE).is_file():
            return folder
    return None


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
    for ex_id in course.exercises:
        if not (course.exercises_dir / ex_id / "exercise.toml").is_file():
            raise CourseError(f"{toml_path}: [exercises.{ex_id}] has no exercises/{ex_id}/exercise.toml in the "
                              "course; add the exercise folder or remove the table")
    return course


# --- late submissions -------------------------------------------------------------------------

def late_info(course: Course, exercise_id: str, submitted_at: datetime | str) -> LateInfo:
    """late.late_info for one of the course's exercises (CourseError for an unknown one)."""
    return _late_info(course.late, course.deadline(exercise_id), submitted_at)


# --- writing course.toml ----------------------------------------------------------------------

def _toml_str(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_str(key)


def _toml_datetime(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _toml_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _exercise_tables(course_exercises: dict[str, datetime | None]) -> list[str]:
    lines = []
    for ex_id, deadline in course_exercises.items():
        lines.append(f"[exercises.{_toml_key(ex_id)}]")
        if deadline is not None:
            lines.append(f"deadline = {_toml_datetime(deadline)}")
        lines.append("")
    return lines


def _late_table(late: LatePolicy, comments: bool) -> list[str]:
    lines = ["[late]"]
    if comments:
        lines += ['# "accept": late work counts in full (flagged late); "penalty": each started day after the',
                  '# deadline costs penalty_per_day of the score; "reject": late work is not accepted.',
                  "# A submission up to grace_minutes after the deadline is on time; one more than max_days",
                  "# late is rejected under every policy."]
    lines.append(f"policy = {_toml_str(late.policy)}")
    lines.append(f"grace_minutes = {_toml_number(late.grace_minutes)}")
    if late.policy == "penalty" or late.penalty_per_day:
        lines.append(f"penalty_per_day = {_toml_number(late.penalty_per_day)}")
    if late.max_days is not None:
        lines.append(f"max_days = {_toml_number(late.max_days)}")
    return lines + [""]


def course_toml(course: Course, exchange: str = DEFAULT_EXCHANGE, gradebook: str = DEFAULT_GRADEBOOK,
                hoda_dir: str = "") -> str:
    """The instructor's course.toml (with comments) for a course's settings."""
    lines = ["# dlgrade course file. Deadlines are TOML date-times in UTC (the Z).",
             "[course]", f"id = {_toml_str(course.id)}", f"title = {_toml_str(course.title)}", ""]
    lines += _exercise_tables(course.exercises)
    lines += _late_table(course.late, comments=True)
    lines += ["[exchange]", "# The shared folder learners submit to: relative to this folder, or absolute",
              "# (on a JupyterHub server, a folder every learner can write to).",
              f"path = {_toml_str(exchange)}", "",
              "[gradebook]", "# A SQLAlchemy URL, or a SQLite file relative to this folder.",
              f"url = {_toml_str(gradebook)}", "",
              "[data]", "# The folder of the Hoda .cdb files (empty: the Keras exercises use scikit-learn's digits).",
              f"hoda_dir = {_toml_str(hoda_dir)}", ""]
    return "\n".join(lines)


def learner_course_toml(course: Course) -> str:
    """course.toml for learners: id, title, exercises and deadlines, the late policy and the
    exchange's absolute path; no gradebook, no solutions, no data paths."""
    lines = [f"# Course {course.id} for learners (made by `dlgrade`). Deadlines are in UTC.",
             "[course]", f"id = {_toml_str(course.id)}", f"title = {_toml_str(course.title)}", ""]
    lines += _exercise_tables(course.exercises)
    lines += _late_table(course.late, comments=False)
    lines += ["[exchange]", f"path = {_toml_str(str(Path(course.exchange_path).resolve()))}", ""]
    return "\n".join(lines)


# --- creating a course ------------------------------------------------------------------------

def default_deadlines(exercise_ids: list[str], now: datetime | None = None) -> dict[str, datetime]:
    """One week apart, the first a week from `now`, each at 23:59 UTC."""
    today = as_utc(now or datetime.now(timezone.utc)).date()
    return {ex_id: datetime.combine(today + timedelta(days=7 * (i + 1)), time(23, 59), tzinfo=timezone.utc)
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
        course_id = re.sub(r"[^A-Za-z0-9._-]+", "-", target.name).strip(".-")[:64] or "course"
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
                    exercises=dict(default_deadlines([e.id for e in exercises], now)),
                    late=LatePolicy(policy="penalty", grace_minutes=15, penalty_per_day=0.1, max_days=7))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=f".{target.name}.init-", dir=target.parent))
    except OSError as err:
        raise CourseError(f"cannot create {target}: {err.strerror}") from None
    try:
        os.chmod(build, 0o711)  # learners reach exchange/ (when it is inside), list nothing
        for ex in exercises:
            _copy_folder(ex.directory, build / "exercises" / ex.id)
            if (src_solutions / ex.id).is_dir():
                _copy_folder(src_solutions / ex.id, build / "solutions" / ex.id)
        (build / "solutions").mkdir(exist_ok=True)
        os.chmod(build / "solutions", 0o700)
        _write_heldout_seed(build / "solutions" / HELDOUT_SEED_FILE)
        (build / COURSE_FILE).write_text(course_toml(course), encoding="utf-8")
        os.chmod(build / COURSE_FILE, 0o600)
        os.chmod(build / "exercises", 0o700)
        (build / "submitted").mkdir(mode=0o700)
        os.chmod(build / "submitted", 0o700)
        from grader.course.exchange import ensure_exchange
        ensure_exchange(build / DEFAULT_EXCHANGE)
        os.rename(build, target)  # onto a missing or empty folder: all or nothing
    except OSError as err:
        shutil.rmtree(build, ignore_errors=True)
        raise CourseError(f"cannot create the course in {target}: {err.strerror or err}") from None
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return load_course(target)


HELDOUT_SEED_FILE = ".heldout-seed"  # in solutions/ (0700): instructor only, never released


def _write_heldout_seed(path: Path) -> int:
    import secrets
    seed = secrets.randbelow(2**62)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(f"{seed}\n")
    return seed


def heldout_seed(course: Course) -> int:
    """The course's secret seed that draws the held-out data of threshold tests
    (`solutions/.heldout-seed`, 0600, made by `dlgrade init`; made here for an older course)."""
    path = course.solutions_dir / HELDOUT_SEED_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        try:
            return _write_heldout_seed(path)
        except FileExistsError:
            text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise CourseError(f"cannot read the course's held-out seed {path}: {err}; restore it from a backup "
                          "(a new seed changes every held-out set)") from None
    if not text.isdigit():
        raise CourseError(f"{path} does not hold a seed (a non-negative integer); restore it from a backup")
    return int(text)


def apply_late_policy(course: Course, rows: list[dict]) -> list[dict]:
    """Deprecated: kept until the readers use the factor the gradebook stores (late.penalty_factor)."""
    return _apply_late_policy(course.late, rows)


# --- the instructor's folder is the instructor's only ------------------------------------------

PUBLIC_ENTRIES = ("release",)  # the learner bundle: meant to be handed out


def secure_course_dir(course: Course) -> list[str]:
    """Make the course folder the instructor's only: the folder itself 0711 when the exchange lies
    inside it (learners must reach exchange/; they can list nothing), else 0700; every other entry
    at its top (course.toml, gradebook, roster, exercises/, solutions/, submitted/, reports/) 0700
    for folders and 0600 for files. Links are left alone. Only the owner of the folder (or root)
    changes anything; returns the entries changed."""
    root = Path(course.root)
    try:
        st = root.stat()
    except OSError:
        return []
    if os.geteuid() not in (0, st.st_uid) or not course.solutions_dir.is_dir():
        return []  # not the instructor, or a learner's copy of the course (no solutions/)
    exchange = Path(course.exchange_path).resolve()
    inside = exchange.is_relative_to(root) and exchange != root
    changed = []
    want_root = 0o711 if inside else 0o700
    try:
        if stat.S_IMODE(st.st_mode) != want_root:
            os.chmod(root, want_root)
            changed.append(str(root))
        with os.scandir(root) as entries:
            for entry in entries:
                path = root / entry.name
                if entry.is_symlink() or entry.name in PUBLIC_ENTRIES:
                    continue
                if inside and (path == exchange or exchange.is_relative_to(path)):
                    continue
                mode = 0o700 if entry.is_dir(follow_symlinks=False) else 0o600
                if stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode) != mode:
                    os.chmod(path, mode)
                    changed.append(str(path))
    except OSError:
        pass  # best effort: a folder the instructor cannot change stays as it is
    return changed

