"""The pytest plugin of a grading: the `submission` fixture (a proxy to the sandbox), the
`reference` fixture (the reference solution, trusted side only), and result collection.

Everything here runs in the trusted process. The proxy sends inputs to the sandbox and returns
decoded data; expected values never leave this process."""

from __future__ import annotations

import importlib.util
import threading
import time
import traceback
from pathlib import Path

import pytest

from grader.grading.result import Kind, Status, TestResult
from grader.protocols import SandboxFactory
from grader.sandbox.inside.wire import ModelRef, hello_info
from grader.sandbox.process import Sandbox
from grader.sandbox.errors import SandboxDied, SandboxError, SandboxStartError, SandboxTimeout
from grader.exercise.testing import Feedback, GraderFault, Rng, SubmissionRaised, SubmissionUnavailable

GRADER_FAULT_TEXT = ("this test could not run because of a problem in the grader, not in your code; "
                     "it will be graded again")


def _died_kind(err: SandboxError) -> Kind:
    """memory when the sandbox is known to have been killed at its memory limit, else crashed."""
    if getattr(err, "kind", None) == Kind.MEMORY or getattr(err, "oom", False) \
            or getattr(err, "cause", None) == "memory" \
            or type(err).__name__ in ("SandboxOOM", "SandboxOutOfMemory", "SandboxMemory"):
        return Kind.MEMORY
    return Kind.CRASHED


MAX_RESTARTS = 3
MAX_HINT = 4000


