"""Make a course with a simulated cohort: N learners x the chosen exercises, learners cycling
through correct, partially wrong, broken and slow submissions, every learner's file distinct (a
comment names the learner, so no two submissions share a hash and a cache within a batch cannot
stand in for grading), submitted and collected, ready for `dlgrade autograde`.

    python bench/cohort.py --learners 100 --out /tmp/cohort [--exercise perceptron ...]
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from grader.batch.plan import record_collected
from grader.course.config import init_course
from grader.course.exchange import collect, submit
from grader.exercise.cohort import KINDS, kind_of, submission_source
from grader.exercise.spec import Exercise
from grader.gradebook.store import Gradebook


@dataclass(frozen=True)
class Learner:
    """One simulated learner of a cohort: its id and the kind of code it hands in."""

    student: str
    kind: str

    def source(self, exercise: Exercise) -> str:
        """This learner's entry file for `exercise`: its kind's code, named for this learner."""
        return submission_source(exercise, self.kind, learner=self.student)


def learners(count: int) -> list[Learner]:
    """The cohort's learners, learner000 onwards, the kinds in turn."""
    return [Learner(f"learner{i:03d}", kind_of(i, KINDS)) for i in range(count)]


def make_cohort(out: Path, count: int, exercises: list[str] | None = None) -> Path:
    """Create the course in `out/course` with `count` learners who submitted every chosen exercise;
    returns the course's folder."""
    if out.exists():
        shutil.rmtree(out)
    course = init_course(out / "course", "cohort")
    chosen = [course.exercise(e) for e in (exercises or list(course.exercise_ids))]
    scratch = out / "learners"
    for learner in learners(count):
        for ex in chosen:
            folder = scratch / learner.student / ex.id
            folder.mkdir(parents=True, exist_ok=True)
            (folder / ex.entry).write_text(learner.source(ex), encoding="utf-8")
            submit(course.exchange_path, ex, folder, learner.student, course=course)
    with Gradebook.open(course.gradebook_url) as gb:
        record_collected(course, gb, collect(course))
    return course.root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--exercise", action="append")
    parser.add_argument("--out", type=Path, default=Path("/tmp/dlgrade-cohort"))
    args = parser.parse_args()
    t0 = time.monotonic()
    root = make_cohort(args.out, args.learners, args.exercise)
    print(f"cohort of {args.learners} learners in {root} ({time.monotonic() - t0:.1f} s); "
          f"grade it with: dlgrade autograde --course {root}")


if __name__ == "__main__":
    main()
