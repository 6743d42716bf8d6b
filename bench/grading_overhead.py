"""Per-grading overhead of the sandbox: the wall time of grading each reference solution with its
hidden tests, minus the time the same tests take when they call the reference directly in-process
(no sandbox, no staging, no wire). Median of N runs each, both measured in this one run.

    python bench/grading_overhead.py [--runs 5] [--exercise ID ...]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import statistics
import sys
import time
from pathlib import Path

import pytest

from grader.grading.engine import _forget_modules, _pytest_args, grade
from grader.sandbox.probe import probe
from grader.exercise.spec import all_exercises
from grader.exercise.testing import SubmissionRaised


class _Direct:
    """The `submission` fixture bound straight to a module: what the tests cost by themselves."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        fn = getattr(self._module, name)

        def call(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                raise SubmissionRaised(name, type(exc).__name__, [c.__name__ for c in type(exc).__mro__],
                                       str(exc), "") from None
        return call


class _DirectPlugin:
    def __init__(self, module):
        self.module = module
        self.outcomes = []

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "points(n): points")
        config.addinivalue_line("markers", "seconds(s): limit")

    @pytest.fixture(scope="session")
    def submission(self):
        return _Direct(self.module)

    @pytest.fixture(scope="session")
    def reference(self):
        return self.module

    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            self.outcomes.append(report.passed)


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def direct_time(exercise) -> float:
    t0 = time.perf_counter()
    plugin = _DirectPlugin(_load(exercise.solution, "bench_reference"))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        pytest.main(_pytest_args(exercise.hidden_tests, exercise.directory.parent.parent), plugins=[plugin])
    elapsed = time.perf_counter() - t0
    _forget_modules([exercise.solution_dir.resolve()])
    assert plugin.outcomes and all(plugin.outcomes), f"{exercise.id}: the reference failed in-process"
    return elapsed


def sandboxed_time(exercise) -> float:
    t0 = time.perf_counter()
    result = grade(exercise, exercise.solution, "hidden")
    elapsed = time.perf_counter() - t0
    assert result.full_marks, f"{exercise.id}: the reference lost points"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--exercise", action="append")
    args = parser.parse_args()
    exercises = [e for e in all_exercises() if not args.exercise or e.id in args.exercise]
    print(f"sandbox: {probe().as_dict()}")
    print(f"{'exercise':18} {'tests':>5} {'graded (s)':>11} {'direct (s)':>11} {'overhead (s)':>13} "
          f"{'per test (ms)':>14}")
    overheads = []
    for ex in exercises:
        graded, direct = [], []
        for _ in range(args.runs):  # interleaved, so drift affects both alike
            direct.append(direct_time(ex))
            graded.append(sandboxed_time(ex))
        n_tests = len(grade(ex, ex.solution, "hidden").tests)
        g, d = statistics.median(graded), statistics.median(direct)
        overheads.append(g - d)
        print(f"{ex.id:18} {n_tests:5d} {g:11.3f} {d:11.3f} {g - d:13.3f} {1000 * (g - d) / n_tests:14.1f}")
    print(f"median per-grading overhead over {len(exercises)} exercises: {statistics.median(overheads):.3f} s "
          f"(median of {args.runs} runs each; python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
