"""Batch autograding: plan the gradings a course needs, run them in parallel (a local pool of
worker processes, or a Dask cluster), and record each result in the gradebook as it arrives.

The coordinator (this process) is the only writer of the gradebook. A grading is keyed by
(submission sha256, exercise hash, grader version): a key already graded is skipped unless
`force`, so a batch killed at any moment and started again grades what is left, nothing twice.
A worker that dies mid-grading fails that grading with status "crashed"; it is retried once.
A grading with a grader fault (retried once by the worker) and a row the database refuses are
"failed" with their cause and fault: never a score, never cached, graded again by the next run;
one row's failure never stops the batch."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterator

from grader import __version__
from grader.gradebook.store import FAULTS, Gradebook

MAX_ATTEMPTS = 2  # the first try and one retry


@dataclass
class Task:
    """One grading to run: everything a worker needs, as plain data."""

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
    hoda_dir: str = ""
    heldout_seed: int | None = None  # the course's secret held-out seed (trusted workers only)
    suite: str = "hidden"
    attempts: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class BatchSummary:
    """What a batch did."""

    graded: int = 0
    failed: int = 0
    cached: int = 0
    retried: int = 0
    seconds: float = 0.0
    rows: list[dict] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.graded + self.failed + self.cached


def counting_submissions(gradebook: Gradebook, student: str | None = None, exercise: str | None = None) -> list[dict]:
    """For each (student, exercise), the submission that counts: the one collected last."""
    latest: dict[tuple[str, str], dict] = {}
    for sub in gradebook.submissions(student_id=student, exercise_id=exercise):
        pair = (sub["student_id"], sub["exercise_id"])
        rank = (str(sub.get("collected_at") or ""), sub["id"])
        if pair not in latest or rank > (str(latest[pair].get("collected_at") or ""), latest[pair]["id"]):
            latest[pair] = sub
    return [latest[p] for p in sorted(latest)]


def plan(course, gradebook: Gradebook, exercise: str | None = None, student: str | None = None,
         force: bool = False, device: str = "auto") -> tuple[list[Task], list[dict]]:
    """The gradings needed for the counting submission of each (student, exercise), and the
    cached ones that need none."""
    exercises = {}
    tasks, cached = [], []
    seed = None
    for sub in counting_submissions(gradebook, student, exercise):
        ex_id = sub["exercise_id"]
        if ex_id not in exercises:
            ex = course.exercise(ex_id)
            exercises[ex_id] = (ex, ex.content_hash())
            gradebook.upsert_exercise(ex_id, ex.title.get("en", ex_id), exercises[ex_id][1])
        ex, ex_hash = exercises[ex_id]
        key = Gradebook.grading_key(sub["sha256"], ex_hash, __version__)
        if not force and gradebook.find_grading(key) is not None:
            cached.append({"student": sub["student_id"], "exercise": ex_id, "key": key})
            continue
        if seed is None:
            from grader.course.config import heldout_seed
            seed = heldout_seed(course)
        tasks.append(Task(task_id=f"{sub['id']}:{key[:16]}", student=sub["student_id"], exercise_id=ex_id,
                          submission_id=sub["id"], key=key, exercise_hash=ex_hash,
                          exercise_dir=str(ex.directory), solutions_dir=str(course.solutions_dir),
                          submission_path=sub["path"], device=device, gpu=ex.gpu != "no",
                          hoda_dir=os.environ.get("DLGRADE_HODA_DIR", ""), heldout_seed=seed))
    return tasks, cached


class LocalPool:
    """N worker processes (`python -m grader.batch.worker --slot K`), fed tasks as JSON lines."""

    def __init__(self, workers: int):
        self.size = max(1, int(workers))
        self.procs: dict[int, subprocess.Popen] = {}

    def _start(self, slot: int) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "grader.batch.worker", "--slot", str(slot)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True, bufsize=1)
        ready = proc.stdout.readline()
        if not ready.startswith("{"):
            raise RuntimeError(f"a grading worker did not start (exit {proc.poll()})")
        self.procs[slot] = proc
        return proc

    def run(self, tasks: list[Task]) -> Iterator[tuple[Task, dict]]:
        """Yield (task, response) as gradings finish; a worker's death yields {"crashed": why}."""
        pending = list(tasks)
        busy: dict[int, Task] = {}
        sel = selectors.DefaultSelector()
        try:
            for slot in range(min(self.size, len(pending))):
                self._start(slot)
            while pending or busy:
                for slot, proc in list(self.procs.items()):
                    if slot not in busy and pending:
                        task = pending.pop(0)
                        try:
                            proc.stdin.write(json.dumps(task.to_dict()) + "\n")
                            proc.stdin.flush()
                        except (BrokenPipeError, OSError):
                            pending.insert(0, task)
                            self._replace(sel, slot)
                            continue
                        busy[slot] = task
                        sel.register(proc.stdout, selectors.EVENT_READ, slot)
                if not busy:
                    continue
                for key, _ in sel.select(timeout=1.0):
                    slot = key.data
                    proc = self.procs[slot]
                    sel.unregister(proc.stdout)
                    task = busy.pop(slot)
                    line = proc.stdout.readline()
                    if line:
                        yield task, json.loads(line)
                        continue
                    code = proc.wait()
                    why = (f"the grading worker died (signal {-code})" if code and code < 0
                           else f"the grading worker exited with code {code}")
                    yield task, {"task_id": task.task_id, "crashed": why}
                    self._replace(sel, slot)
        finally:
            self.close()

    def _replace(self, sel, slot: int) -> None:
        old = self.procs.pop(slot, None)
        if old is not None:
            try:
                sel.unregister(old.stdout)
            except (KeyError, ValueError):
                pass
            _stop(old)
        self._start(slot)

    def close(self) -> None:
        for proc in self.procs.values():
            try:
                proc.stdin.close()
            except OSError:
                pass
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _stop(proc)
        self.procs.clear()


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM first (the worker removes its zygotes' private folders), SIGKILL if it lingers."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class DaskPool:
    """Gradings as tasks on a Dask distributed cluster (`dask scheduler` + `dask worker`s).
    Exercises that may use a GPU ask for the `GPU` resource when the cluster's workers declare one
    (`dask worker --resources GPU=1`)."""

    def __init__(self, scheduler: str):
        from distributed import Client
        self.client = Client(scheduler, timeout="20s")
        self.has_gpu = any("GPU" in (w.get("resources") or {})
                           for w in self.client.scheduler_info().get("workers", {}).values())

    def run(self, tasks: list[Task]) -> Iterator[tuple[Task, dict]]:
        from distributed import as_completed

        from grader.batch.worker import run_task
        futures = {}
        for task in tasks:
            resources = {"GPU": 1} if (task.gpu and self.has_gpu and task.device != "cpu") else None
            fut = self.client.submit(run_task, task.to_dict(), key=f"grade-{task.task_id}-{task.attempts}",
                                     resources=resources, pure=False)
            futures[fut] = task
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                yield task, fut.result()
            except Exception as err:  # KilledWorker and friends: the worker died under this task
                yield task, {"task_id": task.task_id, "crashed": f"the Dask worker failed: {type(err).__name__}"}

    def close(self) -> None:
        self.client.close()


def _status_row(task: Task, response: dict) -> tuple[str, dict | None, str | None, str | None]:
    """(status, result, error, fault) of a worker's answer. A result with a grader fault is kept for
    the instructor but is "failed", never a grade."""
    fault = response.get("fault") if response.get("fault") in FAULTS else None
    if "result" in response and fault is None:
        return "graded", response["result"], None, None
    if "result" in response:
        return "failed", response["result"], str(response.get("error") or "grader fault"), fault
    if "crashed" in response:
        return "crashed", None, response["crashed"], None
    return "failed", None, str(response.get("error") or "unknown error"), fault or "grader_fault"


def _record(gradebook: Gradebook, task: Task, status: str, result: dict | None, error: str | None,
            fault: str | None) -> tuple[str, str | None, str | None]:
    """Store one grading; a database error on this row (e.g. PostgreSQL's "value too long") makes
    this row failed with its cause, recorded in a fresh transaction, and the batch goes on.
    Returns the (status, error, fault) that were stored."""
    extra = (result or {}).get("extra_data") or {}
    versions = extra.get("versions") if isinstance(extra.get("versions"), dict) else {}
    try:
        gradebook.record_grading(task.submission_id, task.key, task.exercise_hash, __version__, result, status,
                                 extra.get("device", ""), versions.get("backend", ""),
                                 (result or {}).get("execution_time", 0.0), error=error, fault=fault)
        return status, error, fault
    except Exception as err:  # noqa: BLE001 - one row's failure is that row's, never the batch's
        why = f"the gradebook could not store this grading: {_one_line(err)}"
    try:
        gradebook.record_grading(task.submission_id, task.key, task.exercise_hash, __version__, None, "failed",
                                 None, None, None, error=why, fault="database")
    except Exception as err:  # noqa: BLE001
        why += f"; recording the failure failed too: {_one_line(err)}"
    return "failed", why, "database"


def _one_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return (lines[0] if lines else type(err).__name__)[:500]


def run_batch(course, gradebook: Gradebook, *, exercise: str | None = None, student: str | None = None,
              workers: int = 1, scheduler: str | None = None, device: str = "auto", force: bool = False,
              on_plan: Callable[[int, int], None] | None = None,
              on_result: Callable[[str, Task, dict | None], None] | None = None) -> BatchSummary:
    """Grade what the course needs; record every result in the gradebook as it arrives."""
    t0 = time.monotonic()
    tasks, cached = plan(course, gradebook, exercise, student, force, device)
    summary = BatchSummary(cached=len(cached))
    if on_plan:
        on_plan(len(tasks), len(cached))
    pool = DaskPool(scheduler) if scheduler else LocalPool(workers)
    try:
        round_tasks = tasks
        while round_tasks:
            retry = []
            for task, response in pool.run(round_tasks):
                task.attempts += 1
                status, result, error, fault = _status_row(task, response)
                if status == "crashed" and task.attempts < MAX_ATTEMPTS:
                    summary.retried += 1
                    retry.append(task)
                    continue
                if ((result or {}).get("extra_data") or {}).get("attempts", 1) > 1:
                    summary.retried += 1  # the worker graded it again after a grader fault
                status, error, fault = _record(gradebook, task, status, result, error, fault)
                if status == "graded":
                    summary.graded += 1
                else:
                    summary.failed += 1
                graded = status == "graded"
                summary.rows.append({"student": task.student, "exercise": task.exercise_id, "status": status,
                                     "score": (result or {}).get("score") if graded else None,
                                     "max_score": (result or {}).get("max_score"),
                                     "seconds": (result or {}).get("execution_time"), "error": error,
                                     "fault": fault})
                if on_result:
                    on_result(status, task, result)
            round_tasks = retry
    finally:
        pool.close()
    summary.seconds = time.monotonic() - t0
    return summary
