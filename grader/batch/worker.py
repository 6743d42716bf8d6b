"""A grading worker: a long-lived trusted process that grades one task after another.

The local pool starts `python -m grader.batch.worker --slot K`; tasks and results travel as JSON lines on
its stdin/stdout (no pickle). Each worker has its own slot, so its sandboxes run under their own
uid (60000 + K): two gradings that run at the same time can neither signal nor read each other.
pytest, the exercise tests and (for Keras exercises) Keras on the trusted side are imported once
per worker, not once per grading. The Dask path calls `run_task` in the Dask worker process."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

DASK_SLOT_BASE = 40_000  # Dask worker threads take slot 40000 + their thread id (uid 100000 + tid)
_local = threading.local()


def _zygotes(slot: int):
    """This thread's zygotes (one per preload set and device), kept for the worker's lifetime."""
    from grader.sandbox.zygote import ZygotePool
    pool = getattr(_local, "pool", None)
    if pool is None or pool.slot != slot:
        pool = _local.pool = ZygotePool(slot)
    return pool


def run_task(task: dict, slot: int | None = None, use_zygote: bool = True) -> dict:
    """Grade one task (a dict from `batch.Task.to_dict`); returns {"task_id", "result" | "error"},
    and "fault" (gradebook.FAULTS) when there is no grade: "grader_fault" (the result is kept but is
    not a grade) or "submission" (its files cannot be graded). Exercises that preload heavy modules
    fork from this worker's zygote unless `use_zygote` is off; a grading with a grader fault is
    retried once from a fresh zygote (or a fresh sandbox)."""
    from grader.grading.engine import SubmissionError, grade
    from grader.sandbox.process import resolve_device
    from grader.exercise.spec import load_exercise
    if slot is None:
        slot = DASK_SLOT_BASE + threading.get_native_id()
    if task.get("hoda_dir"):
        os.environ["DLGRADE_HODA_DIR"] = task["hoda_dir"]
    try:
        exercise = load_exercise(Path(task["exercise_dir"]), Path(task["solutions_dir"]))
        factory = fresh = None
        if use_zygote and exercise.preload:
            device = resolve_device(task.get("device", "auto"), exercise.gpu)
            factory = _zygotes(slot).factory(exercise.preload, device, exercise.limits)

            def fresh():  # the retry after a grader fault: retire this worker's zygotes, start anew
                _zygotes(slot).close()
                return _zygotes(slot).factory(exercise.preload, device, exercise.limits)
        result = grade(exercise, Path(task["submission_path"]), task.get("suite", "hidden"), slot=slot,
                       device=task.get("device", "auto"), sandbox_factory=factory, retry_factory=fresh,
                       heldout_seed=task.get("heldout_seed"))
        answer = {"task_id": task["task_id"], "result": result.to_json()}
        if result.grader_fault:
            answer.update(fault="grader_fault", error=result.grader_fault)
        return answer
    except SubmissionError as err:
        return {"task_id": task["task_id"], "error": f"the submission cannot be graded: {err}",
                "fault": "submission"}
    except Exception as err:  # a grader problem: keep the batch going, report it
        return {"task_id": task["task_id"], "error": f"grader error {type(err).__name__}: {err}",
                "fault": "grader_fault", "trace": traceback.format_exc()[-4000:]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="dlgrade grading worker (JSON lines on stdin/stdout)")
    parser.add_argument("--slot", type=int, required=True)
    parser.add_argument("--no-zygote", action="store_true", help="a fresh sandbox for every grading")
    args = parser.parse_args(argv)
    out = sys.stdout
    sys.stdout = sys.stderr  # anything else printed must not corrupt the result stream
    # SIGTERM ends the worker like EOF: its zygotes stop and their private folders are removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    print(json.dumps({"ready": True, "pid": os.getpid()}), file=out, flush=True)
    try:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            task = json.loads(line)
            # ensure_ascii: a lone surrogate or any odd text in a result can never break the stream
            print(json.dumps(run_task(task, args.slot, not args.no_zygote), ensure_ascii=True), file=out,
                  flush=True)
    finally:
        pool = getattr(_local, "pool", None)
        if pool is not None:
            pool.close()


if __name__ == "__main__":
    main()
