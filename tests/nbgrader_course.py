"""A real nbgrader course in a temporary folder, for tests: an nbgrader source notebook (functions,
a top-level value, visible and hidden test cells with points), `nbgrader generate_assignment`, learner
notebooks made from the released notebook (correct, partial, broken, cheating), `nbgrader autograde`
and its scores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ASSIGNMENT = "squares"  # the nbgrader assignment, its notebook (squares.ipynb) and the dlgrade exercise id

INTRO = """# Squares and friends

Write three small functions and one value with numpy. The cells below each function test it."""

SETUP = "import numpy as np"

CHECKER = '''def check_close(got, want):
    """The instructor's checker: `got` is close to `want`."""
    assert np.allclose(got, want), f"{got} is not close to {want}"


def check_squares(n):
    """The instructor's check of the learner's squares(n)."""
    assert squares(n) == [i * i for i in range(1, n + 1)], f"squares({n}) is wrong"'''

SQUARES = '''def squares(n):
    """The squares of 1..n, as a list."""
    ### BEGIN SOLUTION
    return [i * i for i in range(1, n + 1)]
    ### END SOLUTION'''

TEST_SQUARES = """assert squares(3) == [1, 4, 9], "squares(3) must be [1, 4, 9]"
### BEGIN HIDDEN TESTS
assert squares(0) == []
assert squares(5)[-1] == 25
### END HIDDEN TESTS"""

NORMALIZE = '''def normalize(x):
    """x (a list or array of numbers) divided by its sum, as a float array."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    return x / x.sum()
    ### END SOLUTION'''

TEST_NORMALIZE = """out = normalize([1, 1, 2])
np.testing.assert_allclose(out, [0.25, 0.25, 0.5])
### BEGIN HIDDEN TESTS
check_close(normalize(np.arange(1, 5)).sum(), 1.0)
### END HIDDEN TESTS"""

TEST_NORMALIZE_SHAPE = "assert out.shape == (3,)"  # `out` comes from the cell before

SAFE_DIVIDE = '''def safe_divide(a, b):
    """a / b; ValueError when b is 0."""
    ### BEGIN SOLUTION
    if b == 0:
        raise ValueError("b must not be 0")
    return a / b
    ### END SOLUTION'''

TEST_SAFE_DIVIDE = """assert safe_divide(6, 3) == 2
try:
    safe_divide(1, 0)
except ValueError:
    pass
else:
    raise AssertionError("safe_divide(1, 0) must raise ValueError")"""

TOTAL = """# the sum of the first four squares, with your function
### BEGIN SOLUTION
total = sum(squares(4))
### END SOLUTION"""

TEST_TOTAL = "check_close(total, 30)"

TEST_HIDDEN_ONLY = """### BEGIN HIDDEN TESTS
check_squares(10)
assert len(squares(7)) == 7
### END HIDDEN TESTS"""

# grade_id -> points of the autograder cells, in order; their total is the notebook's
POINTS = {"test_squares": 2, "test_normalize": 3, "test_normalize_shape": 1, "test_safe_divide": 2,
          "test_total": 1, "test_squares_hidden": 2}
TOTAL_POINTS = sum(POINTS.values())

# What learners write into the released notebook's solution regions: grade_id -> code that replaces
# nbgrader's stub (`# YOUR CODE HERE` / `raise NotImplementedError()`), by learner.
ANSWERS = {
    "correct": {
        "squares": "return [i * i for i in range(1, n + 1)]",
        "normalize": "x = np.asarray(x, dtype=float)\nreturn x / x.sum()",
        "safe_divide": "if b == 0:\n    raise ValueError('no')\nreturn a / b",
        "total": "total = 1 + 4 + 9 + 16",
    },
    "partial": {  # squares right, normalize wrong, safe_divide left as the stub, total right
        "squares": "return [k ** 2 for k in range(1, n + 1)]",
        "normalize": "return np.asarray(x, dtype=float) / 2",
        "total": "total = sum(squares(4))",
    },
    "unfinished": {  # all but the top-level `total` cell, whose stub raises: the cells after it still run
        "squares": "return [i * i for i in range(1, n + 1)]",
        "normalize": "x = np.asarray(x, dtype=float)\nreturn x / x.sum()",
        "safe_divide": "if b == 0:\n    raise ValueError('no')\nreturn a / b",
    },
    "broken": {  # a learner whose code raises everywhere, and a wrong total
        "squares": "return squares(n - 1) + [n * n] if n > 0 else undefined_name",
        "normalize": "return x.sum() / 0",
        "safe_divide": "return a // b",
        "total": "total = 0",
    },
    # cheats: each gets nbgrader's points for something it did not do
    "patches-numpy": {  # monkeypatches numpy.testing: the normalize checks pass whatever normalize returns
        "squares": "return [i * i for i in range(1, n + 1)]",
        "normalize": ("np.testing.assert_allclose = lambda *args, **kwargs: None\n"
                      "np.allclose = lambda *args, **kwargs: True\nreturn np.zeros(3)"),
        "safe_divide": "if b == 0:\n    raise ValueError('no')\nreturn a / b",
        "total": "total = 30",
    },
    "always-equal": {  # objects equal to anything
        "squares": ("class Anything(list):\n    def __eq__(self, other):\n        return True\n"
                    "    def __getitem__(self, i):\n        return Anything()\n"
                    "    def __len__(self):\n        return 7\nreturn Anything()"),
        "normalize": "x = np.asarray(x, dtype=float)\nreturn x / x.sum()",
        "safe_divide": "if b == 0:\n    raise ValueError('no')\nreturn a / b",
        "total": "class Thirty:\n    def __eq__(self, other):\n        return True\ntotal = Thirty()",
    },
    "patches-checker": {  # replaces the instructor's checkers (a read-only cell) with ones that pass all
        "squares": "return [0] * n",
        "normalize": "return np.zeros(3)",
        "safe_divide": "return 0",
        "total": ("check_close = check_squares = lambda *args, **kwargs: None  # the instructor's checkers\n"
                  "total = 0"),
    },
    "exits-early": {  # ends the kernel in the middle of the notebook
        "squares": "return [i * i for i in range(1, n + 1)]",
        "normalize": "return np.zeros(3)",
        "safe_divide": "return 0",
        "total": "import os\nos._exit(0)",
    },
}
HONEST = ("correct", "partial", "unfinished", "broken")
CHEATS = ("patches-numpy", "always-equal", "patches-checker", "exits-early")


