"""Proof that an exercise's tests work: its reference gets full marks (hidden and public tests), its
untouched template does not, and the points its tests add up to are the ones exercise.toml declares.

The grading function is given by the caller (`grader.grading.engine.grade`), so this module never
imports the grading package (which imports this one's package)."""

from __future__ import annotations

from dataclasses import dataclass, field
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


def validate_exercise(ex: Exercise, grade: GradeFunction) -> ValidationRow:
    """Grade the reference (hidden and public suites: full marks) and the template (hidden: less)."""
    if ex.solution is None or ex.hidden_tests is None:
        return ValidationRow(ex, problems=["no solutions/ for this exercise"])
    ref = grade(ex, ex.solution, "hidden")
    ref_public = grade(ex, ex.solution, "public")
    tpl = grade(ex, ex.template, "hidden")
    problems = []
    for res, what in ((ref, "reference (hidden)"), (ref_public, "reference (public)")):
        if not res.full_marks:
            failed = [t.name for t in res.tests if t.status != "passed"]
            problems.append(f"{what} lost points in: {', '.join(failed)}")
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


def validate_exercises(exercises: list[Exercise], grade: GradeFunction) -> list[ValidationRow]:
    """`validate_exercise` for each exercise, in order."""
    return [validate_exercise(ex, grade) for ex in exercises]
