"""One grading end to end through the real sandbox: results, bad submissions, limits."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from grader.grading.engine import SubmissionError, grade
from grader.sandbox.limits import Limits
from grader.sandbox.probe import probe
from grader.exercise.spec import find_exercise


@pytest.fixture(scope="module")
def conv():
    return find_exercise("conv-arithmetic")


def write(tmp_path: Path, text: str, name: str = "conv_arithmetic.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reference_gets_full_marks_and_a_gradescope_shaped_result(conv):
    result = grade(conv, conv.solution, "hidden")
    assert result.full_marks, [(t.name, t.output) for t in result.tests if t.status != "passed"]
    data = json.loads(result.dumps())
    assert set(data) >= {"score", "max_score", "execution_time", "output", "tests", "extra_data"}
    for t in data["tests"]:
        assert set(t) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert t["status"] in ("passed", "failed") and t["visibility"] == "after_published"
    extra = data["extra_data"]
    assert extra["exercise"] == "conv-arithmetic" and extra["suite"] == "hidden"
    assert len(extra["submission_sha256"]) == 64 and len(extra["exercise_sha256"]) == 64
    assert extra["device"] == "cpu" and extra["versions"]["numpy"]
    assert extra["sandbox"]["mode"] == probe().mode


def test_the_sandbox_is_isolated_on_this_machine():
    """CI installs bubblewrap; the grader must not silently fall back to rlimits only. Where
    bubblewrap is absent, a root grader still never runs learner code as itself: util-linux mount
    and PID namespaces and an unprivileged uid, with sockets refused by seccomp."""
    prot = probe().as_dict()
    if shutil.which("bwrap") is not None:
        assert prot["mode"] == "namespaces", prot["warnings"]
        needed = ("pid-namespace", "network-namespace", "mount-namespace", "seccomp-no-sockets")
    else:
        assert any("bubblewrap" in w for w in prot["warnings"])  # said, not silent
        needed = (("pid-namespace", "mount-namespace", "unprivileged-uid-no-capabilities", "seccomp-no-sockets")
                  if os.geteuid() == 0 else ("rlimits", "seccomp-no-sockets"))
    for name in needed:
        assert name in prot["active"], prot


def test_template_loses_points_with_a_readable_hint(conv):
    result = grade(conv, conv.template, "public")
    assert result.score < result.max_score
    hints = [t.output for t in result.tests if t.status != "passed"]
    assert any("NotImplementedError" in h and "not written yet" in h for h in hints)
    for h in hints:
        assert "site-packages" not in h and "grader/" not in h  # no grader traceback


def test_the_submission_is_imported_once_per_grading(conv, tmp_path):
    src = conv.solution.read_text() + "\nprint('IMPORTED')\n"
    result = grade(conv, write(tmp_path, src), "public")
    assert result.full_marks
    assert result.output.count("IMPORTED") == 1


def test_syntax_error_fails_every_test_with_the_line(conv, tmp_path):
    result = grade(conv, write(tmp_path, "def conv_output_size(n, f:\n    return 1\n"), "public")
    assert result.score == 0
    assert all(t.status == "error" and "SyntaxError" in t.output and "could not be imported" in t.output
               for t in result.tests)


def test_missing_module_is_named(conv, tmp_path):
    result = grade(conv, write(tmp_path, "import tensorflow_addons_not_here\n"), "public")
    assert result.score == 0
    assert "ModuleNotFoundError" in result.tests[0].output
    assert "tensorflow_addons_not_here" in result.tests[0].output


def test_missing_function_fails_only_its_tests(conv, tmp_path):
    src = conv.solution.read_text().replace("def same_padding(", "def same_padding_renamed(")
    result = grade(conv, write(tmp_path, src), "public")
    failed = [t for t in result.tests if t.status != "passed"]
    assert failed and all("same_padding" in t.output and "does not define" in t.output for t in failed)
    assert any(t.status == "passed" for t in result.tests)


def test_a_hang_in_one_function_keeps_the_other_results(conv, tmp_path):
    src = conv.solution.read_text().replace(
        "def same_padding(f):", "def same_padding(f):\n    while True:\n        pass\n\n\ndef _unused(f):")
    limits = Limits(wall_seconds=40, test_seconds=1.5, memory_mb=512)
    t0 = time.monotonic()
    result = grade(conv, write(tmp_path, src), "public", limits=limits)
    assert time.monotonic() - t0 < 40
    timed_out = [t for t in result.tests if t.status == "timeout"]
    passed = [t for t in result.tests if t.status == "passed"]
    assert timed_out and passed
    assert all("same_padding" in t.output and "took longer than" in t.output for t in timed_out)
    assert result.score == sum(t.max_score for t in passed)


def test_the_whole_grading_has_a_wall_limit(conv, tmp_path):
    src = "import time\ntime.sleep(60)\n"
    limits = Limits(wall_seconds=3, test_seconds=10, memory_mb=512)
    t0 = time.monotonic()
    result = grade(conv, write(tmp_path, src), "public", limits=limits)
    assert time.monotonic() - t0 < 8
    assert result.score == 0 and all(t.status in ("timeout", "error") for t in result.tests)


def test_a_file_of_any_name_is_taken_as_the_entry_file(conv, tmp_path):
    path = write(tmp_path, conv.solution.read_text(), name="my answer v2.py")
    assert grade(conv, path, "public").full_marks


def test_a_folder_submission_may_import_its_own_helper_module(conv, tmp_path):
    (tmp_path / "helpers.py").write_text("def floor_div(a, b):\n    return a // b\n")
    src = "from helpers import floor_div\n" + conv.solution.read_text()
    write(tmp_path, src)
    assert grade(conv, tmp_path, "public").full_marks


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.py", "does not exist"),
    (lambda d: (d / "notes.txt").write_text("x") and d / "notes.txt", "not a Python file"),
    (lambda d: (d / "x.py").write_bytes(b"# \xff\xfe\n") and d / "x.py", "not UTF-8"),
    (lambda d: (d / "sub").mkdir() or d / "sub", "has no conv_arithmetic.py"),
    (lambda d: (d / "big.py").write_text("#" * (2 << 20)) and d / "big.py", "over the"),
])
def test_bad_submission_paths_get_a_clear_error(conv, tmp_path, make, message):
    with pytest.raises(SubmissionError, match=message):
        grade(conv, make(tmp_path), "public")


def test_a_symlink_submission_is_refused(conv, tmp_path):
    link = tmp_path / "link.py"
    link.symlink_to(conv.solution)
    with pytest.raises(SubmissionError, match="symbolic link"):
        grade(conv, link, "public")


def test_a_sandbox_that_cannot_start_is_the_graders_fault_not_the_learners(conv, monkeypatch):
    monkeypatch.setattr("sys.executable", "/nonexistent/python3")
    result = grade(conv, conv.solution, "public")
    assert result.score == 0 and not result.full_marks
    # typed as the grader's fault, retried once, and never a grade (tests/test_grader_faults.py)
    assert all(t.status == "error" and t.kind == "grader_fault" and "not in your code" in t.output
               for t in result.tests)
    assert result.grader_fault and result.extra_data["attempts"] == 2
    assert result.extra_data["internal_errors"], "the instructor must get the details"


def test_without_namespaces_it_degrades_to_rlimits_and_says_so(conv, monkeypatch, tmp_path):
    from grader.sandbox.probe import Protections
    fallback = Protections(warnings=["bubblewrap (bwrap) is not installed: the sandbox runs with rlimits only"])
    monkeypatch.setattr("grader.sandbox.probe.probe", lambda: fallback)  # the engine's record
    monkeypatch.setattr("grader.sandbox.process.probe", lambda: fallback)  # the sandbox's own
    result = grade(conv, conv.solution, "public")
    assert result.full_marks
    sandbox = result.extra_data["sandbox"]
    assert sandbox["mode"] == "rlimits-only" and sandbox["warnings"] == fallback.warnings
    assert "pid-namespace" not in sandbox["active"] and "rlimits" in sandbox["active"]
    hang = write(tmp_path, "import time\ntime.sleep(60)\n")
    t0 = time.monotonic()
    stopped = grade(conv, hang, "public", limits=Limits(wall_seconds=3, test_seconds=2, memory_mb=512))
    assert time.monotonic() - t0 < 10 and stopped.score == 0


def test_the_hoda_folder_reaches_the_tests_as_given_never_from_the_environment(conv, tmp_path, monkeypatch):
    """K7: `grade(hoda_dir=...)` is the `hoda` fixture of the trusted pytest run; the grading does
    not read $DLGRADE_HODA_DIR (concurrent gradings in one worker process cannot race on it)."""
    solutions = tmp_path / "solutions" / "probe"
    solutions.mkdir(parents=True)
    (solutions / "test_hidden.py").write_text(
        "def test_the_hoda_fixture(hoda):\n"
        "    assert False, f'hoda={hoda}'\n")
    ex = dataclasses.replace(conv, solution_dir=solutions)
    monkeypatch.setenv("DLGRADE_HODA_DIR", str(tmp_path / "from-the-environment"))
    given = tmp_path / "given"
    seen = {}
    for hoda_dir in (None, given):
        result = grade(ex, conv.solution, "hidden", hoda_dir=hoda_dir)
        (test,) = result.tests
        seen[hoda_dir] = test.output
    assert seen[None] == "hoda=None" and seen[given] == f"hoda={given.resolve()}", seen