class SandboxSession:
    """Owns the sandbox of one grading: starts it once, imports the submission once, and
    restarts it (re-importing) after a test killed it, within the grading's overall time."""

    def __init__(self, files: dict[str, Path], entry: str, limits, secret_dirs: list[Path], slot: int = 0,
                 env: dict[str, str] | None = None, device: str = "cpu", sandbox_factory: SandboxFactory | None = None):
        self.sandbox_factory = sandbox_factory  # e.g. a worker's zygote; default: a new sandbox
        self.files, self.entry, self.limits = files, entry, limits
        self.secret_dirs, self.slot, self.env, self.device = secret_dirs, slot, env or {}, device
        self.seed = 0
        self.started = time.monotonic()
        self.test_limit = limits.test_seconds
        self.sandbox: Sandbox | None = None
        self.broken: str | None = None
        self.broken_status = Status.ERROR
        self.broken_kind = Kind.CRASHED
        self.starts = 0
        self.timeouts = 0
        self.memory_kills = 0
        self.outputs: list[str] = []
        self.info: dict = {}
        self.faults: list[str] = []
        self.defined: list[str] = []
        self._early_thread: threading.Thread | None = None  # start_early's, alive while its sandbox is
        self._early_started: threading.Event | None = None
        self._early_release: threading.Event | None = None
        self._early: Sandbox | BaseException | None = None
        self._early_sandbox: Sandbox | None = None

    def remaining(self) -> float:
        return self.limits.wall_seconds - (time.monotonic() - self.started)

    def _timeout(self) -> float:
        left = self.remaining()
        if left <= 0:
            raise SubmissionUnavailable(f"the grading used all of its {self.limits.wall_seconds:.0f} s; "
                                        "this test did not run", Status.TIMEOUT)
        return min(self.test_limit, left)

    def _retire(self) -> None:
        if self.sandbox is not None:
            self.outputs.append(self.sandbox.close())
            if self.sandbox is self._early_sandbox:
                self._release_early()
            self.sandbox = None

    def _start(self) -> Sandbox:
        """A started sandbox (a worker's zygote's child, or a new one) that has said hello."""
        if self.sandbox_factory is not None:
            return self.sandbox_factory(self.files, self.entry, self.limits, self.device)
        sandbox = Sandbox(self.files, self.entry, self.limits, slot=self.slot,
                          secret_dirs=self.secret_dirs, env=self.env, device=self.device)
        sandbox.start()
        return sandbox

    def start_early(self) -> None:
        """Start the sandbox now, in a thread, while this process does something slow of its own
        (imports Keras); the first request takes it. Nothing of the learner's runs before then:
        the submission is imported on the first request, as always. Not with a `sandbox_factory`:
        a zygote outlives the grading, and a started sandbox dies with the thread that started it."""
        if self.sandbox_factory is not None or self._early_thread is not None:
            return
        started, release = threading.Event(), threading.Event()

        def run():
            try:
                self._early = self._start()
            except BaseException as err:  # noqa: BLE001  (handed to the first request, which reports it)
                self._early = err
            started.set()
            # bubblewrap's --die-with-parent follows the thread that started it: this one stays
            # until that sandbox is closed
            release.wait()
        self._early_started, self._early_release = started, release
        self._early_thread = threading.Thread(target=run, name="dlgrade-sandbox-start", daemon=True)
        self._early_thread.start()

    def _take_early(self) -> Sandbox | None:
        """The sandbox `start_early` started (or its start error, raised here), once; else None."""
        if self._early_thread is None or self._early_started is None:
            return None
        started, self._early_started = self._early_started, None
        started.wait()
        early, self._early = self._early, None
        if isinstance(early, BaseException):
            self._release_early()
            raise early
        self._early_sandbox = early
        return early

    def _release_early(self) -> None:
        """Let the thread that started the early sandbox end (once that sandbox is closed)."""
        if self._early_release is not None:
            self._early_release.set()
            self._early_thread.join(timeout=5)
            self._early_release = self._early_sandbox = None

    def _ensure(self) -> Sandbox:
        if self.broken:
            if self.broken_kind == Kind.GRADER_FAULT:
                raise GraderFault(self.broken)
            raise SubmissionUnavailable(self.broken, self.broken_status, self.broken_kind)
        if self.sandbox is not None and self.sandbox.alive():
            return self.sandbox
        self._retire()
        if self.starts > MAX_RESTARTS:
            self.broken = (f"your code was stopped {self.starts} times in this grading (time or memory ran out); "
                           "the remaining tests did not run")
            self.broken_status = Status.TIMEOUT if self.timeouts >= self.starts else Status.ERROR
            self.broken_kind = (Kind.TIMEOUT if self.timeouts >= self.starts
                                else Kind.MEMORY if self.memory_kills and self.memory_kills + self.timeouts >= self.starts
                                else Kind.CRASHED)
            raise SubmissionUnavailable(self.broken, self.broken_status, self.broken_kind)
        self.starts += 1
        timeout = self._timeout()
        try:
            self.sandbox = self._take_early() or self._start()
        except SandboxStartError as err:
            self.sandbox = None
            self.faults.append(f"{err}: {err.details}" if err.details else str(err))
            self.broken = f"{err}; this is not a problem in your code"
            self.broken_status, self.broken_kind = Status.ERROR, Kind.GRADER_FAULT
            raise GraderFault(self.broken) from None
        try:
            header, names = self.sandbox.request({"op": "import"}, timeout=timeout)
        except SandboxError as err:
            self._retire()
            self.broken = f"Importing your file {self.entry} {err}"
            self.broken_status = Status.TIMEOUT if isinstance(err, SandboxTimeout) else Status.ERROR
            self.broken_kind = Kind.TIMEOUT if isinstance(err, SandboxTimeout) else _died_kind(err)
            raise SubmissionUnavailable(self.broken, self.broken_status, self.broken_kind) from None
        if header.get("status") == "raised":
            e = header.get("error", {})
            self._retire()
            self.broken = (f"Your file {self.entry} could not be imported: {e.get('type')}: {e.get('message')}\n"
                           f"{e.get('traceback', '')}").strip()
            self.broken_kind = Kind.MEMORY if "MemoryError" in (e.get("mro") or ()) else Kind.IMPORT_ERROR
            raise SubmissionUnavailable(self.broken, Status.ERROR, self.broken_kind)
        if header.get("status") != "ok" or not isinstance(names, list):
            self._retire()
            self.broken = "the sandbox gave an unexpected answer to the import"
            raise SubmissionUnavailable(self.broken, Status.ERROR, Kind.CRASHED)
        # Device and versions come from the runner's hello only, sent before the learner's code ran;
        # whatever the import's answer says about them is ignored.
        self.info, notes = hello_info(getattr(self.sandbox, "ready", None) or {})
        self.faults.extend(n for n in notes if n not in self.faults)
        self.defined = [n for n in names if isinstance(n, str)]
        return self.sandbox

    def call(self, function: str, args: tuple, kwargs: dict, architecture: bool = False):
        """Call the learner's `function` in the sandbox; returns its (validated, decoded) value.
        `architecture`: the models it returns are built without weights and described by config
        alone (`SubmissionProxy.architecture`)."""
        header = {"op": "call", "function": function, "seed": self.seed}
        if architecture:
            header["architecture"] = True
        value = self._request(header, (list(args), dict(kwargs)), function, _models_in((args, kwargs)))
        return self._attach(value, architecture=True) if architecture else value

    def predict(self, model: ModelRef, x, batch_size: int = 256):
        """Run the sandbox's live model on inputs `x`; returns the outputs as an array."""
        return self._request({"op": "predict", "handle": model.handle, "batch_size": int(batch_size),
                              "seed": self.seed}, x, f"{model.name}.predict", [model])

    def describe(self, model: ModelRef) -> ModelRef:
        """The sandbox's live model described again, with its current (trained) weights."""
        value = self._request({"op": "describe", "handle": model.handle}, None, f"{model.name}", [model])
        if not isinstance(value, ModelRef):
            raise SubmissionUnavailable("the sandbox did not describe the trained model")
        return value

    def holds(self, model: ModelRef) -> bool:
        """Whether `model` lives in this session's running sandbox (not in one that a test's time-out or
        crash ended: the next sandbox knows none of its handles, or gives them to other models)."""
        return (model.session is self and model.sandbox_start == self.starts and self.sandbox is not None
                and self.sandbox.alive())

    def _attach(self, value, depth: int = 0, architecture: bool = False):
        """Tie the models in a sandbox answer to this session's running sandbox; `architecture`:
        mark them as described by config alone (no weights, held by no sandbox)."""
        if isinstance(value, ModelRef):
            value.session, value.sandbox_start = self, self.starts
            value.architecture_only = value.architecture_only or architecture
        elif isinstance(value, (list, tuple)) and depth < 8:
            for v in value:
                self._attach(v, depth + 1, architecture)
        elif isinstance(value, dict) and depth < 8:
            for v in value.values():
                self._attach(v, depth + 1, architecture)
        return value

    def _request(self, header: dict, payload, function: str, models: list[ModelRef] = ()):
        if any(m.architecture_only for m in models):  # the test's mistake, never the learner's
            raise GraderFault(f"`{function}` was given a model that a test asked for as architecture only "
                              "(`submission.architecture`): it has no weights to use")
        sandbox = self._ensure()
        if not all(self.holds(m) for m in models):  # never a handle of another sandbox's
            raise SubmissionUnavailable(f"`{function}` was given a model built before your code was stopped and "
                                        "started again (see the test that stopped it); this test could not use it",
                                        Status.ERROR)
        timeout = self._timeout()
        try:
            header, value = sandbox.request(header, payload, timeout=timeout, rng_type=Rng)
        except SandboxTimeout as err:
            self._retire()
            self.timeouts += 1
            raise SubmissionUnavailable(f"`{function}` {err}", Status.TIMEOUT) from None
        except SandboxDied as err:
            self._retire()
            kind = _died_kind(err)
            self.memory_kills += kind == Kind.MEMORY
            raise SubmissionUnavailable(f"your code {err} while running `{function}`", Status.ERROR, kind) from None
        status = header.get("status")
        if status == "ok":
            return self._attach(value)
        if status == "raised":
            e = header.get("error", {})
            raise SubmissionRaised(function, str(e.get("type")), [str(m) for m in e.get("mro", [])],
                                   str(e.get("message", "")), str(e.get("traceback", "")))
        if status == "missing":
            raise SubmissionUnavailable(f"your file does not define a function `{function}`; "
                                        "keep the names of the template", Status.ERROR, Kind.MISSING_FUNCTION)
        if status == "unsendable":
            raise Feedback(f"`{function}` returned {header.get('message')}, which cannot be graded; "
                           "return numbers, strings, lists, tuples, dicts or numpy arrays", kind=Kind.UNSENDABLE)
        if status == "error":
            raise SubmissionUnavailable(f"`{function}`: {header.get('message', 'the sandbox refused the request')}")
        raise SubmissionUnavailable(f"`{function}`: the sandbox gave an unexpected answer")

    def close(self) -> str:
        if self._early_started is not None:  # started early, never taken (no test asked for it)
            try:
                self._retire()
                self.sandbox = self._take_early()
            except SandboxStartError:  # no test ran, so no test reports it
                self.sandbox = None
        self._retire()
        self._release_early()
        return "".join(self.outputs)


