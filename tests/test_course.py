"""Courses (course.toml, init, late policy) and the learner bundle."""

from __future__ import annotations

import shutil
import stat
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.course.bundle import BundleError, build_bundle
from grader.course.config import Course, CourseError, LatePolicy, init_course, learner_course_toml, load_course
from grader.exercise.templates import BEGIN, END, make_template
from grader.exercise.spec import all_exercises, exercises_root, solutions_root

UTC = timezone.utc
NOW = datetime(2026, 9, 1, 10, 30, tzinfo=UTC)
LEARNER_FILES = {"README.md", "template.py", "exercise.toml", "test_public.py"}


def complete_exercise_ids() -> list[str]:
    """Bundled exercises with all their learner files and a reference + hidden tests (an exercise
    another engineer is still writing is left out of the bundle tests)."""
    sol = solutions_root()
    return [e.id for e in all_exercises(exercises_root(), solutions=False)
            if all((e.directory / n).is_file() for n in LEARNER_FILES)
            and sol is not None and all((sol / e.id / n).is_file() for n in ("solution.py", "test_hidden.py"))]


@pytest.fixture(scope="module")
def base_course(tmp_path_factory) -> Path:
    """A course made by init_course from the complete bundled exercises (made once, copied per test)."""
    src = tmp_path_factory.mktemp("src")
    for ex_id in complete_exercise_ids():
        shutil.copytree(exercises_root() / ex_id, src / "exercises" / ex_id)
        shutil.copytree(solutions_root() / ex_id, src / "solutions" / ex_id)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DLGRADE_EXERCISES", str(src / "exercises"))
        mp.setenv("DLGRADE_SOLUTIONS", str(src / "solutions"))
        root = tmp_path_factory.mktemp("base") / "nn-2026"
        init_course(root, now=NOW)
    return root


@pytest.fixture
def course_dir(base_course, tmp_path) -> Path:
    dst = tmp_path / "course"
    shutil.copytree(base_course, dst, symlinks=True)
    return dst


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert message and "\n" not in message, f"not a one-line message: {message!r}"
    return message


# --- init and load ----------------------------------------------------------------------------

def test_init_creates_a_course_that_load_course_reads_back(tmp_path):
    course = init_course(tmp_path / "my course", now=NOW)
    root = tmp_path / "my course"
    bundled = [e.id for e in all_exercises(exercises_root(), solutions=False)]
    assert course.root == root.resolve() and course.id == "my-course"
    assert list(course.exercise_ids) == bundled
    for ex_id in bundled:
        assert (root / "exercises" / ex_id / "exercise.toml").is_file()
    assert any((root / "solutions" / ex_id / "solution.py").is_file() for ex_id in bundled)
    assert (root / "exchange" / "inbound").is_dir() and (root / "submitted").is_dir()
    # a shared server: the instructor makes each learner's inbound folder (roster); learners list nothing
    assert stat.S_IMODE((root / "exchange" / "inbound").stat().st_mode) == 0o711
    assert stat.S_IMODE((root / "solutions").stat().st_mode) == 0o700
    # the course folder is the instructor's: learners reach exchange/ only
    assert stat.S_IMODE(root.stat().st_mode) == 0o711
    assert stat.S_IMODE((root / "course.toml").stat().st_mode) == 0o600
    for name in ("exercises", "submitted"):
        assert stat.S_IMODE((root / name).stat().st_mode) == 0o700
    deadlines = list(course.deadlines.values())
    assert deadlines[0] == datetime(2026, 9, 8, 23, 59, tzinfo=UTC)
    assert all(b - a == timedelta(days=7) for a, b in zip(deadlines, deadlines[1:]))
    again = load_course(root)
    assert again == course
    assert again.exchange_path == root.resolve() / "exchange"
    assert again.gradebook_url == f"sqlite:///{root.resolve() / 'gradebook.sqlite'}"
    assert again.exercises_dir == root.resolve() / "exercises"
    assert again.solutions_dir == root.resolve() / "solutions"
    assert again.submitted_dir == root.resolve() / "submitted"
    ex = again.exercise(bundled[0])
    assert ex.directory == root.resolve() / "exercises" / bundled[0]
    assert ex.solution is None or ex.solution.is_relative_to(root.resolve() / "solutions")


def test_init_into_an_existing_empty_folder_with_an_id(tmp_path):
    (tmp_path / "c").mkdir()
    course = init_course(tmp_path / "c", course_id="nn-2026", now=NOW)
    assert course.id == "nn-2026" and load_course(tmp_path / "c").id == "nn-2026"


def test_init_refuses_a_non_empty_folder_and_changes_nothing(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "notes.txt").write_text("mine")
    with pytest.raises(CourseError) as err:
        init_course(tmp_path / "c")
    assert "not empty" in one_line(err)
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["notes.txt"]


