"""The layout of grader/ keeps its promises: the learner's commands start without numpy, pytest or
Keras; no grader module imports itself back through others (not even lazily, inside a function);
and no module grows over ~500 lines without saying at its top why it is one module."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from conftest import REPO

GRADER = REPO / "grader"
HEAVY = ("numpy", "pytest", "keras", "tensorflow")
MAX_LINES = 500
# a module over MAX_LINES says why in its docstring, e.g. "one module because ..." or "... 600 lines: ..."
SIZE_REASON = re.compile(r"one module|\blines\b", re.IGNORECASE)

# Runs one `dlgrade` command in this process and reports which heavy modules it loaded.
PROBE = """
import json, sys
from grader.cli import main
code = 0
try:
    main(sys.argv[1:], prog_name="dlgrade", standalone_mode=False)
except SystemExit as exc:
    code = exc.code or 0
print(json.dumps({"code": code, "heavy": sorted(m for m in %r if m in sys.modules)}), file=sys.stderr)
""" % (HEAVY,)


def dlgrade(*args, cwd, env=None, check=True):
    proc = subprocess.run(["dlgrade", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600,
                          env=dict(os.environ, **(env or {})))
    if check:
        assert proc.returncode == 0, f"dlgrade {' '.join(map(str, args))}: {proc.stdout}\n{proc.stderr}"
    return proc


def heavy_modules(*args, cwd, env=None) -> tuple[int, list[str]]:
    """(exit code, heavy modules imported) of `dlgrade ARGS` run in a fresh interpreter."""
    proc = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env=dict(os.environ, **(env or {})))
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["code"], report["heavy"]


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """A course whose learner ali submitted perceptron, graded, with the feedback released."""
    from grader.exercise.cohort import submission_source
    from grader.exercise.spec import find_exercise
    tmp = tmp_path_factory.mktemp("layout")
    dlgrade("init", "course", cwd=tmp)
    course = tmp / "course"
    dlgrade("release", cwd=course)
    home = course / "release" / "ali"
    dlgrade("start", "perceptron", "--dir", home, cwd=course / "release")
    ex = find_exercise("perceptron")
    (home / "perceptron" / ex.entry).write_text(submission_source(ex, "partial"))
    dlgrade("submit", "perceptron", cwd=home, env={"DLGRADE_STUDENT": "ali"})
    dlgrade("collect", cwd=course)
    dlgrade("autograde", "--workers", "1", "--exercise", "perceptron", cwd=course)
    dlgrade("release-feedback", "--lang", "en", cwd=course)
    return course


@pytest.mark.parametrize("args", [
    ("list",), ("list", "--json"), ("start", "perceptron", "--dir", "{tmp}"),
    ("submit", "perceptron"), ("status",), ("status", "--json"), ("feedback", "perceptron"),
    ("feedback", "perceptron", "--raw"),
])
def test_learner_commands_import_neither_numpy_pytest_nor_keras(graded_course, tmp_path, args):
    args = [a.format(tmp=tmp_path) for a in args]
    home = graded_course / "release" / "ali"
    code, heavy = heavy_modules(*args, cwd=home, env={"DLGRADE_STUDENT": "ali"})
    assert code == 0, f"dlgrade {' '.join(args)} exited {code}"
    assert heavy == [], f"dlgrade {' '.join(args)} imported {heavy}"


def test_list_outside_a_course_imports_no_heavy_module(tmp_path):
    code, heavy = heavy_modules("list", cwd=tmp_path)
    assert code == 0 and heavy == []


def test_list_fits_80_columns_with_one_title_column_in_the_locale_language(tmp_path):
    from grader.exercise.spec import all_exercises
    exercises = all_exercises(solutions=False)
    persian = re.compile("[\u0600-\u06ff]")
    fa_text = " ".join(e.title["fa"] for e in exercises)
    names = " ".join(f"{e.id} {e.entry}" for e in exercises).lower()
    english_only = {w for e in exercises for w in re.findall(r"[A-Za-z]{8,}", e.title["en"])
                    if w not in fa_text and w.lower() not in names}
    assert english_only
    for env in ({"LANG": "en_US.UTF-8"}, {"LANG": "fa_IR.UTF-8"}, {"LANG": "fa_IR.UTF-8", "LC_ALL": "C"}):
        out = dlgrade("list", cwd=tmp_path, env={"LC_ALL": "", "LC_MESSAGES": "", **env, "COLUMNS": "80"}).stdout
        assert max(cell_len(line) for line in out.splitlines()) <= 80, out
        assert all(e.id in out for e in exercises), out
        if env["LANG"].startswith("fa") and not env.get("LC_ALL"):  # Persian titles only
            assert "عنوان" in out and not any(w in out for w in english_only), out
        else:  # English titles only
            assert not persian.search(out) and any(w in out for w in english_only), out
    out = dlgrade("list", "--lang", "en", cwd=tmp_path, env={"LANG": "fa_IR.UTF-8", "COLUMNS": "80"}).stdout
    assert not persian.search(out)


# ------------------------------------------------------------------------------------------------
# the import graph of grader/
# ------------------------------------------------------------------------------------------------

def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The grader modules `module` imports anywhere (top level, functions, methods), except under
    `if TYPE_CHECKING:` (annotations only: never run)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    graph = set()
    for name in found:
        while name and name not in known:  # `import grader.x.y.z` where z is a name: the module x.y
            name = name.rpartition(".")[0]
        if name and name != module:
            graph.add(name)
    return graph


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in GRADER.rglob("*.py") if "__pycache__" not in p.parts}
    known = set(files)
    return {name: _imports(ast.parse(path.read_text(encoding="utf-8")), name, path.name == "__init__.py", known)
            for name, path in files.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = dfs(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = dfs(node)
            if found:
                return found
    return None


def test_the_import_graph_finds_lazy_and_relative_imports():
    graph = import_graph()
    assert "grader.batch.plan" in graph["grader.batch.run"]
    assert "grader.grading.engine" in graph["grader.cli.learner"]  # imported inside a function
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycle_among_grader_modules():
    """Not even a lazy one inside a function: an import that goes "backwards" is a hidden cycle."""
    cycle = _cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_import_cycle_among_grader_packages():
    """The packages form a one-way flow (e.g. cli -> batch -> grading -> sandbox)."""
    packages: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        top = ".".join(module.split(".")[:2])
        packages.setdefault(top, set()).update(".".join(t.split(".")[:2]) for t in targets)
    for top, targets in packages.items():
        targets.discard(top)
        targets.discard("grader")  # grader/__init__.py: the version, imports nothing
    cycle = _cycle(packages)
    assert cycle is None, "packages import each other: " + " -> ".join(cycle)


def test_no_module_over_500_lines_without_a_reason_at_its_top():
    too_long = []
    for path in sorted(GRADER.rglob("*.py")):
        if "__pycache__" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n") + 1
        if lines > MAX_LINES and not SIZE_REASON.search(ast.get_docstring(ast.parse(text)) or ""):
            too_long.append(f"{path.relative_to(REPO)} ({lines} lines)")
    assert not too_long, ("over ~500 lines with no reason in the module's docstring (split it, or say why it "
                          f"is one module): {', '.join(too_long)}")


def test_every_module_says_its_purpose():
    missing = [str(p.relative_to(REPO)) for p in sorted(GRADER.rglob("*.py"))
               if "__pycache__" not in p.parts and "versions" not in p.parts
               and not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert not missing, f"modules without a docstring saying their purpose: {', '.join(missing)}"


def test_the_readme_lists_every_exercise_with_its_points():
    import tomllib
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert readme.split("```bash\n", 1)[1].startswith(  # the two opening commands stay as they are
        "pip install -e . && dlgrade demo\npip install -e '.[test]' && python -m pytest\n```")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| ([a-z0-9-]+) \| .* \| (\d+ / \d+) \| [\d, ]+ \|$",
                                                        readme, re.MULTILINE)}
    for path in sorted((REPO / "exercises").glob("*/exercise.toml")):
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
        assert rows.get(spec["id"]) == f"{spec['points']['public']} / {spec['points']['hidden']}", spec["id"]
