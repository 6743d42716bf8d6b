"""nbgrader test cells translated into a dlgrade test module: one pytest test per autograder cell,
worth the cell's points, that runs on the trusted side against the learner's notebook in the sandbox.

In a test cell, a name the solution cells define is looked up on the learner's notebook: a function
as `submission.NAME(...)` (called in the sandbox), a top-level value as `submission["NAME"]` (read
as data); a name one test cell binds and a later one reads lives in `cells` (one namespace per
grading, as a notebook's cells share one); imports move to the top of the module (nose's assertions
come from grader.notebooks.nbgrader_runtime); the cell's last expression is scored as nbgrader scores
a cell's result. A cell that needs what only a live kernel has (a learner's object that is not data,
a plot, a widget, IPython, `input()`) cannot be translated: `Untranslatable` says which and why."""

from __future__ import annotations

import ast
import builtins
import importlib.util
import re
from dataclasses import dataclass

from grader.notebooks.nbgrader_names import SolutionNames, cell_names
from grader.notebooks.nbgrader_runtime import NOSE_NAMES

RUNTIME = "grader.notebooks.nbgrader_runtime"
RESERVED = frozenset({"submission", "cells", "pytest", "_nb", "_points"})
IPYTHON_NAMES = frozenset({"display", "get_ipython", "In", "Out", "exit", "quit", "_ih", "_oh", "_i", "_ii",
                           "_iii", "__IPYTHON__"})
KERNEL_ONLY = {  # module (first part) -> what it needs that a trusted pytest does not have
    "matplotlib": "a plot", "pylab": "a plot", "seaborn": "a plot", "plotly": "a plot", "bokeh": "a plot",
    "altair": "a plot", "ipywidgets": "a widget", "IPython": "IPython's kernel", "google": "Colab",
    "tkinter": "a window", "turtle": "a window",
}


@dataclass(frozen=True)
class AutograderCell:
    """One autograder test cell: its position among all the notebook's cells (1-based), grade_id,
    points and source (hidden regions included or not, as the suite wants; markers removed)."""

    index: int
    grade_id: str
    points: float
    source: str


@dataclass(frozen=True)
class Untranslatable:
    """A test cell that cannot run on the trusted side, and why."""

    index: int
    grade_id: str
    reason: str

    def __str__(self) -> str:
        return f"cell {self.index} (`{self.grade_id}`): {self.reason}"


@dataclass(frozen=True)
class TranslatedTest:
    """One generated test: its function name, the cell it comes from and its points."""

    name: str
    grade_id: str
    index: int
    points: float


class _Refused(Exception):
    pass


def _number(points: float) -> str:
    return str(int(points)) if float(points).is_integer() else repr(float(points))


def test_name(grade_id: str, taken: set[str]) -> str:
    """A test function name from a grade_id: `test_<id>` (an id that starts with `test` as it is)."""
    base = re.sub(r"\W", "_", grade_id).strip("_") or "cell"
    name = base if base.startswith("test") else f"test_{base}"
    if name[5:6].isdigit() or not name.isidentifier():
        name = f"test_cell_{base}"
    unique, n = name, 2
    while unique in taken:
        unique, n = f"{name}_{n}", n + 1
    taken.add(unique)
    return unique


def translate_import(node: ast.Import | ast.ImportFrom) -> str:
    """An import statement as the trusted side runs it; _Refused when it needs a kernel or a module
    the grader cannot import."""
    if isinstance(node, ast.ImportFrom):
        if node.level:
            raise _Refused("a relative import")
        module = node.module or ""
        if module == "nose.tools":
            missing = [a.name for a in node.names if a.name != "*" and a.name not in NOSE_NAMES]
            if missing:
                raise _Refused(f"imports {', '.join(missing)} from nose.tools, which dlgrade does not provide")
            names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
            return f"from {RUNTIME} import {names}"
        _importable(module)
        return ast.unparse(node)
    parts = []
    for alias in node.names:
        if alias.name == "nose.tools":
            if not alias.asname:
                raise _Refused("`import nose.tools` without a name (write `from nose.tools import ...`)")
            parts.append(f"import {RUNTIME} as {alias.asname}")
        else:
            _importable(alias.name)
            parts.append(ast.unparse(ast.Import(names=[alias])))
    return "\n".join(parts)


