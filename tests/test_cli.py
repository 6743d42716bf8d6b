"""The `dlgrade` command as a learner and an instructor use it (real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
from grader.exercise.spec import all_exercises

EXERCISE_IDS = [e.id for e in all_exercises()]


def dlgrade(*args, cwd=None, check=False):
    proc = subprocess.run(["dlgrade", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.parametrize("command", ["list", "start", "check", "grade", "validate", "demo", "templates"])
def test_every_command_has_help(command):
    proc = dlgrade(command, "--help", check=True)
    assert "Usage:" in proc.stdout


def test_cli_start_up_does_not_import_heavy_libraries():
    code = "import grader.cli, sys; print(sorted(m for m in ('numpy', 'pytest', 'keras', 'sklearn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_list_shows_every_exercise_with_both_titles():
    data = json.loads(dlgrade("list", "--json", check=True).stdout)
    assert [e["id"] for e in data] == EXERCISE_IDS
    assert all(e["title"]["en"] and e["title"]["fa"] for e in data)
    table = dlgrade("list", check=True).stdout
    assert all(ex in table for ex in EXERCISE_IDS)


def test_learner_loop_start_edit_check(tmp_path):
    out = dlgrade("start", "conv-arithmetic", "--dir", tmp_path, check=True)
    folder = tmp_path / "conv-arithmetic"
    assert (folder / "conv_arithmetic.py").is_file() and (folder / "README.md").is_file()
    assert (folder / "test_public.py").is_file()
    assert "dlgrade check conv-arithmetic" in out.stdout

    proc = dlgrade("check", "conv-arithmetic", "--json", cwd=tmp_path)
    assert proc.returncode == 1  # the untouched template does not pass
    result = json.loads(proc.stdout)  # stdout holds only the JSON
    assert result["score"] < result["max_score"]

    reference = next(e for e in all_exercises() if e.id == "conv-arithmetic").solution
    (folder / "conv_arithmetic.py").write_text(reference.read_text())
    proc = dlgrade("check", "conv-arithmetic", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert "PASS" in proc.stdout and "FAIL" not in proc.stdout


def test_start_never_overwrites_work_without_force(tmp_path):
    dlgrade("start", "perceptron", "--dir", tmp_path, check=True)
    work = tmp_path / "perceptron" / "perceptron.py"
    work.write_text("# my work\n")
    proc = dlgrade("start", "perceptron", "--dir", tmp_path)
    assert proc.returncode == 2 and "--force" in proc.stderr and "already exist" in proc.stderr
    assert work.read_text() == "# my work\n"
    dlgrade("start", "perceptron", "--dir", tmp_path, "--force", check=True)
    assert work.read_text() != "# my work\n"


def test_check_without_a_file_says_what_to_do(tmp_path):
    proc = dlgrade("check", "perceptron", cwd=tmp_path)
    assert proc.returncode == 2 and "dlgrade start perceptron" in proc.stderr


def test_grade_prints_only_json_and_accepts_any_file_name(tmp_path):
    ex = next(e for e in all_exercises() if e.id == "param-count")
    path = tmp_path / "student_42_final.py"
    path.write_text(ex.solution.read_text())
    proc = dlgrade("grade", "param-count", path, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["score"] == data["max_score"] > 0
    assert data["extra_data"]["suite"] == "hidden"


@pytest.mark.parametrize("args, message", [
    (("grade", "no-such-exercise", "x.py"), "unknown exercise 'no-such-exercise'"),
    (("grade", "perceptron", "missing.py"), "does not exist"),
    (("check", "nope"), "the exercises are:"),
    (("validate", "perceptron", "nope"), "the exercises are:"),
])
def test_bad_arguments_get_a_one_line_error(tmp_path, args, message):
    proc = dlgrade(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_validate_proves_every_exercise_can_pass_and_fail():
    proc = dlgrade("validate", "--json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 0, data
    assert data["ok"] and data["stale_templates"] == []
    assert [e["id"] for e in data["exercises"]] == EXERCISE_IDS
    for e in data["exercises"]:
        assert e["reference"] == e["max_score"] > e["template"], e


def test_validate_takes_exercise_ids():
    proc = dlgrade("validate", "--json", "param-count", "perceptron", "param-count")
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["ok"], data
    assert [e["id"] for e in data["exercises"]] == ["param-count", "perceptron"]
    serial = json.loads(dlgrade("validate", "--json", "--workers", "1", "perceptron").stdout)  # in this process
    assert serial["ok"] and serial["exercises"] == data["exercises"][1:], serial
    bad = dlgrade("validate", "--workers", "0", "perceptron")
    assert bad.returncode == 2 and "--workers" in bad.stderr


def test_validate_on_workers_names_a_reference_that_loses_points_and_a_grading_that_could_not_run(tmp_path):
    """The proof's gradings run on a pool of workers (forked from their zygotes) and are judged
    as one after another would be: a reference that loses points is named with its failing test,
    and a grading that has no result (its worker died twice) is a problem saying why, not a crash."""
    import shutil

    from grader.batch.run import grade_on_pool
    from grader.exercise.spec import find_exercise, load_exercise
    from grader.exercise.validate import judge, validate_exercises
    from grader.grading.engine import grade
    ex = find_exercise("perceptron")
    shutil.copytree(ex.directory, tmp_path / "exercises" / "perceptron")
    shutil.copytree(ex.solution_dir, tmp_path / "solutions" / "perceptron", ignore=shutil.ignore_patterns("__pycache__"))
    solution = tmp_path / "solutions" / "perceptron" / "solution.py"
    solution.write_text(solution.read_text().replace("return (np.asarray(z) > 0).astype(int)",
                                                     "return (np.asarray(z) >= 0).astype(int)"))
    broken = load_exercise(tmp_path / "exercises" / "perceptron", tmp_path / "solutions")
    pooled, = validate_exercises([broken], grade, lambda jobs: grade_on_pool(jobs, 2))
    serial, = validate_exercises([broken], grade)
    assert not pooled.ok and pooled.as_dict() == serial.as_dict()
    assert "reference (hidden) lost points in: test_the_output_at_exactly_0_is_0" in pooled.problems
    died = judge(broken, "the grading worker died (signal 9)", serial.reference, serial.template)
    assert died.problems == ["reference (hidden) could not be graded: the grading worker died (signal 9)"]


def test_demo_walks_the_course_loop(tmp_path):
    proc = subprocess.run(["dlgrade", "demo", "--dir", str(tmp_path)], capture_output=True, text=True,
                          timeout=1200, env=dict(os.environ, COLUMNS="250"))
    assert proc.returncode == 0, proc.stderr
    for step in ("1. init", "2. release", "3. submit", "4. collect", "5. autograde", "6. grades", "7. report"):
        assert step in proc.stdout
    for ex in EXERCISE_IDS:
        assert ex in proc.stdout
    from grader.sandbox.probe import probe
    assert f"sandbox: {probe().mode}" in proc.stdout and "failed 0" in proc.stdout  # namespaces where bwrap is
    assert (tmp_path / "course" / "reports" / "en" / "dashboard.html").is_file()
    assert (tmp_path / "course" / "reports" / "fa" / "sara" / "report.html").is_file()
    from grader.gradebook.store import Gradebook
    with Gradebook.open(str(tmp_path / "course" / "gradebook.sqlite")) as gb:
        rows = gb.grades()
    assert len(rows) == 4 * len(EXERCISE_IDS)
    for r in rows:
        if r["student"] == "ali":  # the reference
            assert r["score"] == r["max_score"] > 0, r
        elif r["student"] in ("reza", "nima"):  # broken, untouched template
            assert r["score"] < r["max_score"], r


def test_the_wheel_ships_no_solution_or_hidden_test(tmp_path):
    import shutil
    src = tmp_path / "src"  # a clean copy: no stale build/ folder can leak into the wheel
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(src)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("dlgrade-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        # the learner material in the wheel, where a leaked answer would land
        shipped = {ln.strip() for n in names if n.startswith("grader/exercises/")
                   for ln in zf.read(n).decode("utf-8", "replace").splitlines()}
    assert "grader/exercises/perceptron/template.py" in names
    assert "grader/exercises/perceptron/test_public.py" in names
    assert not [n for n in names if "solution" in n or "test_hidden" in n]
    secret_lines, public_lines = set(), set()
    for ex in all_exercises():
        for path in (ex.solution, ex.hidden_tests):
            secret_lines |= {ln.strip() for ln in path.read_text().splitlines() if len(ln.strip()) > 30}
        for path in (ex.template, ex.public_tests, ex.directory / "README.md"):
            public_lines |= {ln.strip() for ln in path.read_text().splitlines()}
    secret_lines -= public_lines
    assert len(secret_lines) > 100  # the check has something to look for
    leaked = sorted(secret_lines & shipped)
    assert not leaked, leaked[:5]


def test_autograde_progress_fits_80_columns_and_is_plain_lines_in_a_log(monkeypatch):
    import io

    from rich.cells import cell_len

    from grader.cli.progress import BatchProgress

    class Task:
        task_id, student, exercise_id = "1", "ali", "perceptron"

    log = io.StringIO()
    with BatchProgress(log, terminal=False) as progress:
        progress.on_plan(100, 7)
        for i in range(100):
            progress.on_result("graded" if i % 10 else "failed", Task, None)
    lines = log.getvalue().splitlines()
    assert lines[0] == "grading 100 submission(s), 7 already graded (cached)"
    assert 10 <= len(lines) <= 30 and "\x1b" not in log.getvalue() and "\r" not in log.getvalue()
    assert lines[-1].startswith("100/100 gradings done (10 failed, 7 cached)")
    monkeypatch.setenv("COLUMNS", "80")
    screen = io.StringIO()
    with BatchProgress(screen, terminal=True) as progress:
        progress.on_plan(12345, 678)
        for i in range(9999):
            progress.on_result("graded" if i % 10 else "failed", Task, None)
    last = screen.getvalue().strip().splitlines()[-1]
    assert cell_len(last) <= 80 and "9999/12345" in last and "failed 1000" in last and "ETA" in last, last
    assert "…" not in last