def _models_in(value, depth: int = 0) -> list[ModelRef]:
    """The model descriptions among a call's arguments (in lists, tuples and dicts)."""
    if isinstance(value, ModelRef):
        return [value]
    if isinstance(value, (list, tuple)) and depth < 8:
        return [m for v in value for m in _models_in(v, depth + 1)]
    if isinstance(value, dict) and depth < 8:
        return [m for v in value.values() for m in _models_in(v, depth + 1)]
    return []


class SubmissionProxy:
    """`submission.NAME(*args, **kwargs)` calls the learner's NAME in the sandbox."""

    def __init__(self, session: SandboxSession):
        self._session = session

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args, **kwargs):
            return self._session.call(name, args, kwargs)

        call.__name__ = name
        return call

    def defines(self, name: str) -> bool:
        """Whether the learner's module defines a public callable `name`."""
        self._session._ensure()
        return name in self._session.defined

    def architecture(self, function: str, /, *args, **kwargs):
        """`submission.FUNCTION(*args, **kwargs)` for a test that reads only the architecture of the
        models it returns (config, layer table, activations, compile settings): the sandbox builds
        them without allocating their weights (a VGG16 in ~20 ms instead of ~0.5 s and 0.5 GB) and
        sends their config alone. They cannot be predicted, trained or passed back to the learner's
        code. A function that needs a variable's value while building is simply called the usual way."""
        return self._session.call(function, args, kwargs, architecture=True)

    def set_seed(self, seed: int) -> None:
        """Seed (random, numpy, Keras) set in the sandbox before each later call; 0 by default."""
        self._session.seed = int(seed)

    @property
    def device(self) -> str:
        """"cpu" or "gpu": what the sandbox's Keras backend runs on."""
        self._session._ensure()
        return self._session.info.get("device", "cpu")

    @property
    def versions(self) -> dict:
        self._session._ensure()
        return dict(self._session.info.get("versions", {}))