def _importable(module: str) -> None:
    top = module.split(".")[0]
    if top in KERNEL_ONLY:
        raise _Refused(f"imports {module}: it needs {KERNEL_ONLY[top]}, which a test on the grader's side has not")
    if top == "nose":
        raise _Refused(f"imports {module} (nose does not run on this Python); use `from nose.tools import ...`")
    try:
        found = importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise _Refused(f"imports {module}, which the grader's Python cannot import; install it for the "
                       "instructor's grading, or drop the import")


class _Rewrite(ast.NodeTransformer):
    """Replaces the Name nodes of `plan` (id(node) -> replacement expression)."""

    def __init__(self, plan: dict[int, ast.expr]):
        self.plan = plan

    def visit_Name(self, node: ast.Name):
        new = self.plan.get(id(node))
        return node if new is None else ast.copy_location(new, node)


def _learner_call(name: str, ctx=None) -> ast.expr:
    return ast.Attribute(value=ast.Name("submission", ast.Load()), attr=name, ctx=ctx or ast.Load())


def _learner_value(name: str) -> ast.expr:
    return ast.Subscript(value=ast.Name("submission", ast.Load()), slice=ast.Constant(name), ctx=ast.Load())


def _shared(name: str, ctx) -> ast.expr:
    return ast.Attribute(value=ast.Name("cells", ast.Load()), attr=name, ctx=ctx)


def _line_map(stmt: ast.stmt, text: str) -> list[int]:
    """For each line of `text` (`stmt` unparsed), the cell's line it comes from: the nodes of the
    text parsed again pair up with the statement's own, in the same walk order."""
    first: dict[int, int] = {}
    for mine, again in zip(ast.walk(stmt), ast.walk(ast.parse(text).body[0])):
        at, was = getattr(again, "lineno", None), getattr(mine, "lineno", None)
        if at is not None and was is not None:
            first[at] = min(first.get(at, was), was)
    out, last = [], getattr(stmt, "lineno", 0)
    for n in range(1, len(text.splitlines()) + 1):
        last = first.get(n, last)
        out.append(last)
    return out


def _returns_nothing(call: ast.expr) -> bool:
    """An assertion call (`assert_equal(...)`, `np.testing.assert_allclose(...)`, `ok_(...)`): it
    shows no result, so there is nothing to score."""
    if not isinstance(call, ast.Call):
        return False
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    return name.startswith("assert") or name in ("ok_", "eq_")


