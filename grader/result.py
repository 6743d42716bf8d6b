"""The result of one grading, and its JSON form (the field names of Gradescope's results.json)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

STATUSES = ("passed", "failed", "error", "timeout")


@dataclass
class TestResult:
    """One test: what it was worth, what it earned and what the learner should read."""

    name: str
    score: float
    max_score: float
    status: str
    output: str = ""
    visibility: str = "visible"
    duration: float = 0.0

    def to_json(self) -> dict:
        # Gradescope reads name/score/max_score/status(passed|failed)/output/visibility.
        return {"name": self.name, "score": self.score, "max_score": self.max_score,
                "status": "passed" if self.status == "passed" else "failed",
                "output": self.output, "visibility": self.visibility,
                "extra_data": {"status": self.status, "duration": round(self.duration, 4)}}

    @classmethod
    def from_json(cls, data: dict) -> "TestResult":
        extra = data.get("extra_data", {})
        return cls(name=data["name"], score=data["score"], max_score=data["max_score"],
                   status=extra.get("status", data.get("status", "failed")), output=data.get("output", ""),
                   visibility=data.get("visibility", "visible"), duration=extra.get("duration", 0.0))


@dataclass
class Result:
    """A whole grading. `output` is the submission's own captured stdout/stderr."""

    exercise: str
    suite: str
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
        return self.max_score > 0 and self.score == self.max_score

    def to_json(self) -> dict:
        """A dict with Gradescope's results.json fields (score, max_score, execution_time, output,
        tests, extra_data) plus the exercise and suite."""
        return {"score": self.score, "max_score": self.max_score,
                "execution_time": round(self.execution_time, 4), "output": self.output,
                "stdout_visibility": "visible", "tests": [t.to_json() for t in self.tests],
                "extra_data": {"exercise": self.exercise, "suite": self.suite, **self.extra_data}}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, data: dict) -> "Result":
        extra = dict(data.get("extra_data", {}))
        return cls(exercise=extra.pop("exercise", ""), suite=extra.pop("suite", ""),
                   tests=[TestResult.from_json(t) for t in data.get("tests", [])],
                   execution_time=data.get("execution_time", 0.0), output=data.get("output", ""),
                   extra_data=extra)


__all__ = ["Result", "TestResult", "STATUSES", "asdict"]
