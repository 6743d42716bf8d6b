"""Typed rows of the gradebook (what its reads return) and the enums of their statuses.

A grading's state (`GradingState`: graded, failed, crashed; "pending" in a grade row that has no
grading yet) and why a failed grading is no grade (`GradingFault`) are distinct from a test's
outcome (`grader.grading.result.Kind`). The enums are `StrEnum`s, so they compare equal to, and
serialize as, the strings the database stores.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum


class GradingState(StrEnum):
    """Where a grading stands. Only GRADED has a score; FAILED and CRASHED are graded again by the
    next autograde; PENDING (never stored) is a collected submission with no grading yet."""

    GRADED = "graded"
    FAILED = "failed"        # the grading ran and is no grade (see GradingFault)
    CRASHED = "crashed"      # the worker died before it reported
    PENDING = "pending"

    @property
    def is_grade(self) -> bool:
        return self is GradingState.GRADED


STORED_STATES = (GradingState.GRADED, GradingState.FAILED, GradingState.CRASHED)


class GradingFault(StrEnum):
    """Why a failed grading is not a grade."""

    GRADER_FAULT = "grader_fault"  # the grader, the machine or the sandbox failed: graded again
    SUBMISSION = "submission"      # the submission's files cannot be graded as this exercise
    DATABASE = "database"          # the gradebook could not store the grading


@dataclass(frozen=True)
class SubmissionRow:
    """A collected submission. `late_factor` is what the late policy multiplies its score by, decided
    at collect time (1.0 on time); None for a late one collected before the gradebook stored it."""

    id: int
    student_id: str
    exercise_id: str
    sha256: str
    submitted_at: datetime
    collected_at: datetime
    late: bool
    late_days: float
    late_factor: float | None
    path: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GradingRow:
    """A grading that applies to a submission: gradings are shared by content, so the grading
    recorded for one submission (`recorded_for`) serves every submission with the same (exercise,
    sha256). `result_json` is the stored `Result.to_json()` (a failed grading may keep one for the
    instructor; it is not a grade)."""

    grading_id: int
    submission_id: int
    recorded_for: int
    student_id: str
    exercise_id: str
    sha256: str
    key: str
    exercise_hash: str
    grader_version: str
    status: GradingState
    score: float | None
    max_score: float | None
    result_json: dict | None
    device: str | None
    backend: str | None
    duration_s: float | None
    attempts: int
    error: str | None
    created_at: datetime
    fault: GradingFault | None

    @property
    def is_grade(self) -> bool:
        return self.status is GradingState.GRADED


@dataclass(frozen=True)
class GradeRow:
    """One (student, exercise) with a collected submission: the score that counts and why.

    `score` is the latest override when there is one, else the counting grading's own score
    (`auto_score`) times the stored `late_factor`, else None (no grade: pending, failed, crashed).
    No reader applies the late policy again."""

    student: str
    exercise: str
    status: GradingState
    score: float | None = None
    max_score: float | None = None
    auto_score: float | None = None
    late: bool = False
    late_days: float = 0.0
    late_factor: float | None = 1.0  # None: late, collected before the factor was stored (none applied)
    overridden: bool = False
    override_reason: str | None = None
    graded_at: datetime | None = None
    submission_id: int | None = None
    sha256: str | None = None
    grading_id: int | None = None   # the counting grading (see GradingRow.grading_id)
    fault: GradingFault | None = None
    error: str | None = None        # the cause, for a grading that is not a grade

    @property
    def counts(self) -> bool:
        """Whether the row has a score that counts (a grade or an override)."""
        return self.score is not None and (self.overridden or self.status is GradingState.GRADED)


@dataclass(frozen=True)
class OverrideRow:
    """A score set by hand; the latest one for a (student, exercise) counts, the rest is history."""

    id: int
    student_id: str
    exercise_id: str
    score: float
    reason: str
    who: str
    created_at: datetime


def late_score(auto_score: float | None, late_factor: float | None) -> float | None:
    """A grading's score with the stored late factor applied (THE place it is applied)."""
    if auto_score is None or late_factor is None or late_factor == 1.0:
        return auto_score
    return round(auto_score * late_factor, 6)


__all__ = ["GradingState", "GradingFault", "STORED_STATES", "SubmissionRow", "GradingRow", "GradeRow",
           "OverrideRow", "late_score"]
