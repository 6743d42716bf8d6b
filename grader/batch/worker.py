"""A grading worker: THE code that grades a batch's tasks, for both ways a batch runs.

The local pool starts `python -m grader.batch.worker`; tasks and answers travel as JSON lines on its
stdin/stdout (no pickle), validated as `grader.batch.messages` models. A Dask worker process calls
`run_task` for each task. Either way the process holds one sandbox slot for its lifetime, claimed
with `grader.sandbox.uids.claim_slot` (or given with --slot), so its sandboxes run under their own
uid: two gradings that run at the same time can neither signal nor read each other. A process grades
one task at a time (a Dask worker with several threads queues them), so a slot is never shared.
Nothing is configured through os.environ here: the Hoda folder and the held-out seed are arguments.
pytest, the exercise tests and (for Keras exercises) Keras on the trusted side are imported once
per worker, not once per grading; on the sandbox side every grading forks from a zygote that
imported its exercise's modules once (Keras, or numpy for the others: sandbox/zygote.py)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from grader.batch.messages import Answer, Ready, TaskMessage
from grader.sandbox.uids import SlotClaim, claim_slot

# Slots of batch worker processes start here; lower slots are left to gradings started directly
# (`dlgrade check`/`grade` use slot 0) so a batch on the same machine never takes their uid.
BATCH_FIRST_SLOT = 100

_lock = threading.Lock()  # one grading at a time per process: its slot is never shared
_claim: SlotClaim | None = None
_pool = None  # this process's ZygotePool


def process_slot() -> int:
    """This process's sandbox slot, claimed on first use and held until the process exits."""
    global _claim
    if _claim is None:
        _claim = claim_slot(BATCH_FIRST_SLOT)
    return _claim.slot


def _zygotes(slot: int):
    """This process's zygotes (one per preload set and device), kept for the worker's lifetime."""
    global _pool
    from grader.sandbox.zygote import ZygotePool
    if _pool is None or _pool.slot != slot:
        if _pool is not None:
            _pool.close()
        _pool = ZygotePool(slot)
    return _pool


def close_zygotes() -> None:
    """End this process's zygotes (their private folders are removed)."""
    global _pool
    if _pool is not None:
        _pool.close()
        _pool = None


def run_task(task: dict | TaskMessage, slot: int | None = None, use_zygote: bool = True) -> dict:
    """Grade one task (a `TaskMessage` or its dict); returns an `Answer`'s dict: {"task_id", "result" |
    "error"}, and "fault" when there is no grade: "grader_fault" (the result is kept but is not a
    grade) or "submission" (its files cannot be graded). Every grading forks from this worker's
    zygote for its exercise (preloading Keras, or numpy) unless `use_zygote` is off; a grading with a
    grader fault is retried once from a fresh zygote (or a fresh sandbox). `slot` defaults to this
    process's own slot."""
    try:
        message = task if isinstance(task, TaskMessage) else TaskMessage.model_validate(
            {k: v for k, v in task.items() if k in TaskMessage.model_fields})
    except Exception as err:  # noqa: BLE001 - a malformed task is the coordinator's fault, said so
        return Answer(task_id=str(task.get("task_id", "?")) if isinstance(task, dict) else "?",
                      error=f"the grading worker received a task that is not valid: {err}",
                      fault="grader_fault").as_dict()
    with _lock:
        return _grade(message, process_slot() if slot is None else slot, use_zygote).as_dict()


def _grade(task: TaskMessage, slot: int, use_zygote: bool) -> Answer:
    from grader.exercise import spec
    from grader.grading.engine import SubmissionError, grade
    try:
        exercise = spec.load_exercise(Path(task.exercise_dir), Path(task.solutions_dir))
        factory = retry = None
        if use_zygote:
            factory, retry = _zygote_factories(exercise, task.device, slot)
        result = grade(exercise, Path(task.submission_path), task.suite, slot=slot, device=task.device,
                       sandbox_factory=factory, retry_factory=retry, heldout_seed=task.heldout_seed,
                       hoda_dir=Path(task.hoda_dir) if task.hoda_dir else None)
        answer = Answer(task_id=task.task_id, result=result.to_json())
        if result.grader_fault:
            answer.fault, answer.error = "grader_fault", result.grader_fault
        return answer
    except SubmissionError as err:
        return Answer(task_id=task.task_id, error=f"the submission cannot be graded: {err}", fault="submission")
    except Exception as err:  # noqa: BLE001 - a grader problem: keep the batch going, report it
        return Answer(task_id=task.task_id, error=f"grader error {type(err).__name__}: {err}",
                      fault="grader_fault", trace=traceback.format_exc()[-4000:])


