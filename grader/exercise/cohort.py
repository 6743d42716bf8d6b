"""Simulated learners for the demo and the benchmarks: submissions made from an exercise's
reference that are correct, partly wrong, broken or slow."""

from __future__ import annotations

from pathlib import Path

from grader.exercise.templates import blank_regions, solution_regions
from grader.exercise.spec import Exercise

KINDS = ("correct", "partial", "broken", "slow")


def _blank_first_region(source: str) -> str:
    """The reference with its first solution region left as the template has it."""
    return blank_regions(source, solution_regions(source)[:1])


def submission_source(exercise: Exercise, kind: str) -> str:
    """The text of a simulated learner's entry file of `kind` (see KINDS)."""
    if exercise.solution is None:
        raise ValueError(f"{exercise.id} has no reference solution to build simulated learners from")
    reference = exercise.solution.read_text(encoding="utf-8")
    if kind == "correct":
        return reference
    if kind == "partial":
        return _blank_first_region(reference)
    if kind == "broken":
        return "import numpy as np\n\ndef oops(:\n    return np.zeros(3)\n"
    if kind == "slow":
        return "import time\ntime.sleep(1)  # a slow import: the learner's code does work at import time\n" + reference
    raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")


def write_submission(exercise: Exercise, kind: str, folder: Path) -> Path:
    """Write a simulated learner's entry file into `folder`; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / exercise.entry
    path.write_text(submission_source(exercise, kind), encoding="utf-8")
    return path


def kind_of(index: int, mix: tuple[str, ...] = KINDS) -> str:
    """The kind of the index-th learner of a cohort: the kinds in turn."""
    return mix[index % len(mix)]
