"""What every `dlgrade` command module shares: the one-line error exit, the common options, opening
the course and the gradebook, and making learner-derived text safe for a terminal.

Only click and the standard library are imported at the top: the learner's commands (`list`,
`start`, `submit`, `status`, `feedback`) must start without numpy, pytest or Keras."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import NoReturn

import click

LANGS = ("en", "fa")  # the languages of exercise titles and feedback pages


def fail(message: object) -> NoReturn:
    """Exit 2 with `Error: message` on stderr, one line per line of the message."""
    for line in str(message).splitlines() or [""]:
        click.echo(f"Error: {line}", err=True)
    sys.exit(2)


def locale_lang(environ: dict[str, str] | None = None) -> str:
    """The user's language from the locale (LC_ALL, then LC_MESSAGES, then LANG, as POSIX reads
    them): "fa" for a Persian locale such as fa_IR.UTF-8, else "en"."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            code = value.split(".")[0].split("_")[0].lower()
            return code if code in LANGS else "en"
    return "en"


def quiet_frameworks() -> None:
    """Keep TensorFlow's C++ log lines off the terminal: set for this process (and the processes it
    starts) before anything imports Keras; a user's own setting is kept."""
    from grader.exercise.frameworks import quiet_this_process
    quiet_this_process()


course_option = click.option("--course", "course_dir", type=click.Path(file_okay=False, path_type=Path),
                             default=None, help="The course folder (default: the nearest one holding "
                             "course.toml, from the current folder up).")
db_option = click.option("--db", default=None, help="Gradebook: a SQLite file or any SQLAlchemy URL such as "
                         "postgresql+psycopg://user@host/db (default: course.toml's [gradebook] url).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
device_option = click.option("--device", type=click.Choice(["auto", "cpu", "gpu"]), default="auto",
                             show_default=True, help="Where Keras runs in the sandbox: a visible GPU (auto), "
                             "or force one.")
hoda_option = click.option("--hoda-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                           help="Folder with the Hoda .cdb files (default: $DLGRADE_HODA_DIR, else the course's "
                           "[data] hoda_dir; without one the Keras exercises use scikit-learn's bundled digits).")


def load_course(course_dir: Path | None):
    """The course (course.toml from `course_dir` or the nearest folder up), or exit with why."""
    from grader.course.config import CourseError, load_course as load
    from grader.course.paths import secure_course_dir
    try:
        course = load(course_dir)
    except CourseError as err:
        fail(str(err))
    secure_course_dir(course)  # the instructor's folder stays theirs only (a no-op for learners)
    return course


def course_exercise(course, ex_id: str):
    """One of the course's exercises, or exit naming the course's exercises."""
    from grader.course.config import CourseError
    try:
        return course.exercise(ex_id)
    except CourseError as err:
        fail(str(err))


def find_exercise(ex_id: str):
    """The exercise: the course's own when run inside a course folder, else the bundled one."""
    from grader.course.paths import find_course_dir
    if find_course_dir() is not None:
        return course_exercise(load_course(None), ex_id)
    from grader.exercise.spec import SpecError, find_exercise as find
    try:
        return find(ex_id)
    except SpecError as err:
        fail(str(err))


def open_gradebook(course, db: str | None):
    """The course's gradebook (or `--db`), or exit with why; a file made just now is 0600."""
    from grader.course.paths import secure_course_dir
    from grader.gradebook.store import Gradebook
    from grader.gradebook.database import GradebookError
    try:
        gradebook = Gradebook.open(db or course.gradebook_url)
    except GradebookError as err:
        fail(str(err))
    secure_course_dir(course)
    return gradebook


def check_id(value: str | None, what: str) -> None:
    """Exit with the id rule's message when `value` (if given) is not a valid id."""
    if value is None:
        return
    from grader.course.ids import check_id as check
    try:
        check(value, what)
    except ValueError as err:
        fail(str(err))


def resolve_work_path(exercise, path: str | None) -> Path:
    """The learner's work: PATH when given, else ./EXERCISE/<entry> or ./<entry>, or the notebook
    (<entry's name>.ipynb) there; both a .py file and a notebook in one place: say which to give."""
    if path:
        return Path(path)
    notebook = Path(exercise.entry).stem + ".ipynb"  # grading.files.notebook_name (kept light here)
    for folder in (Path(exercise.id), Path(".")):
        found = [p for p in (folder / exercise.entry, folder / notebook) if p.is_file()]
        if len(found) == 2:
            fail(f"both {found[0]} and {found[1]} are here; say which to use: dlgrade check {exercise.id} "
                 f"{found[1]} (or {found[0]})")
        if found:
            return found[0]
    fail(f"no {exercise.entry} or {notebook} here or in ./{exercise.id}/; give the path: dlgrade check "
         f"{exercise.id} PATH (or run `dlgrade start {exercise.id}` first)")


def clean(text: object, limit: int = 1 << 20) -> str:
    """Learner-derived text without control sequences (grader.sandbox.inside.wire.clean_text)."""
    from grader.sandbox.inside.wire import clean_text
    return clean_text(str(text), limit)


def safe(text: object, limit: int = 1 << 20) -> str:
    """Learner-derived text for a Rich markup string: no control sequence and no markup (escaped).
    Lines a learner wrote are printed as `learner_text` Text objects instead."""
    from rich.markup import escape
    return escape(clean(text, limit))


def learner_text(text: object, style: str = ""):
    """A Rich Text of learner-derived text: never read as markup or emoji codes, no control sequence."""
    from rich.text import Text
    return Text(clean(text), style=style)


def plain(text: object, limit: int = 300) -> str:
    """One line of text that is safe on a terminal: no control sequences, at most `limit` characters."""
    line = (str(text).strip().splitlines() or [""])[0]
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", line)[:limit]


def plain_lines(text: object, limit: int = 300, lines: int = 14) -> list[str]:
    """Up to `lines` lines of `text`, each safe on a terminal (see `plain`)."""
    return [re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", ln)[:limit] for ln in str(text).strip().splitlines()[:lines]]
