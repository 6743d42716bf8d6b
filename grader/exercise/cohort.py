"""Simulated learners for the demo and the benchmarks: submissions made from an exercise's
reference that are correct, partly wrong, broken or slow."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from grader.exercise.templates import blank_regions, solution_regions
from grader.exercise.spec import Exercise


class LearnerKind(StrEnum):
    """How a simulated learner's submission behaves."""

    CORRECT = "correct"  # the reference: full marks
    PARTIAL = "partial"  # the reference with its first solution region left as the template has it
    BROKEN = "broken"  # a syntax error: nothing imports
    SLOW = "slow"  # the reference after a 1 s sleep at import time


KINDS = tuple(k.value for k in LearnerKind)


def _blank_first_region(source: str) -> str:
    """The reference with its first solution region left as the template has it."""
    return blank_regions(source, solution_regions(source)[:1])


def _learner_kind(kind: str) -> LearnerKind:
    try:
        return LearnerKind(kind)
    except ValueError:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}") from None


def submission_source(exercise: Exercise, kind: str, learner: str | None = None) -> str:
    """The text of a simulated learner's entry file of `kind` (see KINDS). With `learner`, the
    file ends with a comment naming that learner, so every learner's file (and its hash) is
    distinct while it behaves exactly as its kind's: the comment goes last so that line numbers
    in tracebacks stay the same."""
    if exercise.solution is None:
        raise ValueError(f"{exercise.id} has no reference solution to build simulated learners from")
    reference = exercise.solution.read_text(encoding="utf-8")
    kind = _learner_kind(kind)
    if kind is LearnerKind.CORRECT:
        source = reference
    elif kind is LearnerKind.PARTIAL:
        source = _blank_first_region(reference)
    elif kind is LearnerKind.BROKEN:
        source = "import numpy as np\n\ndef oops(:\n    return np.zeros(3)\n"
    else:
        source = "import time\ntime.sleep(1)  # a slow import: the learner's code does work at import time\n" + reference
    if learner is None:
        return source
    return source.rstrip("\n") + f"\n# simulated learner: {learner}\n"


def write_submission(exercise: Exercise, kind: str, folder: Path, learner: str | None = None) -> Path:
    """Write a simulated learner's entry file into `folder`; returns its path. `learner` makes the
    file distinct per learner (see submission_source)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / exercise.entry
    path.write_text(submission_source(exercise, kind, learner), encoding="utf-8")
    return path


def kind_of(index: int, mix: tuple[str, ...] = KINDS) -> str:
    """The kind of the index-th learner of a cohort: the kinds in turn."""
    return mix[index % len(mix)]
