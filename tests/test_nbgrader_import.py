"""nbgrader assignments imported (`dlgrade import-nbgrader`), against real nbgrader: a course made
with `nbgrader generate_assignment`, its source notebook imported into a dlgrade course, learner
notebooks made from nbgrader's released notebook graded by `nbgrader autograde` and by `dlgrade
autograde` (submitted, collected): the honest ones score the same on both sides, the cheating ones
get nbgrader's points but only what they honestly earn from dlgrade. Also the translation itself
(names on the learner's notebook, values read as data, shared names, nose's assertions, a learner's
exception caught by type) and untranslatable cells named and refused."""

from __future__ import annotations

import ast
import json
import os
import subprocess
from pathlib import Path

import nbformat
import nbformat.v4 as v4
import pytest

import nbgrader_course as nbc
from grader.notebooks.nbgrader_names import solution_names
from grader.notebooks.nbgrader_translate import AutograderCell, Translator

# What each learner honestly earns (what dlgrade must give): the cheats' tricks earn nothing.
EARNED = {"correct": 11, "partial": 6, "unfinished": 10, "broken": 0, "patches-numpy": 8, "always-equal": 6, "patches-checker": 1,
          "exits-early": 0}
GAINED_IN_NBGRADER = ("patches-numpy", "always-equal", "patches-checker")  # nbgrader gave them more


