"""Hostile submissions get nothing they did not earn, the grader returns within its limits, and
nothing is left running or written outside the sandbox."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import pytest

from conftest import HOSTILE_DIR, HOSTILE_SLOT, wait_for_no_sandbox_processes
from grader.grading.engine import grade

HOST_MARKS = [Path("/tmp/dlgrade-pwned-by-pickle"), Path("/tmp/dlgrade-conftest-was-loaded"),
              Path("/tmp/results.json"), Path("/tmp/dlgrade-fake-result.json"), Path("/tmp/fill0.bin")]


@pytest.fixture(autouse=True)
def clean_host_marks():
    for p in HOST_MARKS:
        p.unlink(missing_ok=True)
    yield
    assert wait_for_no_sandbox_processes() == [], "a sandbox process outlived its grading"
    written = [str(p) for p in HOST_MARKS if p.exists()]
    assert written == [], f"a submission wrote outside its sandbox: {written}"


def run_hostile(perceptron, name, limits):
    path = HOSTILE_DIR / name
    t0 = time.monotonic()
    result = grade(perceptron, path, "hidden", limits=limits, slot=HOSTILE_SLOT)
    elapsed = time.monotonic() - t0
    assert elapsed < limits.wall_seconds + 10, f"grading took {elapsed:.1f} s"
    assert result.max_score > 0 and len(result.tests) >= 5
    return result, elapsed


def assert_no_points(result):
    assert result.score == 0, [(t.name, t.status) for t in result.tests if t.score]
    assert all(t.status != "passed" for t in result.tests)


@pytest.mark.parametrize("name", ["monkeypatch_numpy.py", "always_equal.py", "inspect_memory.py",
                                  "fake_results.py", "forged_descriptors.py"])
def test_tricks_earn_nothing(perceptron, fast_limits, name):
    result, _ = run_hostile(perceptron, name, fast_limits)
    assert_no_points(result)


def test_always_equal_objects_are_refused_with_a_message(perceptron, fast_limits):
    result, _ = run_hostile(perceptron, "always_equal.py", fast_limits)
    assert any("AlwaysEqual" in t.output and "cannot be graded" in t.output for t in result.tests)


def test_exit_at_import_fails_every_test_with_a_reason(perceptron, fast_limits):
    result, _ = run_hostile(perceptron, "exit_at_import.py", fast_limits)
    assert_no_points(result)
    assert all("exited" in t.output for t in result.tests)
    assert "All tests passed" in result.output  # its own output is shown, as its own


def test_instructor_files_are_not_visible(perceptron, fast_limits):
    result, _ = run_hostile(perceptron, "read_instructor_files.py", fast_limits)
    assert_no_points(result)
    seen = result.output + "".join(t.output for t in result.tests)
    assert "FOUND:" in seen
    assert "solution.py'" not in seen and "test_hidden.py'" not in seen
    assert "BEGIN SOLUTION" not in seen
    reference_line = next(line for line in perceptron.solution.read_text().splitlines()
                          if line.strip().startswith("def "))
    assert reference_line not in seen
    assert "grader/engine.py: refused" in seen or "engine.py: refused" in seen
    assert "ENV:" in seen and "DLGRADE" not in seen.split("ENV:")[1].splitlines()[0]


def test_pickle_payloads_are_never_unpickled(perceptron, fast_limits):
    result, _ = run_hostile(perceptron, "pickle_payload.py", fast_limits)
    assert_no_points(result)
    assert not Path("/tmp/dlgrade-pwned-by-pickle").exists()


def test_infinite_loop_is_stopped_at_the_test_limit(perceptron, fast_limits):
    result, elapsed = run_hostile(perceptron, "infinite_loop.py", fast_limits)
    assert_no_points(result)
    assert all(t.status == "timeout" for t in result.tests)
    assert elapsed <= fast_limits.wall_seconds + 3


def test_setsid_grandchild_ignoring_sigterm_is_killed(perceptron, fast_limits):
    result, _ = run_hostile(perceptron, "setsid_grandchild.py", fast_limits)
    assert_no_points(result)
    assert any(t.status == "timeout" for t in result.tests)
    # the autouse fixture checks that no process of the sandbox uid is left


def test_fork_bomb_is_contained(perceptron, fast_limits):
    result, _ = run_hostile(perceptron, "fork_bomb.py", fast_limits)
    assert_no_points(result)


def test_memory_bomb_hits_the_memory_limit(perceptron, fast_limits):
    result, _ = run_hostile(perceptron, "memory_bomb.py", fast_limits)
    assert_no_points(result)
    text = " ".join(t.output for t in result.tests)
    assert "MemoryError" in text and "memory limit is 512 MB" in text


def test_disk_fill_stays_inside_a_small_tmpfs(perceptron, fast_limits, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = shutil.disk_usage("/tmp").free
    result, _ = run_hostile(perceptron, "disk_fill.py", fast_limits)
    assert_no_points(result)
    assert "WRITTEN" in result.output
    assert list(tmp_path.iterdir()) == []
    assert before - shutil.disk_usage("/tmp").free < 16 << 20


def test_output_flood_is_capped(perceptron, fast_limits):
    result, elapsed = run_hostile(perceptron, "output_flood.py", fast_limits)
    assert_no_points(result)
    assert len(result.output.encode()) < fast_limits.output_bytes * 2 + 1000
    assert "more bytes of output were dropped" in result.output


def test_conftest_in_submission_is_never_loaded(perceptron, fast_limits, tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(HOSTILE_DIR / "conftest_submission" / "perceptron.py", sub / "perceptron.py")
    shutil.copy(HOSTILE_DIR / "conftest_submission" / "conftest.py.txt", sub / "conftest.py")
    result = grade(perceptron, sub, "hidden", limits=fast_limits, slot=HOSTILE_SLOT)
    assert_no_points(result)
    assert not Path("/tmp/dlgrade-conftest-was-loaded").exists()


def test_network_is_unreachable(perceptron, fast_limits):
    unix_path = Path("/tmp/dlgrade-test.sock")
    unix_path.unlink(missing_ok=True)
    tcp = socket.socket()
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        tcp.bind(("127.0.0.1", 47613))
    except OSError:
        pytest.fail("port 47613 is taken on this machine; the test needs it free")
    tcp.listen(5)
    tcp.setblocking(False)
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(unix_path))
    unix.listen(5)
    unix.setblocking(False)
    try:
        result, _ = run_hostile(perceptron, "network.py", fast_limits)
        assert_no_points(result)
        for server in (tcp, unix):
            with pytest.raises(BlockingIOError):
                server.accept()
        assert "NET" in result.output and "connected" not in result.output
    finally:
        tcp.close()
        unix.close()
        unix_path.unlink(missing_ok=True)