def _meta(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook():
    """The nbgrader source notebook of the assignment."""
    import nbformat.v4 as v4
    code = [("squares", SQUARES), ("test_squares", TEST_SQUARES), ("normalize", NORMALIZE),
            ("test_normalize", TEST_NORMALIZE), ("test_normalize_shape", TEST_NORMALIZE_SHAPE),
            ("safe_divide", SAFE_DIVIDE), ("test_safe_divide", TEST_SAFE_DIVIDE), ("total", TOTAL),
            ("test_total", TEST_TOTAL), ("test_squares_hidden", TEST_HIDDEN_ONLY)]
    cells = [v4.new_markdown_cell(INTRO, metadata=_meta("intro", locked=True)),
             v4.new_code_cell(SETUP, metadata=_meta("setup", locked=True)),
             v4.new_code_cell(CHECKER, metadata=_meta("checker", locked=True))]
    for grade_id, text in code:
        if grade_id in POINTS:
            cells.append(v4.new_code_cell(text, metadata=_meta(grade_id, grade=True, locked=True,
                                                                points=POINTS[grade_id])))
        else:
            cells.append(v4.new_markdown_cell(f"## `{grade_id}`", metadata={}))
            cells.append(v4.new_code_cell(text, metadata=_meta(grade_id, solution=True)))
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def nbgrader(root: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run `nbgrader ARGS` in the course folder `root` (this Python's nbgrader); fails loudly."""
    done = subprocess.run(["nice", "-n", "19", sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"],
                          cwd=root, capture_output=True, text=True, env=_environment(), timeout=timeout)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}"
    return done


def make_course(root: Path) -> Path:
    """An nbgrader course in `root` with the assignment generated (release/ holds the learner
    notebook); returns the source notebook's path."""
    import nbformat
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "dlgrade-test"\n'
                                             'c.ExecutePreprocessor.timeout = 60\n')
    source = root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(source_notebook(), str(source))
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    return source


def released_notebook(root: Path):
    """The learner notebook nbgrader released."""
    import nbformat
    return nbformat.read(str(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)


def learner_notebook(released, kind: str):
    """`released` with a learner's answers (ANSWERS[kind]) in place of nbgrader's stubs."""
    return answered_notebook(released, ANSWERS[kind])


def answered_notebook(released, answers: dict[str, str]):
    """`released` with `answers` (grade id -> code) in place of nbgrader's stubs."""
    import copy
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or grade_id not in answers:
            continue
        lines = cell.source.split("\n")
        at = next(i for i, line in enumerate(lines) if line.strip() == "# YOUR CODE HERE")
        indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
        code = [indent + line for line in answers[grade_id].split("\n")]
        cell.source = "\n".join(lines[:at] + code + lines[at + 2:])
    return nb


def submit_all(root: Path, kinds) -> dict[str, Path]:
    """Every learner's notebook in nbgrader's submitted/<student>/<assignment>/; student = kind."""
    import nbformat
    released = released_notebook(root)
    paths = {}
    for kind in kinds:
        folder = root / "submitted" / kind / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        paths[kind] = folder / f"{ASSIGNMENT}.ipynb"
        nbformat.write(learner_notebook(released, kind), str(paths[kind]))
    return paths


def autograde(root: Path, kinds) -> dict[str, float | None]:
    """`nbgrader autograde` of every learner; their scores (None: nbgrader recorded no grade)."""
    from nbgrader.api import Gradebook, MissingEntry
    for kind in kinds:
        subprocess.run(["nice", "-n", "19", sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT,
                        "--student", kind, "--log-level=WARN"], cwd=root, capture_output=True, text=True,
                       env=_environment(), timeout=600)
    scores: dict[str, float | None] = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for kind in kinds:
            try:
                scores[kind] = float(gb.find_submission(ASSIGNMENT, kind).score)
            except MissingEntry:
                scores[kind] = None
    return scores
