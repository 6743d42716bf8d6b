"""A learner's Jupyter notebook turned into the Python module the sandbox imports (on the trusted
side, by reading text: nothing of the notebook is executed here), with where each line came from.

The notebook is untrusted input: it is parsed as JSON, must be an nbformat version 4 notebook
that `nbformat.validate` accepts, and has limits of its own. Its outputs are never read. The
module holds, in order, every code cell except nbgrader's autograder test cells (grade cells that
are not solution cells: their tests run on the trusted side, or not at all) and dlgrade's check
cell (it grades the saved notebook; inside a grading it would grade it again). IPython syntax that
is not Python (line magics `%x`, cell magics `%%x`, shell escapes `!x` and `y = !x`, help `x?`,
explicit `get_ipython()` calls) is left out, each with a note the feedback shows; Jupyter's
`display()` is defined as doing nothing (there is nothing to show in a grading; after the first
cell when that cell holds a `from __future__` import, which must come first). The public face
for the notebook package is `grader.notebooks.convert`; the code lives here because the grading
(files, engine) needs it and `grader.notebooks` also holds code above the grading (the check cell).
Light: nbformat is imported on first use, never numpy or pytest."""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from grader.grading.files import MAX_FILE_BYTES as MAX_MODULE_BYTES  # the module obeys the source-file limit
from grader.grading.files import MAX_NOTEBOOK_BYTES  # a notebook with its outputs (plots) is far bigger than its code

if TYPE_CHECKING:
    import nbformat

MAX_CELLS = 10_000                      # a course notebook has tens; validating 100k cells takes seconds
MAX_NOTES = 20                          # notes shown; more dropped lines are counted in the last note
_SHOWN = 60                             # characters of a dropped line quoted in its note

# Cell magics whose body is Python: the magic line is left out and the body runs (once).
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_ASSIGNED_ESCAPE = re.compile(r"^[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[!%]")
_FUTURE = re.compile(r"^\s*from\s+__future__\s+import\b", re.MULTILINE)
# Jupyter's display() is a builtin of the kernel; in a grading there is nothing to show.
DISPLAY_SHIM = "display = lambda *objects, **kwargs: None  # Jupyter's display(): nothing to show in a grading"
_CHECK_CELL = re.compile(r"^\s*from\s+grader\.notebooks\.check\s+import\b", re.MULTILINE)


class NotebookError(ValueError):
    """A notebook that cannot be graded; the message (one line) names the problem and what to do."""


@dataclass(frozen=True)
class CellLine:
    """Where a line of the generated module came from: `cell` is 1-based among ALL the notebook's
    cells (as Jupyter counts them), `line` 1-based within the cell."""

    cell: int
    line: int

    def __str__(self) -> str:
        return f"cell {self.cell}, line {self.line}"


@dataclass(frozen=True)
class ConvertedNotebook:
    """The module made from a notebook: `source`, `lines[i]` = the origin of line i+1 of `source`
    (None for a line dlgrade wrote), and `notes` on what was left out."""

    source: str
    lines: tuple[CellLine | None, ...]
    notes: tuple[str, ...] = ()
    cells: tuple[int, ...] = field(default=())  # the cells whose code is in the module

    def origin(self, line: int) -> CellLine | None:
        """The cell and line of line `line` (1-based) of `source`, or None (a line dlgrade wrote)."""
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return None

    def nearest(self, line: int) -> CellLine | None:
        """The origin of line `line`, or for a line dlgrade wrote (a cell's header, the blank line after
        it, a line past the end) the learner's line just before it: where Python's "expected an
        indented block" or "unexpected EOF" really points."""
        for n in range(min(line, len(self.lines)), 0, -1):
            if self.lines[n - 1] is not None:
                return self.lines[n - 1]
        return next((o for o in self.lines if o is not None), None)

    def where(self, line: int) -> str:
        """"cell 4, line 3" for line `line` of `source` (see `nearest` for a line dlgrade wrote)."""
        origin = self.nearest(line)
        return str(origin) if origin is not None else "the notebook's code"


