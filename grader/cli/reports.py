"""The feedback commands of `dlgrade`: `report`, `release-feedback` (instructors) and `feedback`
(learners). cli.py adds them with `main.add_command(...)`. Like cli.py, only click is imported at
the top; Jinja2, the gradebook and rich load inside the commands. The small helpers below repeat
cli.py's (`_course`, `_gradebook`, the --course/--db options) so this module never imports cli.py
(which imports it)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

LANG_HELP = "Language of the pages: fa (Persian, right to left) or en."


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


course_option = click.option("--course", "course_dir", type=click.Path(file_okay=False, path_type=Path),
                             default=None, help="The course folder (default: the nearest one holding "
                             "course.toml, from the current folder up).")
db_option = click.option("--db", default=None, help="Gradebook: a SQLite file or any SQLAlchemy URL such as "
                         "postgresql+psycopg://user@host/db (default: course.toml's [gradebook] url).")
lang_option = click.option("--lang", default="fa", show_default=True, metavar="fa|en", help=LANG_HELP)


def _course(course_dir: Path | None):
    from grader.course.config import CourseError, load_course
    try:
        return load_course(course_dir)
    except CourseError as err:
        _fail(str(err))


def _gradebook(course, db: str | None):
    from grader.gradebook.store import Gradebook, GradebookError
    try:
        return Gradebook.open(db or course.gradebook_url)
    except GradebookError as err:
        _fail(str(err))


def _lang(lang: str) -> str:
    from grader.report.i18n import LanguageError, check_lang
    try:
        return check_lang(lang)
    except LanguageError as err:
        _fail(str(err))


def _check_id(value: str | None, what: str) -> None:
    from grader.course.config import check_id
    if value is None:
        return
    try:
        check_id(value, what)
    except ValueError as err:
        _fail(str(err))


def _secure_reports(course, target: Path) -> None:
    """Reports hold every learner's grades: the instructor's only (the folder 0700)."""
    import os

    from grader.course.config import secure_course_dir
    try:
        if target.is_dir() and not target.is_symlink():
            os.chmod(target, 0o700)
    except OSError:
        pass
    secure_course_dir(course)


@click.command("report")
@lang_option
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for the pages (default: <course>/reports): <student>/report.html and .md, "
                   "and dashboard.html.")
@click.option("--student", default=None, help="Only this learner's page (the dashboard is always written).")
@course_option
@db_option
def report(lang, out, student, course_dir, db):
    """Instructors: write each learner's feedback page (HTML and Markdown) and the class dashboard."""
    import time

    from grader.gradebook.store import GradebookError
    from grader.report.i18n import LanguageError
    from grader.report.views import ReportError, write_reports
    lang = _lang(lang)
    _check_id(student, "student id")
    course = _course(course_dir)
    target = out if out is not None else course.root / "reports"
    if target.exists() and not target.is_dir():
        _fail(f"--out {target} is a file; give a folder for the reports (it is created if missing)")
    gradebook = _gradebook(course, db)
    t0 = time.monotonic()
    try:
        written = write_reports(course, gradebook, target, lang, students=[student] if student else None)
    except (ReportError, GradebookError, LanguageError) as err:
        _fail(str(err))
    _secure_reports(course, target)
    click.echo(f"Wrote {len(written['learners'])} learner page(s) ({lang}) in {target} and the dashboard "
               f"{written['dashboard']} in {time.monotonic() - t0:.1f} s.")


@click.command("release-feedback")
@lang_option
@click.option("--exercise", default=None, help="Only this exercise (default: every graded one).")
@click.option("--student", default=None, help="Only this learner.")
@course_option
@db_option
def release_feedback(lang, exercise, student, course_dir, db):
    """Instructors: put each learner's feedback into the exchange, where `dlgrade feedback` finds it
    (<exchange>/feedback/<student>/<exercise>/report.html and report.md)."""
    from grader.gradebook.store import GradebookError
    from grader.report.i18n import LanguageError
    from grader.report.views import FEEDBACK, ReportError
    from grader.course.roster import RosterError, release_feedback as release
    lang = _lang(lang)
    _check_id(exercise, "exercise id")
    _check_id(student, "student id")
    course = _course(course_dir)
    gradebook = _gradebook(course, db)
    try:  # with a roster: each learner's pages are theirs only (feedback/<id>/ 0700, pages 0600)
        written, notes = release(course, gradebook, lang, exercise=exercise, student=student)
    except (ReportError, GradebookError, LanguageError, RosterError) as err:
        _fail(str(err))
    for note in notes:
        click.echo(f"warning: {note}", err=True)
    learners = len({p.parent.name for p in written})
    click.echo(f"Released {len(written)} feedback report(s) for {learners} learner(s) into "
               f"{Path(course.exchange_path) / FEEDBACK}; learners read theirs with `dlgrade feedback EXERCISE`.")


@click.command("feedback")
@click.argument("exercise")
@click.option("--student", default=None, help="Your student id (default: $DLGRADE_STUDENT, else your user name).")
@click.option("--raw", is_flag=True, help="Print the Markdown as it is (no terminal rendering).")
@course_option
def feedback(exercise, student, raw, course_dir):
    """Read your feedback on EXERCISE (after your instructor released it)."""
    from grader.course.exchange import ExchangeError
    from grader.report.views import ReportError, read_feedback
    _check_id(exercise, "exercise id")
    _check_id(student, "student id")
    course = _course(course_dir)
    from grader.course.roster import resolve_student
    try:
        who = resolve_student(course.exchange_path, student)  # with a roster: yourself only (or the instructor)
        text, html_path = read_feedback(course, exercise, who)
    except (ReportError, ExchangeError) as err:
        _fail(str(err))
    from grader.sandbox.inside.wire import clean_text
    text = clean_text(text, 1 << 22)  # a page holds learner text: no control sequence reaches the terminal
    if raw:
        click.echo(text)
    else:
        from rich.console import Console
        from rich.markdown import Markdown
        console = Console()
        console.print(Markdown(text))
    click.echo(f"The page with plots: {html_path}")


COMMANDS = (report, release_feedback, feedback)

__all__ = ["report", "release_feedback", "feedback", "COMMANDS"]