def test_init_refuses_a_bad_id_and_missing_solutions(tmp_path, monkeypatch):
    with pytest.raises(CourseError) as err:
        init_course(tmp_path / "c", course_id="../x")
    assert "not a valid id" in one_line(err)
    monkeypatch.setenv("DLGRADE_SOLUTIONS", str(tmp_path / "nowhere"))
    with pytest.raises(CourseError) as err:
        init_course(tmp_path / "c")
    assert "solutions" in one_line(err) and "DLGRADE_SOLUTIONS" in str(err.value)
    assert list(tmp_path.iterdir()) == []  # no half-made course, no temporary folder


def test_load_course_finds_the_nearest_parent_or_says_how_to_make_one(course_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("DLGRADE_COURSE", raising=False)
    deep = course_dir / "exercises" / "perceptron"
    monkeypatch.chdir(deep)
    assert load_course().root == course_dir.resolve()
    assert load_course(course_dir / "course.toml").root == course_dir.resolve()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CourseError) as err:
        load_course()
    assert "no course.toml in" in one_line(err) and "dlgrade init DIR" in str(err.value)
    monkeypatch.setenv("DLGRADE_COURSE", str(course_dir))
    assert load_course().root == course_dir.resolve()
    with pytest.raises(CourseError) as err:
        load_course(tmp_path / "missing")
    assert "dlgrade init" in one_line(err)


def test_unknown_exercise_lists_the_course_exercises(course_dir):
    course = load_course(course_dir)
    with pytest.raises(CourseError) as err:
        course.exercise("perceptorn")
    assert "perceptorn" in one_line(err) and "perceptron" in str(err.value)


GOOD = """[course]
id = "nn-2026"
title = "Neural networks"
[exercises.perceptron]
deadline = 2026-12-01T23:59:00Z
[late]
policy = "penalty"
grace_minutes = 10
penalty_per_day = 0.25
max_days = 3
[exchange]
path = "/srv/dlgrade/exchange"
[gradebook]
url = "postgresql://grader@db/nn"
[data]
hoda_dir = "data/hoda"
"""


def test_every_field_is_read(course_dir):
    (course_dir / "course.toml").write_text(GOOD)
    course = load_course(course_dir)
    assert course.title == "Neural networks"
    assert course.deadlines == {"perceptron": datetime(2026, 12, 1, 23, 59, tzinfo=UTC)}
    assert course.late == LatePolicy("penalty", 10.0, 0.25, 3.0)
    assert course.exchange_path == Path("/srv/dlgrade/exchange")
    assert course.gradebook_url == "postgresql://grader@db/nn"
    assert course.hoda_dir == course_dir.resolve() / "data" / "hoda"


def test_a_deadline_with_another_offset_is_converted_to_utc(course_dir):
    (course_dir / "course.toml").write_text(GOOD.replace("2026-12-01T23:59:00Z", "2026-12-02T03:29:00+03:30"))
    assert load_course(course_dir).deadlines["perceptron"] == datetime(2026, 12, 1, 23, 59, tzinfo=UTC)


@pytest.mark.parametrize("old, new, words", [
    ("[course]", "[course", ["not valid TOML"]),
    ('[course]\nid = "nn-2026"\ntitle = "Neural networks"\n', "", ["missing the [course] table"]),
    ('id = "nn-2026"\n', "", ["missing `id`"]),
    ('id = "nn-2026"', 'id = "nn 2026!"', ["[course] id", "not a valid id"]),
    ("[data]", "[dta]", ["unknown table [dta]"]),
    ("grace_minutes = 10", "grace_mins = 10", ["unknown key `grace_mins` in [late]"]),
    ("deadline = 2026-12-01T23:59:00Z", "dedline = 2026-12-01T23:59:00Z", ["[exercises.perceptron]", "dedline"]),
    ('policy = "penalty"', 'policy = "lenient"', ["[late]", "`policy`", "lenient"]),
    ("penalty_per_day = 0.25\n", "", ["penalty_per_day"]),
    ("penalty_per_day = 0.25", "penalty_per_day = 25", ["penalty_per_day", "between 0 and 1"]),
    ("grace_minutes = 10", "grace_minutes = -5", ["grace_minutes"]),
    ("max_days = 3", "max_days = true", ["max_days"]),
    ("max_days = 3", 'max_days = "3"', ["max_days"]),
    ("deadline = 2026-12-01T23:59:00Z", 'deadline = "2026-12-01T23:59:00Z"', ["deadline", "no quotes"]),
    ("deadline = 2026-12-01T23:59:00Z", "deadline = 2026-12-01T23:59:00", ["deadline", "no time zone"]),
    ("deadline = 2026-12-01T23:59:00Z", "deadline = 2026-12-01", ["deadline", "a date, a time and a zone"]),
    ("[exercises.perceptron]", "[exercises.nosuch]", ["[exercises.nosuch]", "exercises/nosuch/exercise.toml"]),
    ('path = "/srv/dlgrade/exchange"', "path = 3", ["[exchange]", "`path`"]),
    ('path = "/srv/dlgrade/exchange"', 'path = ""', ["[exchange]", "`path`"]),
    ('url = "postgresql://grader@db/nn"', "url = []", ["[gradebook]", "`url`"]),
    ("[exercises.perceptron]\n", "exercises = 3\n[exercises.perceptron]\n", ["`exercises`"]),
])
def test_a_bad_course_toml_names_the_file_and_the_field(course_dir, old, new, words):
    assert old in GOOD
    (course_dir / "course.toml").write_text(GOOD.replace(old, new, 1))
    with pytest.raises(CourseError) as err:
        load_course(course_dir)
    message = one_line(err)
    assert str(course_dir.resolve() / "course.toml") in message
    for word in words:
        assert word in message


