"""Exercises as Jupyter notebooks: the notebook made from an exercise (valid nbformat, nbgrader's
metadata read by nbgrader's own code, the template's code cell by cell), graded full marks once its
cells hold the reference's functions, released by `dlgrade release --format`, started by `dlgrade
start --notebook`, and its check cell run in a real Jupyter kernel (nbclient + ipykernel), rendered
by nbconvert and looked at in headless Chromium (tests/artifacts/notebook-check-en.png)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import REPO
from grader.exercise.spec import all_exercises, find_exercise
from grader.exercise.templates import BEGIN, END, PLACEHOLDER, expected_template, solution_regions
from grader.notebooks.build import (CHECK_ID, SETUP_ID, exercise_notebook, notebook_text, readme_parts,
                                    template_cells, write_notebook)
from grader.notebooks.check import NotebookCheck, CheckedTest, check_notebook, find_notebook, run_check

EXERCISES = all_exercises()
ARTIFACTS = REPO / "tests" / "artifacts"
PERSIAN = re.compile("[\u0600-\u06ff]")


def dlgrade(*args, cwd, check=True):
    proc = subprocess.run(["dlgrade", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)
    if check:
        assert proc.returncode == 0, f"dlgrade {' '.join(map(str, args))}: {proc.stdout}\n{proc.stderr}"
    return proc


def reference_functions(ex) -> dict[str, str]:
    """Each top-level function of the exercise's reference, as source without the solution markers."""
    source = ex.solution.read_text(encoding="utf-8")
    lines = source.splitlines()
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            body = [line for line in lines[first:node.end_lineno] if line.strip() not in (BEGIN, END)]
            out[node.name] = "\n".join(body)
    return out


def filled_notebook(ex, leave=(), extra: dict[str, str] | None = None):
    """The exercise's notebook with each cell to write holding the reference's function (except the
    functions in `leave`); `extra` code prepended to the named cells."""
    nb = exercise_notebook(ex)
    refs = reference_functions(ex)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and not meta.get("locked"):
            name = meta["grade_id"]
            if name not in leave:
                cell.source = refs[name]
            if extra and name in extra:
                cell.source = extra[name] + "\n" + cell.source
    nbformat.validate(nb)
    return nb


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


# --- the notebook of an exercise ---------------------------------------------------------------

@pytest.mark.parametrize("ex", EXERCISES, ids=[e.id for e in EXERCISES])
def test_every_exercise_makes_a_valid_notebook_with_nbgrader_metadata(ex):
    from nbgrader import utils
    from nbgrader.nbgraderformat import MetadataValidator, reads as nbgrader_reads

    nb = exercise_notebook(ex)
    text = notebook_text(nb)
    nbformat.validate(nbformat.reads(text, as_version=4))
    assert text == notebook_text(exercise_notebook(ex)), "the same exercise must give the same bytes"
    assert nb.metadata.kernelspec.name == "python3" and nb.metadata.dlgrade.exercise == ex.id

    # nbgrader's own reader and validator accept it (duplicate ids, missing keys, cell types)
    MetadataValidator().validate_nb(nbgrader_reads(text, as_version=4))
    ids = [c.metadata.nbgrader.grade_id for c in nb.cells]
    assert len(ids) == len(set(ids))
    for cell in nb.cells:
        meta = cell.metadata["nbgrader"]
        assert meta["schema_version"] == 3 and meta["grade"] is False and set(meta) == {
            "grade_id", "solution", "locked", "grade", "schema_version"}
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cell.id)

    # the task: the README's English part, then its Persian part right-to-left
    english, persian = readme_parts((ex.directory / "README.md").read_text(encoding="utf-8"))
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source == english
    assert english.startswith("# ") and not PERSIAN.search(english)
    assert nb.cells[1].source.startswith('<div dir="rtl">') and PERSIAN.search(nb.cells[1].source)
    assert all(utils.is_locked(c) and not utils.is_solution(c) for c in nb.cells if c.cell_type == "markdown")

    # one code cell per function of the template, editable where the learner writes
    code = code_cells(nb)
    check, module_cells = code[-1], code[:-1]
    assert module_cells[0].metadata.nbgrader.grade_id == SETUP_ID and module_cells[0].source.startswith('"""')
    by_id = {c.metadata.nbgrader.grade_id: c for c in module_cells}
    assert set(ex.functions) <= set(by_id), "every function of exercise.toml has its cell"
    for name in ex.functions:
        assert re.search(rf"^def {name}\(", by_id[name].source, re.MULTILINE)
    for cell in module_cells:
        to_write = PLACEHOLDER in cell.source
        assert utils.is_solution(cell), "the graded module is made of solution cells"
        assert cell.metadata.nbgrader.locked is not to_write
        assert cell.metadata.get("editable", True) is to_write
    assert any(PLACEHOLDER in c.source for c in module_cells)
    # the cells hold the template's code, in order, nothing more
    template = expected_template(ex)
    assert ast.dump(ast.parse("\n\n".join(c.source for c in module_cells))) == ast.dump(ast.parse(template))

    # the last cell is the check cell: locked, not a solution, runs only in a kernel (__main__)
    assert nb.cells[-1] is check and check.metadata.nbgrader.grade_id == CHECK_ID
    assert utils.is_locked(check) and not utils.is_solution(check) and not utils.is_grade(check)
    assert f'check_notebook("{ex.id}")' in check.source and 'if __name__ == "__main__":' in check.source