def _shown(text: str) -> str:
    """A learner's line as a note quotes it: printable characters only, capped."""
    text = "".join(c if c.isprintable() else " " for c in text.strip())
    return text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"


def _one_line(text: object, limit: int = 160) -> str:
    return _shown(" ".join(str(text).split()))[:limit]


def read_notebook(data: bytes, name: str = "notebook.ipynb") -> "nbformat.NotebookNode":
    """The notebook in `data` (the bytes of `name`), parsed and validated as an nbformat v4
    notebook; NotebookError (one line: the problem and what to do) when it is not one."""
    import nbformat
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{name} is {len(data)} bytes, over the {MAX_NOTEBOOK_BYTES // (1024 * 1024)} MiB limit "
                            "for a notebook; clear its outputs (Edit > Clear All Outputs) and save it again")
    if b"\0" in data:
        raise NotebookError(f"{name} is a binary file, not a notebook; submit the .ipynb file Jupyter saves")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError(f"{name} is not UTF-8 text, so not a notebook; save it from Jupyter again") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise NotebookError(f"{name} is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}), so "
                            "not a notebook; save it from Jupyter again") from None
    except RecursionError:
        raise NotebookError(f"{name} nests its JSON too deeply to be a notebook; save it from Jupyter again") from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw or "nbformat" not in raw:
        raise NotebookError(f"{name} is JSON but not a Jupyter notebook (no `nbformat` and `cells`); submit the "
                            ".ipynb file Jupyter saves")
    cells = raw.get("cells")
    if isinstance(cells, list) and len(cells) > MAX_CELLS:
        raise NotebookError(f"{name} has {len(cells)} cells, over the limit of {MAX_CELLS}; keep your work in "
                            "fewer cells")
    version = raw.get("nbformat")
    if version != 4 or isinstance(version, bool):
        shown = _one_line(json.dumps(version), 20)
        raise NotebookError(f"{name} is an nbformat version {shown} notebook; dlgrade reads version 4 (Jupyter "
                            "since 2015): open it in a current Jupyter and save it again")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a missing cell id is a warning of nbformat's, not a problem
            node = nbformat.from_dict(raw)
            nbformat.validate(node)
    except nbformat.ValidationError as err:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in list(err.absolute_path)[:6])
        raise NotebookError(f"{name} is not a valid notebook ({_one_line(err.message)}"
                            f"{' at ' + _one_line(where.lstrip('.'), 80) if where else ''}); save it from Jupyter "
                            "again") from None
    except RecursionError:
        raise NotebookError(f"{name} nests its JSON too deeply to be a notebook; save it from Jupyter again") from None
    return node


def _source(cell, number: int, name: str) -> str:
    src = cell.get("source", "")
    src = "".join(src) if isinstance(src, list) else src
    try:
        src.encode("utf-8")
    except UnicodeEncodeError:
        raise NotebookError(f"cell {number} of {name} holds text that is not UTF-8 (a lone surrogate); retype "
                            "that cell and save the notebook again") from None
    if "\0" in src:
        raise NotebookError(f"cell {number} of {name} holds a NUL character; retype that cell and save the "
                            "notebook again")
    return src


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata") or {}
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def _is_test_cell(cell) -> bool:
    """nbgrader's autograder test cell: graded, not a solution (its asserts are the tests)."""
    nbg = _nbgrader(cell)
    return nbg.get("grade") is True and nbg.get("solution") is not True


def is_check_cell(source: str) -> bool:
    """dlgrade's check cell (it imports grader.notebooks.check): never part of the graded module."""
    return bool(_CHECK_CELL.search(source))


