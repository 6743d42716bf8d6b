"""Learner notebooks graded like .py files: the module made from the code cells, cells named in
feedback, IPython magics left out with notes, bad notebooks refused in one line, hostile notebooks
gaining nothing, and a notebook submitted, collected and autograded in a course. Real gradings
(numpy exercises), real nbformat."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from conftest import HOSTILE_DIR, HOSTILE_SLOT, REPO, wait_for_no_sandbox_processes
from grader.exercise.cohort import submission_source
from grader.exercise.spec import find_exercise
from grader.grading.engine import SubmissionError, grade
from grader.grading.files import submission_files
from grader.grading.notebook import CellLine, NotebookError, notebook_to_module

HOST_MARKS = [Path("/tmp/results.json"), Path("/tmp/dlgrade-fake-result.json")]


# --- building notebooks ------------------------------------------------------------------------

def code_cells(source: str) -> list[str]:
    """A .py source as notebook code cells: what comes before the first definition, then one cell
    per top-level function or class (as a learner lays a notebook out)."""
    parts = re.split(r"\n(?=def |class |@)", source.strip("\n"))
    return [p.strip("\n") for p in parts if p.strip()]


def notebook_of(cells: list, title: str = "# My work") -> bytes:
    """A v4 notebook: a Markdown title, then each cell (source text -> code cell), a Markdown cell
    between code cells, so cell numbers differ from code-cell numbers."""
    out = [new_markdown_cell(title)]
    for cell in cells:
        out.append(new_code_cell(cell) if isinstance(cell, str) else cell)
        out.append(new_markdown_cell("Next part."))
    return nbformat.writes(new_notebook(cells=out)).encode("utf-8")


def write_notebook(folder: Path, name: str, cells: list, **kw) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(notebook_of(cells, **kw))
    return path


@pytest.fixture(scope="module")
def conv():
    return find_exercise("conv-arithmetic")


@pytest.fixture
def host_marks():
    """No sandbox process outlives a hostile grading, and (with a mount namespace: bubblewrap) nothing
    is written outside the sandbox; rlimits-only mode says in its warnings that /tmp is shared."""
    from grader.sandbox.probe import probe
    for p in HOST_MARKS:
        p.unlink(missing_ok=True)
    yield
    assert wait_for_no_sandbox_processes() == [], "a sandbox process outlived its grading"
    if probe().mode == "namespaces":
        assert [str(p) for p in HOST_MARKS if p.exists()] == [], "a notebook wrote outside its sandbox"
    for p in HOST_MARKS:
        p.unlink(missing_ok=True)


# --- the module made from a notebook (no grading) ---------------------------------------------

def test_the_module_holds_the_code_cells_in_order_and_maps_every_line_back():
    data = nbformat.writes(new_notebook(cells=[
        new_markdown_cell("# Title"), new_code_cell("import numpy as np\nA = 1"), new_raw_cell("raw"),
        new_code_cell("def f(x):\n    return x + A\n"),
    ])).encode()
    conv = notebook_to_module(data, "nb.ipynb")
    lines = conv.source.splitlines()
    assert [lines[i] for i, o in enumerate(conv.lines) if o is not None] == \
        ["import numpy as np", "A = 1", "def f(x):", "    return x + A"]
    assert [o for o in conv.lines if o is not None] == [CellLine(2, 1), CellLine(2, 2), CellLine(4, 1), CellLine(4, 2)]
    f_line = lines.index("    return x + A") + 1
    assert conv.where(f_line) == "cell 4, line 2"
    assert conv.where(1) == "cell 2, line 1"  # dlgrade's header: the learner's first line
    assert conv.cells == (2, 4) and conv.notes == ()
    namespace: dict = {}
    exec(compile(conv.source, "nb.py", "exec"), namespace)  # test-only: the module is plain Python
    assert namespace["f"](1) == 2


def test_magics_and_shell_escapes_are_left_out_with_a_note_each_but_not_inside_strings_or_brackets():
    cells = ["%matplotlib inline\n!pip install numpy\nfiles = !ls\nimport numpy as np",
             's = """\n!not a shell line\n%not a magic\n"""\nx = (1\n     %2)\nnp.sum?\n'
             'def f():\n    %time g()\n    return s\nget_ipython().run_line_magic(\n    "load_ext", "x")\ny = 2',
             "%%time\nz = 3", "%%bash\necho hi", "%%writefile helper.py\nprint('not python here')"]
    conv = notebook_to_module(notebook_of(cells), "nb.ipynb")
    assert conv.notes == (
        "cell 2, line 1: `%matplotlib inline` (an IPython magic) was left out",
        "cell 2, line 2: `!pip install numpy` (a shell command) was left out",
        "cell 2, line 3: `files = !ls` (a shell command) was left out",
        "cell 4, line 7: `np.sum?` (IPython help) was left out",
        "cell 4, line 9: `%time g()` (an IPython magic) was left out",
        "cell 4, line 11: `get_ipython().run_line_magic(` (an IPython call) was left out",
        "cell 6, line 1: `%%time` (an IPython cell magic) was left out; the cell's code runs once",
        "cell 8: `%%bash` (an IPython cell magic) was left out, with the rest of its cell",
        "cell 10: `%%writefile helper.py` (an IPython cell magic) was left out, with the rest of its cell")
    assert "!not a shell line" in conv.source and "     %2)" in conv.source
    assert "echo hi" not in conv.source and "not python here" not in conv.source
    namespace: dict = {}
    exec(compile(conv.source, "nb.py", "exec"), {"__builtins__": __builtins__, "g": None} | namespace)
    assert conv.cells == (2, 4, 6)


def test_nbgrader_test_cells_and_the_check_cell_are_not_part_of_the_module():
    solution = new_code_cell("def f(x):\n    return 2 * x")
    solution.metadata["nbgrader"] = {"grade_id": "f", "solution": True, "grade": False, "locked": False,
                                     "schema_version": 3}
    setup = new_code_cell("import math")
    setup.metadata["nbgrader"] = {"grade_id": "setup", "solution": False, "grade": False, "locked": True,
                                  "schema_version": 3}
    tests = new_code_cell("assert f(2) == 4")
    tests.metadata["nbgrader"] = {"grade_id": "t", "solution": False, "grade": True, "locked": True, "points": 2,
                                  "schema_version": 3}
    check = new_code_cell('if __name__ == "__main__":\n    from grader.notebooks.check import check_notebook\n'
                          '    check_notebook("x")')
    conv = notebook_to_module(nbformat.writes(new_notebook(cells=[setup, solution, tests, check])).encode())
    assert conv.cells == (1, 2)
    assert "assert f(2)" not in conv.source and "check_notebook" not in conv.source
    assert "import math" in conv.source  # a read-only setup cell runs, as in nbgrader


def test_every_mention_of_a_module_line_names_the_cell_instead():
    from grader.grading.notebook_grading import NotebookSubmission, name_cells_in_text
    conv = notebook_to_module(notebook_of(["import warnings", "def f():\n    return 1 / 0"]))
    at = {str(o): n for n, o in enumerate(conv.lines, 1) if o is not None}
    nb = NotebookSubmission("perceptron.ipynb", "perceptron.py", conv)
    text = (f'  File "/work/g-0123/perceptron.py", line {at["cell 4, line 2"]}, in f\n'
            f'  File "/work/helpers.py", line 3, in g\n'
            f"SyntaxError: expected an indented block after function definition on line {at['cell 4, line 1']} "
            f"(perceptron.py, line {at['cell 4, line 2']})\n"
            f"/work/perceptron.py:{at['cell 2, line 1']}: UserWarning: careful\n"
            f"Your file perceptron.py could not be imported: ZeroDivisionError")
    assert name_cells_in_text(text, nb).splitlines() == [
        '  File "perceptron.ipynb", cell 4, line 2, in f',
        '  File "/work/helpers.py", line 3, in g',
        "SyntaxError: expected an indented block after function definition on cell 4, line 1 "
        "(perceptron.ipynb, cell 4, line 2)",
        "perceptron.ipynb, cell 2, line 1: UserWarning: careful",
        "Your notebook perceptron.ipynb could not be imported: ZeroDivisionError"]
    odd = NotebookSubmission("perceptron.ipynb", "perceptron.py", conv, "my work.ipynb")
    assert name_cells_in_text(f'File "/work/perceptron.py", line {at["cell 4, line 2"]}', odd) == \
        'File "my work.ipynb", cell 4, line 2'


V3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
    {"cell_type": "code", "input": "x = 1", "language": "python", "outputs": [], "metadata": {}}]}]}
BAD = {
    "not-json": (b"def step(z):\n    return z\n", "is not valid JSON"),
    "json-list": (b"[1, 2, 3]", "is JSON but not a Jupyter notebook"),
    "v3": (json.dumps(V3).encode(), "is an nbformat version 3 notebook; dlgrade reads version 4"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a binary file"),
    "latin-1": ('{"caf\u00e9": 1}'.encode("latin-1"), "is not UTF-8 text"),
    "schema": (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", '
               b'"source": 5, "metadata": {}, "outputs": [], "execution_count": null}]}', "is not a valid notebook"),
    "no-code": (nbformat.writes(new_notebook(cells=[new_markdown_cell("only words")])).encode(), "has no code cells"),
    "surrogate": (b'{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [{"cell_type": "code", '
                  b'"source": "x = \'\\ud800\'", "metadata": {}, "outputs": [], "execution_count": null}]}',
                  "holds text that is not UTF-8"),
    "deep": (b"[" * 100_000 + b"]" * 100_000, "nests its JSON too deeply"),
    "many-cells": (nbformat.writes(new_notebook(cells=[new_code_cell("x = 1") for _ in range(10_001)])).encode(),
                   "has 10001 cells, over the limit of 10000"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_file_that_is_not_a_gradable_notebook_gets_one_line_naming_the_problem(perceptron, tmp_path, case):
    data, expected = BAD[case]
    path = tmp_path / "work.ipynb"
    path.write_bytes(data)
    with pytest.raises(SubmissionError) as err:
        grade(perceptron, path, "public")
    message = str(err.value)
    assert expected in message and "\n" not in message and len(message) < 400, message
    assert message.startswith(("perceptron.ipynb ", "cell ", str(path))), message


def test_dlgrade_check_says_it_in_one_line_and_exits_non_zero(tmp_path):
    path = tmp_path / "work.ipynb"
    path.write_bytes(json.dumps(V3).encode())
    proc = subprocess.run(["dlgrade", "check", "perceptron", str(path)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "version 3 notebook" in lines[0], proc.stderr


def test_a_notebook_over_its_size_limit_is_refused_before_it_is_read(perceptron, tmp_path):
    path = tmp_path / "big.ipynb"
    with open(path, "wb") as fh:
        fh.truncate(21 * 1024 * 1024)
    with pytest.raises(SubmissionError, match="over the 20 MiB limit for a notebook"):
        submission_files(perceptron, path)


def test_a_folder_with_both_the_py_file_and_the_notebook_is_refused_naming_both(perceptron, tmp_path):
    (tmp_path / "perceptron.py").write_text(submission_source(perceptron, "correct"))
    write_notebook(tmp_path, "perceptron.ipynb", code_cells(submission_source(perceptron, "correct")))
    with pytest.raises(SubmissionError) as err:
        submission_files(perceptron, tmp_path)
    assert "perceptron.py" in str(err.value) and "perceptron.ipynb" in str(err.value)
    assert "give the path of the one you mean" in str(err.value)
    (tmp_path / "perceptron.py").unlink()
    (tmp_path / "helpers.py").write_text("X = 1\n")
    assert sorted(submission_files(perceptron, tmp_path)) == ["helpers.py", "perceptron.ipynb"]


# --- gradings ----------------------------------------------------------------------------------

def _statuses(result):
    return [(t.name, t.status, t.score) for t in result.tests]


@pytest.mark.parametrize("exercise_id", ["perceptron", "conv-arithmetic"])
def test_a_correct_notebook_grades_exactly_like_the_same_code_in_a_py_file(exercise_id, tmp_path):
    ex = find_exercise(exercise_id)
    source = submission_source(ex, "correct")
    nb = write_notebook(tmp_path / "nb", "my work.ipynb", code_cells(source))
    (tmp_path / "py").mkdir()
    (tmp_path / "py" / ex.entry).write_text(source)
    as_notebook = grade(ex, nb, "hidden")
    as_py = grade(ex, tmp_path / "py" / ex.entry, "hidden")
    assert as_notebook.full_marks and as_notebook.score == as_py.score == ex.points["hidden"]
    assert _statuses(as_notebook) == _statuses(as_py)
    assert as_notebook.extra_data["notebook"]["file"] == "my work.ipynb"  # the learner's own name
    assert as_notebook.extra_data["notebook"]["notes"] == []


def test_a_partial_notebook_loses_the_points_of_what_it_left_undone(perceptron, tmp_path):
    source = submission_source(perceptron, "partial")
    result = grade(perceptron, write_notebook(tmp_path, "perceptron.ipynb", code_cells(source)), "public")
    as_py = tmp_path / "py.py"
    as_py.write_text(source)
    assert 0 < result.score < result.max_score
    assert _statuses(result) == _statuses(grade(perceptron, as_py, "public"))
    unwritten = [t for t in result.tests if t.kind == "not_implemented"]
    assert unwritten and all("perceptron.ipynb\", cell " in t.output for t in unwritten)


def test_a_notebook_with_magics_and_pip_is_graded_and_the_notes_reach_check_and_its_json(conv, tmp_path):
    cells = ["%matplotlib inline\n!pip install numpy\n%load_ext autoreload"] + \
        code_cells(submission_source(conv, "correct"))
    path = write_notebook(tmp_path / "conv-arithmetic", "conv_arithmetic.ipynb", cells)
    result = grade(conv, path, "public")
    assert result.full_marks
    assert result.extra_data["notebook"]["notes"] == [
        "cell 2, line 1: `%matplotlib inline` (an IPython magic) was left out",
        "cell 2, line 2: `!pip install numpy` (a shell command) was left out",
        "cell 2, line 3: `%load_ext autoreload` (an IPython magic) was left out"]
    # the command, with the notebook found in ./EXERCISE/ when no PATH is given
    proc = subprocess.run(["dlgrade", "check", "conv-arithmetic"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "left out of conv_arithmetic.ipynb" in proc.stdout and "`!pip install numpy` (a shell command)" in proc.stdout
    proc = subprocess.run(["dlgrade", "check", "conv-arithmetic", str(path), "--json"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)
    data = json.loads(proc.stdout)
    assert data["score"] == data["max_score"] > 0
    assert data["extra_data"]["notebook"]["notes"][1].startswith("cell 2, line 2: `!pip install numpy`")
    assert data["extra_data"]["notebook"]["cells"][0] == 2


@pytest.mark.parametrize("future", [False, True])
def test_jupyter_display_and_a_future_import_in_the_first_cell_work_as_in_a_kernel(perceptron, tmp_path, future):
    cells = code_cells(submission_source(perceptron, "correct"))
    if future:
        cells[0] = cells[0].replace("import numpy as np", "from __future__ import annotations\nimport numpy as np")
    cells.append("display(step(np.array([1.0, -1.0])))\nprint('shown')")
    result = grade(perceptron, write_notebook(tmp_path, "perceptron.ipynb", cells), "public")
    assert result.full_marks and "shown" in result.output


def test_a_broken_cell_is_named_by_cell_and_line_never_by_the_generated_module(perceptron, tmp_path):
    cells = code_cells(submission_source(perceptron, "correct"))
    step = next(i for i, c in enumerate(cells) if c.startswith("def step"))
    lines = cells[step].splitlines()
    bad_line = next(n for n, ln in enumerate(lines, 1) if ln.strip().startswith("return "))
    lines[bad_line - 1] = "    return np.asarray(z) @ undefined_name"
    cells[step] = "\n".join(lines)
    cell_number = 2 + 2 * step  # the title, then a Markdown cell after every code cell
    result = grade(perceptron, write_notebook(tmp_path, "perceptron.ipynb", cells), "public")
    failing = [t for t in result.tests if "NameError" in t.output]
    assert failing and 0 < result.score < result.max_score
    for t in failing:
        assert f'File "perceptron.ipynb", cell {cell_number}, line {bad_line}, in step' in t.output, t.output
        assert "perceptron.py" not in t.output and "/work" not in t.output
    # a syntax error: the import fails and the message names the cell
    cells[step] = cells[step].replace("def step(z):", "def step(z:")
    result = grade(perceptron, write_notebook(tmp_path, "perceptron.ipynb", cells), "public")
    assert result.score == 0
    first = result.tests[0].output
    assert "Your notebook perceptron.ipynb could not be imported: SyntaxError" in first, first
    assert f"cell {cell_number}, line 1" in first and "perceptron.py" not in first, first


def test_a_missing_block_points_at_the_learners_own_last_line(perceptron, tmp_path):
    cells = code_cells(submission_source(perceptron, "correct"))
    cells.insert(1, "def helper(x):")  # a definition with no body, at the end of its cell
    result = grade(perceptron, write_notebook(tmp_path, "perceptron.ipynb", cells), "public")
    assert result.score == 0
    out = result.tests[0].output
    assert "IndentationError" in out and "cell 4, line 1" in out and "perceptron.py" not in out, out


# --- hostile notebooks -------------------------------------------------------------------------

def hostile_notebook(name: str, tmp_path: Path) -> Path:
    """A hostile submission of tests/hostile/ laid out as a notebook (a magic first, as in a real one)."""
    cells = ["%matplotlib inline"] + code_cells((HOSTILE_DIR / name).read_text())
    return write_notebook(tmp_path, "perceptron.ipynb", cells)


@pytest.mark.parametrize("name", ["monkeypatch_numpy.py", "always_equal.py", "fake_results.py",
                                  "exit_at_import.py", "inspect_memory.py"])
def test_hostile_notebooks_gain_nothing(perceptron, fast_limits, tmp_path, host_marks, name):
    result = grade(perceptron, hostile_notebook(name, tmp_path), "hidden", limits=fast_limits, slot=HOSTILE_SLOT)
    assert result.max_score > 0 and result.score == 0, _statuses(result)
    assert all(t.status != "passed" for t in result.tests)
    if name == "exit_at_import.py":
        assert all("exited" in t.output for t in result.tests)


def test_outputs_stored_in_a_notebook_are_never_read_or_shown(perceptron, fast_limits, tmp_path, host_marks):
    """A notebook whose saved outputs claim full marks (and a fake nbgrader/dlgrade result) gets what
    its code earns: nothing; the outputs appear nowhere in the result."""
    cell = new_code_cell("def step(z):\n    raise NotImplementedError\n\npredict = train_perceptron = logic_gate = step")
    cell.outputs = [new_output("stream", name="stdout", text="FORGED: 22 / 22 points, all tests passed\n"),
                    new_output("execute_result", data={"text/plain": "FORGED-RESULT {'score': 22}"}, execution_count=1)]
    cell.execution_count = 1
    graded = new_code_cell("assert True")
    graded.metadata["nbgrader"] = {"grade": True, "solution": False, "points": 22, "grade_id": "all",
                                   "locked": True, "schema_version": 3}
    path = tmp_path / "perceptron.ipynb"
    path.write_text(nbformat.writes(new_notebook(cells=[cell, graded])))
    result = grade(perceptron, path, "hidden", limits=fast_limits, slot=HOSTILE_SLOT)
    assert result.score == 0
    assert "FORGED" not in result.dumps()


def test_a_hostile_notebook_gains_nothing_without_bubblewrap_too(tmp_path):
    """The same hostile notebooks graded in a child whose PATH has no bwrap (rlimits-only mode)."""
    for name in ("monkeypatch_numpy.py", "exit_at_import.py"):
        hostile_notebook(name, tmp_path / name)
    keep = [str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
    path = os.pathsep.join(p for p in keep if not os.path.exists(os.path.join(p, "bwrap")))
    script = (
        "import json, sys\nfrom pathlib import Path\nfrom grader.exercise.spec import find_exercise\n"
        "from grader.grading.engine import grade\nfrom grader.sandbox.limits import Limits\n"
        "ex = find_exercise('perceptron')\nout = {}\n"
        "for d in sorted(Path(sys.argv[1]).iterdir()):\n"
        "    r = grade(ex, d / 'perceptron.ipynb', 'hidden', slot=9, limits=Limits(wall_seconds=20, test_seconds=2, "
        "memory_mb=512, processes=32, disk_mb=32))\n"
        "    out[d.name] = [r.score, r.max_score, r.extra_data['sandbox']['mode']]\n"
        "print(json.dumps(out))\n")
    env = dict(os.environ, PATH=path, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(out) == {"monkeypatch_numpy.py", "exit_at_import.py"}
    for score, max_score, mode in out.values():
        assert score == 0 < max_score and mode == "rlimits-only"


# --- the course loop ---------------------------------------------------------------------------

def dlgrade(*args, cwd, env=None, check=True):
    proc = subprocess.run(["dlgrade", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, **(env or {})), timeout=600)
    if check:
        assert proc.returncode == 0, f"dlgrade {' '.join(map(str, args))}: {proc.stdout}\n{proc.stderr}"
    return proc


def test_a_notebook_is_submitted_collected_autograded_and_reported_by_cell(tmp_path, perceptron):
    dlgrade("init", "course", cwd=tmp_path)
    course = tmp_path / "course"
    dlgrade("release", cwd=course)
    home = course / "release" / "learners"
    kinds = {"ali": "correct", "sara": "partial"}
    for student, kind in kinds.items():
        cells = ["%matplotlib inline\n!pip install numpy"] + code_cells(submission_source(perceptron, kind))
        data = json.loads(notebook_of(cells))
        for cell in data["cells"]:  # a saved run whose outputs claim full marks: never trusted, not stored
            if cell["cell_type"] == "code":
                cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "FORGED 22/22\n"}]
                cell["execution_count"] = 7
        path = home / student / f"{student} perceptron.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(data))
        out = dlgrade("submit", "perceptron", path, cwd=course / "release", env={"DLGRADE_STUDENT": student}).stdout
        assert "Submitted perceptron" in out
    # a broken one: its error is reported by cell and line
    cells = code_cells(submission_source(perceptron, "correct"))
    cells[1] = cells[1].replace("return (np.asarray(z) > 0).astype(int)", "return z.nonexistent")
    write_notebook(home / "reza" / "perceptron", "perceptron.ipynb", cells)
    dlgrade("submit", "perceptron", cwd=home / "reza", env={"DLGRADE_STUDENT": "reza"})
    # not a notebook: refused at submit, in one line, nothing written
    (home / "nima").mkdir()
    (home / "nima" / "perceptron.ipynb").write_text("def step(z): return z\n")
    refused = dlgrade("submit", "perceptron", home / "nima" / "perceptron.ipynb", cwd=home / "nima",
                      env={"DLGRADE_STUDENT": "nima"}, check=False)
    assert refused.returncode != 0 and "is not valid JSON" in refused.stderr and "Traceback" not in refused.stderr
    assert not (course / "exchange" / "inbound" / "nima").exists() or \
        not any((course / "exchange" / "inbound" / "nima").rglob("*.ipynb"))

    stored = next((course / "exchange" / "inbound" / "ali" / "perceptron").glob("*/perceptron.ipynb"))
    kept = json.loads(stored.read_text())
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None
               for c in kept["cells"] if c["cell_type"] == "code")
    assert "FORGED" not in stored.read_text()
    record = json.loads((stored.parent / "submission.json").read_text())
    assert record["files"] == ["perceptron.ipynb"] and record["entry"] == "perceptron.ipynb"

    assert "Collected 3" in dlgrade("collect", cwd=course).stdout
    run = dlgrade("autograde", "--workers", "1", cwd=course)
    assert "graded 3, failed 0" in run.stdout, run.stdout
    rows = {r["student"]: r for r in json.loads(dlgrade("grades", "--json", cwd=course).stdout)}
    assert rows["ali"]["score"] == rows["ali"]["max_score"] == perceptron.points["hidden"]
    assert 0 < rows["sara"]["score"] < rows["sara"]["max_score"]
    assert 0 < rows["reza"]["score"] < rows["reza"]["max_score"]

    reports = tmp_path / "reports"
    dlgrade("report", "--lang", "en", "--out", reports, cwd=course)
    md = (reports / "ali" / "report.md").read_text()
    assert "Left out of your notebook when it was graded" in md and "`!pip install numpy` (a shell command)" in md
    html = (reports / "reza" / "report.html").read_text()
    assert 'File &#34;perceptron.ipynb&#34;, cell 4, line' in html or 'File "perceptron.ipynb", cell 4, line' in html
    assert "perceptron.py&#34;, line" not in html and "FORGED" not in html