def test_readme_parts_and_template_cells():
    assert readme_parts("# T\n\nen\n\n---\n\n<div dir=\"rtl\">\n\n# ت\n\n</div>\n") == (
        "# T\n\nen", "<div dir=\"rtl\">\n\n# ت\n\n</div>")
    assert readme_parts("# T\n\n---\n\nmore English\n") == ("# T\n\n---\n\nmore English", "")
    source = ('# This file was generated from the reference solution by `dlgrade templates`.\n"""Doc."""\n\n'
              "import numpy as np\n\nRATE = 0.5\n\n\n# a comment on f\n@staticmethod\ndef f(x):\n"
              f"    {PLACEHOLDER}\n\n\ndef given():\n    return 1\n\n\nTABLE = given()\n")
    cells = template_cells(source)
    assert [(c[0], c[2]) for c in cells] == [("setup", False), ("f", True), ("given", False), ("code_end", False)]
    assert cells[0][1] == '"""Doc."""\n\nimport numpy as np\n\nRATE = 0.5'
    assert cells[1][1].startswith("# a comment on f\n@staticmethod\ndef f(x):")
    assert cells[3][1] == "TABLE = given()"


def test_the_released_notebook_holds_no_answer():
    """Nothing between the reference's solution markers reaches the notebook (beyond signatures)."""
    for ex in EXERCISES:
        source = ex.solution.read_text(encoding="utf-8")
        lines = source.splitlines()
        text = "\n".join(c.source for c in exercise_notebook(ex).cells)
        secret = [lines[i].strip() for r in solution_regions(source) for i in range(r.begin, r.end - 1)
                  if len(lines[i].strip()) > 12 and lines[i].strip() not in expected_template(ex)]
        assert secret, ex.id
        assert not [s for s in secret if s in text], ex.id


# --- graded as a learner's notebook --------------------------------------------------------------

@pytest.mark.parametrize("ex_id", ["perceptron", "conv-arithmetic"])
def test_the_notebook_filled_with_the_reference_grades_full_marks(ex_id, tmp_path):
    from grader.grading.engine import grade
    ex = find_exercise(ex_id)
    work = tmp_path / f"{ex.id}.ipynb"
    write_notebook(filled_notebook(ex), work)
    public = grade(ex, work, "public")
    assert public.full_marks and public.max_score == ex.points["public"], public.to_json()
    hidden = grade(ex, work, "hidden")
    assert hidden.full_marks and hidden.max_score == ex.points["hidden"], hidden.to_json()
    write_notebook(exercise_notebook(ex), work)  # the notebook as released: nothing written yet
    untouched = grade(ex, work, "public")
    assert untouched.score == 0 and untouched.max_score == ex.points["public"]


# --- release and start -------------------------------------------------------------------------

def test_release_writes_templates_notebooks_or_both(tmp_path):
    dlgrade("init", "course", cwd=tmp_path)
    course = tmp_path / "course"
    out = dlgrade("release", cwd=course).stdout
    assert "--notebook" in out
    common = {"README.md", "exercise.toml", "test_public.py"}
    for fmt, extra in (("both", {"template.py", "{id}.ipynb"}), ("py", {"template.py"}), ("ipynb", {"{id}.ipynb"})):
        bundle = course / "release" if fmt == "both" else tmp_path / fmt
        if fmt != "both":
            dlgrade("release", "--format", fmt, "--out", bundle, cwd=course)
        for ex in all_exercises(course / "exercises", course / "solutions"):
            shipped = bundle / "exercises" / ex.id
            assert {p.name for p in shipped.iterdir()} == common | {n.format(id=ex.id) for n in extra}, (fmt, ex.id)
            if "{id}.ipynb" in extra:
                data = (shipped / f"{ex.id}.ipynb").read_text(encoding="utf-8")
                assert data == notebook_text(exercise_notebook(ex, expected_template(ex)))
                nbformat.validate(nbformat.reads(data, as_version=4))
    bad = dlgrade("release", "--format", "pdf", "--out", tmp_path / "pdf", cwd=course, check=False)
    assert bad.returncode == 2 and "pdf" in bad.stderr and not (tmp_path / "pdf").exists()


