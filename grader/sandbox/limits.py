"""What one sandbox may use (`Limits`) and the bounds derived from it; no heavy import, so an
exercise's specification (read by the learner's commands) can hold its limits."""

from __future__ import annotations

import os
from dataclasses import dataclass

MiB = 1 << 20
TREE_TASK_SLACK = 16  # bwrap, setpriv and the zygote besides the grading's own `processes`
ZYGOTE_START_MB = 3072  # what a zygote may use while it imports the heavy modules (then: measured)


@dataclass
class Limits:
    """What one sandbox may use."""

    wall_seconds: float = 60.0
    test_seconds: float = 10.0
    memory_mb: int = 1024
    processes: int = 64
    file_mb: int = 16
    disk_mb: int = 64
    open_files: int = 256
    output_bytes: int = 64 * 1024
    message_mb: int = 256
    start_seconds: float = 60.0


def tree_memory_mb_of(limits: Limits) -> int:
    """The memory limit of a sandbox's cgroup: the grading's memory plus its writable tmpfs."""
    return int(limits.memory_mb) + int(limits.disk_mb)


def cpu_seconds(limits: Limits) -> int:
    """The CPU-time rlimit of a sandbox: its wall limit on every core (frameworks train on all of
    them), plus a little; the wall-clock deadline is the limit that decides."""
    return int(limits.wall_seconds * max(1, os.cpu_count() or 1)) + 2