def dlgrade(*args, cwd, env=None, check=True, timeout=600):
    proc = subprocess.run(["nice", "-n", "19", "dlgrade", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, **(env or {})), timeout=timeout)
    if check:
        assert proc.returncode == 0, f"dlgrade {' '.join(map(str, args))}: {proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    """(the nbgrader course, the dlgrade course with the assignment imported as `squares`)."""
    tmp = tmp_path_factory.mktemp("nbgrader")
    source = nbc.make_course(tmp / "nbgrader")
    dlgrade("init", "course", cwd=tmp)
    course = tmp / "course"
    out = dlgrade("import-nbgrader", source, "--id", nbc.ASSIGNMENT, cwd=course).stdout
    assert f"worth {nbc.TOTAL_POINTS} point(s)" in out and "gets them all" in out, out
    return tmp / "nbgrader", course


def test_the_import_writes_a_dlgrade_exercise(courses):
    root, course = courses
    ex, sol = course / "exercises" / "squares", course / "solutions" / "squares"
    toml = (ex / "exercise.toml").read_text()
    assert 'entry = "squares.py"' in toml and f"hidden = {nbc.TOTAL_POINTS}" in toml
    assert "[exercises.squares]" in (course / "course.toml").read_text()
    # one hidden test per test cell with the cell's points: the notebook's total
    hidden = (sol / "test_hidden.py").read_text()
    tests = _tests_and_points(hidden)
    assert tests == {name: points for name, points in nbc.POINTS.items()}
    # the public tests: only what nbgrader releases (no hidden region, no hidden-only cell)
    public = (ex / "test_public.py").read_text()
    assert "squares(5)" not in public and "squares(10)" not in public and "test_squares_hidden" not in public
    assert _tests_and_points(public) == {k: v for k, v in nbc.POINTS.items() if k != "test_squares_hidden"}
    # learner names on the sandboxed notebook; a value as data; a name shared between cells; the
    # instructor's read-only checker on the trusted side
    assert "submission.squares(3) == [1, 4, 9]" in hidden and "check_close(submission['total'], 30)" in hidden
    assert "cells.out = submission.normalize([1, 1, 2])" in hidden and "assert cells.out.shape == (3,)" in hidden
    assert "def check_close(got, want):" in hidden
    # the instructor's checker that calls the learner's function: defined in the test that uses it
    assert "def check_squares(n):" in hidden and "assert submission.squares(n) == [" in hidden
    assert hidden.index("def check_squares") > hidden.index("def test_squares_hidden")
    lines = hidden.splitlines()  # each cell's first line, as the feedback counts lines, is where it says
    for node in ast.walk(ast.parse(hidden)):
        if isinstance(node, ast.With):
            call = node.items[0].context_expr
            assert call.args[1].value == node.body[0].lineno, (lines[node.lineno - 1], node.body[0].lineno)
    # the reference keeps the markers; the template has none of the answers
    solution = (sol / "solution.py").read_text()
    assert solution.count("### BEGIN SOLUTION") == 4 and "x / x.sum()" in solution
    template = (ex / "template.py").read_text()
    assert "x / x.sum()" not in template and "sum(squares(4))" not in template
    # the learner notebook is the one nbgrader releases (same cells, same sources, same grade ids),
    # then dlgrade's check cell
    mine = nbformat.read(str(ex / "squares.ipynb"), as_version=4)
    theirs = nbc.released_notebook(root)
    nbformat.validate(mine)
    assert [(c.cell_type, c.source, c.metadata.get("nbgrader", {}).get("grade_id")) for c in mine.cells[:-2]] == \
        [(c.cell_type, c.source, c.metadata.get("nbgrader", {}).get("grade_id")) for c in theirs.cells]
    assert 'check_notebook("squares")' in mine.cells[-1].source
    assert "BEGIN HIDDEN" not in (ex / "squares.ipynb").read_text()
    assert "Squares and friends" in (ex / "README.md").read_text()


def _tests_and_points(source: str) -> dict[str, float]:
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            deco = next(d for d in node.decorator_list if isinstance(d, ast.Call))
            out[node.name] = ast.literal_eval(deco.args[0])
    return out


def test_learner_notebooks_score_as_in_nbgrader_and_cheats_gain_nothing(courses):
    root, course = courses
    kinds = list(nbc.ANSWERS)
    paths = nbc.submit_all(root, kinds)
    dlgrade("release", cwd=course)
    released = course / "release" / "exercises" / "squares" / "squares.ipynb"
    assert released.read_bytes() == (course / "exercises" / "squares" / "squares.ipynb").read_bytes()
    checked = json.loads(dlgrade("check", "squares", paths["correct"], "--json", cwd=course / "release").stdout)
    assert checked["score"] == checked["max_score"] == sum(v for k, v in nbc.POINTS.items() if k != "test_squares_hidden")
    for kind, path in paths.items():  # the very notebooks nbgrader grades, handed in to dlgrade
        out = dlgrade("submit", "squares", path, cwd=course / "release", env={"DLGRADE_STUDENT": kind}).stdout
        assert "Submitted squares" in out, out
    assert f"Collected {len(kinds)}" in dlgrade("collect", cwd=course).stdout
    run = dlgrade("autograde", "--exercise", "squares", "--workers", "2", cwd=course)
    assert f"graded {len(kinds)}, failed 0" in run.stdout, run.stdout
    ours = {r["student"]: r["score"] for r in json.loads(dlgrade("grades", "--json", cwd=course).stdout)
            if r["exercise"] == "squares"}
    theirs = nbc.autograde(root, kinds)
    for kind in nbc.HONEST:
        assert ours[kind] == theirs[kind] == EARNED[kind], (kind, ours[kind], theirs[kind])
    for kind in nbc.CHEATS:
        assert ours[kind] == EARNED[kind], (kind, ours[kind])
    for kind in GAINED_IN_NBGRADER:  # the tricks work in nbgrader's kernel, and only there
        assert theirs[kind] > ours[kind], (kind, theirs[kind], ours[kind])
    assert theirs["patches-numpy"] == nbc.TOTAL_POINTS  # full marks in nbgrader for a wrong normalize


# --- the translation ---------------------------------------------------------------------------

def _translate(solution: str, cells: list[str], helpers=()) -> tuple[str, list]:
    tests = [AutograderCell(i + 2, f"t{i}", 1.0, src) for i, src in enumerate(cells)]
    source, _, refused = Translator(solution_names(solution), list(helpers)).translate(tests, True, "x")
    return source, refused


def test_names_are_looked_up_on_the_learners_notebook_with_pythons_scoping():
    solution = "import numpy as np\ndef f(x):\n    return x\nclass Box:\n    pass\nLIMIT = 3\n"
    source, refused = _translate(solution, [
        "from nose.tools import assert_equal, assert_raises\nassert_equal(f(2), 2)\nassert_raises(ValueError, f, -1)",
        "def check(f):\n    return f(1)\nassert [f(i) for i in range(LIMIT)] == [0, 1, 2]\nlam = lambda LIMIT: LIMIT\n"
        "keep = check(len)",
        "import math\nassert keep == 1\nnp.testing.assert_allclose(f(np.ones(2)), 1)\nf(3)",
        "assert math.sqrt(f(4)) == 2",
    ])
    assert not refused, refused
    assert "from grader.notebooks.nbgrader_runtime import assert_equal, assert_raises" in source
    assert "assert_equal(submission.f(2), 2)" in source and "assert_raises(ValueError, submission.f, -1)" in source
    assert "def check(f):\n            return f(1)" in source  # a parameter shadows the learner's name
    assert "[submission.f(i) for i in range(submission['LIMIT'])]" in source
    assert "lambda LIMIT: LIMIT" in source
    assert "cells.keep = check(len)" in source and "assert cells.keep == 1" in source
    assert "import numpy as np" in source and "_nb.result(submission.f(3), 1.0)" in source
    assert "\nimport math\n" in source and "assert math.sqrt(submission.f(4)) == 2" in source  # hoisted, not shared
    compile(source, "test_hidden.py", "exec")


@pytest.mark.parametrize("cell, why", [
    ("import matplotlib.pyplot as plt\nplt.plot(f(1))", "a plot"),
    ("display(f(1))", "only IPython's kernel has"),
    ("assert Box() is not None", "the learner's class `Box`"),
    ("x = input()", "waits for a person"),
    ("f = 3", "binds `f`, which the learner's code defines"),
    ("%timeit f(1)", "IPython magic"),
    ("assert f.__doc__", "attribute of the learner's function"),
    ("assert nowhere == 1", "no cell of the notebook defines"),
    ("import some_module_nobody_has", "cannot import"),
    ("assert _cache == 1", "private name"),
    ("### AUTOTEST f(1)", "AUTOTEST directive"),
    ("def g():\n    global seen\n    seen = f(1)", "declares `seen` global"),
])
def test_a_cell_that_needs_the_learners_kernel_is_named_with_the_reason(cell, why):
    _, refused = _translate("def f(x):\n    return x\nclass Box:\n    pass\n_cache = 1\n", ["assert f(1) == 1", cell])
    assert [u.grade_id for u in refused] == ["t1"] and why in refused[0].reason, refused
    assert str(refused[0]).startswith("cell 3 (`t1`): ")


def test_a_cells_result_scores_as_nbgraders_partial_credit():
    from grader.notebooks.nbgrader_runtime import result
    from grader.testing import Feedback
    for full in (None, "done", 2, 2.5, [1, 2], -1):
        result(full, 2)  # nothing, text, the full points or more: the cell's points
    for partial in (0, 1, 1.5):
        with pytest.raises(Feedback):
            result(partial, 2)


def _notebook(cells) -> nbformat.NotebookNode:
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# Doubling")] + cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _test_cell(grade_id, source, points=1):
    return v4.new_code_cell(source, metadata=nbc._meta(grade_id, grade=True, locked=True, points=points))


def test_untranslatable_cells_stop_the_import_unless_skipped(tmp_path):
    """An import that names each cell it cannot translate and writes nothing; with
    --skip-untranslatable, the others are imported (nose's assertions and a learner's exception
    caught by type included, proven by the reference getting every point)."""
    nb = _notebook([
        v4.new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    if x is None:\n        raise TypeError('a number')"
                         "\n    return 2 * x\n    ### END SOLUTION", metadata=nbc._meta("double", solution=True)),
        _test_cell("nose", "from nose.tools import assert_equal, assert_raises\nassert_equal(double(2), 4)\n"
                           "assert_raises(TypeError, double, None)", points=2),
        _test_cell("plot", "import matplotlib.pyplot as plt\nplt.plot([double(1)])"),
        _test_cell("widget", "import ipywidgets\nipywidgets.IntSlider(value=double(1))"),
    ])
    source = tmp_path / "doubling.ipynb"
    nbformat.write(nb, str(source))
    dlgrade("init", "course", cwd=tmp_path)
    course = tmp_path / "course"
    before = (course / "course.toml").read_text()
    refused = dlgrade("import-nbgrader", source, "--id", "doubling", cwd=course, check=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "cell 4 (`plot`): imports matplotlib.pyplot: it needs a plot" in refused.stderr, refused.stderr
    assert "cell 5 (`widget`): imports ipywidgets: it needs a widget" in refused.stderr
    assert "--skip-untranslatable" in refused.stderr
    assert not (course / "exercises" / "doubling").exists() and not (course / "solutions" / "doubling").exists()
    assert (course / "course.toml").read_text() == before
    assert not list(course.glob(".import-*"))

    done = dlgrade("import-nbgrader", source, "--id", "doubling", "--skip-untranslatable", cwd=course)
    assert "skipped cell 4 (`plot`)" in done.stdout and "skipped cell 5 (`widget`)" in done.stdout
    assert "1 hidden test(s) worth 2 point(s)" in done.stdout and "gets them all" in done.stdout
    toml = (course / "exercises" / "doubling" / "exercise.toml").read_text()
    assert "hidden = 2" in toml and "cell 4 (`plot`)" in toml
    again = dlgrade("import-nbgrader", source, "--id", "doubling", cwd=course, check=False)
    assert again.returncode == 2 and "already has an exercise doubling" in again.stderr


def test_a_cell_the_reference_cannot_pass_in_dlgrade_is_refused(tmp_path):
    """A learner's value that is not data (a set) cannot reach the trusted side: the import grades the
    notebook's own solution, finds that cell failing and names it."""
    nb = _notebook([
        v4.new_code_cell("def letters(word):\n    ### BEGIN SOLUTION\n    return set(word)\n    ### END SOLUTION",
                         metadata=nbc._meta("letters", solution=True)),
        _test_cell("as_set", "assert letters('aab') == {'a', 'b'}"),
        _test_cell("as_sorted", "assert sorted(letters('aab')) == ['a', 'b']"),
    ])
    source = tmp_path / "letters.ipynb"
    nbformat.write(nb, str(source))
    dlgrade("init", "course", cwd=tmp_path)
    refused = dlgrade("import-nbgrader", source, "--id", "letters", cwd=tmp_path / "course", check=False)
    assert refused.returncode == 2, refused.stdout
    assert "cell 3 (`as_set`): the notebook's own solution fails it" in refused.stderr, refused.stderr
    assert "cell 4 (`as_sorted`)" in refused.stderr


