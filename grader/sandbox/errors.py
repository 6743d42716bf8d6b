"""The errors of a sandbox: what the trusted side catches when a sandbox cannot answer."""

from __future__ import annotations


class SandboxError(Exception):
    """The sandbox could not answer. `message` is written for the learner."""


class SandboxTimeout(SandboxError):
    """A request got no answer before its deadline (the sandbox was killed)."""


class SandboxDied(SandboxError):
    """The sandbox died or was stopped. `cause` is "memory" when the kernel killed a process of the
    grading's cgroup for memory (the whole tree went over its bound), else None."""

    def __init__(self, message: str, cause: str | None = None):
        super().__init__(message)
        self.cause = cause
        self.oom = cause == "memory"


class SandboxStartError(SandboxError):
    """The sandbox itself did not start (a problem of the grader's machine, not of the learner's
    code). `details` holds what the failed start printed, for the instructor."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


START_FAILED = "the grader's sandbox could not start on this machine"  # what the learner reads
