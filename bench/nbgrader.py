"""dlgrade against nbgrader on the same cohort: the same learners' code graded on both sides with the
same tests, the scores checked to agree, and wall time, gradings/s and the ratio to nbgrader printed
for nbgrader autograde (serial), dlgrade autograde with 1 and with 2 workers, and the tests' own
compute in one process without a sandbox. Median of --repeat runs, the configurations interleaved.

    pip install -e '.[bench]'        # brings nbgrader (and ipykernel, the Jupyter kernel it runs)
    python bench/nbgrader.py --learners 40 --repeat 3 [--exercise perceptron ...] [--out DIR]
    python bench/nbgrader.py --learners 40 --repeat 3 --notebooks   # the notebook mode alone
    python bench/nbgrader.py --learners 40 --repeat 3 --both        # both modes, both ratios

The nbgrader side is built from the exercises themselves: one notebook per learner and exercise,
whose answer cell holds that learner's code (the file dlgrade grades, see bench/cohort.py), then a
locked cell with the exercise's hidden test module (the suite `dlgrade autograde` runs) and reference
solution, then one autograder cell per test function that calls it, worth the test's points. In a notebook the tests
call the learner's functions in the same kernel; an exception the learner's code raises reaches the
tests as `SubmissionRaised`, as it does from dlgrade's sandbox, so both sides score the same way.
nbgrader's kernel runs the learner's code with no sandbox: that is nbgrader's design, not a choice
of this benchmark.

That default (.py-file) mode grades different files on the two sides. With --notebooks, dlgrade
grades the very notebooks nbgrader grades: an nbgrader assignment (tests/nbgrader_course.py's
`squares` source notebook) is released by `nbgrader generate_assignment` and imported with `dlgrade
import-nbgrader`, and each learner's notebook (correct, partial, broken, slow, every one distinct) is
autograded by nbgrader and, submitted and collected, by dlgrade with 1 and 2 workers; the scores
must agree (every kind is honest). No in-process floor in that mode. --both runs the two modes in
one run, every configuration of both interleaved, and prints both ratios at the end. The notebook
side is bench/nbgrader_notebooks.py (its docstring says why that assignment).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from cohort import Learner, learners, make_cohort  # noqa: E402
import nbgrader_notebooks as nbn  # noqa: E402

# This file is named nbgrader.py: with its folder on the path, `import nbgrader` would find it
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

from grader.course.config import load_course  # noqa: E402
from grader.exercise.spec import Exercise, find_exercise  # noqa: E402
from grader.gradebook.store import Gradebook  # noqa: E402

EXERCISES = ["perceptron", "conv-arithmetic"]
FIXTURES = ("submission", "reference")  # the fixtures a ported test may take
NBGRADER = "nbgrader autograde (serial)"
DLGRADE_1 = "dlgrade autograde, 1 worker"
DLGRADE_2 = "dlgrade autograde, 2 workers"
OWN = "the tests' own compute, one process, no sandbox"

# Runs where the learner's code runs (a notebook kernel, or the in-process floor), after the
# learner's code: the same text on both, so nbgrader and the floor score by the same rules.
HARNESS = '''
import types as _types
from grader.testing import SubmissionRaised as _SubmissionRaised


class _Submission:
    """`submission.NAME(...)` calls the learner's NAME defined in `namespace`; what it raises
    reaches the tests as SubmissionRaised, as it does from dlgrade's sandbox."""

    def __init__(self, namespace):
        self._namespace = namespace

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        function = self._namespace.get(name)
        if not callable(function):
            raise AssertionError(f"your code does not define a function `{name}`; keep the names of the template")

        def call(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except Exception as err:
                raise _SubmissionRaised(name, type(err).__name__, [c.__name__ for c in type(err).__mro__],
                                        str(err), "") from None
        return call


def _module(name, source, filename):
    module = _types.ModuleType(name)
    module.__file__ = filename
    exec(compile(source, filename, "exec"), module.__dict__)
    return module


submission = _Submission(globals())
reference = _module("reference", REFERENCE, "solution.py")
hidden = _module("test_hidden", HIDDEN, "test_hidden.py")
'''


def require_nbgrader() -> None:
    """Exit with what to install when nbgrader or its Jupyter kernel is missing."""
    missing = []
    for module in ("nbgrader", "ipykernel", "nbformat"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if not missing:
        from jupyter_client.kernelspec import KernelSpecManager
        if "python3" not in KernelSpecManager().find_kernel_specs():
            missing.append("the python3 Jupyter kernel (python -m ipykernel install --sys-prefix)")
    if missing:
        sys.exit(f"bench/nbgrader.py needs {', '.join(missing)}, which this Python ({sys.executable}) lacks; "
                 "install them with: pip install -e '.[bench]'")


# --- the tests, ported ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PortedTest:
    """One test function of an exercise's suites, as an nbgrader autograder cell calls it."""

    suite: str  # "hidden": the module the locked cell defines
    name: str
    points: float
    fixtures: tuple[str, ...]

    def call(self) -> str:
        return f"{self.suite}.{self.name}({', '.join(self.fixtures)})"


def _points(node: ast.FunctionDef) -> float:
    for deco in node.decorator_list:
        if isinstance(deco, ast.Call) and getattr(deco.func, "id", getattr(deco.func, "attr", None)) == "points":
            return float(ast.literal_eval(deco.args[0]))
    return 1.0


def ported_tests(exercise: Exercise) -> list[PortedTest]:
    """The hidden test functions of `exercise` (what `dlgrade autograde` runs), with their points and
    fixtures, in the file's order."""
    tests = []
    for suite, path in (("hidden", exercise.hidden_tests),):
        if path is None:
            raise SystemExit(f"{exercise.id} has no hidden tests here; run from a clone with solutions/")
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                fixtures = tuple(a.arg for a in node.args.args)
                unknown = [f for f in fixtures if f not in FIXTURES]
                if unknown:
                    raise SystemExit(f"{path}: {node.name} takes the fixture(s) {', '.join(unknown)}, which this "
                                     f"benchmark cannot port to a notebook (it ports {', '.join(FIXTURES)}); "
                                     "leave that exercise out with --exercise")
                tests.append(PortedTest(suite, node.name, _points(node), fixtures))
    return tests


def harness_source(exercise: Exercise) -> str:
    """The locked cell: the exercise's hidden tests and reference, and the `submission` adapter."""
    texts = {"REFERENCE": exercise.solution, "HIDDEN": exercise.hidden_tests}
    # nbgrader clears solution regions in every cell: the reference's markers (comments) are renamed
    # so that its text stays whole in this cell
    head = "".join(f"{k} = {_unmarked(p.read_text(encoding='utf-8'))!r}\n" for k, p in texts.items())
    return head + HARNESS


def _unmarked(source: str) -> str:
    return source.replace("### BEGIN SOLUTION", "# solution begins").replace("### END SOLUTION", "# solution ends")


# --- the nbgrader side ---------------------------------------------------------------------------

def _notebook_name(exercise: Exercise) -> str:
    return exercise.id.replace("-", "_")


def _meta(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def notebook(exercise: Exercise, code: str, tests: list[PortedTest]):
    """The nbgrader notebook of `exercise` whose answer cell holds `code`."""
    import nbformat.v4 as v4
    cells = [v4.new_code_cell(code, metadata=_meta("answer", solution=True)),
             v4.new_code_cell(harness_source(exercise), metadata=_meta("tests_setup", locked=True))]
    cells += [v4.new_code_cell(t.call(), metadata=_meta(f"{t.suite}_{t.name}", grade=True, locked=True,
                                                        points=t.points)) for t in tests]
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _environment() -> dict[str, str]:
    """This environment with its scripts first on PATH: nbgrader runs `alembic` by name, and it
    must be the one beside nbgrader (as in an activated virtual environment)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _nbgrader(root: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"], cwd=root,
                          capture_output=True, text=True, env=_environment())
    if done.returncode != 0:
        raise SystemExit(f"`nbgrader {' '.join(args)}` in {root} failed ({done.returncode}):\n{done.stderr[-3000:]}")


def make_nbgrader_course(root: Path, exercises: list[Exercise], cohort: list[Learner]) -> Path:
    """An nbgrader course in `root`: every exercise generated from its reference, and every
    learner's notebook submitted."""
    import nbformat
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "bench"\n')
    for ex in exercises:
        tests = ported_tests(ex)
        source = root / "source" / ex.id
        source.mkdir(parents=True)
        nbformat.write(notebook(ex, ex.solution.read_text(encoding="utf-8"), tests),
                       source / f"{_notebook_name(ex)}.ipynb")
        _nbgrader(root, "generate_assignment", ex.id, "--force")
        for learner in cohort:
            folder = root / "submitted" / learner.student / ex.id
            folder.mkdir(parents=True)
            nbformat.write(notebook(ex, learner.source(ex), tests), folder / f"{_notebook_name(ex)}.ipynb")
    return root


def nbgrader_autograde(root: Path, exercises: list[Exercise]) -> None:
    for ex in exercises:
        _nbgrader(root, "autograde", ex.id)


def nbgrader_scores(root: Path, exercises: list[Exercise], cohort: list[Learner]) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook as NbGradebook
    with NbGradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {(l.student, ex.id): float(gb.find_submission(ex.id, l.student).score)
                for ex in exercises for l in cohort}


# --- the dlgrade side ----------------------------------------------------------------------------

def dlgrade_autograde(root: Path, workers: int) -> None:
    command = [sys.executable, "-c", "from grader.cli import main; main()", "autograde", "--course", str(root),
               "--workers", str(workers)]
    done = subprocess.run(command, capture_output=True, text=True, env=_environment())
    if done.returncode != 0:
        raise SystemExit(f"`dlgrade autograde --course {root} --workers {workers}` failed ({done.returncode}):\n"
                         f"{(done.stdout + done.stderr)[-3000:]}")


def dlgrade_scores(root: Path) -> dict[tuple[str, str], float]:
    course = load_course(root)
    with Gradebook.open(course.gradebook_url) as gb:
        rows = gb.grades()
    failed = [r for r in rows if r["score"] is None]
    if failed:
        raise SystemExit(f"dlgrade left {len(failed)} grading(s) without a score, e.g. {failed[0]}")
    return {(r["student"], r["exercise"]): float(r["score"]) for r in rows}


# --- the floor: the tests' own compute -----------------------------------------------------------

def own_compute(exercises: list[Exercise], cohort: list[Learner]) -> dict[tuple[str, str], float]:
    """Every learner's code and every test run in this process, no sandbox, no kernel; the scores."""
    ported = {ex.id: (compile(harness_source(ex), "harness", "exec"), ported_tests(ex)) for ex in exercises}
    scores = {}
    for learner in cohort:
        for ex in exercises:
            harness, tests = ported[ex.id]
            module = types.ModuleType(_notebook_name(ex))
            try:
                exec(compile(learner.source(ex), ex.entry, "exec"), module.__dict__)
            except Exception:
                pass  # as in a notebook: the answer cell fails, the tests run and fail
            exec(harness, module.__dict__)
            score = 0.0
            for test in tests:
                try:
                    eval(test.call(), module.__dict__)
                    score += test.points
                except Exception:
                    pass  # a failed test earns nothing, as in an autograder cell
            scores[(learner.student, ex.id)] = score
    return scores


# --- the comparison ------------------------------------------------------------------------------

def fresh_copy(template: Path, where: Path) -> Path:
    if where.exists():
        shutil.rmtree(where)
    shutil.copytree(template, where, symlinks=True)
    return where


def disagreements(scores: dict[str, dict[tuple[str, str], float]]) -> list[str]:
    """One line per (learner, exercise) whose score differs between the configurations."""
    keys = sorted(set().union(*scores.values()))
    lines = []
    for key in keys:
        seen = {label: s.get(key) for label, s in scores.items()}
        if len(set(seen.values())) > 1:
            lines.append(f"{key[0]} {key[1]}: " + ", ".join(f"{label}: {v}" for label, v in seen.items()))
    return lines


@dataclass
class Mode:
    """One comparison of a run: its configurations (labels), how many gradings one of them makes,
    and `run(label)` -> (seconds, scores); the figures gathered."""

    prefix: str  # before its labels: "" for the .py-file mode (its lines as they always were)
    gradings: int
    labels: tuple[str, ...]
    run: Callable[[str], tuple[float, dict]]
    times: dict[str, list[float]] = field(default_factory=dict)
    scores: dict[str, dict] = field(default_factory=dict)

    def ratio(self, label: str) -> float:
        """nbgrader's median wall time over `label`'s."""
        return statistics.median(self.times[NBGRADER]) / statistics.median(self.times[label])


def files_mode(out: Path, exercises: list[Exercise], cohort: list[Learner]) -> Mode:
    """dlgrade grades the learners' .py files, nbgrader notebooks built around the same code."""
    t0 = time.perf_counter()
    dl_template = make_cohort(out / "dlgrade-template", len(cohort), [e.id for e in exercises])
    nb_template = make_nbgrader_course(out / "nbgrader-template", exercises, cohort)
    gradings = len(cohort) * len(exercises)
    print(f"cohort: {len(cohort)} learners x {len(exercises)} exercises ({gradings} gradings), every file distinct; "
          f"both courses made in {time.perf_counter() - t0:.1f} s", flush=True)

    def run(label: str) -> tuple[float, dict]:
        if label == NBGRADER:
            root = fresh_copy(nb_template, out / "nbgrader-run")
            t = time.perf_counter()
            nbgrader_autograde(root, exercises)
            return time.perf_counter() - t, nbgrader_scores(root, exercises, cohort)
        if label == OWN:
            t = time.perf_counter()
            got = own_compute(exercises, cohort)
            return time.perf_counter() - t, got
        root = fresh_copy(dl_template, out / "dlgrade-run")
        t = time.perf_counter()
        dlgrade_autograde(root, 1 if label == DLGRADE_1 else 2)
        return time.perf_counter() - t, dlgrade_scores(root)

    return Mode("", gradings, (NBGRADER, DLGRADE_1, DLGRADE_2, OWN), run)


def notebooks_mode(out: Path, cohort: list[Learner]) -> Mode:
    """dlgrade grades the very notebooks nbgrader grades (an imported nbgrader assignment; see
    bench/nbgrader_notebooks.py)."""
    t0 = time.perf_counter()
    nb_template, dl_template = nbn.make_courses(out, cohort)
    print(f"notebooks: cohort: {len(cohort)} learners x 1 notebook (the nbgrader assignment `{nbn.ASSIGNMENT}`, "
          f"imported into dlgrade), {len(cohort)} gradings, every notebook distinct; both courses made in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)

    def run(label: str) -> tuple[float, dict]:
        if label == NBGRADER:
            root = fresh_copy(nb_template, out / "nbgrader-run")
            t = time.perf_counter()
            nbn.nbgrader_autograde(root)
            return time.perf_counter() - t, nbn.nbgrader_scores(root, cohort)
        root = fresh_copy(dl_template, out / "dlgrade-run")
        t = time.perf_counter()
        dlgrade_autograde(root, 1 if label == DLGRADE_1 else 2)
        return time.perf_counter() - t, dlgrade_scores(root)

    return Mode("notebooks: ", len(cohort), (NBGRADER, DLGRADE_1, DLGRADE_2), run)


def report(mode: Mode, cohort: list[Learner], repeat: int, what: str) -> list[str]:
    """Print `mode`'s table, its runs and its scores by kind; returns its disagreements."""
    print(f"\n| {mode.prefix}{len(cohort)} learners, {mode.gradings} gradings | wall (median of {repeat}) | gradings/s "
          "| vs nbgrader |\n| --- | --- | --- | --- |")
    for label, runs in mode.times.items():
        med = statistics.median(runs)
        rate = f"{mode.gradings / med:.2f}" if label != OWN else ""
        ratio = f"{mode.ratio(label):.1f}x" if label != OWN else ""
        print(f"| {label} | {med:.1f} s | {rate} | {ratio} |")
    slow = sum(1 for l in cohort if l.kind == "slow") * (mode.gradings // max(len(cohort), 1))
    print(f"({slow} of the gradings import a learner's {what} that sleeps 1 s; runs: "
          + "; ".join(f"{k}: {' '.join(f'{t:.1f}' for t in v)}" for k, v in mode.times.items()) + ")")
    by_kind: dict[tuple[str, str], set] = {}
    kinds = {l.student: l.kind for l in cohort}
    for (student, ex), score in mode.scores[NBGRADER].items():
        by_kind.setdefault((ex, kinds[student]), set()).add(score)
    sides = " = ".join(["nbgrader", "dlgrade"] + (["own compute"] if OWN in mode.times else []))
    print(f"{mode.prefix}scores ({sides}): " + ", ".join(
        f"{ex} {kind} {'/'.join(f'{v:g}' for v in sorted(v))}" for (ex, kind), v in sorted(by_kind.items())))
    return disagreements(mode.scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--exercise", action="append", help=f"default: {' and '.join(EXERCISES)}")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--notebooks", action="store_true", help="dlgrade grades the very notebooks nbgrader grades "
                       "(an imported nbgrader assignment) instead of the learners' .py files")
    which.add_argument("--both", action="store_true", help="both modes in one run, interleaved; both ratios printed")
    parser.add_argument("--out", type=Path, default=Path("/tmp/dlgrade-nbgrader-bench"))
    parser.add_argument("--json", type=Path, default=None, help="also write the figures and scores here")
    args = parser.parse_args()
    if args.notebooks and args.exercise:
        parser.error(f"--exercise chooses the .py-file mode's exercises; --notebooks grades the nbgrader assignment "
                     f"`{nbn.ASSIGNMENT}` (use --both for both modes)")
    require_nbgrader()
    cohort = learners(args.learners)
    modes = []
    if not args.notebooks:
        modes.append(files_mode(args.out, [find_exercise(e) for e in (args.exercise or EXERCISES)], cohort))
    if args.notebooks or args.both:
        modes.append(notebooks_mode(args.out / "notebooks", cohort))

    for run in range(args.repeat):
        for mode in modes:
            for label in mode.labels:
                seconds, got = mode.run(label)
                mode.times.setdefault(label, []).append(seconds)
                if mode.scores.setdefault(label, got) != got:
                    print(f"warning: {mode.prefix}{label} gave other scores in run {run + 1} than in run 1", flush=True)
                print(f"run {run + 1}: {mode.prefix}{label}: {seconds:.1f} s", flush=True)

    differ = {mode.prefix: report(mode, cohort, args.repeat, "notebook" if mode.prefix else "file") for mode in modes}
    if len(modes) == 2:
        print("\nvs nbgrader (median wall time): " + "; ".join(
            f"{'notebooks' if m.prefix else '.py files'}: {DLGRADE_1} {m.ratio(DLGRADE_1):.1f}x, "
            f"{DLGRADE_2} {m.ratio(DLGRADE_2):.1f}x" for m in modes))
    if args.json:
        figures = {("notebooks" if m.prefix else "files"): {"learners": len(cohort), "gradings": m.gradings,
                                                           "seconds": m.times, "disagreements": differ[m.prefix]}
                   for m in modes}
        args.json.write_text(json.dumps(figures["files"] if list(figures) == ["files"] else figures, indent=1))
    failed = False
    for mode in modes:
        if differ[mode.prefix]:
            print(f"\n{mode.prefix}the scores DISAGREE on {len(differ[mode.prefix])} grading(s):\n"
                  + "\n".join(differ[mode.prefix][:20]))
            failed = True
        else:
            print(f"{mode.prefix}the scores agree on all {mode.gradings} gradings")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