def test_values_names_and_messages_of_a_grading(courses):
    """In one process, one grading after another (the trusted session is kept): `submission["total"]`
    reads a top-level value through the sandbox's `value` request, and a missing one or a function
    under that name is "not defined"; a name shared between cells never carries over from the
    learner graded before; a hidden cell's failure names the cell and line, never the values."""
    from grader.course.config import load_course
    from grader.grading.engine import grade
    _, course = courses
    exercise = load_course(course).exercise("squares")
    first = grade(exercise, _module_of(course, "correct"), "hidden")
    assert first.score == nbc.TOTAL_POINTS, [(t.name, t.output) for t in first.tests if t.score < t.max_score]
    base = "def squares(n):\n    return [i * i for i in range(1, n + 1)]\n"
    for extra in ("def normalize(x):\n    return [0.0, 0.0, 1.0]\n",
                  "def total():\n    return 30\ndef normalize(x):\n    raise ValueError('no')\n"):
        work = course.parent / "lacks.py"
        work.write_text(base + extra)
        result = {t.name: t for t in grade(exercise, work, "hidden").tests}
        assert result["test_total"].score == 0 and "does not define `total`" in result["test_total"].output
        assert result["test_normalize"].score == 0 and "0.25" not in result["test_normalize"].output
        assert "test cell `test_normalize`, line 2, failed" in result["test_normalize"].output or \
            "raised ValueError" in result["test_normalize"].output
        shape = result["test_normalize_shape"]
        if "raise" in extra:  # `out` was never bound in this grading, whatever the one before bound
            assert shape.score == 0 and "failed (NameError)" in shape.output, shape.output
        else:  # a plain list has no .shape
            assert shape.score == 0 and "AttributeError" in shape.output
    # a module __getattr__ of the learner's answers the value request with its own exception, or
    # with a value that is not data: the test fails, the grading goes on
    work.write_text("def normalize(x):\n    return x\n")  # no squares: not defined, even for `callable(squares)`
    result = {t.name: t for t in grade(exercise, work, "hidden").tests}
    assert result["test_squares"].score == 0 and "does not define a function `squares`" in result["test_squares"].output
    for getattr_body, said in (("raise RuntimeError('boom')", "raised RuntimeError: boom"),
                               ("return {1, 2}", "cannot be graded")):
        work.write_text(base + f"def __getattr__(name):\n    {getattr_body}\n")
        result = {t.name: t for t in grade(exercise, work, "hidden").tests}
        assert result["test_total"].score == 0 and said in result["test_total"].output, result["test_total"].output
        assert result["test_squares"].score == 2


