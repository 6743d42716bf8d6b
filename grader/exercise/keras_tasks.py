"""What the tests of every Keras exercise that trains on digits share: the `task` fixture (a digit
task drawn with the grading's held-out seed from the course's Hoda folder), the `trained` fixture
that builds and trains the learner's model once per grading, and the held-out accuracy check.
Exercise authors import them through `grader.modelcheck`:

    task = digit_task_fixture("mlp-5x5")
    trained = trained_fixture()

    def _train(submission, task, trained):
        return trained(lambda: model_from(submission.build_mlp, "build_mlp(...)", input_dim=25, num_classes=10),
                       lambda model: submission.train_mlp(model, task.x_train, task.y_train_onehot))

    def test_held_out_accuracy(submission, task, trained, exercise, record):
        score_trained(_train(submission, task, trained), task, exercise, submission.device, record,
                      "train_mlp(model, x, y)")
"""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from grader.data import DigitTask, digit_task
from grader.exercise.modelcheck import (LayerRow, compare_layers, expect_history, layer_rows, score_held_out,
                                       warm_up)
from grader.exercise.modelsize import Caps, ModelRefused, check_caps
from grader.exercise.rebuild import rebuild_structure
from grader.exercise.testing import Feedback
from grader.exercise.weightless import built_without_weights
from grader.sandbox.inside.wire import ModelRef

__all__ = ["Trained", "TrainOnce", "OnceEach", "digit_task_fixture", "trained_fixture", "builds_fixture", "score_trained",
           "layer_table", "reference_layer_table", "check_layer_table"]


class Trained(NamedTuple):
    """The learner's trained model (as the sandbox holds it), what its training returned, and how
    long the training took."""

    model: ModelRef
    history: Any
    seconds: float


class TrainOnce:
    """Builds and trains the learner's model once for the tests of a grading that need it; a
    failure (the learner's exception, a time-out) is kept and raised again for each of them."""

    def __init__(self, caps: Caps | None = None) -> None:
        self._result: Trained | None = None
        self._error: BaseException | None = None
        self._caps = caps  # the exercise's: what the held-out predictor may build ahead

    def __call__(self, build: Callable[[], ModelRef], train: Callable[[ModelRef], Any]) -> Trained:
        """`build()` returns the learner's model (e.g. `model_from(submission.build_mlp, ...)`),
        `train(model)` trains it in the sandbox and returns its history. The trusted held-out
        predictor starts (`warm_up`) while the sandbox trains."""
        if self._result is None and self._error is None:
            try:
                model = build()
                warm_up(model, self._caps)  # the trusted predictor starts, and rebuilds the model, while the sandbox trains
                started = time.monotonic()
                history = train(model)
                self._result = Trained(model, history, time.monotonic() - started)
            except Exception as err:  # kept and raised again for every test that needs it
                self._error = err
        if self._result is None:
            raise self._error
        return self._result


class OnceEach:
    """Calls made once per grading: the first call with a key gives its value (or its failure) to
    every later call with the same key. The tests that look at the same model of the learner's
    (`build_mlp(input_dim=25, num_classes=10)` for its layer table and for its activations) then
    ask the sandbox once, and a failure is the same failure for each of them."""

    def __init__(self) -> None:
        self._done: dict[Any, tuple[bool, Any]] = {}

    def __call__(self, key, make: Callable[[], Any]):
        """`make()`'s value for `key`, made on the first call with that key, and made again when a
        model in it is stale (an earlier test stopped the learner's code, so the sandbox that held
        the model was started again: its handle is gone there)."""
        if key in self._done and self._done[key][0] and _holds_stale_model(self._done[key][1]):
            del self._done[key]
        if key not in self._done:
            try:
                self._done[key] = (True, make())
            except Exception as err:  # kept and raised again for every test that asks the same
                self._done[key] = (False, err)
        ok, value = self._done[key]
        if not ok:
            raise value
        return value


def _holds_stale_model(value, depth: int = 0) -> bool:
    if isinstance(value, ModelRef):
        return value.stale()
    if isinstance(value, (list, tuple)) and depth < 4:
        return any(_holds_stale_model(v, depth + 1) for v in value)
    return False


