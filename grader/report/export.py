"""Grades out of the gradebook in the formats courses use: a plain CSV (student x exercise), a
Canvas gradebook import CSV, and one Gradescope-style results.json per grading.

A grading that is not a grade (failed: a grader fault, a database error; crashed; pending) is
missing in every format: an empty cell, no results.json; never a 0. An override always counts."""

from __future__ import annotations

import csv
import json
from pathlib import Path

FORMATS = ("csv", "canvas", "gradescope")


class ExportError(Exception):
    """An export that cannot be written (the message says what to do)."""


def _counts(row: dict) -> float | None:
    """The score of a grade row that counts, or None (missing) when it is not a grade."""
    if row.get("overridden"):
        return row.get("score")
    if row.get("status", "graded") != "graded":
        return None
    return row.get("score")


def _matrix(rows: list[dict]) -> tuple[list[str], list[str], dict]:
    students = sorted({r["student"] for r in rows})
    exercises = sorted({r["exercise"] for r in rows})
    cell = {(r["student"], r["exercise"]): {**r, "score": _counts(r)} for r in rows}
    return students, exercises, cell


def write_csv(rows: list[dict], out: Path) -> Path:
    """One row per student, one column per exercise (the score that counts), then the total."""
    students, exercises, cell = _matrix(rows)
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student", *exercises, "total"])
        for s in students:
            scores = [cell.get((s, e), {}).get("score") for e in exercises]
            w.writerow([s, *("" if v is None else f"{v:g}" for v in scores),
                        f"{sum(v for v in scores if v is not None):g}"])
    return out


def write_canvas(rows: list[dict], out: Path, course_id: str = "") -> Path:
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then one column
    per assignment; the second row gives each assignment's points possible."""
    students, exercises, cell = _matrix(rows)
    max_of = {e: max((cell[(s, e)].get("max_score") or 0) for s in students if (s, e) in cell) for e in exercises}
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *exercises])
        w.writerow(["    Points Possible", "", "", "", "", *(f"{max_of[e]:g}" for e in exercises)])
        for s in students:
            w.writerow([s, "", s, s, course_id,
                        *("" if cell.get((s, e), {}).get("score") is None else f"{cell[(s, e)]['score']:g}"
                          for e in exercises)])
    return out


def write_gradescope(gradings: list[dict], out: Path) -> Path:
    """out/<student>/<exercise>/results.json: the latest grading's full result for each (student,
    exercise), none when that grading is not a grade (its "status" is not "graded")."""
    out.mkdir(parents=True, exist_ok=True)
    latest = {}
    for g in gradings:  # oldest first: the last one is the one that counts
        latest[(g["student"], g["exercise"])] = g
    for g in latest.values():
        result = g.get("result")
        if not result or g.get("status", "graded") != "graded":
            continue
        folder = out / g["student"] / g["exercise"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "results.json").write_text(json.dumps(result, ensure_ascii=True, indent=2), encoding="utf-8")
    return out


def export(fmt: str, rows: list[dict], gradings: list[dict], out: Path, course_id: str = "") -> Path:
    """Write `fmt` to `out` (a file for csv/canvas, a folder for gradescope)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    out = Path(out)
    if fmt != "gradescope" and out.is_dir():
        raise ExportError(f"{out} is a folder; give a file name such as grades.csv")
    if not out.parent.is_dir():
        raise ExportError(f"{out.parent} does not exist; create it or choose another --out")
    if fmt == "csv":
        return write_csv(rows, out)
    if fmt == "canvas":
        return write_canvas(rows, out, course_id)
    return write_gradescope(gradings, out)