def _module_of(course: Path, kind: str) -> Path:
    """A learner's answers as a .py file (the code cells of their notebook, as dlgrade makes it)."""
    from grader.notebooks.convert import notebook_to_module
    released = nbformat.read(str(course / "exercises" / "squares" / "squares.ipynb"), as_version=4)
    path = course.parent / f"{kind}.py"
    path.write_text(notebook_to_module(nbformat.writes(nbc.learner_notebook(released, kind)).encode()).source)
    return path


def test_a_keras_notebook_preloads_keras():
    from grader.exercise.spec import ExerciseFile
    from grader.notebooks.nbgrader_cells import exercise_toml
    from grader.notebooks.nbgrader_import import uses_keras
    import tomllib
    assert uses_keras("from tensorflow import keras\n") and uses_keras("import keras.layers as L\n")
    assert not uses_keras("import numpy as np\n# import keras\n")
    spec = ExerciseFile.model_validate(tomllib.loads(exercise_toml("cnn", "cnn.py", "A CNN", ["build"], 2, 5, "cnn.ipynb",
                                                                   [], keras=True)))
    assert spec.preload == ["keras"] and spec.limits.processes == 256 and spec.points == {"public": 2, "hidden": 5}


def test_an_imported_assignments_notebook_runs_cell_by_cell():
    """With `cells_apart` (exercises imported from nbgrader), a cell that raises is reported and the
    cells after it still run, as in nbgrader's autograde; a multi-line string keeps its text; an
    exit still ends the import."""
    from grader.grading.notebook import notebook_to_module
    cells = [v4.new_code_cell('TEXT = """first\n  second\n"""\ndef f():\n    return 1'),
             v4.new_code_cell("# YOUR CODE HERE\nraise NotImplementedError()"),
             v4.new_code_cell("def g():\n    return f() + 1"),
             _test_cell("t", "assert g() == 2")]
    data = nbformat.writes(_notebook(cells)).encode()
    apart = notebook_to_module(data, "n.ipynb", cells_apart=True)
    namespace: dict = {}
    exec(compile(apart.source, "n.py", "exec"), namespace)  # prints cell 3's NotImplementedError
    assert namespace["g"]() == 2 and namespace["TEXT"] == "first\n  second\n"
    assert "assert g() == 2" not in apart.source  # the test cell runs on the trusted side
    raising = next(i for i, line in enumerate(apart.source.splitlines(), start=1) if "raise NotImplementedError" in line)
    assert str(apart.where(raising)) == "cell 3, line 2"
    with pytest.raises(NotImplementedError):  # an ordinary notebook is a module: the first error stops it
        exec(compile(notebook_to_module(data, "n.ipynb").source, "n.py", "exec"), {})


