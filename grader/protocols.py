"""dlgrade's extension points as typing.Protocols, declared in one module (as pytest declares its
hooks in one place): the sandbox factory a grading accepts, and the callbacks a batch reports to.

This module imports nothing at run time beyond the standard library: the engine, the batch and the
CLI all annotate with it, so it sits below them all. Names used only in annotations are imported
under TYPE_CHECKING."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: never imported at run time
    from grader.gradebook.rows import GradingState
    from grader.sandbox.limits import Limits

__all__ = ["RunningSandbox", "SandboxFactory", "RetryFactory", "BatchTask", "PlanCallback", "ResultCallback",
           "GradeFunction"]


class RunningSandbox(Protocol):
    """A started sandbox process as the grading plugin uses it (a fresh `Sandbox` or one forked from
    a worker's zygote)."""

    ready: dict | None  # the sandbox's hello: versions, device

    def alive(self) -> bool:
        """Whether the sandbox process still runs."""

    def request(self, header: dict, payload: Any = None, *, timeout: float, rng_type: Any = None
                ) -> tuple[dict, Any]:
        """Send one request; return the validated (header, value) of its answer."""

    def close(self) -> str:
        """End the sandbox and everything it started; return what the learner's code printed."""


class SandboxFactory(Protocol):
    """Supplies the sandbox of a grading instead of starting a new one (a worker's zygote):
    `engine.grade(..., sandbox_factory=...)`. The sandbox it returns is already started."""

    def __call__(self, files: dict[str, Path], entry: str, limits: Limits, device: str) -> RunningSandbox:
        ...


class RetryFactory(Protocol):
    """Called before the retry of a grading that ended in a grader fault: the factory for a fresh
    sandbox (e.g. after retiring the worker's zygotes), or None for a plain new sandbox."""

    def __call__(self) -> SandboxFactory | None:
        ...


class BatchTask(Protocol):
    """What a batch callback may read of a grading task (`grader.batch.plan.Task` has these)."""

    task_id: str
    student: str
    exercise_id: str


class PlanCallback(Protocol):
    """`run_batch(on_plan=...)`: called once, before any grading, with how many gradings will run
    and how many were found already graded (cached)."""

    def __call__(self, n_tasks: int, n_cached: int) -> None:
        ...


class ResultCallback(Protocol):
    """`run_batch(on_result=...)`: called as each grading is recorded, with its stored status
    (graded, failed or crashed), its task and the result's JSON (None when there is none)."""

    def __call__(self, status: GradingState, task: BatchTask, result: dict | None) -> None:
        ...


class GradeFunction(Protocol):
    """Grades a submission with one of an exercise's suites and returns the result
    (`grader.grading.engine.grade`); what `grader.exercise.validate` is given to prove the tests."""

    def __call__(self, exercise: Any, submission: Path, suite: str) -> Any:
        ...
