"""Names in an nbgrader notebook's code: what the solution cells define (functions, classes, top-level
values, imports), and, for a test cell, every name it reads or binds at the notebook's top level
(the namespace all cells share), with Python's scoping rules for functions, lambdas, classes and
comprehensions inside the cell."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SolutionNames:
    """What the code cells that learners write or run (solution and plain cells) define at the top
    level: `functions`, `classes`, `values` (names bound by assignment, loops, with...) and
    `imports` (bound name -> the import statement's source)."""

    functions: frozenset[str]
    classes: frozenset[str]
    values: frozenset[str]
    imports: dict[str, str] = field(default_factory=dict)

    def learner_defined(self, name: str) -> bool:
        return name in self.functions or name in self.classes or name in self.values


def _target_names(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))]


def _import_bindings(node: ast.Import | ast.ImportFrom) -> list[str]:
    return [(a.asname or a.name.split(".")[0]) for a in node.names if a.name != "*"]


def solution_names(source: str) -> SolutionNames:
    """The top-level names `source` (the solution cells and plain cells, joined) defines."""
    functions, classes, values, imports = set(), set(), set(), {}
    tree = ast.parse(source)

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.add(node.name)
            elif isinstance(node, ast.ClassDef):
                classes.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for name in _import_bindings(node):
                    imports[name] = ast.get_source_segment(source, node) or ast.unparse(node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    values.update(_target_names(target))
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                values.update(_target_names(node.target))
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        values.update(_target_names(item.optional_vars))
            if isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)):
                for part in ("body", "orelse", "finalbody"):
                    visit(getattr(node, part, []) or [])
                for handler in getattr(node, "handlers", []) or []:
                    visit(handler.body)
            for sub in ast.walk(node) if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                  ast.ClassDef, ast.Lambda)) else ():
                if isinstance(sub, ast.NamedExpr):  # walrus at the top level binds a top-level name
                    values.add(sub.target.id)
    visit(tree.body)
    # a name bound several ways counts as what it is last: a function redefined as a value is a value
    values -= functions | classes
    return SolutionNames(frozenset(functions), frozenset(classes), frozenset(values), imports)


# --- a cell's top-level names, with scoping ---------------------------------------------------------

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)


def _locals_of(scope: ast.AST) -> set[str]:
    """The names local to a function, lambda, class body or comprehension (not declared global)."""
    names: set[str] = set()
    declared_global: set[str] = set()
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = scope.args
        names.update(x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs))
        names.update(x.arg for x in (a.vararg, a.kwarg) if x is not None)
    if isinstance(scope, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        for gen in scope.generators:
            names.update(_target_names(gen.target))
        return names
    body = scope.body if isinstance(scope.body, list) else [scope.body]
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Global):
            declared_global.update(node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            stack.extend(node.decorator_list)
            continue
        elif isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(_import_bindings(node))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        stack.extend(ast.iter_child_nodes(node))
    return names - declared_global


@dataclass
class CellNames:
    """A test cell's names at the notebook's top level: `loads` (Name nodes read there, in source
    order), `binds` (names the cell binds there: assignments, loops, defs, imports...), `stores`
    (Name nodes that bind or delete a top-level name), `imports` (its top-level import statements)."""

    loads: list[ast.Name] = field(default_factory=list)
    stores: list[ast.Name] = field(default_factory=list)
    binds: set[str] = field(default_factory=set)
    defs: list[ast.stmt] = field(default_factory=list)
    imports: list[ast.stmt] = field(default_factory=list)


def cell_names(tree: ast.Module) -> CellNames:
    """The top-level names of a parsed test cell; sets `_parent` on every node (checks need it)."""
    out = CellNames()
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child._parent = node  # type: ignore[attr-defined]
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.imports.append(node)

    def visit(node: ast.AST, scopes: list[set[str]]) -> None:
        if isinstance(node, ast.Global) and scopes:
            out.binds.update(node.names)  # `global x` in a cell's function binds the top-level x
        if isinstance(node, ast.Name):
            if not any(node.id in s for s in scopes):
                if isinstance(node.ctx, ast.Load):
                    out.loads.append(node)
                else:
                    out.stores.append(node)
                    out.binds.add(node.id)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if not scopes:
                out.binds.add(node.name)
                out.defs.append(node)
            for deco in node.decorator_list:
                visit(deco, scopes)
            if isinstance(node, ast.ClassDef):
                for base in (*node.bases, *node.keywords):
                    visit(base, scopes)
            else:
                for default in (*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]):
                    visit(default, scopes)
            inner = [*scopes, _locals_of(node)]
            for stmt in node.body:
                visit(stmt, inner)
            return
        if isinstance(node, ast.Lambda):
            for default in (*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]):
                visit(default, scopes)
            visit(node.body, [*scopes, _locals_of(node)])
            return
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            visit(node.generators[0].iter, scopes)  # the first iterable is evaluated outside
            inner = [*scopes, _locals_of(node)]
            for i, gen in enumerate(node.generators):
                if i:
                    visit(gen.iter, inner)
                for cond in gen.ifs:
                    visit(cond, inner)
            for part in ("elt", "key", "value"):
                if getattr(node, part, None) is not None:
                    visit(getattr(node, part), inner)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not scopes:
            out.binds.update(_import_bindings(node))
            return
        if isinstance(node, ast.ExceptHandler) and node.name and not scopes:
            out.binds.add(node.name)
        for child in ast.iter_child_nodes(node):
            visit(child, scopes)

    for stmt in tree.body:
        visit(stmt, [])
    return out


__all__ = ["SolutionNames", "solution_names", "CellNames", "cell_names"]
