"""The instructor's feedback commands of `dlgrade`: `report` (pages and the dashboard) and
`release-feedback` (pages into the exchange; learners read theirs with `dlgrade feedback`, in
grader/cli/learner.py). Only click is imported at the top; Jinja2, the gradebook and rich load
inside the commands."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import check_id, course_option, db_option, fail, open_gradebook
from grader.cli.common import load_course as _load_course

LANG_HELP = "Language of the pages: fa (Persian, right to left) or en."
lang_option = click.option("--lang", default="fa", show_default=True, metavar="fa|en", help=LANG_HELP)


def _lang(lang: str) -> str:
    from grader.report.i18n import LanguageError, check_lang
    try:
        return check_lang(lang)
    except LanguageError as err:
        fail(str(err))


def _secure_reports(course, target: Path) -> None:
    """Reports hold every learner's grades: the instructor's only (the folder 0700)."""
    import os

    from grader.course.paths import secure_course_dir
    try:
        if target.is_dir() and not target.is_symlink():
            os.chmod(target, 0o700)
    except OSError as err:
        click.echo(f"warning: could not make {target} private (0700): {err}; check who can read it", err=True)
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

    from grader.gradebook.database import GradebookError
    from grader.report.i18n import LanguageError
    from grader.report.errors import ReportError
    from grader.report.views import write_reports
    lang = _lang(lang)
    check_id(student, "student id")
    course = _load_course(course_dir)
    target = out if out is not None else course.root / "reports"
    if target.exists() and not target.is_dir():
        fail(f"--out {target} is a file; give a folder for the reports (it is created if missing)")
    gradebook = open_gradebook(course, db)
    t0 = time.monotonic()
    try:
        written = write_reports(course, gradebook, target, lang, students=[student] if student else None)
    except (ReportError, GradebookError, LanguageError) as err:
        fail(str(err))
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
    from grader.gradebook.database import GradebookError
    from grader.report.i18n import LanguageError
    from grader.course.folders import FEEDBACK
    from grader.course.roster import RosterError, deliver_feedback
    from grader.report.errors import ReportError
    from grader.report.views import release_feedback as write_pages
    lang = _lang(lang)
    check_id(exercise, "exercise id")
    check_id(student, "student id")
    course = _load_course(course_dir)
    gradebook = open_gradebook(course, db)
    try:  # with a roster: each learner's pages are theirs only (feedback/<id>/ 0700, pages 0600)
        written, notes = deliver_feedback(
            course, lambda c: write_pages(c, gradebook, lang, exercise=exercise, student=student))
    except (ReportError, GradebookError, LanguageError, RosterError) as err:
        fail(str(err))
    for note in notes:
        click.echo(f"warning: {note}", err=True)
    learners = len({p.parent.name for p in written})
    click.echo(f"Released {len(written)} feedback report(s) for {learners} learner(s) into "
               f"{Path(course.exchange_path) / FEEDBACK}; learners read theirs with `dlgrade feedback EXERCISE`.")


COMMANDS = (report, release_feedback)

__all__ = ["report", "release_feedback", "COMMANDS"]