def test_a_non_utf8_course_toml(course_dir):
    (course_dir / "course.toml").write_bytes(GOOD.encode().replace(b"Neural", b"Neur\xe4l"))
    with pytest.raises(CourseError) as err:
        load_course(course_dir)
    assert "not UTF-8" in one_line(err)


# --- late policy ------------------------------------------------------------------------------

DEADLINE = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)


def _course(policy: str, grace: float = 15, per_day: float = 0.1, max_days: float | None = 3) -> Course:
    return Course(root=Path("/tmp/c"), id="c", title="c", deadlines={"p": DEADLINE, "open": None},
                  late=LatePolicy(policy, grace, per_day, max_days))


@pytest.mark.parametrize("policy, after, expected", [
    ("penalty", timedelta(days=-1), (False, 0.0, 1.0, True)),
    ("penalty", timedelta(0), (False, 0.0, 1.0, True)),
    ("penalty", timedelta(minutes=15), (False, 0.0, 1.0, True)),        # within grace: on time
    ("penalty", timedelta(minutes=16), (True, 0.011111, 0.9, True)),    # a started day costs 10%
    ("penalty", timedelta(days=1.5), (True, 1.5, 0.8, True)),
    ("penalty", timedelta(days=3), (True, 3.0, 0.7, True)),
    ("penalty", timedelta(days=3, seconds=1), (True, 3.000012, 0.0, False)),  # over max_days
    ("accept", timedelta(days=2), (True, 2.0, 1.0, True)),
    ("accept", timedelta(days=4), (True, 4.0, 0.0, False)),
    ("reject", timedelta(minutes=10), (False, 0.0, 1.0, True)),
    ("reject", timedelta(minutes=20), (True, 0.013889, 0.0, False)),
])
def test_late_info_applies_the_policy(policy, after, expected):
    assert tuple(_course(policy).late_info("p", DEADLINE + after)) == expected


def test_late_info_details():
    steep = _course("penalty", grace=0, per_day=0.4, max_days=None)
    assert steep.late_info("p", DEADLINE + timedelta(days=2.5)) == (True, 2.5, 0.0, True)  # floors at 0
    assert steep.late_info("open", DEADLINE + timedelta(days=100)) == (False, 0.0, 1.0, True)  # no deadline
    assert steep.late_info("p", "2026-12-02T23:59:00Z").factor == 0.6  # ISO text, exactly one day
    assert steep.late_info("p", datetime(2026, 12, 2, 23, 59)).late_days == 1.0  # naive means UTC
    with pytest.raises(CourseError):
        steep.late_info("nope", DEADLINE)


# --- the learner's course.toml ----------------------------------------------------------------

def test_learner_course_toml_keeps_only_what_learners_need(course_dir):
    (course_dir / "course.toml").write_text(GOOD.replace('"/srv/dlgrade/exchange"', '"shared/exchange"'))
    course = load_course(course_dir)
    text = learner_course_toml(course)
    data = tomllib.loads(text)
    assert set(data) == {"course", "exercises", "late", "exchange"}
    for secret in ("gradebook", "postgresql", "hoda", "data/", "solutions"):
        assert secret not in text
    assert data["course"] == {"id": "nn-2026", "title": "Neural networks"}
    assert data["exercises"]["perceptron"]["deadline"] == DEADLINE
    assert data["late"] == {"policy": "penalty", "grace_minutes": 10, "penalty_per_day": 0.25, "max_days": 3}
    assert data["exchange"]["path"] == str(course_dir.resolve() / "shared" / "exchange")  # absolute


def test_learner_course_toml_escapes_a_title():
    course = Course(root=Path("/tmp/c"), id="c", title='Deep "nets" \\ شبکه\u007f', deadlines={"p": None})
    assert tomllib.loads(learner_course_toml(course))["course"]["title"] == course.title


