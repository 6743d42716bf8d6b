"""The cells of an nbgrader source notebook sorted into a dlgrade exercise's parts (the import itself
is grader.notebooks.nbgrader_import).

The notebook's cells, by nbgrader's metadata (`cell.metadata.nbgrader`):
- code cells learners write or run (solution cells and plain code cells), in order, make
  `solutions/ID/solution.py`; solution regions (`### BEGIN SOLUTION` / `### END SOLUTION`) keep
  their markers, a solution cell without markers is one region, so `template.py` is generated as
  for every exercise;
- autograder test cells (grade, not solution, code) become one pytest test each, worth the cell's
  points (grader.notebooks.nbgrader_translate): the released part (hidden regions removed) in
  `exercises/ID/test_public.py`, the whole cell in `solutions/ID/test_hidden.py`, so the hidden
  suite holds every test cell and its total is the notebook's autograded total;
- Markdown cells make README.md; manually graded cells and tasks are left out with a note;
- the learner notebook `exercises/ID/ID.ipynb` is the notebook nbgrader's generate_assignment
  releases (solutions replaced by its stub, hidden tests removed, outputs cleared, graded and
  read-only cells locked), so learners keep the assignment's own cells and can check as before.

nbgrader itself is never imported: its conventions are reproduced here."""

from __future__ import annotations

import copy
import re
from pathlib import Path

from grader.notebooks.nbgrader_translate import AutograderCell, Untranslatable

BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
MAX_SOURCE_BYTES = 20 << 20
WHOLE_CELL = ": all of it is the answer"  # after `# cell N` in solution.py: a marker line was added


class NbgraderImportError(ValueError):
    """An nbgrader notebook that cannot be imported: a message naming the problem and the fix."""


def _meta(cell) -> dict:
    return dict(cell.get("metadata", {}).get("nbgrader", {}) or {})


def is_test_cell(cell) -> bool:
    """nbgrader's autograder test cell: a code cell with grade and not solution."""
    m = _meta(cell)
    return cell.cell_type == "code" and bool(m.get("grade")) and not m.get("solution")


def read_source(path: Path):
    """The nbgrader source notebook at `path`, read and validated with nbformat."""
    import nbformat
    try:
        data = path.read_bytes()
    except OSError as err:
        raise NbgraderImportError(f"cannot read {path}: {err.strerror}; give the source notebook's path") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise NbgraderImportError(f"{path} is larger than {MAX_SOURCE_BYTES >> 20} MiB; clear its outputs and try "
                                  "again")
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except UnicodeDecodeError:
        raise NbgraderImportError(f"{path} is not UTF-8 text; give an .ipynb file saved by Jupyter") from None
    except Exception as err:  # noqa: BLE001  (JSON errors, schema errors, old formats: all one message)
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise NbgraderImportError(f"{path} is not a valid Jupyter notebook ({first}); give the nbgrader source "
                           "notebook (.ipynb)") from None
    return nb


def _regions(lines: list[str], begin: str, end: str, where: str) -> list[tuple[int, int]]:
    """(begin, end) line indexes of each marked region; NbgraderImportError when they do not pair up."""
    out, start = [], None
    for i, line in enumerate(lines):
        if begin in line:
            if start is not None:
                raise NbgraderImportError(f"{where}: `{begin}` inside another region; close the first with `{end}`")
            start = i
        elif end in line:
            if start is None:
                raise NbgraderImportError(f"{where}: `{end}` without a `{begin}`; pair the markers")
            out.append((start, i))
            start = None
    if start is not None:
        raise NbgraderImportError(f"{where}: `{begin}` is never closed; add `{end}`")
    return out


def _magic_free(source: str, where: str, notes: list[str]) -> str:
    """`source` with IPython magics and shell commands turned into comments (a note each)."""
    out, lines = [], source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        notes.append(f"{where}: a cell magic (`{lines[0].strip()[:40]}`) was left out of the solution")
        return "\n".join(f"# {line}" for line in lines)
    for n, line in enumerate(lines, start=1):
        if line.lstrip().startswith(("%", "!")):
            notes.append(f"{where}, line {n}: `{line.strip()[:60]}` (IPython) was left out of the solution")
            out.append(re.match(r"\s*", line).group(0) + "# " + line.lstrip())
        else:
            out.append(line)
    return "\n".join(out)


