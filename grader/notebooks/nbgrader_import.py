"""`dlgrade import-nbgrader`: an nbgrader source notebook made an exercise of a course.

The import sorts the notebook's cells (grader.notebooks.nbgrader_cells), translates the autograder
test cells (grader.notebooks.nbgrader_translate), writes the exercise's two folders, grades the
notebook's own solution with the translated suites (it must get every point: a cell it fails could
not be translated faithfully) and adds the exercise to course.toml. Nothing is written to the course
until all of that has succeeded."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from grader.notebooks.nbgrader_cells import (WHOLE_CELL, NbgraderImportError, exercise_toml, helper_cells,
                                             learner_notebook, notebook_title, read_source, readme, solution_source,
                                             test_cells)
from grader.notebooks.nbgrader_names import solution_names
from grader.notebooks.nbgrader_translate import TranslatedTest, Translator, Untranslatable


@dataclass
class ImportResult:
    """What an import wrote: the exercise id, its hidden and public tests, the cells left out
    (untranslatable, with --skip-untranslatable), notes (cells graded by hand, magics) and folders."""

    exercise_id: str
    hidden: list[TranslatedTest]
    public: list[TranslatedTest]
    skipped: list[Untranslatable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    exercise_dir: Path | None = None
    solution_dir: Path | None = None

    @property
    def total(self) -> float:
        """The hidden suite's points: the notebook's autograded total (less what was skipped)."""
        return sum(t.points for t in self.hidden)


def entry_name(ex_id: str) -> str:
    """The module name learners' code is imported as: the id made a Python name."""
    name = re.sub(r"\W", "_", ex_id)
    return name if name[:1].isalpha() else f"nb_{name}"


def _refusal(cells: list[Untranslatable]) -> NbgraderImportError:
    lines = [f"{len(cells)} test cell(s) cannot be graded outside the learner's kernel:"]
    lines += [f"  {u}" for u in cells]
    lines.append("change those cells, or pass --skip-untranslatable to import without them")
    return NbgraderImportError("\n".join(lines))


@dataclass
class _Parts:
    solution: str
    hidden_source: str
    public_source: str
    hidden: list[TranslatedTest]
    public: list[TranslatedTest]


def _translate(nb, title: str, names, leave_out: set[int]) -> tuple[_Parts, list[Untranslatable]]:
    translator = Translator(names, helper_cells(nb))
    hidden_cells = [c for c in test_cells(nb, hidden=True) if c.index not in leave_out]
    hidden_source, hidden, refused = translator.translate(hidden_cells, True, title)
    refused_at = {u.index for u in refused}
    public_cells = [c for c in test_cells(nb, hidden=False) if c.index not in leave_out | refused_at]
    public_source, public, refused_public = translator.translate(public_cells, False, title)
    refused += [u for u in refused_public if u.index not in refused_at]
    return _Parts("", hidden_source, public_source, hidden, public), refused


def _write(folder: Path, ex_id: str, nb, title: str, parts: _Parts, functions: list[str], source_name: str,
           skipped: list[Untranslatable]) -> tuple[Path, Path]:
    """Both folders of the exercise under `folder` (exercises/ID, solutions/ID)."""
    import nbformat
    from grader.exercise.templates import make_template
    ex_dir, sol_dir = folder / "exercises" / ex_id, folder / "solutions" / ex_id
    for d in (ex_dir, sol_dir):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    (sol_dir / "solution.py").write_text(parts.solution, encoding="utf-8")
    (sol_dir / "test_hidden.py").write_text(parts.hidden_source, encoding="utf-8")
    (ex_dir / "template.py").write_text(make_template(parts.solution), encoding="utf-8")
    (ex_dir / "test_public.py").write_text(parts.public_source, encoding="utf-8")
    (ex_dir / "README.md").write_text(readme(nb, title, ex_id, []), encoding="utf-8")
    (ex_dir / "exercise.toml").write_text(exercise_toml(ex_id, entry_name(ex_id) + ".py", title, functions,
                                                        sum(t.points for t in parts.public),
                                                        sum(t.points for t in parts.hidden), source_name, skipped,
                                                        keras=uses_keras(parts.solution)),
                                          encoding="utf-8")
    released = with_check_cell(learner_notebook(nb), ex_id, entry_name(ex_id) + ".py")
    nbformat.validate(released)
    nbformat.write(released, str(ex_dir / f"{ex_id}.ipynb"))
    return ex_dir, sol_dir