# --- the learner bundle -----------------------------------------------------------------------

def _public_text() -> str:
    """Everything learners may see anyway: the checkout's own exercise files (committed templates included)."""
    return "\n".join(p.read_text(encoding="utf-8") for ex_id in complete_exercise_ids()
                     for p in sorted((exercises_root() / ex_id).iterdir()) if p.is_file())


def _secret_lines(course_root: Path) -> set[str]:
    """Every non-trivial line of every reference solution and hidden test that no public file has."""
    public = _public_text()
    secret = set()
    for p in (course_root / "solutions").rglob("*.py"):
        for line in p.read_text(encoding="utf-8").splitlines():
            s = line.strip()
            if len(s) > 25 and s not in public:
                secret.add(s)
    return secret


def _leaks(course_root: Path, bundle: Path) -> list[str]:
    secret = _secret_lines(course_root)
    found = []
    for p in bundle.rglob("*"):
        if p.is_file():
            text = p.read_text(encoding="utf-8")
            found += [f"{p.relative_to(bundle)}: {s}" for s in secret if s in text]
    return found


def test_bundle_has_templates_tests_readmes_and_no_solution_line(course_dir, tmp_path):
    course = load_course(course_dir)
    # the committed template must not be what is shipped: the bundle generates it from the reference
    ex_id = next(iter(course.exercise_ids))
    (course_dir / "exercises" / ex_id / "template.py").write_text("# stale\n")
    (course_dir / "exercises" / ex_id / "notes-for-me.txt").write_text("not for learners")
    out = build_bundle(course, tmp_path / "release")
    assert out == (tmp_path / "release").resolve()
    assert {p.name for p in out.iterdir()} == {"course.toml", "exercises"}
    assert sorted(p.name for p in (out / "exercises").iterdir()) == sorted(course.exercise_ids)
    for ex in course.all_exercises():
        shipped = out / "exercises" / ex.id
        assert {p.name for p in shipped.iterdir()} == LEARNER_FILES
        assert (shipped / "template.py").read_text() == make_template(ex.solution.read_text(), str(ex.solution))
        assert (shipped / "test_public.py").read_bytes() == ex.public_tests.read_bytes()
        assert (shipped / "README.md").read_bytes() == (ex.directory / "README.md").read_bytes()
    names = {p.name for p in out.rglob("*")}
    assert "solution.py" not in names and "test_hidden.py" not in names
    assert _secret_lines(course_dir), "the scan needs secret lines to look for"
    assert _leaks(course_dir, out) == []
    learner = load_course(out)  # a learner can use the bundle as their course folder
    assert learner.deadlines == course.deadlines and learner.exchange_path == course.exchange_path
    assert learner.exercise(ex_id).solution is None


def test_the_leak_scan_catches_an_unmarked_answer(course_dir, tmp_path):
    course = load_course(course_dir)
    ex = course.exercise("perceptron")
    source = ex.solution.read_text()
    # an instructor forgets the markers of the first answer: it would be shipped in the template
    first = source.index(BEGIN)
    source = source[:first] + source[first:].replace(BEGIN, "# answer", 1).replace(END, "# end", 1)
    ex.solution.write_text(source)
    out = build_bundle(course, tmp_path / "release")
    assert _leaks(course_dir, out)


def test_bundle_refuses_a_non_empty_folder_unless_forced(course_dir, tmp_path):
    course = load_course(course_dir)
    out = tmp_path / "release"
    out.mkdir()
    (out / "course.toml").write_text("old")
    with pytest.raises(BundleError) as err:
        build_bundle(course, out)
    assert "not empty" in one_line(err) and (out / "course.toml").read_text() == "old"
    build_bundle(course, out, force=True)
    assert (out / "course.toml").read_text() == learner_course_toml(course)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course", "release"]  # no temporary folder left
    (out / "my-thesis.tex").write_text("precious")
    with pytest.raises(BundleError) as err:
        build_bundle(course, out, force=True)
    assert "my-thesis.tex" in one_line(err) and (out / "my-thesis.tex").read_text() == "precious"
    with pytest.raises(CourseError) as err:  # BundleError is a CourseError
        build_bundle(course, course_dir / "solutions" / "out")
    assert "solutions" in one_line(err)
    with pytest.raises(CourseError):
        build_bundle(course, course_dir.parent, force=True)


def test_bundle_refuses_an_exercise_without_its_reference(course_dir, tmp_path):
    course = load_course(course_dir)
    shutil.rmtree(course_dir / "solutions" / "perceptron")
    with pytest.raises(BundleError) as err:
        build_bundle(course, tmp_path / "release")
    assert "solutions/perceptron/solution.py" in one_line(err)
    assert not (tmp_path / "release").exists()
