"""Per-grading overhead of the sandbox: the wall time of grading each reference solution with its
hidden tests, minus the time the same tests take when they call the reference directly in-process
(no sandbox, no staging, no wire). Median of N runs each, both measured in this one run. Then the
profile of one grading by stage (staging, sandbox start, submission import, calls, the trusted
pytest session, teardown), median of N: `--profile` names the exercises (default perceptron,
conv-arithmetic and keras-mlp where they exist; the first Keras grading of the process includes
the trusted side's Keras import, so it is shown apart as the one-off figure).

    python bench/grading_overhead.py [--runs 5] [--exercise ID ...] [--profile ID ...] [--no-overhead] [--batch]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import importlib.util
import io
import statistics
import sys
import time
from pathlib import Path

import pytest

from grader.grading import suite as trusted_suites
from grader.grading.engine import _forget_modules, grade
from grader.grading.suite import pytest_args as _pytest_args
from grader.grading.plugin import SandboxSession
from grader.sandbox.probe import probe
from grader.exercise.spec import all_exercises
from grader.exercise.testing import Rng, SubmissionRaised
from grader.sandbox.inside.wire import KerasInput, Surface, SurfaceGrad


class _Direct:
    """The `submission` fixture bound straight to a module: what the tests cost by themselves."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        fn = getattr(self._module, name)

        def call(*args, **kwargs):
            args, kwargs = _as_sandbox_sees(args), _as_sandbox_sees(kwargs)
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                raise SubmissionRaised(name, type(exc).__name__, [c.__name__ for c in type(exc).__mro__],
                                       str(exc), "") from None
        return call


def _as_sandbox_sees(value):
    """The descriptors the tests send (Rng, Surface, KerasInput) as the learner's code receives
    them in the sandbox; everything else unchanged."""
    if isinstance(value, Rng):
        import numpy
        return numpy.random.default_rng(value.seed)
    if isinstance(value, Surface):
        return SurfaceGrad(value)
    if isinstance(value, KerasInput):
        import keras
        return keras.Input(shape=value.shape)
    if type(value) in (list, tuple):
        return type(value)(_as_sandbox_sees(v) for v in value)
    if type(value) is dict:
        return {k: _as_sandbox_sees(v) for k, v in value.items()}
    return value


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


STAGES = ("staging", "sandbox start", "submission import", "calls", "pytest session", "teardown")