class _Scanner:
    """Tracks, line by line, whether the next line starts a new Python statement (not inside a
    bracket, a string or a backslash continuation): only there can an IPython escape start."""

    def __init__(self):
        self.depth = 0
        self.quote: str | None = None
        self.continued = False

    @property
    def fresh(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.continued

    def feed(self, line: str) -> str:
        """Advance over `line`; return its last character outside strings and comments ("" if none)."""
        i, n, last, eol_escape = 0, len(line), "", False
        self.continued = False
        while i < n:
            c = line[i]
            if self.quote is not None:
                if c == "\\":
                    eol_escape = i + 1 >= n
                    i += 2
                elif line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = None
                    last = c
                else:
                    i += 1
                continue
            if c == "#":
                break
            if c in "'\"":
                self.quote = line[i:i + 3] if line[i:i + 3] in ("'''", '"""') else c
                i += len(self.quote)
                continue
            if c in "([{":
                self.depth += 1
            elif c in ")]}":
                self.depth = max(0, self.depth - 1)
            elif c == "\\" and i == n - 1:
                self.continued = True
                break
            if not c.isspace():
                last = c
            i += 1
        if self.quote in ("'", '"') and not eol_escape:
            self.quote = None  # an unterminated one-line string: Python reports it, the next line starts afresh
        return last


def _escape_kind(stripped: str) -> str | None:
    """What IPython escape a statement's first line is, or None for Python."""
    assigned = _ASSIGNED_ESCAPE.match(stripped)
    if stripped.startswith("!") or assigned and assigned.group(0).endswith("!"):
        return "a shell command"
    if stripped.startswith("%") or assigned:
        return "an IPython magic"
    if stripped.startswith("?"):
        return "IPython help"
    if stripped.startswith("get_ipython()"):
        return "an IPython call"
    return None


class _Builder:
    def __init__(self):
        self.out: list[str] = []
        self.lines: list[CellLine | None] = []
        self.notes: list[str] = []
        self.dropped = 0

    def add(self, text: str, origin: CellLine | None) -> None:
        self.out.append(text)
        self.lines.append(origin)

    def apart(self, start: int) -> None:
        """Make the cell added from `start` on (its `# cell N` line) run on its own: inside `try:`, an
        exception it raises printed (the learner's output shows it) and the next cell run. A line
        that begins inside a string keeps its indentation (the string's text stays the same)."""
        body, origins = self.out[start + 1:], self.lines[start + 1:]
        scan, indented = _Scanner(), []
        for line in body:
            inside = scan.quote is not None
            scan.feed(line)
            indented.append(line if inside or not line else "    " + line)
        self.out[start + 1:] = ["try:", *indented, "    pass", "except Exception:",
                                "    __import__('traceback').print_exc()"]
        self.lines[start + 1:] = [None, *origins, None, None, None]

    def note(self, text: str) -> None:
        self.dropped += 1
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text)

    def cell(self, number: int, src: str) -> bool:
        """Add a code cell's lines; False when nothing of it is left (a non-Python cell magic)."""
        lines = src.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
        if first is not None and lines[first].lstrip().startswith("%%"):
            magic = lines[first].strip()
            name = magic[2:].split(None, 1)[0] if len(magic) > 2 else ""
            if name not in PYTHON_CELL_MAGICS:
                self.note(f"cell {number}: `{_shown(magic)}` (an IPython cell magic) was left out, with the rest "
                          "of its cell")
                return False
            self.note(f"cell {number}, line {first + 1}: `{_shown(magic)}` (an IPython cell magic) was left out; "
                      "the cell's code runs once")
            lines[first] = ""
        self.add(f"# cell {number}", None)
        scan, skipping, escape_continues = _Scanner(), False, False
        for i, line in enumerate(lines, start=1):
            origin = CellLine(number, i)
            if escape_continues:  # a magic or shell line continued with a backslash
                escape_continues = line.rstrip().endswith("\\")
                self.add("", origin)
                continue
            if skipping:  # the rest of a dropped Python statement (get_ipython(...) over several lines)
                scan.feed(line)
                skipping = not scan.fresh
                self.add("", origin)
                continue
            stripped = line.lstrip()
            kind = _escape_kind(stripped) if scan.fresh and stripped else None
            if kind is None and scan.fresh and stripped and not stripped.startswith("#"):
                probe = _Scanner()
                if probe.feed(line) == "?" and probe.fresh:
                    kind = "IPython help"
            if kind is None:
                scan.feed(line)
                self.add(line, origin)
                continue
            indent = line[:len(line) - len(stripped)]
            self.note(f"cell {number}, line {i}: `{_shown(stripped)}` ({kind}) was left out")
            self.add(f"{indent}pass", origin)
            if kind == "an IPython call":
                scan.feed(line)
                skipping = not scan.fresh
            else:
                escape_continues = stripped.rstrip().endswith("\\")
        self.add("", None)
        return True


