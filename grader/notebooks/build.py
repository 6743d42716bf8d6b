"""Exercises as Jupyter notebooks: the learner's notebook made from an exercise's README and template.

The notebook holds the task (the README's English part, then its Persian part right-to-left), a
short "how to work here" cell, the template's code (a first cell with the module's docstring and
imports, then one cell per function) and, last, the check cell that runs the public tests on the
saved notebook. Every cell carries nbgrader's metadata (schema 3), so nbgrader's tools open it too.

Every code cell of the template is an nbgrader *solution* cell, so the graded module holds it
whether a grader takes the solution cells only or every code cell; the setup cell and code given
to the learner are also read-only in Jupyter (`editable: false`), the functions to write are
editable. The check cell is locked, is not a solution cell, and does nothing unless it runs as
`__main__` (in a kernel): a notebook imported as a module never runs its own check."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from grader.exercise.spec import Exercise
from grader.exercise.templates import PLACEHOLDER, TemplateError, expected_template

SCHEMA_VERSION = 3  # nbgrader's cell metadata schema
CHECK_ID = "check"  # grade_id of the check cell
SETUP_ID = "setup"  # grade_id of the first code cell (docstring, imports)
_GENERATED = re.compile(r"^# This file was generated from the reference solution by `dlgrade templates`\.\n")
_RULE = re.compile(r"^---[ \t]*$", re.MULTILINE)

_HOW_EN = """\
## Working in this notebook

Write your code in the cells that hold `raise NotImplementedError`, one cell per function; put any
imports or helper functions you need in those cells too. The notebook's code cells are graded in
order, as one Python file would be (the check cell at the end is left out).

Save the notebook (**Ctrl+S**), then run the last cell: it runs the public tests on the *saved*
file, in a sandbox, exactly as `dlgrade check {id} {id}.ipynb` does. Submit the notebook with
`dlgrade submit {id} {id}.ipynb`."""

_HOW_FA = """\
<div dir="rtl">

## کار در این نوت‌بوک

کدتان را در سلول‌هایی بنویسید که `raise NotImplementedError` دارند، برای هر تابع یک سلول؛ اگر
import یا تابع کمکی لازم دارید، آن را هم در همین سلول‌ها بنویسید. سلول‌های کدِ نوت‌بوک به همان
ترتیب، مانند یک فایل پایتون، نمره می‌گیرند (سلول بررسی در پایان کنار گذاشته می‌شود).

نوت‌بوک را ذخیره کنید (**Ctrl+S**) و سپس سلول آخر را اجرا کنید: آزمون‌های عمومی را روی فایلِ
*ذخیره‌شده* در sandbox اجرا می‌کند، درست مانند `dlgrade check {id} {id}.ipynb`. نوت‌بوک را با
`dlgrade submit {id} {id}.ipynb` تحویل دهید.

</div>"""

_CHECK_HEADING = """\
## Check your work · <span dir="rtl">بررسی کار</span>