def with_check_cell(nb, ex_id: str, entry: str):
    """`nb` (nbgrader's released notebook) with dlgrade's check cell at the end, as every dlgrade
    notebook has (grader.notebooks.build): it runs the public tests on the saved notebook. The
    grading leaves it out of the learner's module, and nbgrader's cells are unchanged."""
    import nbformat.v4 as v4
    from grader.notebooks.build import _CHECK_CODE, _CHECK_HEADING, CHECK_ID
    heading = v4.new_markdown_cell(_CHECK_HEADING)
    check = v4.new_code_cell(_CHECK_CODE.format(id=ex_id))
    heading.metadata.update({"editable": False, "deletable": False})
    check.metadata.update({"editable": False, "deletable": False})
    nb.cells += [heading, check]
    nb.metadata["dlgrade"] = {"exercise": ex_id, "entry": entry, "check_cell": CHECK_ID}
    return nb


def check_reference(folder: Path, ex_id: str, parts: _Parts,
                    grade: Callable | None = None) -> list[Untranslatable]:
    """Grade the notebook's own solution with both translated suites: every test it fails is a cell
    that dlgrade cannot grade as nbgrader does (e.g. it needs a value the wire does not carry)."""
    from grader.exercise.spec import load_exercise
    if grade is None:
        from grader.grading.engine import grade
    exercise = load_exercise(folder / "exercises" / ex_id, folder / "solutions")
    failed = []
    for suite, tests in (("hidden", parts.hidden), ("public", parts.public)):
        if not tests:
            continue
        result = grade(exercise, exercise.solution, suite)
        if getattr(result, "grader_fault", None):
            first = (str(result.grader_fault).strip().splitlines() or ["?"])[0][:300]
            raise NbgraderImportError(f"grading the notebook's own solution failed in the grader, not in the "
                                      f"notebook ({first}); nothing was imported: try again")
        by_name = {t.name: t for t in tests}
        for r in result.tests:
            if r.score < r.max_score and r.name in by_name and all(u.index != by_name[r.name].index for u in failed):
                t = by_name[r.name]
                hint = (str(r.output).strip().splitlines() or [str(r.status)])[0][:300]
                failed.append(Untranslatable(t.index, t.grade_id, "the notebook's own solution fails it when "
                                             f"dlgrade grades it ({hint})"))
        missing = set(by_name) - {r.name for r in result.tests}
        if missing and not result.tests:
            raise NbgraderImportError(f"grading the notebook's own solution gave no test results "
                                      f"({(result.output or '').strip()[:300]}); check the solution cells")
    return failed


def _add_to_course_toml(course, ex_id: str) -> None:
    import tomlkit
    from grader.atomic import write_text
    doc = tomlkit.parse(course.toml_path.read_text(encoding="utf-8"))
    exercises = doc.get("exercises")
    if exercises is None:
        exercises = tomlkit.table(is_super_table=True)
        doc["exercises"] = exercises
    if ex_id not in exercises:
        exercises[ex_id] = tomlkit.table()
    write_text(course.toml_path, tomlkit.dumps(doc), mode=0o600)


