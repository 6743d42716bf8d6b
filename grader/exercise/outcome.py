"""The vocabulary of a test's outcome: `Status` (how it ended, as Gradescope reads it) and `Kind`
(why). Exercise tests raise with a `Kind`, the grading plugin records both and every reader of a
result (gradebook, report) compares with them; nothing downstream learns them from message text.

Standard library only: the authors' API (`grader.exercise.testing`) and the grading both sit above."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Status", "Kind", "STATUSES", "KINDS", "LEARNER_KINDS"]


class Status(StrEnum):
    """How a test ended. A `str` (results.json and the gradebook store the value); Gradescope's
    `status` field is passed or failed, so `to_json` folds error and timeout into failed."""

    PASSED = "passed"
    FAILED = "failed"    # an assertion, a Feedback, or the learner's function raised
    ERROR = "error"      # the test could not get an answer (import failed, crash, grader fault)
    TIMEOUT = "timeout"  # the learner's code ran out of time


class Kind(StrEnum):
    """Why a test ended as it did, set where it is known (the exception a test raised, the
    sandbox's answer), stored in the test's `extra_data["kind"]`. A `str`, so stored rows and JSON
    keep the plain value."""

    PASSED = "passed"
    WRONG_ANSWER = "wrong_answer"        # an assertion / Feedback of the test
    RAISED = "raised"                    # the learner's code raised an exception
    NOT_IMPLEMENTED = "not_implemented"  # ... NotImplementedError: the template's placeholder
    TIMEOUT = "timeout"                  # the learner's code ran out of time
    MEMORY = "memory"                    # ... ran out of memory (MemoryError, or killed at the limit)
    IMPORT_ERROR = "import_error"        # the learner's file could not be imported
    MISSING_FUNCTION = "missing_function"  # the file lacks a function the tests call
    UNSENDABLE = "unsendable"            # returned something that cannot be graded
    CRASHED = "crashed"                  # the learner's code stopped the sandbox (exit, signal, garbage)
    GRADER_FAULT = "grader_fault"        # the grader, the machine or the sandbox failed: never a grade


STATUSES: tuple[Status, ...] = tuple(Status)
KINDS: tuple[Kind, ...] = tuple(Kind)
LEARNER_KINDS: tuple[Kind, ...] = tuple(k for k in Kind if k not in (Kind.PASSED, Kind.GRADER_FAULT))