def notebook_to_module(data: bytes, name: str = "notebook.ipynb", cells_apart: bool = False) -> ConvertedNotebook:
    """The module the sandbox imports, made from the notebook in `data` (the bytes of `name`):
    its code cells in order (not nbgrader's autograder test cells, not dlgrade's check cell), IPython
    escapes left out with a note each, outputs ignored. NotebookError when the notebook cannot be
    read or holds no code, or the module would be over the source-file limit.
    With `cells_apart` (an imported nbgrader assignment), each cell runs as nbgrader's autograde runs
    it: an exception it raises is printed and the next cell runs."""
    return _convert(read_notebook(data, name), name, cells_apart)


def _convert(nb: "nbformat.NotebookNode", name: str, cells_apart: bool = False) -> ConvertedNotebook:
    selected = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        src = _source(cell, number, name)
        if not (_is_test_cell(cell) or is_check_cell(src)):
            selected.append((number, src))
    builder = _Builder()
    builder.add("# made by dlgrade from the code cells of a notebook; '# cell N' starts the code of cell N", None)
    future = bool(selected) and bool(_FUTURE.search(selected[0][1]))  # a __future__ import must come first
    if not future:
        builder.add(DISPLAY_SHIM, None)
    cells = []
    for number, src in selected:
        start = len(builder.out)
        if builder.cell(number, src):
            cells.append(number)
            if cells_apart and not _FUTURE.search(src):
                builder.apart(start)
        if future and len(builder.out) > 1:
            builder.add(DISPLAY_SHIM, None)
            future = False
    if not cells:
        raise NotebookError(f"{name} has no code cells; write your functions in code cells of the notebook and "
                            "save it")
    if builder.dropped > len(builder.notes):
        builder.notes.append(f"{builder.dropped - len(builder.notes)} more IPython lines were left out")
    source = "\n".join(builder.out) + "\n"
    size = len(source.encode("utf-8"))
    if size > MAX_MODULE_BYTES:
        raise NotebookError(f"the code cells of {name} add up to {size} bytes, over the "
                            f"{MAX_MODULE_BYTES // 1024} KiB limit for source code; keep data out of your code "
                            "(the tests give it to your functions)")
    return ConvertedNotebook(source, tuple(builder.lines), tuple(builder.notes), tuple(cells))


def submission_copy(data: bytes, name: str) -> bytes:
    """The notebook in `data` as a submission stores it (`strip_outputs`), after checking that it
    converts (NotebookError otherwise): what is stored is always gradable."""
    nb = read_notebook(data, name)
    _convert(nb, name)
    return strip_outputs(nb)


def strip_outputs(nb: "nbformat.NotebookNode") -> bytes:
    """The notebook's bytes as dlgrade stores a submission: outputs and execution counts cleared
    (they are never trusted, and never shown as results), everything else as the learner wrote it."""
    import nbformat
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (nbformat.writes(nb, version=4) + "\n").encode("utf-8")


__all__ = ["CellLine", "ConvertedNotebook", "NotebookError", "read_notebook", "notebook_to_module", "strip_outputs",
           "submission_copy",
           "is_check_cell", "MAX_NOTEBOOK_BYTES", "MAX_MODULE_BYTES", "PYTHON_CELL_MAGICS"]
