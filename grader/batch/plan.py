"""What a batch grades: collected submissions recorded in the gradebook, and the plan of gradings
(one task per counting submission whose grading key is not graded yet).

A grading is keyed by (submission sha256, exercise hash, grader version): a key already graded is
skipped unless `force`, so a batch killed at any moment and started again grades what is left."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from grader import __version__
from grader.course.paths import heldout_seed
from grader.data.hoda import HODA_ENV  # read by the instructor's process only, never inside a worker
from grader.gradebook.store import Gradebook



@dataclass
class Task:
    """One grading to run: everything a worker needs, as plain data (it crosses to the worker as a
    validated `grader.batch.messages.TaskMessage`)."""

    task_id: str
    student: str
    exercise_id: str
    submission_id: int
    key: str
    exercise_hash: str
    exercise_dir: str
    solutions_dir: str
    submission_path: str
    device: str = "auto"
    gpu: bool = False
    hoda_dir: str = ""  # the Hoda folder, an argument of the grading ("": the bundled digits)
    heldout_seed: int | None = None  # the course's secret held-out seed (trusted workers only)
    suite: str = "hidden"
    attempts: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CachedGrading:
    """A counting submission whose grading key is graded already: nothing to run."""

    student: str
    exercise_id: str
    key: str


def hoda_folder(explicit: Path | str | None = None, course=None) -> Path | None:
    """The Hoda folder a batch or a grading uses: `explicit` (--hoda-dir), else $DLGRADE_HODA_DIR of
    the instructor's process, else the course's `[data] hoda_dir`, else None (the bundled digits).
    A chosen folder is checked here (DataError naming the folder and what to do). The one place this
    choice is made; workers and gradings receive its answer as an argument."""
    from grader.data.hoda import hoda_dir as checked_hoda_dir
    if explicit not in (None, ""):
        return checked_hoda_dir(explicit)
    if os.environ.get(HODA_ENV, "").strip():
        return checked_hoda_dir(None)  # the environment's folder, checked
    if getattr(course, "hoda_dir", None):
        return checked_hoda_dir(course.hoda_dir)
    return None


def record_collected(course, gradebook: Gradebook, collected) -> int:
    """Put what `grader.course.exchange.collect` collected into the gradebook (students, exercises,
    submissions with their late factor, stored once); skipped records are left out. Returns how many
    submissions were recorded."""
    count = 0
    with gradebook.transaction():
        for rec in collected:
            if rec.get("skipped"):
                continue
            ex = course.exercise(rec["exercise"])
            gradebook.add_student(rec["student"])
            gradebook.upsert_exercise(ex.id, ex.title.get("en", ex.id), ex.content_hash())
            gradebook.add_submission(rec["student"], ex.id, rec["sha256"], rec["submitted_at"], rec["path"],
                                     late=bool(rec.get("late")), late_days=float(rec.get("late_days") or 0.0),
                                     late_factor=float(rec.get("late_factor", 1.0)))
            count += 1
    return count


def plan(course, gradebook: Gradebook, exercise: str | None = None, student: str | None = None,
         force: bool = False, device: str = "auto", hoda_dir: Path | str | None = None
         ) -> tuple[list[Task], list[CachedGrading]]:
    """The gradings needed for the counting submission of each (student, exercise), and the
    cached ones that need none. `hoda_dir` travels in every task (see `hoda_folder`)."""
    exercises = {}
    tasks, cached = [], []
    seed = None
    hoda = str(hoda_folder(hoda_dir, course) or "")
    for sub in gradebook.counting_submissions(student=student, exercise=exercise):
        ex_id, student_id, sub_id = sub.exercise_id, sub.student_id, sub.id
        if ex_id not in exercises:
            ex = course.exercise(ex_id)
            exercises[ex_id] = (ex, ex.content_hash())
            gradebook.upsert_exercise(ex_id, ex.title.get("en", ex_id), exercises[ex_id][1])
        ex, ex_hash = exercises[ex_id]
        key = Gradebook.grading_key(sub.sha256, ex_hash, __version__)
        if not force and gradebook.find_grading(key) is not None:
            cached.append(CachedGrading(student_id, ex_id, key))
            continue
        if seed is None:
            seed = heldout_seed(course)
        tasks.append(Task(task_id=f"{sub_id}:{key[:16]}", student=student_id, exercise_id=ex_id,
                          submission_id=sub_id, key=key, exercise_hash=ex_hash,
                          exercise_dir=str(ex.directory), solutions_dir=str(course.solutions_dir),
                          submission_path=str(sub.path), device=device, gpu=ex.gpu != "no",
                          hoda_dir=hoda, heldout_seed=seed))
    return tasks, cached
