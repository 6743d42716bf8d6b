"""The trusted pytest session of an exercise's test file, configured and collected once per process
and run again for each grading.

Configuring pytest and collecting a test module costs ~40 ms, more than a numpy exercise's tests
take; a batch worker grades the same exercise hundreds of times. A `TrustedSuite` is pytest's own
session kept alive: its items run through pytest's own `pytest_runtest_protocol` for each grading,
and the last item of a run tears down every fixture, session-scoped ones included, so a grading's
`submission`, `reference` and `record` fixtures are made afresh from the plugin's current grading.
A suite is keyed by the test file and the exercise's content hash: a changed exercise gets a new one.
What persists between gradings is the trusted side's own: the imported test module and the loaded
reference (test modules must not keep a learner's values in module-level variables; the exercise
format says so)."""

from __future__ import annotations

import collections
import os
import threading
from pathlib import Path

import pytest
from _pytest.config import _prepareconfig
from _pytest.main import Session

from grader.grading.plugin import GradingPlugin

MAX_SUITES = 8  # per process: a batch grades a few exercises, a test run many


def pytest_args(test_file: Path, rootdir: Path) -> list[str]:
    """The trusted session's command line. No plugin of the environment (entry points: hypothesis,
    anyio, benchmark...) loads into a grading, and none of pytest's own that dlgrade does not read:
    the terminal, the cache, output capture (the engine redirects the session's output itself, and
    a long-lived session must not hold the process's stdout), logging capture, faulthandler (a
    process-wide setting) and the unraisable-exception hook (whose gc.collect calls cost ~30 ms a
    test in a large process)."""
    return [str(test_file), "--disable-plugin-autoload", "-p", "no:cacheprovider", "-p", "no:terminal",
            "-p", "no:unraisableexception", "-p", "no:logging", "-p", "no:faulthandler", "--noconftest",
            "--assert=plain", "--capture=no", "--import-mode=importlib", f"--rootdir={rootdir}",
            "-c", os.devnull, "-W", "ignore::pytest.PytestAssertRewriteWarning", "-o", "python_files=test_*.py"]


class PlainReports:
    """Test reports without pytest's rendering of a failure: dlgrade builds a learner's result from
    the exception itself (plugin.failure) and never shows pytest's text, whose traceback filtering
    alone cost ~0.75 ms a failing test. A report carries the exception's type and first line."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        excinfo = call.excinfo
        if excinfo is None:
            outcome, longrepr = "passed", None
        elif excinfo.errisinstance(pytest.skip.Exception):
            outcome, longrepr = "skipped", (str(item.path), item.location[1] or 0, str(excinfo.value)[:500])
        else:
            outcome = "failed"
            longrepr = f"{excinfo.typename}: {str(excinfo.value)[:500]}"
        return pytest.TestReport(item.nodeid, item.location, {}, outcome, longrepr, call.when, [],
                                 call.duration, call.start, call.stop)


class TrustedSuite:
    """One test file's pytest session, collected once; `run()` grades with the plugin's current
    grading (`plugin.begin(...)` first)."""

    def __init__(self, test_file: Path, rootdir: Path):
        self.plugin = GradingPlugin()
        self.config = _prepareconfig(pytest_args(test_file, rootdir), plugins=[self.plugin, PlainReports()])
        self.closed = False
        self.busy = False
        try:
            self.config._do_configure()
            self.session = Session.from_config(self.config)
            self.session.exitstatus = pytest.ExitCode.OK
            self.config.hook.pytest_sessionstart(session=self.session)
            self.config.hook.pytest_collection(session=self.session)
        except BaseException:
            self.close()
            raise
        self.items = list(self.session.items)
        self.collect_errors = list(self.plugin.collect_errors)

    @property
    def usable(self) -> bool:
        """Collected without errors: worth keeping for the next grading."""
        return not self.closed and not self.collect_errors and bool(self.items)

    def run(self) -> None:
        """Run every collected test for the plugin's current grading, as pytest's own run loop does.
        Whatever happens, every fixture is torn down before this returns."""
        items = self.items
        try:
            for i, item in enumerate(items):
                nextitem = items[i + 1] if i + 1 < len(items) else None
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        except BaseException:
            try:
                self.session._setupstate.teardown_exact(None)
            finally:
                self.close()  # a session that broke mid-run is not used again
            raise

    def close(self) -> None:
        """Finish the session and unconfigure pytest (once)."""
        if self.closed:
            return
        self.closed = True
        try:
            if hasattr(self, "session"):
                self.config.hook.pytest_sessionfinish(session=self.session, exitstatus=self.session.exitstatus)
        finally:
            self.config._ensure_unconfigure()


_suites: collections.OrderedDict[tuple, TrustedSuite] = collections.OrderedDict()
_lock = threading.Lock()


def borrow(test_file: Path, rootdir: Path, exercise_hash: str) -> tuple[TrustedSuite, bool]:
    """The process's suite for this test file and exercise version, made on first use, and whether
    it is kept (a suite in use by another thread, or one whose collection failed, is a one-off: the
    caller closes it with `give_back`)."""
    key = (str(Path(test_file).resolve()), str(rootdir), exercise_hash)
    with _lock:
        suite = _suites.get(key)
        if suite is not None and not suite.busy and suite.usable:
            suite.busy = True
            _suites.move_to_end(key)
            return suite, True
    suite = TrustedSuite(test_file, rootdir)
    with _lock:
        if suite.usable and key not in _suites:
            suite.busy = True
            _suites[key] = suite
            while len(_suites) > MAX_SUITES:
                _, old = _suites.popitem(last=False)
                if not old.busy:
                    old.close()
            return suite, True
    return suite, False


def give_back(suite: TrustedSuite, kept: bool) -> None:
    """End a grading's use of `suite`: a kept one waits for the next grading, a one-off is closed."""
    with _lock:
        suite.busy = False
        if kept and suite.usable:
            return
        for key, held in list(_suites.items()):
            if held is suite:
                del _suites[key]
    suite.close()


def close_all() -> None:
    """Close every kept suite (a worker that ends, a test that needs pytest unconfigured)."""
    with _lock:
        held = list(_suites.values())
        _suites.clear()
    for suite in held:
        suite.close()