def _jsonable(value):
    import numpy as np
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _points(item) -> float:
    marker = item.get_closest_marker("points")
    return float(marker.args[0]) if marker and marker.args else 1.0


def failure(exc: BaseException | None, memory_mb: int) -> tuple[Status, Kind, str]:
    """(status, kind, text) for a test that failed with `exc`: the `Kind` is known from the
    exception's type, never from its message; the text is one a learner can act on. Any exception
    that is not the learner's (a bug or fault on the trusted side, `GraderFault`) is a grader fault."""
    if isinstance(exc, SubmissionRaised):
        hint = ""
        if exc.type_name == "NotImplementedError":
            hint = "\n(This part of the template is not written yet.)"
        elif exc.type_name == "MemoryError":
            hint = f"\n(The memory limit is {memory_mb} MB.)"
        return (Status.FAILED, exc.kind,
                f"`{exc.function}` raised {exc.type_name}: {exc.message}\n{exc.traceback}".rstrip() + hint)
    if isinstance(exc, SubmissionUnavailable):
        hint = f"\n(The memory limit is {memory_mb} MB.)" if exc.kind == Kind.MEMORY else ""
        return exc.status, exc.kind, str(exc) + hint
    if isinstance(exc, AssertionError) and not isinstance(exc, GraderFault):
        return Status.FAILED, getattr(exc, "kind", Kind.WRONG_ANSWER), str(exc) or "this check failed"
    return Status.ERROR, Kind.GRADER_FAULT, GRADER_FAULT_TEXT