PROBE = """
import json, sys
from grader.cli import main
code = 0
try:
    main(sys.argv[1:], prog_name="dlgrade", standalone_mode=False)
except SystemExit as exc:
    code = exc.code or 0
print(json.dumps({"code": code, "heavy": sorted(m for m in ("numpy", "pytest", "keras", "tensorflow")
                                                  if m in sys.modules)}), file=sys.stderr)
"""


def test_start_notebook(tmp_path):
    dlgrade("init", "course", cwd=tmp_path)
    course = tmp_path / "course"
    dlgrade("release", "--format", "ipynb", "--out", tmp_path / "bundle", cwd=course)
    bundle = tmp_path / "bundle"
    # a learner of a course released as notebooks
    proc = subprocess.run([sys.executable, "-c", PROBE, "start", "perceptron", "--notebook", "--dir", "ali"],
                          capture_output=True, text=True, cwd=bundle, timeout=300)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "heavy": []}, proc.stderr  # a learner's command stays light
    work = bundle / "ali" / "perceptron"
    assert {p.name for p in work.iterdir()} == {"perceptron.ipynb", "test_public.py"}
    released = (bundle / "exercises" / "perceptron" / "perceptron.ipynb").read_bytes()
    assert (work / "perceptron.ipynb").read_bytes() == released
    assert "dlgrade check perceptron" in proc.stdout and "perceptron.ipynb" in proc.stdout
    # never overwritten without --force
    (work / "perceptron.ipynb").write_text("my work", encoding="utf-8")
    again = dlgrade("start", "perceptron", "--notebook", "--dir", "ali", cwd=bundle, check=False)
    assert again.returncode == 2 and "--force" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    assert (work / "perceptron.ipynb").read_text(encoding="utf-8") == "my work"
    dlgrade("start", "perceptron", "--notebook", "--dir", "ali", "--force", cwd=bundle)
    assert (work / "perceptron.ipynb").read_bytes() == released
    # the course gave no template: the learner is told to start the notebook
    plain = dlgrade("start", "perceptron", "--dir", "reza", cwd=bundle, check=False)
    assert plain.returncode == 2 and "dlgrade start perceptron --notebook" in plain.stderr
    assert not (bundle / "reza").exists()
    # outside a course: made from the installed exercise's README and template
    alone = tmp_path / "alone"
    alone.mkdir()
    dlgrade("start", "conv-arithmetic", "--notebook", cwd=alone)
    made = (alone / "conv-arithmetic" / "conv-arithmetic.ipynb").read_text(encoding="utf-8")
    assert made == notebook_text(exercise_notebook(find_exercise("conv-arithmetic")))


# --- the check cell ------------------------------------------------------------------------------

