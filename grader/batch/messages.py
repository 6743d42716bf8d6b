"""The messages between a batch's coordinator and its grading workers, validated at the wire with
pydantic: a task in, a ready line and one answer per task out. JSON only, never pickle; the local
pool sends them as JSON lines, the Dask path as the same models' dicts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Fault = Literal["grader_fault", "submission", "database"]  # why a grading is not a grade

__all__ = ["TaskMessage", "Ready", "Answer", "Fault", "MessageError", "parse_answer", "task_message"]


class MessageError(ValueError):
    """A worker's line or answer that is not a valid message: the worker is broken, not the learner."""


class TaskMessage(BaseModel):
    """Coordinator -> worker: grade one submission. Everything is an argument: the worker reads no
    configuration from its environment (the Hoda folder, the held-out seed, the device)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task_id: str = Field(min_length=1)
    exercise_dir: str = Field(min_length=1)
    solutions_dir: str = ""
    submission_path: str = Field(min_length=1)
    device: Literal["auto", "cpu", "gpu"] = "auto"
    suite: Literal["public", "hidden"] = "hidden"
    hoda_dir: str = ""  # "": the bundled digits
    heldout_seed: int | None = None


class Ready(BaseModel):
    """Worker -> coordinator, once at start: the worker imported what it needs and holds `slot`."""

    model_config = ConfigDict(extra="forbid")

    ready: Literal[True]
    pid: int
    slot: int


class Answer(BaseModel):
    """Worker -> coordinator, one per task: the result's JSON, or an error and why there is no grade.
    `fault` is set whenever there is no grade; a result with a fault is kept for the instructor but
    is not a grade. `crashed` is set by the coordinator itself when the worker died under the task."""

    model_config = ConfigDict(extra="forbid")

    task_id: str
    result: dict | None = None
    error: str | None = None
    fault: Fault | None = None
    trace: str | None = None  # the worker's traceback of a grader error, for the instructor
    crashed: str | None = None

    @model_validator(mode="after")
    def _says_something(self) -> "Answer":
        if self.result is None and self.error is None and self.crashed is None:
            raise ValueError("an answer holds a result, an error or why the worker crashed")
        if self.result is None and self.error is not None and self.fault is None:
            raise ValueError("an error without a result must say its fault")
        return self

    def as_dict(self) -> dict:
        """The answer as the batch reads it (only the fields that are set)."""
        return self.model_dump(exclude_none=True)


def parse_answer(data: str | dict) -> Answer:
    """An Answer from a JSON line or a dict; MessageError (naming what is wrong) when it is not one."""
    try:
        if isinstance(data, str):
            return Answer.model_validate_json(data)
        return Answer.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in err.errors()[:5])
        raise MessageError(f"the grading worker sent an answer that is not valid ({problems})") from None


def task_message(task) -> TaskMessage:
    """What a worker receives of a planned task (`grader.batch.plan.Task`): the grading's arguments only."""
    return TaskMessage(task_id=task.task_id, exercise_dir=task.exercise_dir, solutions_dir=task.solutions_dir,
                       submission_path=task.submission_path, device=task.device, suite=task.suite,
                       hoda_dir=task.hoda_dir, heldout_seed=task.heldout_seed)