class GradingPlugin:
    """Registered into a trusted pytest session (grading/suite.py), which may serve many gradings
    one after another: `begin` sets the grading that the fixtures and hooks serve next."""

    def __init__(self):
        self.collect_errors: list[str] = []
        self._reference_module = None
        self._reference_loaded_from: Path | None = None
        self.begin(None, None, "visible", 0)

    def begin(self, session: SandboxSession | None, reference: Path | None, visibility: str, memory_mb: int,
              exercise=None, heldout_seed: int = 0, hoda_dir: Path | None = None) -> None:
        """Serve a new grading: its sandbox session, reference, visibility and data; results,
        artifacts and errors start empty. The reference module stays loaded while its path does."""
        self.session = session
        self._heldout_seed = int(heldout_seed)
        self._hoda_dir = hoda_dir
        self.exercise_spec = exercise
        self.reference_path = reference
        self.visibility = visibility
        self.memory_mb = memory_mb
        self.results: list[TestResult] = []
        self.internal_errors: list[str] = []
        self._started: dict[str, float] = {}
        self.artifacts: dict[str, dict] = {}

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "points(n): the points a test is worth")
        config.addinivalue_line("markers", "seconds(s): this test's time limit for the learner's code")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session):
        """From here on, a failing test's report carries no rendered traceback: the results are
        built from the exception itself (`failure`) and nobody reads pytest's text, whose long style
        (the default without the terminal plugin) formats every frame's source and arguments.
        Collection keeps pytest's short style: its errors are the grader's own log."""
        session.config.option.tbstyle = "no"

    @pytest.fixture(scope="session")
    def submission(self):
        return SubmissionProxy(self.session)

    @pytest.fixture(scope="session")
    def reference(self):
        if self.reference_path is None:
            pytest.fail("no reference solution is available to this test suite")
        if self._reference_module is None or self._reference_loaded_from != self.reference_path:
            spec = importlib.util.spec_from_file_location("dlgrade_reference_solution", self.reference_path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._reference_module, self._reference_loaded_from = module, self.reference_path
        return self._reference_module

    @pytest.fixture(scope="session")
    def exercise(self):
        """The exercise being graded (its settings, e.g. `exercise.extra["threshold"]`)."""
        return self.exercise_spec

    @pytest.fixture(scope="session")
    def heldout_seed(self):
        """The seed that draws the held-out data of threshold tests (a course's secret seed, or one
        drawn for this grading); trusted side only, never sent to the sandbox."""
        return self._heldout_seed

    @pytest.fixture(scope="session")
    def hoda(self) -> Path | None:
        """The course's Hoda folder as the grading was given it (`engine.grade(hoda_dir=...)`), or
        None: then the digit tasks use scikit-learn's bundled digits. Pass it to
        `grader.data.digit_task(preset, hoda, ...)`; trusted side only, never sent to the sandbox."""
        return self._hoda_dir

    @pytest.fixture
    def record(self, request):
        """`record(key, value)`: keep data for the feedback report (a training history, a metric,
        a confusion matrix) under this test's name. Values must be JSON-friendly or numpy."""
        store = self.artifacts.setdefault(request.node.name, {})

        def keep(key: str, value):
            store[key] = _jsonable(value)
        return keep

    def pytest_runtest_setup(self, item):
        marker = item.get_closest_marker("seconds")
        self.session.test_limit = float(marker.args[0]) if marker else self.session.limits.test_seconds
        self._started[item.nodeid] = time.monotonic()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "setup" and report.passed:
            return
        if report.when == "teardown" and report.passed:
            return
        if report.when == "call" or report.failed:
            if any(r.name == item.name for r in self.results):
                return
            worth = _points(item)
            duration = time.monotonic() - self._started.get(item.nodeid, time.monotonic())
            if report.passed:
                self.results.append(TestResult(item.name, worth, worth, Status.PASSED, "", self.visibility, duration))
                return
            exc = call.excinfo.value if call.excinfo else None
            status, kind, text = failure(exc, self.memory_mb)
            if kind == Kind.GRADER_FAULT:
                self.internal_errors.append(f"{item.name}: " + ("".join(
                    traceback.format_exception(type(exc), exc, exc.__traceback__))[-4000:]
                    if exc is not None else f"pytest reported a failure without an exception ({report.when})"))
            detail = {"function": exc.function[:200], "error": exc.type_name[:200]} \
                if isinstance(exc, SubmissionRaised) else {}
            self.results.append(TestResult(item.name, 0.0, worth, status, text[:MAX_HINT], self.visibility,
                                           duration, kind, detail))

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append(str(report.longrepr)[-4000:])