def solution_source(nb, title: str, notes: list[str]) -> str:
    """solution.py: the code cells learners write or run, in order, solution regions marked with
    dlgrade's (nbgrader's) `### BEGIN SOLUTION` / `### END SOLUTION` lines."""
    parts = [f'"""The reference solution of {title}: the code cells of the nbgrader source notebook '
             "(`# cell N` starts cell N),\nmade by `dlgrade import-nbgrader`; template.py is generated from it."
             '"""\n']
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or is_test_cell(cell):
            continue
        where = f"cell {index}"
        lines = _magic_free(cell.source, where, notes).split("\n")
        regions = _regions(lines, BEGIN_SOLUTION, END_SOLUTION, where)
        if regions and not _meta(cell).get("solution"):
            raise NbgraderImportError(f"{where} has a solution region but is not a solution cell; mark it "
                               "\"Autograded answer\" in nbgrader's cell toolbar")
        for begin, end in regions:
            for i, marker in ((begin, "### BEGIN SOLUTION"), (end, "### END SOLUTION")):
                lines[i] = re.match(r"\s*", lines[i]).group(0) + marker
        header = f"# cell {index}"
        if _meta(cell).get("solution") and not regions:
            lines = ["### BEGIN SOLUTION", *lines, "### END SOLUTION"]
            header += WHOLE_CELL
        if _meta(cell).get("solution") and _meta(cell).get("grade"):
            notes.append(f"{where} (`{_meta(cell).get('grade_id')}`) is graded by hand in nbgrader "
                         f"({_meta(cell).get('points', 0)} points): its code is in the solution, its points are not")
        parts.append(header + "\n" + "\n".join(lines).rstrip() + "\n")
    return "\n\n".join(parts)


def helper_cells(nb) -> list[tuple[int, str]]:
    """(cell number, source) of the read-only code cells (nbgrader: locked, neither solution nor
    grade): the instructor's code, restored by nbgrader before grading."""
    return [(index, cell.source) for index, cell in enumerate(nb.cells, start=1)
            if cell.cell_type == "code" and _meta(cell).get("locked") and not _meta(cell).get("solution")
            and not _meta(cell).get("grade")]


def test_cells(nb, hidden: bool) -> list[AutograderCell]:
    """The autograder test cells: with `hidden`, whole (hidden regions' markers removed); else as
    nbgrader releases them (hidden regions removed). A released cell with no code left is left out."""
    out = []
    for index, cell in enumerate(nb.cells, start=1):
        if not is_test_cell(cell):
            continue
        m = _meta(cell)
        lines = cell.source.split("\n")
        regions = _regions(lines, BEGIN_HIDDEN, END_HIDDEN, f"cell {index}")
        markers = {b for b, _ in regions} | {e for _, e in regions}
        if hidden:  # marker lines blanked: the lines keep the source cell's numbers
            source = "\n".join("" if i in markers else line for i, line in enumerate(lines))
        else:  # as released: the hidden regions gone, the lines numbered as the learner sees them
            gone = {i for b, e in regions for i in range(b, e + 1)}
            source = "\n".join(line for i, line in enumerate(lines) if i not in gone)
        if not hidden and not any(ln.strip() and not ln.strip().startswith("#") for ln in source.split("\n")):
            continue
        try:
            points = float(m.get("points", 0))
        except (TypeError, ValueError):
            raise NbgraderImportError(f"cell {index} (`{m.get('grade_id')}`) has points {m.get('points')!r}, not a "
                               "number; fix it in nbgrader's cell toolbar") from None
        out.append(AutograderCell(index, str(m.get("grade_id") or f"cell-{index}"), points, source))
    return out


