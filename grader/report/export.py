"""Grades out of the gradebook in the formats courses use: a plain CSV (student x exercise), a
Canvas gradebook import CSV, and one Gradescope-style results.json per counting grading.

A grading that is not a grade (failed: a grader fault, a database error; crashed; pending) is
missing in every format: an empty cell, no results.json; never a 0. An override always counts.
Scores are the gradebook's grade rows (the late factor applied there, once)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from grader.gradebook.rows import GradeRow, GradingRow
from grader.report.views import counting_gradings

FORMATS = ("csv", "canvas", "gradescope")


class ExportError(Exception):
    """An export that cannot be written (the message says what to do)."""


@dataclass(frozen=True)
class _Cell:
    """What a grade export writes for one (student, exercise)."""

    student: str
    exercise: str
    score: float | None  # None: no score counts (missing, never 0)
    max_score: float | None


def _matrix(cells: list[_Cell]) -> tuple[list[str], list[str], dict[tuple[str, str], _Cell]]:
    students = sorted({c.student for c in cells})
    exercises = sorted({c.exercise for c in cells})
    return students, exercises, {(c.student, c.exercise): c for c in cells}


def _score(cell: _Cell | None) -> float | None:
    return cell.score if cell is not None else None


def write_csv(cells: list[_Cell], out: Path) -> Path:
    """One row per student, one column per exercise (the score that counts), then the total."""
    students, exercises, cell = _matrix(cells)
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student", *exercises, "total"])
        for s in students:
            scores = [_score(cell.get((s, e))) for e in exercises]
            w.writerow([s, *("" if v is None else f"{v:g}" for v in scores),
                        f"{sum(v for v in scores if v is not None):g}"])
    return out


def write_canvas(cells: list[_Cell], out: Path, course_id: str = "") -> Path:
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then one column
    per assignment; the second row gives each assignment's points possible."""
    students, exercises, cell = _matrix(cells)
    max_of = {e: max((cell[(s, e)].max_score or 0) for s in students if (s, e) in cell) for e in exercises}
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *exercises])
        w.writerow(["    Points Possible", "", "", "", "", *(f"{max_of[e]:g}" for e in exercises)])
        for s in students:
            w.writerow([s, "", s, s, course_id,
                        *("" if _score(cell.get((s, e))) is None else f"{cell[(s, e)].score:g}" for e in exercises)])
    return out


def write_gradescope(results: dict[tuple[str, str], dict], out: Path) -> Path:
    """out/<student>/<exercise>/results.json: the counting grading's full result for each (student,
    exercise) whose grading is a grade."""
    out.mkdir(parents=True, exist_ok=True)
    for (student, exercise), result in sorted(results.items()):
        folder = out / student / exercise
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "results.json").write_text(json.dumps(result, ensure_ascii=True, indent=2), encoding="utf-8")
    return out


def _check_out(fmt: str, out: Path | str) -> Path:
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    out = Path(out)
    if fmt != "gradescope" and out.is_dir():
        raise ExportError(f"{out} is a folder; give a file name such as grades.csv")
    if not out.parent.is_dir():
        raise ExportError(f"{out.parent} does not exist; create it or choose another --out")
    return out


def export_rows(fmt: str, rows: list[GradeRow], gradings: list[GradingRow], out: Path | str,
                course_id: str = "") -> Path:
    """Write `fmt` to `out` (a file for csv/canvas, a folder for gradescope) from the gradebook's
    `grade_rows()` and `grading_rows()`."""
    out = _check_out(fmt, out)
    if fmt == "gradescope":
        results = {pair: g.result_json for pair, g in counting_gradings(rows, gradings).items()
                   if g.is_grade and isinstance(g.result_json, dict)}
        return write_gradescope(results, out)
    cells = [_Cell(r.student, r.exercise, r.score if r.counts else None, r.max_score) for r in rows]
    return write_csv(cells, out) if fmt == "csv" else write_canvas(cells, out, course_id)


def export_gradebook(fmt: str, gradebook, out: Path | str, course_id: str = "") -> Path:
    """Write `fmt` to `out` from a gradebook (see `export_rows`)."""
    return export_rows(fmt, gradebook.grade_rows(), gradebook.grading_rows(), out, course_id)


__all__ = ["FORMATS", "ExportError", "export_gradebook", "export_rows", "write_csv", "write_canvas",
           "write_gradescope"]