@pytest.mark.parametrize("content, said", [
    (b"not json at all", "is not a valid Jupyter notebook"),
    (nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell("x = 1")])).encode(), "has no autograder test cells"),
    (nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell("def f(:\n    pass",
                                                             metadata=nbc._meta("f", solution=True))])).encode(),
     "cell 1, line 1"),
])
def test_a_source_that_cannot_be_imported_gets_one_line(courses, content, said):
    _, course = courses
    source = course.parent / "bad.ipynb"
    source.write_bytes(content)
    out = dlgrade("import-nbgrader", source, "--id", "bad", cwd=course, check=False)
    assert out.returncode == 2 and said in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and not (course / "exercises" / "bad").exists()


def test_the_released_notebooks_check_cell_runs_the_public_tests_in_a_real_kernel(courses):
    """The learner's notebook of an imported assignment ends with dlgrade's check cell: run in a
    real Jupyter kernel, it grades the saved notebook with the translated public tests."""
    import nbclient
    _, course = courses
    bundle = course.parent / "bundle-for-check"
    dlgrade("release", "--out", bundle, cwd=course)
    released = nbformat.read(str(bundle / "exercises" / "squares" / "squares.ipynb"), as_version=4)
    nb = nbc.learner_notebook(released, "partial")
    work = bundle / "learner"
    work.mkdir()
    nbformat.write(nb, str(work / "squares.ipynb"))
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(work)}}).execute()
    shown = "".join(str(o.get("text") or o.get("data", {}).get("text/plain", "")) for o in nb.cells[-1].outputs)
    public = sum(v for k, v in nbc.POINTS.items() if k != "test_squares_hidden")
    assert f"4 / {public} points" in shown, shown
    assert "test cell `test_normalize`, line 2, failed" in shown and "cell 12, line 4" in shown, shown


