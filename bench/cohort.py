"""Make a course with a simulated cohort: N learners x the chosen exercises, learners cycling
through correct, partially wrong, broken and slow submissions, submitted and collected, ready for
`dlgrade autograde`.

    python bench/cohort.py --learners 100 --out /tmp/cohort [--exercise perceptron ...]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from grader.exercise.cohort import KINDS, kind_of, write_submission
from grader.course.config import init_course
from grader.course.exchange import collect, submit
from grader.gradebook.store import Gradebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from grader.batch.plan import record_collected  # noqa: E402


def make_cohort(out: Path, learners: int, exercises: list[str] | None = None) -> Path:
    """Create the course in `out/course` and return its folder."""
    if out.exists():
        shutil.rmtree(out)
    course = init_course(out / "course", "cohort")
    chosen = [course.exercise(e) for e in (exercises or list(course.exercise_ids))]
    scratch = out / "learners"
    for i in range(learners):
        student = f"learner{i:03d}"
        kind = kind_of(i, KINDS)
        for ex in chosen:
            folder = scratch / student / ex.id
            write_submission(ex, kind, folder)
            submit(course.exchange_path, ex, folder, student, course=course)
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
