"""Running a batch: its plan's gradings in parallel (a local pool of worker processes,
`grader.batch.local`, or a Dask cluster; both run `grader.batch.worker`), each result recorded in
the gradebook as it arrives.

The coordinator (this process) is the only writer of the gradebook. A worker that dies mid-grading
fails that grading with status "crashed" (with the worker's last lines on stderr); it is retried
once. A grading with a grader fault (retried once by the worker) and a row the database refuses are
"failed" with their cause and fault: never a score, never cached, graded again by the next run;
one row's failure never stops the batch."""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from grader import __version__
from grader.batch.local import TICK_S, LocalPool
from grader.batch.messages import MessageError, parse_answer, task_message
from grader.batch.plan import Task, plan
from grader.gradebook.rows import GradingFault, GradingState
from grader.gradebook.store import Gradebook, GradingRecord
from grader.protocols import PlanCallback, ResultCallback

MAX_ATTEMPTS = 2  # the first try and one retry
# The gradebook is written in groups: a commit per grading costs the coordinator more than the
# grading's own bookkeeping on a big cohort. A result waits at most LINGER_S before it is committed
# (so a kill -9 loses at most the gradings in flight and the last LINGER_S of results), and a group
# holds at most GROUP_MAX results.
LINGER_S = 1.0
GROUP_MAX = 50
DASK_IN_FLIGHT_PER_THREAD = 2  # tasks handed to the cluster per worker thread (the rest wait here)


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