def builds_fixture():
    """A module-scoped `builds` fixture holding a `OnceEach` for this grading (the last test of a
    grading tears it down). Assign it in the test module: `builds = builds_fixture()`, then
    `builds(("build_mlp", 25, 10), lambda: ...)`."""

    @pytest.fixture(scope="module")
    def builds() -> OnceEach:
        """The learner's models built once per grading for the tests that share them."""
        return OnceEach()

    return builds


def digit_task_fixture(preset: str):
    """A module-scoped `task` fixture: `digit_task(preset)` of `datasets/hoda.toml` on the course's
    Hoda folder (the `hoda` fixture; scikit-learn's digits without one), its held-out part drawn
    with the grading's `heldout_seed`. Assign it in the test module: `task = digit_task_fixture(...)`."""

    @pytest.fixture(scope="module")
    def task(heldout_seed, hoda) -> DigitTask:
        """The digits of this grading: the training split goes to the sandbox, the held-out split never."""
        return digit_task(preset, hoda, heldout_seed=heldout_seed)

    return task


def trained_fixture():
    """A module-scoped `trained` fixture holding a `TrainOnce`. Assign it in the test module:
    `trained = trained_fixture()`."""

    @pytest.fixture(scope="module")
    def trained(exercise) -> TrainOnce:
        """Holds the learner's trained model (or the failure) for the tests of this grading."""
        return TrainOnce(exercise.caps)

    return trained


def score_trained(result: Trained, task: DigitTask, exercise, device: str, record, what: str) -> None:
    """The held-out accuracy test of a trained model: record its history for the report (when it is
    well-formed: the history has a test of its own), then score it on the task's held-out digits
    against the exercise's `[threshold]` for the task's data set (`score_held_out`). `what` names the
    training call in messages, e.g. "train_mlp(model, x, y)"."""
    try:
        record("history", expect_history(result.history, what))
    except Feedback:
        pass  # the history test says what is wrong with it
    threshold = float(exercise.extra["threshold"][task.dataset])
    score_held_out(result.model, task, threshold, result.seconds, device, record, exercise.caps)


def layer_table(model) -> list[LayerRow]:
    """The rows of a rebuilt model's layer table without its InputLayer (what the README's
    architecture lists)."""
    return [r for r in layer_rows(model) if r.kind != "InputLayer"]


_reference_tables: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def reference_layer_table(build: Callable, *args, **kwargs) -> list[LayerRow]:
    """`layer_table(build(*args, **kwargs))` for a build function of the *reference* solution (the
    `reference` fixture's), computed once per function and arguments for as long as the trusted
    process keeps that reference loaded: a batch worker compares every learner with the same
    reference tables. Never for a learner's function (theirs run in the sandbox)."""
    tables = _reference_tables.setdefault(build, {})
    key = repr((args, sorted(kwargs.items())))
    if key not in tables:
        tables[key] = layer_table(built_without_weights(build, *args, **kwargs))  # a VGG16: ~20 ms, not ~0.5 s
        gc.collect()  # the model is gone at once (0.5 GB of weights, had it been built the ordinary way)
    return list(tables[key])


def check_layer_table(ref: ModelRef, want: list[LayerRow], what: str = "your model",
                      caps: Caps | None = None) -> list[LayerRow]:
    """Compare the layer table of a learner's model (as the sandbox described it) with `want`
    (e.g. `reference_layer_table(...)`) and return it; Feedback with the first difference.

    The table is read off the model's config by the size walker (`modelsize.check_caps`: the
    exercise's caps apply, nothing is allocated, no Keras), which costs ~1 ms where rebuilding the
    model with Keras costs ~60 ms. Where the walker's table differs from `want`, the model is
    rebuilt with Keras (`rebuild_structure`, without weights) and Keras's own table decides: the walker's arithmetic can
    save time but never costs a learner a point on its own."""
    try:
        rows = list(check_caps(ref.config, caps or Caps(), what).rows)
    except ModelRefused as err:
        raise Feedback(str(err)) from None
    try:
        compare_layers(rows, want, what)
        return rows
    except Feedback:
        try:
            rows = layer_table(rebuild_structure(ref.config, what, caps, allocate=False))
        finally:
            gc.collect()  # the rebuilt model is gone at once, not at a later walk
        compare_layers(rows, want, what)
        return rows