def import_nbgrader(course, source: Path, ex_id: str, *, skip_untranslatable: bool = False, force: bool = False,
                    check: bool = True, grade: Callable | None = None) -> ImportResult:
    """Import the nbgrader source notebook `source` into `course` as exercise `ex_id`; see the module
    docstring. NbgraderImportError (nothing written) when it cannot be imported as asked."""
    from grader.course.ids import check_id
    from grader.exercise.templates import TemplateError, make_template
    try:
        check_id(ex_id, "exercise id")
    except ValueError as err:
        raise NbgraderImportError(f"{err}; pass another --id") from None
    ex_final, sol_final = course.exercises_dir / ex_id, course.solutions_dir / ex_id
    if not force and (ex_final.exists() or sol_final.exists() or ex_id in course.deadlines):
        raise NbgraderImportError(f"the course already has an exercise {ex_id}; choose another --id, or pass --force "
                                  "to replace it")
    nb = read_source(Path(source))
    notes: list[str] = []
    title = notebook_title(nb, Path(source).stem)
    solution = solution_source(nb, title, notes)
    try:
        names = solution_names(solution)
        make_template(solution)
    except SyntaxError as err:
        raise NbgraderImportError(f"the notebook's code cells are not valid Python ({_where(solution, err.lineno)}: "
                                  f"{err.msg}); fix the cell in the source notebook") from None
    except TemplateError as err:
        raise NbgraderImportError(f"{err}; fix the solution markers in the source notebook") from None
    readme(nb, title, ex_id, notes)  # its notes: cells graded by hand
    if not test_cells(nb, hidden=True):
        raise NbgraderImportError(f"{source} has no autograder test cells (nbgrader: grade, not solution, with "
                                  "points); there is nothing for dlgrade to grade")
    functions = sorted(names.functions & _solution_cell_functions(nb))
    leave_out: set[int] = set()
    skipped: list[Untranslatable] = []
    work = Path(tempfile.mkdtemp(prefix=f".import-{ex_id}-", dir=course.root))
    try:
        for _attempt in range(3):
            parts, refused = _translate(nb, title, names, leave_out)
            parts.solution = solution
            if refused and not skip_untranslatable:
                raise _refusal(refused)
            skipped += refused
            leave_out |= {u.index for u in refused}
            if not parts.hidden:
                raise NbgraderImportError("no test cell could be translated:\n" + "\n".join(f"  {u}" for u in skipped))
            _write(work, ex_id, nb, title, parts, functions, Path(source).name, skipped)
            failing = check_reference(work, ex_id, parts, grade) if check else []
            if not failing:
                break
            if not skip_untranslatable:
                raise _refusal(failing)
            skipped += failing
            leave_out |= {u.index for u in failing}
        else:
            raise NbgraderImportError("the notebook's own solution kept failing translated cells; import stopped")
        skipped.sort(key=lambda u: u.index)
        for src, dst in ((work / "exercises" / ex_id, ex_final), (work / "solutions" / ex_id, sol_final)):
            dst.parent.mkdir(parents=True, exist_ok=True)
            if dst.exists():
                shutil.rmtree(dst)
            os.replace(src, dst)
        _add_to_course_toml(course, ex_id)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ImportResult(ex_id, parts.hidden, parts.public, skipped, notes, ex_final, sol_final)


def uses_keras(solution: str) -> bool:
    """Whether the solution imports Keras or TensorFlow (then the exercise preloads Keras)."""
    import ast
    for node in ast.walk(ast.parse(solution)):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(m.split(".")[0] in ("keras", "tensorflow") for m in modules):
            return True
    return False


def _solution_cell_functions(nb) -> set[str]:
    """The functions defined in solution cells (what learners write), by a light parse of each cell."""
    import ast
    out = set()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
        if cell.cell_type == "code" and meta.get("solution"):
            try:
                code = [ln for ln in cell.source.split("\n") if not ln.lstrip().startswith(("%", "!"))]
                tree = ast.parse("\n".join(code))
            except SyntaxError:
                continue
            out |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return out


def _where(solution: str, lineno: int | None) -> str:
    """"cell N, line M" for a line of the joined solution source."""
    cell, start = None, 0
    for n, line in enumerate(solution.splitlines()[: (lineno or 1)], start=1):
        header = re.fullmatch(r"# cell (\d+)(.*)", line)
        if header and header.group(2) in ("", WHOLE_CELL):
            cell, start = header.group(1), n + (header.group(2) == WHOLE_CELL)
    return f"cell {cell}, line {(lineno or 0) - start}" if cell else f"line {lineno}"


__all__ = ["ImportResult", "NbgraderImportError", "import_nbgrader", "check_reference", "entry_name", "uses_keras",
           "with_check_cell"]
