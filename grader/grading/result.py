"""The result of one grading, and its JSON form (the field names of Gradescope's results.json).

A test's outcome is typed: `Status` and `Kind` (defined in `grader.exercise.outcome`, below both the
authors' API and the grading, and re-exported here). A grading as a whole has no status of its
own: it is a grade, or not one when `Result.grader_fault` says why."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from enum import StrEnum

from grader.exercise.outcome import KINDS, LEARNER_KINDS, STATUSES, Kind, Status


class Suite(StrEnum):
    """Which tests a grading ran: the learner's `check` (public) or the instructor's grade (hidden)."""

    PUBLIC = "public"
    HIDDEN = "hidden"

@dataclass
class TestResult:
    """One test: what it was worth, what it earned and what the learner should read."""

    name: str
    score: float
    max_score: float
    status: Status
    output: str = ""
    visibility: str = "visible"
    duration: float = 0.0
    kind: Kind | str = ""  # a `Kind`; "" where it is not known (a result stored before kinds existed)
    detail: dict = field(default_factory=dict)  # what the kind is about: {"function", "error"} when raised

    def __post_init__(self):
        self.status = _status(self.status)
        if self.kind in KINDS:
            self.kind = Kind(self.kind)
        elif not self.kind and self.status == Status.PASSED:
            self.kind = Kind.PASSED

    def to_json(self) -> dict:
        # Gradescope reads name/score/max_score/status(passed|failed)/output/visibility.
        extra = {"status": self.status, "duration": round(self.duration, 4)}
        if self.kind:
            extra["kind"] = self.kind
        if self.detail:
            extra["detail"] = dict(self.detail)
        return {"name": self.name, "score": self.score, "max_score": self.max_score,
                "status": Status.PASSED if self.status == Status.PASSED else Status.FAILED,
                "output": self.output, "visibility": self.visibility, "extra_data": extra}

    @classmethod
    def from_json(cls, data: dict) -> "TestResult":
        extra = data.get("extra_data") or {}
        return cls(name=data["name"], score=data["score"], max_score=data["max_score"],
                   status=extra.get("status", data.get("status", Status.FAILED)), output=data.get("output", ""),
                   visibility=data.get("visibility", "visible"), duration=extra.get("duration", 0.0),
                   kind=kind_of(data),
                   detail=dict(extra["detail"]) if isinstance(extra.get("detail"), dict) else {})


def _status(value) -> Status:
    """A `Status` from its value; a value no grading writes (a hand-edited row) reads as failed."""
    try:
        return Status(value)
    except ValueError:
        return Status.FAILED


def kind_of(test: dict) -> Kind | str:
    """The `Kind` of a test in its JSON form; for a row stored before kinds existed: passed, timeout
    (both known from its status), else "" (unknown; never guessed from the message)."""
    extra = test.get("extra_data") if isinstance(test, dict) else None
    extra = extra if isinstance(extra, dict) else {}
    kind = extra.get("kind")
    if isinstance(kind, str) and kind in KINDS:
        return Kind(kind)
    status = extra.get("status", test.get("status") if isinstance(test, dict) else None)
    if status == Status.PASSED:
        return Kind.PASSED
    if status == Status.TIMEOUT:
        return Kind.TIMEOUT
    return ""


@dataclass
class Result:
    """A whole grading. `output` is the submission's own captured stdout/stderr."""

    exercise: str
    suite: Suite | str  # "" for a result read from JSON without one
    tests: list[TestResult] = field(default_factory=list)
    execution_time: float = 0.0
    output: str = ""
    extra_data: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 6)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 6)

    @property
    def full_marks(self) -> bool:
        return self.max_score > 0 and self.score == self.max_score and not self.grader_fault

    @property
    def grader_fault(self) -> str | None:
        """Why this grading is not a grade (a test could not run because of the grader, the machine
        or the sandbox), for the instructor; None when every test result is the learner's own."""
        faulty = [t for t in self.tests if t.kind == Kind.GRADER_FAULT]
        if not faulty:
            return None
        details = [str(e).strip() for e in self.extra_data.get("internal_errors") or [] if str(e).strip()]
        lines = [ln.strip() for ln in (details[0] if details else faulty[0].output).splitlines() if ln.strip()]
        # a traceback says what went wrong last; anything else (what a failed start printed) first
        cause = (lines[-1] if "Traceback" in lines[0] else lines[0]) if lines else "a test could not run"
        return f"grader fault in {len(faulty)} of {len(self.tests)} tests ({faulty[0].name}): {cause}"[:1000]

    def to_json(self) -> dict:
        """A dict with Gradescope's results.json fields (score, max_score, execution_time, output,
        tests, extra_data) plus the exercise and suite."""
        return {"score": self.score, "max_score": self.max_score,
                "execution_time": round(self.execution_time, 4), "output": self.output,
                "stdout_visibility": "visible", "tests": [t.to_json() for t in self.tests],
                "extra_data": {"exercise": self.exercise, "suite": self.suite, **self.extra_data}}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=True, indent=2)

    @classmethod
    def from_json(cls, data: dict) -> "Result":
        extra = dict(data.get("extra_data", {}))
        return cls(exercise=extra.pop("exercise", ""), suite=extra.pop("suite", ""),
                   tests=[TestResult.from_json(t) for t in data.get("tests", [])],
                   execution_time=data.get("execution_time", 0.0), output=data.get("output", ""),
                   extra_data=extra)


__all__ = ["Result", "TestResult", "Suite", "Status", "STATUSES", "Kind", "KINDS", "LEARNER_KINDS", "kind_of", "asdict"]