class Translator:
    """Translates the test cells of one notebook (all of them, in order, so that names one cell
    binds for a later one are known) against the solution's names."""

    def __init__(self, names: SolutionNames, helpers: list[tuple[int, str]] = ()):
        self.names = names
        self.inline: dict[str, ast.FunctionDef] = {}
        self.prelude, self.trusted, self.prelude_imports = self._helpers(list(helpers))

    def _helpers(self, helpers: list[tuple[int, str]]) -> tuple[list[str], set[str], dict[str, str]]:
        """The instructor's read-only cells that define what test cells use (a checker such as
        `def check_close(got, want): ...`): run on the trusted side, so a learner who redefines the
        checker in their own cell changes nothing. A cell that uses only builtins, its own names,
        earlier such cells and the notebook's imports goes at the top of the test module; a cell of
        functions that also call the learner's functions (`def check(): assert squares(3) == ...`)
        is defined inside each test that uses it, on the learner's notebook. Other read-only cells
        (a value computed from the learner's code) stay the learner's."""
        prelude, trusted, imports = [], set(), {}
        for index, source in helpers:
            try:
                tree = ast.parse(source)
                info = cell_names(tree)
                needed, learners = {}, False
                for node in info.imports:
                    text = translate_import(node)
                    needed[text] = text
                for node in info.loads:
                    name = node.id
                    if name in info.binds or name in trusted or hasattr(builtins, name):
                        continue
                    if name in self.names.imports:
                        text = translate_import(ast.parse(self.names.imports[name]).body[0])
                        needed[text] = text
                    elif name in self.names.functions or name in self.names.values:
                        learners = True
                    else:
                        raise _Refused(name)
            except (SyntaxError, _Refused):
                continue
            body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
            if not body:
                continue
            if learners:
                defs_only = all(isinstance(n, ast.FunctionDef) or isinstance(n, ast.Expr)
                                and isinstance(n.value, ast.Constant) for n in body)
                if not defs_only:
                    continue
                self.inline.update({n.name: n for n in body if isinstance(n, ast.FunctionDef)})
            else:
                prelude.append(f"# cell {index} (read-only in the notebook: the instructor's, run here)\n"
                               + "\n".join(ast.unparse(n) for n in body))
            imports.update(needed)
            trusted |= info.binds
        self.names = SolutionNames(self.names.functions - trusted, self.names.classes - trusted,
                                   self.names.values - trusted, self.names.imports)
        return prelude, trusted, imports

    def _inlined(self, loads: set[str], hoisted: set[str], header: dict[str, str]) -> list[ast.stmt]:
        """The instructor's functions (and those they call) that a cell uses, defined on the
        learner's notebook: each a copy whose learner names are looked up on `submission`."""
        wanted, queue = [], [n for n in self.inline if n in loads]
        while queue:
            name = queue.pop()
            if name in wanted:
                continue
            wanted.append(name)
            inner = cell_names(ast.Module(body=[self.inline[name]], type_ignores=[]))
            queue += [n.id for n in inner.loads if n.id in self.inline]
        out = []
        for name in [n for n in self.inline if n in wanted]:  # in the notebook's order
            tree = ast.parse(ast.unparse(self.inline[name]))
            info = cell_names(tree)
            plan = {}
            for node in info.loads:
                new = self._resolve(node, info.binds, set(), hoisted, header)
                if new is not None:
                    plan[id(node)] = new
            for stmt in _Rewrite(plan).visit(tree).body:
                stmt._inlined = True  # type: ignore[attr-defined]  (no line of the cell)
                out.append(stmt)
        return out

    def translate(self, cells: list[AutograderCell], hidden: bool, title: str) -> tuple[str, list[TranslatedTest],
                                                                                   list[Untranslatable]]:
        """The test module for `cells`, the tests in it, and the cells it had to leave out."""
        parsed, refused = {}, []
        for c in cells:
            try:
                parsed[c.index] = self._parse(c)
            except _Refused as why:
                refused.append(Untranslatable(c.index, c.grade_id, str(why)))
        binds = {i: cell_names(tree).binds for i, tree in parsed.items()}
        imported: dict[str, str] = {}
        for c in cells:  # every top-level import of every cell: hoisted (the module's namespace)
            if c.index in parsed:
                try:
                    for node in parsed[c.index].body:
                        if isinstance(node, (ast.Import, ast.ImportFrom)):
                            self._hoist(node, imported)
                except _Refused as why:
                    refused.append(Untranslatable(c.index, c.grade_id, str(why)))
                    del parsed[c.index]
        hoisted = {a.asname or a.name.split(".")[0] for text in imported for node in ast.parse(text).body
                   for a in node.names}
        shared = set()
        order = [c.index for c in cells if c.index in parsed]
        for pos, i in enumerate(order):
            later_loads = {n.id for j in order[pos + 1:] for n in cell_names(parsed[j]).loads}
            shared |= (binds[i] - hoisted) & later_loads
        header_imports: dict[str, str] = dict(imported)
        tests, bodies, taken = [], [], set()
        for c in cells:
            if c.index not in parsed:
                continue
            try:
                body, lines = self._body(c, parsed[c.index], shared, imported, header_imports)
            except _Refused as why:
                refused.append(Untranslatable(c.index, c.grade_id, str(why)))
                continue
            name = test_name(c.grade_id, taken)
            tests.append(TranslatedTest(name, c.grade_id, c.index, c.points))
            bodies.append((c, name, body, lines))
        refused.sort(key=lambda u: u.index)
        used = {n.id for tree in parsed.values() for n in cell_names(tree).loads} & self.trusted
        prelude = self.prelude if used else []
        if used:
            for text in self.prelude_imports:
                header_imports.setdefault(text, text)
        return self._module(bodies, header_imports, bool(shared), hidden, title, prelude), tests, refused

    def _parse(self, c: AutograderCell) -> ast.Module:
        for n, line in enumerate(c.source.splitlines(), start=1):
            if "AUTOTEST" in line and line.lstrip().startswith("#"):
                raise _Refused(f"line {n} is an nbgrader AUTOTEST directive (tests nbgrader generates in a kernel); "
                               "write the asserts in the cell")
            if line.lstrip().startswith(("%", "!")):
                raise _Refused(f"line {n} is an IPython magic or shell command (`{line.strip()[:60]}`)")
        try:
            return ast.parse(c.source)
        except SyntaxError as err:
            raise _Refused(f"line {err.lineno} is not Python: {err.msg}") from None

    def _hoist(self, node, imported: dict[str, str]) -> None:
        text = translate_import(node)
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            raise _Refused("a `*` import (name what the cell uses)")
        for name in (a.asname or a.name.split(".")[0] for a in node.names):
            if self.names.learner_defined(name):
                raise _Refused(f"imports `{name}` over the learner's `{name}`")
            if name in RESERVED:
                raise _Refused(f"binds `{name}`, a name the translated test needs; rename it in the cell")
        imported[text] = text

    def _body(self, c: AutograderCell, tree: ast.Module, shared: set[str], imported: dict[str, str],
              header: dict[str, str]) -> tuple[list[str], list[int]]:
        info = cell_names(tree)
        hoisted_names = set()
        for text in imported:
            for node in ast.parse(text).body:
                hoisted_names.update(a.asname or a.name.split(".")[0] for a in node.names)
        for node in info.stores:
            if self.names.learner_defined(node.id):
                raise _Refused(f"line {node.lineno} binds `{node.id}`, which the learner's code defines; a test "
                               "cannot change the learner's names (use another name)")
            if node.id in RESERVED:
                raise _Refused(f"binds `{node.id}`, a name the translated test needs; rename it in the cell")
        for node in ast.walk(tree):
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                raise _Refused(f"line {node.lineno} declares `{node.names[0]}` {type(node).__name__.lower()}: "
                               "write the value to a name of the cell instead")
            if isinstance(node, ast.NamedExpr) and node.target.id in shared:
                raise _Refused(f"line {node.lineno} binds `{node.target.id}` with `:=` for a later cell; use `=`")
        plan: dict[int, ast.expr] = {}
        for node in info.stores:
            if node.id in shared:
                plan[id(node)] = _shared(node.id, node.ctx)
        for node in info.loads:
            plan_for = self._resolve(node, info.binds, shared, hoisted_names, header)
            if plan_for is not None:
                plan[id(node)] = plan_for
        new = _Rewrite(plan).visit(tree)
        stmts = []
        for stmt in new.body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                continue
            stmts.append(stmt)
            if stmt in info.defs and stmt.name in shared:  # a def a later cell uses: into `cells` too
                stmts.append(ast.copy_location(ast.Assign([_shared(stmt.name, ast.Store())],
                                                          ast.Name(stmt.name, ast.Load())), stmt))
        if stmts and isinstance(stmts[-1], ast.Expr) and not self._silenced(c.source, stmts[-1]) \
                and not _returns_nothing(stmts[-1].value):
            last = stmts[-1]
            last.value = ast.Call(ast.Attribute(ast.Name("_nb", ast.Load()), "result", ast.Load()),
                                  [last.value, ast.Constant(c.points)], [])
        stmts = self._inlined({n.id for n in info.loads}, hoisted_names, header) + stmts
        if not stmts:
            stmts = [ast.Pass()]
        out, lines = [], []
        for stmt in stmts:
            ast.fix_missing_locations(stmt)
            text = ast.unparse(stmt)
            out += text.splitlines()
            lines += [0] * len(text.splitlines()) if getattr(stmt, "_inlined", False) else _line_map(stmt, text)
        return out, lines

    @staticmethod
    def _silenced(source: str, stmt: ast.Expr) -> bool:
        """IPython shows no result for a last line that ends with `;`."""
        lines = source.splitlines()
        end = getattr(stmt, "end_lineno", None)
        return bool(end and end <= len(lines) and lines[end - 1].split("#")[0].rstrip().endswith(";"))

    def _resolve(self, node: ast.Name, binds: set[str], shared: set[str], hoisted: set[str],
                 header: dict[str, str]) -> ast.expr | None:
        name, names = node.id, self.names
        parent = getattr(node, "_parent", None)
        if name in RESERVED:
            raise _Refused(f"line {node.lineno} uses `{name}`, a name the translated test needs; rename it")
        if name in shared:
            return _shared(name, ast.Load())
        if name in binds or name in hoisted or name in self.trusted:
            return None  # a cell's own, an import, or the instructor's (at the top, or defined in the test)
        if name in names.classes:
            raise _Refused(f"line {node.lineno} uses the learner's class `{name}`: its objects live only in the "
                           "learner's kernel, and a test on the grader's side receives data only")
        if name in names.functions:
            if isinstance(parent, ast.Attribute) and parent.value is node:
                raise _Refused(f"line {node.lineno} reads `{name}.{parent.attr}`, an attribute of the learner's "
                               "function, which lives only in the learner's kernel")
            return _learner_call(name)
        if name in names.values:
            if name.startswith("_"):
                raise _Refused(f"line {node.lineno} reads `{name}`, a private name of the learner's notebook, "
                               "which the grader does not read (give it a public name)")
            return _learner_value(name)
        if name in names.imports:
            stmt = ast.parse(names.imports[name]).body[0]
            try:
                text = translate_import(stmt)
            except _Refused as why:
                raise _Refused(f"uses `{name}` from the notebook's `{names.imports[name]}`, which "
                               f"{str(why).removeprefix('imports ')}") from None
            header.setdefault(text, text)
            return None
        if name == "input":
            raise _Refused(f"line {node.lineno} calls input(), which waits for a person at the keyboard")
        if name in IPYTHON_NAMES:
            raise _Refused(f"line {node.lineno} uses `{name}`, which only IPython's kernel has")
        if hasattr(builtins, name):
            return None
        raise _Refused(f"line {node.lineno} uses `{name}`, which no cell of the notebook defines")

    @staticmethod
    def _module(bodies, imports: dict[str, str], has_shared: bool, hidden: bool, title: str,
                prelude: list[str]) -> str:
        suite = "hidden" if hidden else "public"
        out = [f'"""The {suite} tests of {title}, translated from its nbgrader test cells by '
               '`dlgrade import-nbgrader`:',
               "one test per autograder cell, worth the cell's points. `submission.NAME(...)` calls the "
               "learner's",
               'function in the sandbox; `submission["NAME"]` reads a top-level value of theirs as data."""',
               "", "import pytest", "",
               f"import {RUNTIME} as _nb", "from grader.testing import points as _points"]
        out += [line for text in imports.values() for line in text.split("\n")]
        for text in prelude:
            out += ["", "", *text.split("\n")]
        out += ["", "", "@pytest.fixture", "def submission(submission):",
                '    """The learner\'s notebook as the test cells see it."""',
                "    return _nb.NotebookSubmission(submission)", ""]
        if has_shared:
            out += ["", '@pytest.fixture(scope="session")', "def cells():",
                    '    """What one test cell binds and a later one reads: a notebook\'s shared names, fresh for '
                    'each grading."""', "    return _nb.Cells()", ""]
        for c, name, body, lines in bodies:
            fixtures = "submission, cells" if has_shared else "submission"
            out += ["", f"# cell {c.index} `{c.grade_id}` ({_number(c.points)} point{'s' if c.points != 1 else ''})",
                    f"@_points({_number(c.points)})", f"def {name}({fixtures}):"]
            first = len(out) + 2  # the line of the body's first statement
            out.append(f"    with _nb.cell({c.grade_id!r}, {first}, {tuple(lines)!r}, hidden={hidden}):")
            out += [f"        {line}" if line else "" for line in body]
        return "\n".join(out) + "\n"


__all__ = ["AutograderCell", "Untranslatable", "TranslatedTest", "Translator", "translate_import", "test_name",
           "RUNTIME"]