def test_check_finds_the_notebook_and_says_when_it_is_not_saved(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "course" / "ali" / "perceptron"
    folder.mkdir(parents=True)
    saved = folder / "perceptron.ipynb"
    saved.write_text("{}", encoding="utf-8")
    monkeypatch.chdir(folder)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert find_notebook("perceptron") == folder / "perceptron.ipynb"
    mine = folder / "mine.ipynb"
    mine.write_text("{}", encoding="utf-8")
    assert find_notebook("perceptron", {"__vsc_ipynb_file__": str(mine)}) == mine  # VS Code
    monkeypatch.setenv("JPY_SESSION_NAME", "ali/perceptron/mine.ipynb")  # Jupyter: relative to the server
    assert find_notebook("perceptron") == mine
    monkeypatch.setenv("JPY_SESSION_NAME", str(mine))
    assert find_notebook("perceptron") == mine
    monkeypatch.delenv("JPY_SESSION_NAME")

    missing = run_check("perceptron", folder / "gone.ipynb")
    assert missing.error and "save the notebook" in missing.error and missing.score is None
    with pytest.raises(ValueError, match="not valid"):
        run_check("../perceptron")
    # a notebook imported as a module (as a grading imports it) never runs its own check
    cell = 'from grader.notebooks.check import check_notebook\ncheck_notebook("perceptron", "gone.ipynb")\n'
    exec(compile(cell, "perceptron.py", "exec"), {"__name__": "perceptron"})
    assert capsys.readouterr().out == ""
    exec(compile(cell, "<cell>", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert "not graded" in out and "save the notebook" in out


def test_check_html_escapes_what_the_learner_wrote(tmp_path):
    evil = "<img src=x onerror=alert(1)>"
    check = NotebookCheck("perceptron", tmp_path / "p.ipynb", saved_at=0.0, score=1, max_score=3,
                          tests=(CheckedTest(f"test_{evil}", 1, 2, "passed", ""),
                                 CheckedTest("test_b", 0, 1, "failed", f"`step` raised ValueError: {evil}\nline 2")),
                          printed=f"{evil}\x1b[31m", notes=(f"cell 3, line 1: `%{evil}` was left out",))
    page = check.html()
    assert "<img" not in page and page.count("&lt;img src=x onerror=alert(1)&gt;") == 4
    assert "<table" in page and "line 2" in page and "1 / 3" in page and "\x1b" not in page
    text = check.text()
    assert "1 / 3 points" in text and "FAILED" in text and "\x1b" not in text and "saved at" in text


def test_the_check_cell_in_a_real_kernel(tmp_path, monkeypatch):
    """A learner's notebook, saved, run top to bottom in a Jupyter kernel: the check cell shows the
    public tests' result as an HTML table (and as text), graded from the saved file."""
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    ex = find_exercise("perceptron")
    folder = tmp_path / "ali" / "perceptron"
    folder.mkdir(parents=True)
    work = folder / "perceptron.ipynb"
    nb = filled_notebook(ex, leave=("train_perceptron",),
                         extra={"step": 'print("<script>alert(1)</script> step is ready")'})
    write_notebook(nb, work)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)  # the kernel finds perceptron.ipynb in its folder
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    outputs = nb.cells[-1].outputs
    assert [o.output_type for o in outputs] == ["display_data"], outputs
    page, text = outputs[0].data["text/html"], outputs[0].data["text/plain"]
    want = run_check("perceptron", work)  # the same grading outside the kernel
    assert want.error is None and 0 < want.score < want.max_score == ex.points["public"]
    assert f"{want.score:g} / {want.max_score:g}" in page and f"{want.score:g} / {want.max_score:g} points" in text
    assert "<table" in page and page.count("<tr>") == len(want.tests) + 1
    for t in want.tests:
        assert t.name in page and t.name in text
    assert "passed" in page and "failed" in page and "NotImplementedError" in page
    cell = next(i for i, c in enumerate(nb.cells, 1) if c.metadata.nbgrader.grade_id == "train_perceptron")
    assert f"cell {cell}, line " in page  # the hint names the notebook's cell, as Jupyter counts them
    assert "&lt;script&gt;alert(1)&lt;/script&gt; step is ready" in page and "<script>alert" not in page
    assert "saved at" in page and str(work) in page
    assert "perceptron.ipynb" in text and "Ctrl+S" in text

    html = tmp_path / "notebook.html"
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    html.write_text(body, encoding="utf-8")
    from browser import Browser, unavailable
    why = unavailable()
    assert why is None, f"the browser check cannot run: {why}"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "notebook-check-en.png"
    keep_last = ("[...document.querySelectorAll('.jp-Cell')].filter((c, i, all) => i < all.length - 3)"
                 ".forEach(c => c.style.display = 'none') || true")
    with Browser(viewport=(1100, 700)) as browser:
        visit = browser.visit(html, count=(".dlgrade-check table tr", ".dlgrade-check script"),
                              evaluate=(keep_last, "document.querySelector('.dlgrade-check').innerText"),
                              screenshot=shot)
    assert not visit.page_errors, visit.page_errors
    assert visit.counts[".dlgrade-check table tr"] == len(want.tests) + 1
    assert visit.counts[".dlgrade-check script"] == 0
    shown = visit.values["document.querySelector('.dlgrade-check').innerText"]
    assert f"{want.score:g} / {want.max_score:g}" in shown and "<script>alert(1)</script> step is ready" in shown
    assert shot.stat().st_size > 10_000


def test_the_check_shows_what_the_grading_left_out(tmp_path):
    ex = find_exercise("conv-arithmetic")
    work = tmp_path / "conv-arithmetic.ipynb"
    write_notebook(filled_notebook(ex, extra={"same_padding": "%matplotlib inline"}), work)
    check = run_check(ex.id, work)
    assert check.error is None and check.full_marks, check.text()
    assert check.notes and "%matplotlib inline" in check.notes[0]
    assert "%matplotlib inline" in check.html() and "note: " in check.text()
