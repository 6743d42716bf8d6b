"""Proof that an exercise's tests work: its reference gets full marks (hidden and public tests), its
untouched template does not, and the points its tests add up to are the ones exercise.toml declares.

The grading function is given by the caller (`grader.grading.engine.grade`), so this module never
imports the grading package (which imports this one's package)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.exercise.spec import Exercise
from grader.protocols import GradeFunction


@dataclass
class ValidationRow:
    """One exercise's proof: the reference's and the template's results and what is wrong."""

    exercise: Exercise
    reference: Any = None  # the reference's Result with the hidden tests (None: no solutions/)
    template: Any = None  # the untouched template's Result with the hidden tests
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        ref, tpl = self.reference, self.template
        return {"id": self.exercise.id, "reference": ref.score if ref else None,
                "template": tpl.score if tpl else None, "max_score": ref.max_score if ref else None,
                "problems": list(self.problems)}


SUITES = (("reference", "hidden"), ("reference", "public"), ("template", "hidden"))  # the proof's gradings


def gradings(ex: Exercise) -> list[tuple[Exercise, Path, str]]:
    """The gradings that prove `ex` (exercise, file, suite), in `SUITES` order; none without solutions/."""
    if ex.solution is None or ex.hidden_tests is None:
        return []
    return [(ex, ex.solution if what == "reference" else ex.template, suite) for what, suite in SUITES]


def judge(ex: Exercise, ref, ref_public, tpl) -> ValidationRow:
    """The row of `ex` from its three results (`gradings` order): the reference gets full marks with
    both suites, the template does not with the hidden one, and the points are the declared ones.
    A grading that could not run is passed as a string saying why."""
    failed_to_run = [f"{what} ({suite}) could not be graded: {res}" for (what, suite), res
                     in zip(SUITES, (ref, ref_public, tpl)) if isinstance(res, str)]
    if failed_to_run:
        return ValidationRow(ex, None if isinstance(ref, str) else ref, None if isinstance(tpl, str) else tpl,
                             failed_to_run)
    problems = []
    for res, what in ((ref, "reference (hidden)"), (ref_public, "reference (public)")):
        if not res.full_marks:
            failed = [t.name for t in res.tests if t.status != "passed"]
            problems.append(f"{what} lost points in: {', '.join(failed)}"
                            + (f" ({res.grader_fault})" if res.grader_fault else ""))
    if tpl.full_marks:
        problems.append("the untouched template gets full marks: the tests cannot fail")
    for res, suite in ((ref, "hidden"), (ref_public, "public")):
        declared = ex.points.get(suite)
        if declared is not None and declared != res.max_score:
            problems.append(f"exercise.toml says {suite} = {declared} points, the tests add up to "
                            f"{res.max_score:g}")
    if ref.extra_data.get("internal_errors"):
        problems.append("internal errors: " + "; ".join(ref.extra_data["internal_errors"])[:500])
    return ValidationRow(ex, ref, tpl, problems)


def validate_exercise(ex: Exercise, grade: GradeFunction) -> ValidationRow:
    """Grade the reference (hidden and public suites: full marks) and the template (hidden: less)."""
    jobs = gradings(ex)
    if not jobs:
        return ValidationRow(ex, problems=["no solutions/ for this exercise"])
    return judge(ex, *(grade(*job) for job in jobs))


def validate_exercises(exercises: list[Exercise], grade: GradeFunction,
                       grade_all: Callable[[list], list] | None = None) -> list[ValidationRow]:
    """`validate_exercise` for each exercise, in order. `grade_all`, when given, grades every
    exercise's `gradings` at once (a list of results or why-not strings, in the same order: e.g. on
    a pool of workers); else each is graded here with `grade`, one after another."""
    if grade_all is None:
        return [validate_exercise(ex, grade) for ex in exercises]
    jobs = [job for ex in exercises for job in gradings(ex)]
    results = iter(grade_all(jobs))
    rows = []
    for ex in exercises:
        if not gradings(ex):
            rows.append(ValidationRow(ex, problems=["no solutions/ for this exercise"]))
        else:
            rows.append(judge(ex, next(results), next(results), next(results)))
    return rows