class DaskPool:
    """Gradings as tasks on a Dask distributed cluster (`dask scheduler` + `dask worker`s), each a call
    of the same `grader.batch.worker.run_task` the local workers run. Each Dask worker process claims
    its own sandbox slot and grades one task at a time (`--nthreads 1`, more processes with
    `--nworkers N`). Exercises that may use a GPU ask for the `GPU` resource when the cluster's
    workers declare one (`dask worker --resources GPU=1`).

    Tasks are handed to the cluster a few at a time (DASK_IN_FLIGHT_PER_THREAD per worker thread)
    and each future is released once its answer is read, so neither the scheduler nor the workers
    hold a whole cohort's tasks or results."""

    def __init__(self, scheduler: str):
        from distributed import Client
        self.client = Client(scheduler, timeout="20s")
        self.on_idle: Callable[[], None] | None = None
        workers = self.client.scheduler_info().get("workers", {}).values()
        self.has_gpu = any("GPU" in (w.get("resources") or {}) for w in workers)
        self.threads = max(1, sum(int(w.get("nthreads") or 1) for w in workers))
        from grader.batch.dask_setup import PrepareGradingWorker
        self.client.register_plugin(PrepareGradingWorker())  # warm imports, gc.freeze: see there

    def run(self, tasks: list[Task]) -> Iterator[tuple[Task, dict]]:
        """Yield (task, answer dict) as gradings finish; a task whose worker died yields {"crashed": why}.
        `on_idle` is called every TICK_S while no answer has come."""
        from distributed import wait

        from grader.batch.worker import run_task
        pending = collections.deque(tasks)
        in_flight: dict = {}
        window = DASK_IN_FLIGHT_PER_THREAD * self.threads
        while pending or in_flight:
            while pending and len(in_flight) < window:
                task = pending.popleft()
                resources = {"GPU": 1} if (task.gpu and self.has_gpu and task.device != "cpu") else None
                fut = self.client.submit(run_task, task_message(task).model_dump(),
                                         key=f"grade-{task.task_id}-{task.attempts}", resources=resources,
                                         pure=False)
                in_flight[fut] = task
            try:
                done = wait(list(in_flight), timeout=TICK_S, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                if self.on_idle is not None:
                    self.on_idle()
                continue
            except Exception:  # noqa: BLE001 - cancelled futures: each one's result() below says why
                done = {f for f in in_flight if f.done()}
            for fut in done:
                task = in_flight.pop(fut)
                try:
                    answer = fut.result()
                except (Exception, asyncio.CancelledError) as err:  # noqa: BLE001 - KilledWorker, cancelled
                    yield task, {"task_id": task.task_id,  # the worker died under it (or the cluster went)
                                 "crashed": f"the Dask worker failed: {type(err).__name__}: {_one_line(err)}"}
                    continue
                finally:
                    fut.release()
                try:
                    yield task, parse_answer(answer).as_dict()
                except MessageError as err:
                    yield task, {"task_id": task.task_id, "crashed": str(err)}

    def close(self) -> None:
        self.client.close()


def _status_row(task: Task, response: dict) -> tuple[GradingState, dict | None, str | None, GradingFault | None]:
    """(status, result, error, fault) of a worker's answer. A result with a grader fault is kept for
    the instructor but is "failed", never a grade."""
    fault = GradingFault(response["fault"]) if response.get("fault") in set(GradingFault) else None
    if "result" in response and fault is None:
        return GradingState.GRADED, response["result"], None, None
    if "result" in response:
        return GradingState.FAILED, response["result"], str(response.get("error") or "grader fault"), fault
    if "crashed" in response:
        return GradingState.CRASHED, None, response["crashed"], None
    return (GradingState.FAILED, None, str(response.get("error") or "unknown error"),
            fault or GradingFault.GRADER_FAULT)


def _grading_record(task: Task, status: GradingState, result: dict | None, error: str | None,
                    fault: GradingFault | None) -> GradingRecord:
    extra = (result or {}).get("extra_data") or {}
    versions = extra.get("versions") if isinstance(extra.get("versions"), dict) else {}
    return GradingRecord(task.submission_id, task.key, task.exercise_hash, __version__, result, status,
                         extra.get("device", ""), versions.get("backend", ""),
                         (result or {}).get("execution_time", 0.0), error=error, fault=fault)


def _record(gradebook: Gradebook, task: Task, status: GradingState, result: dict | None, error: str | None,
            fault: GradingFault | None) -> tuple[GradingState, str | None, GradingFault | None]:
    """Store one grading; a database error on this row (e.g. PostgreSQL's "value too long") makes
    this row failed with its cause, recorded in a fresh transaction, and the batch goes on.
    Returns the (status, error, fault) that were stored."""
    try:
        gradebook.record_grading(**vars(_grading_record(task, status, result, error, fault)))
        return status, error, fault
    except Exception as err:  # noqa: BLE001 - one row's failure is that row's, never the batch's
        why = f"the gradebook could not store this grading: {_one_line(err)}"
    try:
        gradebook.record_grading(task.submission_id, task.key, task.exercise_hash, __version__, None,
                                 GradingState.FAILED, None, None, None, error=why, fault=GradingFault.DATABASE)
    except Exception as err:  # noqa: BLE001
        why += f"; recording the failure failed too: {_one_line(err)}"
    return GradingState.FAILED, why, GradingFault.DATABASE


@dataclass
class _Outcome:
    """A finished grading waiting to be committed: what the summary and `on_result` need of it."""

    task: Task
    status: GradingState
    result: dict | None
    error: str | None
    fault: GradingFault | None


class _GroupRecorder:
    """Records finished gradings in groups (one transaction per group, see LINGER_S and GROUP_MAX).
    A group the database refuses is recorded again one grading at a time (`_record`), so a bad row
    fails alone. Only after a grading is committed does it reach the summary and `on_result`."""

    def __init__(self, gradebook: Gradebook, summary: BatchSummary, on_result: ResultCallback | None):
        self.gradebook, self.summary, self.on_result = gradebook, summary, on_result
        self.held: list[_Outcome] = []
        self.since = 0.0  # when the oldest held outcome arrived

    def add(self, outcome: _Outcome) -> None:
        if not self.held:
            self.since = time.monotonic()
        self.held.append(outcome)
        self.tick()

    def tick(self) -> None:
        """Commit what is held when the group is full or its oldest result waited LINGER_S."""
        if len(self.held) >= GROUP_MAX or (self.held and time.monotonic() - self.since >= LINGER_S):
            self.flush()

    def flush(self) -> None:
        held, self.held = self.held, []
        if not held:
            return
        try:
            self.gradebook.record_gradings([_grading_record(o.task, o.status, o.result, o.error, o.fault)
                                            for o in held])
        except Exception:  # noqa: BLE001 - some row was refused: record each alone, the bad one fails
            for o in held:
                o.status, o.error, o.fault = _record(self.gradebook, o.task, o.status, o.result, o.error, o.fault)
        for o in held:
            self._count(o)

    def _count(self, o: _Outcome) -> None:
        graded = o.status is GradingState.GRADED
        if graded:
            self.summary.graded += 1
        else:
            self.summary.failed += 1
        result = o.result or {}
        self.summary.rows.append({"student": o.task.student, "exercise": o.task.exercise_id, "status": o.status,
                                  "score": result.get("score") if graded else None,
                                  "max_score": result.get("max_score"), "seconds": result.get("execution_time"),
                                  "error": o.error, "fault": o.fault})
        if self.on_result:
            self.on_result(o.status, o.task, o.result)


def _one_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return (lines[0] if lines else type(err).__name__)[:500]


def run_batch(course, gradebook: Gradebook, *, exercise: str | None = None, student: str | None = None,
              workers: int = 1, scheduler: str | None = None, device: str = "auto", force: bool = False,
              hoda_dir: Path | str | None = None, on_plan: PlanCallback | None = None,
              on_result: ResultCallback | None = None, pool: LocalPool | None = None) -> BatchSummary:
    """Grade what the course needs; record every result in the gradebook as it arrives.
    `hoda_dir`: see `grader.batch.plan.hoda_folder`. `pool`: a local pool started beforehand (its
    workers import while the batch is planned; `workers` is then its size); it is closed here."""
    t0 = time.monotonic()
    if pool is None:
        pool = DaskPool(scheduler) if scheduler else LocalPool(workers)
    try:
        tasks, cached = plan(course, gradebook, exercise, student, force, device, hoda_dir)
    except BaseException:
        pool.close()
        raise
    summary = BatchSummary(cached=len(cached))
    if on_plan:
        on_plan(len(tasks), len(cached))
    recorder = _GroupRecorder(gradebook, summary, on_result)
    pool.on_idle = recorder.tick  # a pool waiting for answers lets the recorder commit what it holds
    try:
        round_tasks = tasks
        while round_tasks:
            retry = []
            for task, response in pool.run(round_tasks):
                task.attempts += 1
                status, result, error, fault = _status_row(task, response)
                if status is GradingState.CRASHED and task.attempts < MAX_ATTEMPTS:
                    summary.retried += 1
                    retry.append(task)
                    continue
                if ((result or {}).get("extra_data") or {}).get("attempts", 1) > 1:
                    summary.retried += 1  # the worker graded it again after a grader fault
                recorder.add(_Outcome(task, status, result, error, fault))
            round_tasks = retry
    finally:
        try:
            recorder.flush()  # what finished is kept, even when the batch stops on an error
        finally:
            pool.close()
    summary.seconds = time.monotonic() - t0
    return summary


@dataclass
class _Job:
    """One grading outside a course (`grade_on_pool`): the fields a worker's task message reads."""

    task_id: str
    exercise_dir: str
    solutions_dir: str
    submission_path: str
    suite: str
    device: str = "auto"
    hoda_dir: str = ""
    heldout_seed: int | None = None
    attempts: int = 0


def grade_on_pool(jobs: list, workers: int, device: str = "auto") -> list:
    """Grade (exercise, submission file, suite) jobs on a local pool of `workers` worker processes
    (each forks its gradings from its zygotes, as in a batch). Returns, in the jobs' order, each
    one's `Result`, or a string saying why there is none (the worker died twice under it, or the
    grading could not run). What `dlgrade validate --workers` runs its proofs on."""
    from grader.grading.result import Result
    tasks = [_Job(str(i), str(ex.directory), str(ex.solution_dir.parent) if ex.solution_dir else "", str(path),
                  suite, device) for i, (ex, path, suite) in enumerate(jobs)]
    out: list = [None] * len(tasks)
    pool = LocalPool(workers)
    try:
        round_tasks = tasks
        while round_tasks:
            retry = []
            for task, response in pool.run(round_tasks):
                task.attempts += 1
                if "crashed" in response and task.attempts < MAX_ATTEMPTS:
                    retry.append(task)
                elif response.get("result") is not None:
                    out[int(task.task_id)] = Result.from_json(response["result"])
                else:
                    out[int(task.task_id)] = str(response.get("crashed") or response.get("error") or "unknown error")
            round_tasks = retry
    finally:
        pool.close()
    return out
