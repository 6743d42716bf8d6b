"""One grading: `grade(exercise, submission) -> Result`.

Stages the learner's files into a private folder, runs the exercise's public or hidden tests in a
trusted pytest session whose `submission` fixture talks to one sandbox process, and returns the
`Result`. The same path serves a learner's `check` and an instructor's `grade`/`autograde`."""

from __future__ import annotations

import contextlib
import gc
import io
import os
import secrets
import shutil
import sys
import time
from pathlib import Path

from grader import __version__
from grader.grading import suite as trusted_suites
from grader.grading.plugin import SandboxSession
from grader.grading.result import Kind, Result, Status, Suite, TestResult
from grader.sandbox.limits import Limits
from grader.sandbox.devices import resolve_device
from grader.exercise import heldout
from grader.exercise.frameworks import import_keras_quietly
from grader.exercise.spec import Exercise, hash_files, solutions_root
# SubmissionError and submission_files are also importable from here (the CLI and the batch catch
# the error from the engine they call)
from grader.grading.files import SubmissionError, submission_files
from grader.grading.notebook_grading import convert_submission, module_files, name_cells
from grader.protocols import RetryFactory, SandboxFactory

SUITES = tuple(Suite)


def _stage(files: dict[str, Path], slot: int = 0) -> tuple[Path, dict[str, Path]]:
    """Copy the files into a fresh private folder (0700; files 0400, owned by the sandbox's uid
    where the grader is root): never the original, never readable by other local users."""
    from grader.sandbox.staging import stage_private
    return stage_private(files, slot)


@contextlib.contextmanager
def _without_outer_assertion_rewriting():
    """Set aside the assertion-rewriting import hook of a pytest session that is already running
    (the project's own tests grade inside one): it would rewrite the exercise's test files too, and a
    rewritten `assert x, message` would show the learner pytest's text instead of the message."""
    hooks = [h for h in sys.meta_path if type(h).__name__ == "AssertionRewritingHook"]
    for h in hooks:
        sys.meta_path.remove(h)
    try:
        yield
    finally:
        for h in reversed(hooks):
            sys.meta_path.insert(0, h)


def _forget_modules(roots: list[Path], before: dict | None = None) -> None:
    """Drop test and reference modules imported from `roots`, so a later grading in this process
    imports them afresh (a changed test file is never served stale). With `before` (a copy of
    `sys.modules` taken before the grading), only the modules the grading added or replaced are
    looked at: the cost follows what the grading imported, not all that the process holds."""
    if before is None:
        candidates = list(sys.modules.items())
    else:
        candidates = [(name, mod) for name, mod in list(sys.modules.items()) if before.get(name) is not mod]
    for name, mod in candidates:
        f = getattr(mod, "__file__", None)
        if f and any(Path(f).resolve().is_relative_to(r) for r in roots):
            del sys.modules[name]


def grade(exercise: Exercise, submission: Path, suite: Suite | str = Suite.HIDDEN, slot: int = 0,
          env: dict[str, str] | None = None, limits: Limits | None = None, device: str = "auto",
          sandbox_factory: SandboxFactory | None = None, retry_factory: RetryFactory | None = None,
          retries: int = 1, heldout_seed: int | None = None,
          hoda_dir: Path | None = None) -> Result:
    """Grade `submission` like `grade_once`; a grading with a grader fault (`Result.grader_fault`)
    is graded again, `retries` times, in a fresh sandbox (`retry_factory`, e.g. a fresh zygote's,
    else a new sandbox without a zygote). A fault that stays is the result's `grader_fault`: the
    caller stores it as failed, never as a grade. `extra_data["attempts"]` counts the gradings."""
    result = grade_once(exercise, submission, suite, slot, env, limits, device, sandbox_factory,
                        heldout_seed=heldout_seed, hoda_dir=hoda_dir)
    attempts, faults = 1, []
    while result.grader_fault and attempts <= retries:
        faults.append(result.grader_fault)
        factory = retry_factory() if callable(retry_factory) else None
        result = grade_once(exercise, submission, suite, slot, env, limits, device, factory,
                            heldout_seed=heldout_seed, hoda_dir=hoda_dir)
        attempts += 1
    result.extra_data["attempts"] = attempts
    if faults:
        result.extra_data["earlier_faults"] = faults
    return result


