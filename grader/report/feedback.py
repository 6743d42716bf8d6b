"""Feedback files: where the pages live (a reports folder; `<exchange>/feedback/<student>/<exercise>/`
once released), writing them in one step with the permissions their readers need, and reading a
released page back for `dlgrade feedback`. What the pages say is `grader.report.views`' business."""

from __future__ import annotations

import os
from pathlib import Path

from grader.atomic import write_text
from grader.course.folders import FEEDBACK
from grader.course.ids import check_id
from grader.report.errors import ReportError

REPORT_HTML = "report.html"
REPORT_MD = "report.md"
DASHBOARD_HTML = "dashboard.html"
Pages = tuple[str, str]  # (HTML page, Markdown) of one learner, or of one learner's exercise


def safe_id(value: str, what: str) -> str:
    """`value` when it is a valid id (it becomes a folder name), else ReportError saying the rule."""
    try:
        return check_id(value, what)
    except ValueError as err:
        raise ReportError(str(err)) from None


def make_folder(path: Path, what: str, mode: int = 0o755) -> None:
    """Create `path` (and its parents) for the `what`; a new folder gets `mode`."""
    try:
        if path.exists() and not path.is_dir():
            raise ReportError(f"{path} is a file; give a folder for the {what}")
        fresh = not path.exists()
        path.mkdir(parents=True, exist_ok=True)
        if fresh:
            os.chmod(path, mode)
    except OSError as err:
        raise ReportError(f"cannot create {path} for the {what}: {err.strerror or err}; give a folder you can "
                          "write to") from None


def _write_pages(folder: Path, pages: Pages) -> None:
    html_text, md_text = pages
    write_text(folder / REPORT_HTML, html_text)
    write_text(folder / REPORT_MD, md_text)


def write_report_folder(out: Path | str, learners: dict[str, Pages], dashboard: str) -> dict:
    """Write `<out>/<student>/report.html|.md` for each learner and `<out>/dashboard.html`. Returns
    {"learners": [html paths], "markdown": [md paths], "dashboard": path}."""
    out = Path(out).expanduser()
    make_folder(out, "reports")
    html_paths, md_paths = [], []
    try:
        for student, pages in sorted(learners.items()):
            folder = out / safe_id(student, "student id")
            make_folder(folder, "reports")
            _write_pages(folder, pages)
            html_paths.append(folder / REPORT_HTML)
            md_paths.append(folder / REPORT_MD)
        dashboard_path = out / DASHBOARD_HTML
        write_text(dashboard_path, dashboard)
    except OSError as err:
        raise ReportError(f"cannot write the reports into {out}: {err.strerror or err}; give a folder you can "
                          "write to (--out)") from None
    return {"learners": html_paths, "markdown": md_paths, "dashboard": dashboard_path}


def feedback_dir(exchange_root: Path | str, student: str, exercise: str) -> Path:
    """`<exchange>/feedback/<student>/<exercise>/`."""
    return (Path(exchange_root).expanduser() / FEEDBACK / safe_id(student, "student id")
            / safe_id(exercise, "exercise id"))


def release_pages(exchange_root: Path | str, pages: dict[tuple[str, str], Pages]) -> list[Path]:
    """Put each (student, exercise)'s pages into the exchange, replacing an earlier release; returns
    the folders written. feedback/ is 0711 (learners cannot list it), its folders 0755 and the
    pages 0644."""
    root = Path(exchange_root).expanduser()
    make_folder(root / FEEDBACK, "feedback", 0o711)
    written = []
    try:
        for (student, exercise), one in sorted(pages.items()):
            folder = feedback_dir(root, student, exercise)
            make_folder(folder.parent, "feedback")
            make_folder(folder, "feedback")
            _write_pages(folder, one)
            written.append(folder)
    except OSError as err:
        raise ReportError(f"cannot write feedback into {root / FEEDBACK}: {err.strerror or err}; check the "
                          "exchange's permissions") from None
    return written


def read_feedback(course, exercise: str, student: str) -> tuple[str, Path]:
    """(the Markdown of a learner's released feedback on `exercise`, the path of its HTML page)."""
    if exercise not in course.deadlines:
        raise ReportError(f"unknown exercise {exercise!r} in course {course.id}; its exercises are: "
                          f"{', '.join(course.exercise_ids) or 'none'}")
    folder = feedback_dir(course.exchange_path, student, exercise)
    md = folder / REPORT_MD
    try:
        text = md.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"no feedback on {exercise} for {student} yet; your instructor releases it after "
                          "grading (`dlgrade release-feedback`); check the exercise and --student") from None
    except (OSError, UnicodeDecodeError) as err:
        why = getattr(err, "strerror", None) or type(err).__name__
        raise ReportError(f"cannot read {md}: {why}; ask your instructor to release the feedback again") from None
    return text, folder / REPORT_HTML


__all__ = ["FEEDBACK", "REPORT_HTML", "REPORT_MD", "DASHBOARD_HTML", "ReportError", "safe_id", "make_folder",
           "write_report_folder", "feedback_dir", "release_pages", "read_feedback"]