class _Profile:
    """Times one grading's stages by wrapping the engine's and the session's methods (bench only)."""

    def __init__(self):
        self.t = collections.Counter()
        self.in_request = 0
        self.marks: dict[str, float] = {}

    def _wrap(self, owner, name, account):
        real = getattr(owner, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                account(time.perf_counter() - t0)
        setattr(owner, name, timed)
        return real

    @contextlib.contextmanager
    def installed(self):
        def ensure(dt):
            self.t["ensure_in_request" if self.in_request else "ensure"] += dt

        def request_enter(real):
            def wrapped(*args, **kwargs):
                self.in_request += 1
                t0 = time.perf_counter()
                try:
                    return real(*args, **kwargs)
                finally:
                    self.in_request -= 1
                    self.t["request"] += time.perf_counter() - t0
            return wrapped

        def mark(real, name):  # the trusted pytest session: from borrowing it to the end of its run
            def wrapped(*args, **kwargs):
                if name == "pytest_start":
                    self.marks[name] = time.perf_counter()
                try:
                    return real(*args, **kwargs)
                finally:
                    if name == "pytest_end":
                        self.marks[name] = time.perf_counter()
            return wrapped
        saved = [(SandboxSession, "_start", self._wrap(SandboxSession, "_start", lambda dt: self.t.update(start=dt))),
                 (SandboxSession, "_ensure", self._wrap(SandboxSession, "_ensure", ensure))]
        saved.append((SandboxSession, "_request", SandboxSession._request))
        SandboxSession._request = request_enter(SandboxSession._request)
        saved.append((trusted_suites, "borrow", trusted_suites.borrow))
        trusted_suites.borrow = mark(trusted_suites.borrow, "pytest_start")
        saved.append((trusted_suites.TrustedSuite, "run", trusted_suites.TrustedSuite.run))
        trusted_suites.TrustedSuite.run = mark(trusted_suites.TrustedSuite.run, "pytest_end")
        try:
            yield self
        finally:
            for owner, name, real in saved:
                setattr(owner, name, real)

    def stages(self, t0: float, t1: float) -> dict[str, float]:
        ensure = self.t["ensure"] + self.t["ensure_in_request"]
        start = self.t["start"]
        pytest_wall = self.marks["pytest_end"] - self.marks["pytest_start"]
        return {"staging": self.marks["pytest_start"] - t0,  # the trusted Keras import too, the first time
                "sandbox start": start, "submission import": ensure - start,
                "calls": self.t["request"] - self.t["ensure_in_request"],
                "pytest session": pytest_wall - self.t["request"] - self.t["ensure"],
                "teardown": t1 - self.marks["pytest_end"]}


def profile(exercise, batch: bool = False) -> tuple[dict[str, float], float]:
    """The stages of one grading of the reference (hidden tests), and its wall time; `batch`: forked
    from this process's zygote, as a batch worker grades (batch/worker.py)."""
    prof = _Profile()
    factory = retry = None
    if batch:
        from grader.batch.worker import _zygote_factories, process_slot
        factory, retry = _zygote_factories(exercise, "cpu", process_slot())
    with prof.installed():
        t0 = time.perf_counter()
        result = grade(exercise, exercise.solution, "hidden", device="cpu", sandbox_factory=factory,
                       retry_factory=retry, slot=process_slot() if batch else 0)
        t1 = time.perf_counter()
    assert result.full_marks, f"{exercise.id}: the reference lost points"
    return prof.stages(t0, t1), t1 - t0


def print_profiles(exercises, runs: int, batch: bool = False) -> None:
    if batch:
        from grader.batch.worker import prepare_grading_process
        prepare_grading_process()
    print(f"\nprofile of one grading{' in a batch worker (forked from its zygote)' if batch else ''}, ms "
          f"(median of {runs}; staging includes the trusted Keras import only in the one-off row)")
    print(f"{'exercise':24} " + " ".join(f"{s:>17}" for s in STAGES) + f" {'wall':>8}")
    for ex in exercises:
        if batch:
            profile(ex, batch)  # the zygote starts and the pytest session is collected: not a batch's figure
        rows = [profile(ex, batch) for _ in range(runs + ("keras" in ex.preload and not batch))]
        if "keras" in ex.preload and not batch:  # the first one paid the trusted side's Keras import
            first, wall = rows.pop(0)
            print(f"{ex.id + ' (one-off)':24} " + " ".join(f"{1000 * first[s]:17.1f}" for s in STAGES)
                  + f" {1000 * wall:8.1f}")
        med = {s: statistics.median(r[0][s] for r in rows) for s in STAGES}
        wall = statistics.median(r[1] for r in rows)
        print(f"{ex.id:24} " + " ".join(f"{1000 * med[s]:17.1f}" for s in STAGES) + f" {1000 * wall:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--exercise", action="append")
    parser.add_argument("--profile", action="append", help="exercises to profile by stage")
    parser.add_argument("--no-overhead", action="store_true", help="only the profile")
    parser.add_argument("--batch", action="store_true", help="profile gradings forked from a zygote, as a batch worker")
    args = parser.parse_args()
    everything = all_exercises()
    exercises = [e for e in everything if not args.exercise or e.id in args.exercise]
    print(f"sandbox: {probe().as_dict()}")
    if not args.no_overhead:
        overhead_table(exercises, args.runs)
    wanted = args.profile or ["perceptron", "conv-arithmetic", "keras-mlp"]
    print_profiles([e for e in everything if e.id in wanted], args.runs, args.batch)


def overhead_table(exercises, runs: int) -> None:
    print(f"{'exercise':18} {'tests':>5} {'graded (s)':>11} {'direct (s)':>11} {'overhead (s)':>13} "
          f"{'per test (ms)':>14}")
    overheads = []
    for ex in exercises:
        graded, direct = [], []
        for _ in range(runs):  # interleaved, so drift affects both alike
            direct.append(direct_time(ex))
            graded.append(sandboxed_time(ex))
        n_tests = len(grade(ex, ex.solution, "hidden").tests)
        g, d = statistics.median(graded), statistics.median(direct)
        overheads.append(g - d)
        print(f"{ex.id:18} {n_tests:5d} {g:11.3f} {d:11.3f} {g - d:13.3f} {1000 * (g - d) / n_tests:14.1f}")
    print(f"median per-grading overhead over {len(exercises)} exercises: {statistics.median(overheads):.3f} s "
          f"(median of {runs} runs each; python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