def grade_once(exercise: Exercise, submission: Path, suite: Suite | str = Suite.HIDDEN, slot: int = 0,
               env: dict[str, str] | None = None, limits: Limits | None = None, device: str = "auto",
               sandbox_factory: SandboxFactory | None = None, heldout_seed: int | None = None,
               hoda_dir: Path | None = None) -> Result:
    """Grade `submission` (a file or folder) against the exercise's `suite` ("public"/"hidden").
    `heldout_seed` draws the held-out data of threshold tests (the `heldout_seed` fixture): a
    course's secret seed; None draws one for this grading.
    `hoda_dir` is the course's Hoda folder (the tests' `hoda` fixture); None: the digit tasks use
    scikit-learn's bundled digits. It is never read from the environment here: the caller (the
    CLI, a batch worker) resolves it and passes it, so concurrent gradings cannot race on it.
    `limits` overrides the exercise's own; `slot` picks the sandbox uid (one per parallel grading);
    `device` is auto/cpu/gpu (a GPU only for exercises whose `gpu` setting allows it);
    `sandbox_factory(files, entry, limits, device)` supplies the sandbox (a worker's zygote)."""
    limits = limits or exercise.limits
    try:
        run_on = resolve_device(device, exercise.gpu)
    except ValueError as err:
        raise SubmissionError(str(err)) from None
    env = dict(env or {})
    if exercise.preload:
        env["DLGRADE_PRELOAD"] = ",".join(exercise.preload)
    if suite not in SUITES:
        raise ValueError(f"suite must be one of {', '.join(SUITES)}, not {suite!r}")
    suite = Suite(suite)
    if suite == Suite.PUBLIC:
        test_file, visibility = exercise.public_tests, "visible"
    else:
        test_file, visibility = exercise.hidden_tests, "after_published"
        if test_file is None:
            raise SubmissionError(f"the hidden tests of {exercise.id} are not available here (they are "
                                  "instructor-only); use `dlgrade check` for the public tests")
    files = submission_files(exercise, submission)
    notebook = convert_submission(exercise, files)  # a notebook: its module, made here (None for .py files)
    t0 = time.monotonic()
    with module_files(files, notebook) as graded:  # the sandbox gets the module, never the notebook
        stage, staged = _stage(graded, slot)
    secret_dirs = [p.resolve() for p in (solutions_root(), exercise.solution_dir) if p is not None]
    session = SandboxSession(staged, exercise.entry, limits, secret_dirs, slot=slot, env=env, device=run_on,
                             sandbox_factory=sandbox_factory)
    exercise_hash = exercise.content_hash()
    roots = [test_file.parent.resolve()] + ([exercise.solution_dir.resolve()] if exercise.solution_dir else [])
    modules_before = dict(sys.modules)
    trusted = kept = plugin = None
    broke: list[str] = []
    try:
        if "keras" in exercise.preload and "keras" not in sys.modules:
            # its tests and reference import Keras here (quietly: no framework lines on the terminal);
            # the sandbox, which preloads Keras too, starts first, so the two imports overlap
            session.start_early()
            if import_keras_quietly():
                gc.freeze()  # Keras's ~350,000 objects out of the collector's walks (see prepare_grading_process)
                heldout.fork_server()  # the held-out predictor's server, before this process runs a Keras op
            modules_before = dict(sys.modules)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                _without_outer_assertion_rewriting():
            trusted, kept = trusted_suites.borrow(test_file, test_file.parent.parent, exercise_hash)
            plugin = trusted.plugin
            plugin.begin(session, exercise.solution if suite == Suite.HIDDEN else None, visibility,
                         limits.memory_mb, exercise,
                         heldout_seed=secrets.randbelow(2**31) if heldout_seed is None else int(heldout_seed),
                         hoda_dir=Path(hoda_dir).expanduser().resolve() if hoda_dir not in (None, "") else None)
            if trusted.usable:
                trusted.run()
    except Exception as exc:  # pytest itself or the grader broke: a grader fault, never a grade
        broke.append(f"the trusted test session failed: {type(exc).__name__}: {exc}"[:4000])
    finally:
        output = session.close()
        shutil.rmtree(stage, ignore_errors=True)
        if trusted is not None:
            trusted_suites.give_back(trusted, kept)
        # a kept suite holds its own test module; sys.modules forgets it, so a changed test file is
        # never served stale to a new suite (pytest's importlib mode reuses a module it finds there)
        _forget_modules(roots, modules_before)
        heldout.discard_warm()  # a predictor warmed up for a prediction that never came
    results = list(plugin.results) if plugin is not None else []
    internal = session.faults + (list(plugin.internal_errors) if plugin is not None else []) + broke
    collect_errors = trusted.collect_errors if trusted is not None else []
    if broke or collect_errors or (trusted is not None and not trusted.items):
        internal += collect_errors or ([] if broke else ["the test file collected no tests"])
        results.append(TestResult("tests could be collected", 0.0, 1.0, Status.ERROR,
                                  "the grader could not run this exercise's tests; it will be graded again",
                                  visibility, kind=Kind.GRADER_FAULT))
    return name_cells(Result(  # a notebook's cells named where its module's lines were
        exercise=exercise.id, suite=suite, tests=results, execution_time=time.monotonic() - t0,
        output=output,
        extra_data={
            "grader_version": __version__,
            "submission_sha256": hash_files(list(files.items())),
            "exercise_sha256": exercise_hash,
            "device": session.info.get("device", "cpu"),
            "device_requested": device,
            "artifacts": plugin.artifacts if plugin is not None else {},
            "versions": session.info.get("versions", {}),
            "sandbox": dict(session_protections(limits), started_by="zygote" if sandbox_factory else "fresh"),
            "internal_errors": internal,
        }), notebook)


def session_protections(limits: Limits | None = None) -> dict:
    """The protections of this machine's sandboxes, with the memory bound for `limits`."""
    from grader.sandbox.probe import probe
    return probe().as_dict(limits)