def learner_notebook(nb):
    """The notebook as nbgrader's generate_assignment releases it: solution regions (or whole
    solution cells) replaced by nbgrader's stub, hidden test regions removed, outputs cleared,
    test and read-only cells locked against edits and deletion, solution cells against deletion."""
    out = copy.deepcopy(nb)
    out.metadata.pop("celltoolbar", None)
    for index, cell in enumerate(out.cells, start=1):
        m = _meta(cell)
        lines = cell.source.split("\n")
        regions = _regions(lines, BEGIN_SOLUTION, END_SOLUTION, f"cell {index}")
        stub = (CODE_STUB if cell.cell_type == "code" else TEXT_STUB).split("\n")
        if regions:
            starts = {b: e for b, e in regions}
            new, skip = [], -1
            for i, line in enumerate(lines):
                if i <= skip:
                    continue
                if i in starts:
                    indent = re.match(r"\s*", line).group(0)
                    new += [indent + s for s in stub]
                    skip = starts[i]
                else:
                    new.append(line)
            lines = new
        elif m.get("solution"):
            lines = stub
        if m.get("grade") and not m.get("solution"):
            hidden = _regions(lines, BEGIN_HIDDEN, END_HIDDEN, f"cell {index}")
            gone = {i for b, e in hidden for i in range(b, e + 1)}
            lines = [line for i, line in enumerate(lines) if i not in gone]
        cell.source = "\n".join(lines)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if m.get("solution"):
            cell.metadata["deletable"] = False
        elif m.get("grade") or m.get("locked"):
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
    return out


def readme(nb, title: str, ex_id: str, notes: list[str]) -> str:
    """README.md: the notebook's Markdown cells (not answers graded by hand, not tasks), then how to
    work on the exercise."""
    parts = []
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "markdown":
            continue
        m = _meta(cell)
        if m.get("solution") or m.get("task"):
            notes.append(f"cell {index} (`{m.get('grade_id')}`) is a written answer or task graded by hand in "
                         "nbgrader: left out (dlgrade grades code)")
            continue
        if cell.source.strip():
            parts.append(cell.source.strip())
    if not parts or not parts[0].lstrip().startswith("#"):
        parts.insert(0, f"# {title}")
    parts.append(f"Work in the notebook `{ex_id}.ipynb` (`dlgrade start {ex_id} --notebook`): write your code "
                 "where it says `YOUR CODE HERE`, save, run `dlgrade check "
                 f"{ex_id} {ex_id}.ipynb`, and submit it with `dlgrade submit {ex_id} {ex_id}.ipynb`.")
    return "\n\n".join(parts) + "\n"


def notebook_title(nb, fallback: str) -> str:
    """The first Markdown heading of the notebook, else `fallback`."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    text = line.lstrip("#").strip()
                    if text:
                        return text[:120]
    return fallback


def exercise_toml(ex_id: str, entry: str, title: str, functions: list[str], public: float, hidden: float, source: str,
                  skipped: list[Untranslatable], keras: bool = False) -> str:
    """exercise.toml of an imported exercise ([nbgrader] says where it came from); with `keras`
    (the notebook imports Keras or TensorFlow), the Keras exercises' preload and limits."""
    import tomlkit
    doc = tomlkit.document()
    doc.add(tomlkit.comment("Imported from an nbgrader source notebook by `dlgrade import-nbgrader`."))
    doc.add("id", ex_id)
    doc.add("entry", entry)
    doc.add("functions", functions)
    doc.add("title", {"en": title})
    points = {k: int(v) for k, v in (("public", public), ("hidden", hidden)) if float(v).is_integer()}
    if points:
        doc.add("points", points)
    if keras:
        doc.add("preload", ["keras"])
        doc.add("limits", {"wall_seconds": 300, "test_seconds": 60, "memory_mb": 4096, "processes": 256,
                           "gpu": "optional"})
    else:
        doc.add("limits", {"wall_seconds": 120, "test_seconds": 10, "memory_mb": 1024, "gpu": "no"})
    origin = {"source": source}
    if skipped:
        origin["skipped"] = [str(u) for u in skipped]
    doc.add("nbgrader", origin)
    return tomlkit.dumps(doc)


__all__ = ["NbgraderImportError", "WHOLE_CELL", "is_test_cell", "helper_cells", "read_source", "solution_source",
           "test_cells", "learner_notebook", "readme", "notebook_title", "exercise_toml"]