Save the notebook first (**Ctrl+S**): the check reads the saved file."""

_CHECK_CODE = """\
# Runs the public tests on the SAVED notebook (save it first: Ctrl+S) and shows the result.
if __name__ == "__main__":
    from grader.notebooks.check import check_notebook
    check_notebook("{id}")"""


class NotebookBuildError(ValueError):
    """An exercise whose notebook cannot be made (its README or template); the message says what to fix."""


def readme_parts(text: str) -> tuple[str, str]:
    """The README's English part and its Persian part (in a `<div dir="rtl">`): the parts are split
    at the first `---` line that is followed by right-to-left text; ("text", "") when there is none."""
    for match in _RULE.finditer(text):
        rest = text[match.end():].strip()
        if 'dir="rtl"' in rest:
            return text[:match.start()].strip(), rest
    return text.strip(), ""


def _rtl(text: str) -> str:
    """Persian Markdown as given when it already opens a right-to-left block, else wrapped in one."""
    if text.lstrip().startswith("<div dir=\"rtl\">"):
        return text
    return f"<div dir=\"rtl\">\n\n{text}\n\n</div>"


def template_cells(source: str, name: str = "template.py") -> list[tuple[str, str, bool]]:
    """The template split into code cells: (grade_id, code, to_write) with the setup code first
    (docstring, imports, anything before the first function), then one cell per top-level function
    or class and its comments and decorators; `to_write` when it holds the template's placeholder.
    Code between two functions stays with the function after it; trailing code gets its own cell."""
    source = _GENERATED.sub("", source, count=1)
    try:
        tree = ast.parse(source, filename=name)
    except SyntaxError as err:
        raise NotebookBuildError(f"{name}, line {err.lineno}: not valid Python ({err.msg}); "
                                 "regenerate it with `dlgrade templates`") from None
    lines = source.splitlines()
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    cells: list[tuple[str, str, bool]] = []
    start = 0  # 0-based index of the first line not yet in a cell
    for node in defs:
        first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        while first > start and lines[first - 1].lstrip().startswith("#"):  # its comment goes with it
            first -= 1
        if not cells:  # the setup cell: everything before the first definition
            cells.append((SETUP_ID, "\n".join(lines[:first]), False))
            start = first
        code = "\n".join(lines[start:node.end_lineno])
        cells.append((node.name, code, PLACEHOLDER in code))
        start = node.end_lineno
    if not cells:
        cells.append((SETUP_ID, source, PLACEHOLDER in source))
        start = len(lines)
    tail = "\n".join(lines[start:]).strip()
    if tail:
        cells.append(("code_end", tail, PLACEHOLDER in tail))
    out = []
    for grade_id, code, to_write in cells:
        code = code.strip("\n")
        if code.strip():
            out.append((grade_id, code, to_write))
    return out


def _nbgrader(grade_id: str, *, solution: bool, locked: bool) -> dict:
    return {"grade_id": grade_id, "solution": solution, "locked": locked, "grade": False,
            "schema_version": SCHEMA_VERSION}


def _cell_id(grade_id: str, used: set[str]) -> str:
    """A stable cell id (nbformat 4.5: 1-64 of A-Z a-z 0-9 - _), unique in the notebook."""
    base = re.sub(r"[^A-Za-z0-9_-]", "-", grade_id)[:56] or "cell"
    cell_id, n = base, 1
    while cell_id in used:
        n += 1
        cell_id = f"{base}-{n}"
    used.add(cell_id)
    return cell_id


def exercise_notebook(exercise: Exercise, template: str | None = None):
    """The learner's notebook of `exercise` (an nbformat NotebookNode, version 4, validated): the
    README's English and Persian parts, how to work here, the template's code cells and the check
    cell. `template` is the template's text (default: the exercise's template.py, else the one its
    reference generates)."""
    import nbformat
    from nbformat import v4

    readme = exercise.directory / "README.md"
    try:
        english, persian = readme_parts(readme.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise NotebookBuildError(f"cannot read {readme} ({getattr(err, 'strerror', None) or err}); "
                                 "the notebook's task text comes from it") from None
    if template is None:
        if exercise.template.is_file():
            template = exercise.template.read_text(encoding="utf-8")
        else:
            try:
                template = expected_template(exercise)
            except TemplateError as err:
                raise NotebookBuildError(f"{exercise.id} has no template.py and {err}") from None
    used: set[str] = set()
    cells = []

    def markdown(grade_id: str, text: str) -> None:
        cell = v4.new_markdown_cell(text, id=_cell_id(grade_id, used))
        cell.metadata.update({"editable": False, "deletable": False,
                              "nbgrader": _nbgrader(grade_id, solution=False, locked=True)})
        cells.append(cell)

    markdown("task_en", english)
    if persian:
        markdown("task_fa", _rtl(persian))
    markdown("how_en", _HOW_EN.format(id=exercise.id))
    markdown("how_fa", _HOW_FA.format(id=exercise.id))
    for grade_id, code, to_write in template_cells(template, str(exercise.template)):
        cell = v4.new_code_cell(code, id=_cell_id(grade_id, used))
        # every code cell of the template is a solution cell: the graded module is made of them
        cell.metadata["nbgrader"] = _nbgrader(grade_id, solution=True, locked=not to_write)
        if not to_write:  # the setup and code given to the learner: read-only in Jupyter
            cell.metadata.update({"editable": False, "deletable": False})
        else:
            cell.metadata["deletable"] = False
        cells.append(cell)
    markdown("check_heading", _CHECK_HEADING)
    check = v4.new_code_cell(_CHECK_CODE.format(id=exercise.id), id=_cell_id(CHECK_ID, used))
    check.metadata.update({"editable": False, "deletable": False,
                           "nbgrader": _nbgrader(CHECK_ID, solution=False, locked=True)})
    cells.append(check)
    title = exercise.title.get("en") or exercise.id
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
        "title": title,
        "dlgrade": {"exercise": exercise.id, "entry": exercise.entry},
    })
    nbformat.validate(nb)
    return nb


def notebook_text(nb) -> str:
    """The notebook as the text of an .ipynb file (validated; the same bytes for the same notebook)."""
    import nbformat
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def write_notebook(nb, path: Path) -> None:
    """Validate `nb` and write it to `path` (an .ipynb file), replacing the file in one step."""
    from grader.atomic import write_text
    write_text(Path(path), notebook_text(nb))


__all__ = ["CHECK_ID", "SETUP_ID", "SCHEMA_VERSION", "NotebookBuildError", "exercise_notebook", "notebook_text",
           "readme_parts", "template_cells", "write_notebook"]
