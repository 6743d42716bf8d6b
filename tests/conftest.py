"""Shared fixtures of the project's own tests."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from grader.sandbox.limits import Limits
from grader.sandbox.uids import FIRST_UID
from grader.exercise.spec import find_exercise

TESTS_DIR = Path(__file__).resolve().parent
HOSTILE_DIR = TESTS_DIR / "hostile"
REPO = TESTS_DIR.parent
SHARED_HODA = REPO.parent / "shared" / "datasets" / "hoda"

# The course's Hoda digits are in the shared folder beside the checkout (CI has it there). Every
# `dlgrade` command the tests start finds it through this variable, as a user's shell would give it;
# a test that calls `engine.grade` directly passes `hoda_dir=` itself (gradings never read it).
if "DLGRADE_HODA_DIR" not in os.environ and SHARED_HODA.is_dir():
    os.environ["DLGRADE_HODA_DIR"] = str(SHARED_HODA)


HOSTILE_SLOT = 7  # hostile gradings run under their own uid, so other gradings on the machine never count


def sandbox_processes(uid: int = FIRST_UID + HOSTILE_SLOT) -> list[str]:
    """Processes of the sandbox uid still alive on this machine, as 'pid name'."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            found.append(f"{status.parent.name} {fields.get('Name', '').strip()}")
    return found


def wait_for_no_sandbox_processes(timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        left = sandbox_processes()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


@pytest.fixture(scope="session")
def perceptron():
    return find_exercise("perceptron")


@pytest.fixture
def fast_limits():
    """Tight limits so hostile submissions hit them quickly."""
    return Limits(wall_seconds=20, test_seconds=2, memory_mb=512, processes=32, disk_mb=32)