def _zygote_factories(exercise, requested_device: str, slot: int):
    """The sandbox factory that forks this grading from the worker's zygote (Keras exercises' preloads
    Keras, every other one numpy), and the retry factory that retires the worker's zygotes first.
    (None, None) when the device cannot be resolved: the engine then says why, as for a fresh sandbox."""
    from grader.exercise.spec import solutions_root
    from grader.sandbox.devices import resolve_device
    from grader.sandbox.zygote import DEFAULT_PRELOAD
    try:
        device = resolve_device(requested_device, exercise.gpu)
    except ValueError:
        return None, None
    preload = list(exercise.preload) or list(DEFAULT_PRELOAD)
    # What a fresh sandbox of this grading hides (engine.grade: the solutions root and this exercise's
    # folder), widened to the folder of all the course's solutions: it hides at least as much, and
    # one zygote serves every exercise of the course with the same preload, device and fixed limits.
    course_solutions = exercise.solution_dir.parent if exercise.solution_dir is not None else None
    secret_dirs = sorted({p.resolve() for p in (solutions_root(), course_solutions) if p is not None})

    def factory():
        pool = _zygotes(slot)
        pool.hide(secret_dirs)
        return pool.factory(preload, device, exercise.limits)

    def fresh():  # the retry after a grader fault: retire this worker's zygotes, start anew
        _zygotes(slot).close()
        return factory()
    return factory(), fresh


def prepare_grading_process() -> None:
    """Once per worker process (local pool or Dask), before its first grading: import what a
    grading imports (the first grading then does not pay for it), then move every object alive now
    out of the cyclic garbage collector's sight (`gc.freeze`). Each grading's pytest session runs
    the collector; with the worker's own objects frozen it walks only the grading's. Measured on
    perceptron's reference in a Dask worker: 0.28 s a grading before the freeze, 0.12 s after."""
    import faulthandler
    import gc
    import importlib

    # a crash on the trusted side prints every thread's stack to stderr, whose last lines the pool
    # shows (the trusted pytest session leaves pytest's faulthandler plugin out: it is process-wide)
    faulthandler.enable()
    for module in ("grader.exercise.spec", "grader.grading.engine"):
        importlib.import_module(module)
    gc.collect()
    gc.freeze()


def main(argv: list[str] | None = None) -> None:
    """The local pool's worker process: JSON lines in, JSON lines out, until stdin closes."""
    parser = argparse.ArgumentParser(description="dlgrade grading worker (JSON lines on stdin/stdout)")
    parser.add_argument("--slot", type=int, default=None,
                        help=f"the sandbox slot (default: claim a free one from {BATCH_FIRST_SLOT} up)")
    parser.add_argument("--no-zygote", action="store_true", help="a fresh sandbox for every grading")
    args = parser.parse_args(argv)
    out = sys.stdout
    sys.stdout = sys.stderr  # anything else printed must not corrupt the answer stream
    # SIGTERM ends the worker like EOF: its zygotes stop and their private folders are removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    slot = args.slot if args.slot is not None else process_slot()
    prepare_grading_process()
    print(Ready(ready=True, pid=os.getpid(), slot=slot).model_dump_json(), file=out, flush=True)
    try:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                task = TaskMessage.model_validate_json(line)
            except Exception as err:  # noqa: BLE001
                task_id = _task_id(line)
                answer = Answer(task_id=task_id, error=f"the grading worker received a task that is not valid: "
                                f"{err}", fault="grader_fault").as_dict()
            else:
                answer = run_task(task, slot, not args.no_zygote)
            # ensure_ascii: a lone surrogate or any odd text in a result can never break the stream
            print(json.dumps(answer, ensure_ascii=True), file=out, flush=True)
    finally:
        close_zygotes()


def _task_id(line: str) -> str:
    try:
        return str(json.loads(line).get("task_id", "?"))
    except (ValueError, AttributeError):
        return "?"


if __name__ == "__main__":
    main()