def test_the_learner_notebook_is_what_nbgrader_releases(tmp_path):
    """Whole-cell solutions, written answers, tasks, read-only cells, hidden regions: the learner
    notebook of the import has nbgrader's own released cells (real generate_assignment)."""
    from grader.notebooks.nbgrader_cells import learner_notebook
    nb = _notebook([
        v4.new_code_cell("answer = 42", metadata=nbc._meta("whole", solution=True)),
        v4.new_markdown_cell("The answer is 42 because **reasons**.",
                             metadata=nbc._meta("written", solution=True, grade=True, points=2)),
        v4.new_markdown_cell("Draw the network.", metadata={"nbgrader": {"grade_id": "task", "task": True,
                                                                         "points": 1, "solution": False,
                                                                         "grade": False, "locked": True,
                                                                         "schema_version": 3}}),
        v4.new_code_cell("LIMIT = 3", metadata=nbc._meta("consts", locked=True)),
        v4.new_code_cell("def f(x):\n    # a comment kept\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
                         "    # after", metadata=nbc._meta("f", solution=True)),
        _test_cell("t", "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 2\n### END HIDDEN TESTS\n"
                        "assert answer == 42"),
    ])
    root = tmp_path / "nbgrader"
    (root / "source" / "other").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "other"\n')
    nbformat.write(nb, str(root / "source" / "other" / "other.ipynb"))
    nbc.nbgrader(root, "generate_assignment", "other", "--force")
    theirs = nbformat.read(str(root / "release" / "other" / "other.ipynb"), as_version=4)
    mine = learner_notebook(nb)
    assert [(c.cell_type, c.source) for c in mine.cells] == [(c.cell_type, c.source) for c in theirs.cells]
    for a, b in zip(mine.cells, theirs.cells):
        assert (a.metadata.get("editable", True), a.metadata.get("deletable", True)) == \
            (b.metadata.get("editable", True), b.metadata.get("deletable", True)), a.source
