"""Hidden tests for transfer-learning.

The grader's recipe, in the sandbox and on training digits only: build_base((16, 16, 1)) (the
issue's signature: the base has 5 outputs; num_classes is never passed) and train_base(model, x, y)
on the training digits 0-4 of digit_task("transfer-base-16"); replace_head(model, 5); freeze_base;
then fine-tune with the learner's own train_base(model, x, y, epochs=FINE_TUNE_EPOCHS) on
FEW_PER_CLASS training digits of each of 5-9 (digit_task("transfer-new-16"), labels 0-4), or, where
that train_base takes no `epochs` (the issue's train_base(model, x, y)), with train_base(model, x, y)
called again until its histories add up to FINE_TUNE_EPOCHS epochs (at most MAX_FINE_TUNE_CALLS
calls). After
each step the sandbox describes the model (config + weights); everything is judged here, from those
descriptions: the new head, the trained weights the kept layers still hold, which weights are
trainable (the rebuilt model's own trainable weights, not the learner's word), whether fine-tuning
left every weight of the frozen base as it was (the batch norm statistics included), whether the
features extract_features returns are what the head sees (the head's weights applied to them give
the model's predictions), whether the saved model (config + weights, rebuilt in safe mode in the
held-out predictor: save and load) predicts what the live model in the sandbox predicts and keeps
its frozen layers, and the accuracy on held-out digits 5-9 drawn with the grading's secret
`heldout_seed`, predicted on the trusted side.

Each test costs one property's points; messages never show an expected value beyond what the
README states."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

from grader.data import digit_task
from grader.exercise import heldout
from grader.modelcheck import (ModelRef, OnceEach, check_training_history, compare_layers, expect_history,
                               expect_model, layer_table, reference_layer_table, model_from, rebuild, score_held_out,
                               warm_up)
from grader.testing import Feedback, SubmissionRaised, expect_array, points

TRAIN_SECONDS = 60  # the README promises the base's training this much time (on CPU)
FEW_PER_CLASS = 10  # training digits of each of 5-9 that the fine-tuning sees
FINE_TUNE_EPOCHS = 40
MAX_FINE_TUNE_CALLS = 40  # a train_base without `epochs` is called again at most this often
SHAPE = (16, 16, 1)


@pytest.fixture(scope="module")
def old_task(heldout_seed, hoda):
    """Digits 0-4: the base's training digits go to the sandbox."""
    return digit_task("transfer-base-16", hoda, heldout_seed=heldout_seed)


@pytest.fixture(scope="module")
def new_task(heldout_seed, hoda):
    """Digits 5-9 (labels 0-4): a few training digits go to the sandbox, the held-out ones never."""
    return digit_task("transfer-new-16", hoda, heldout_seed=heldout_seed)


@pytest.fixture(scope="module")
def steps() -> OnceEach:
    """Each step of the recipe, run once per grading (a failure is kept for the tests that need it)."""
    return OnceEach()


def few_shot(task) -> tuple[np.ndarray, np.ndarray]:
    """FEW_PER_CLASS training digits of each class (a fixed public choice: training data)."""
    rng = np.random.default_rng(0)
    idx = np.concatenate([rng.permutation(np.flatnonzero(task.y_train == c))[:FEW_PER_CLASS]
                          for c in range(task.num_classes)])
    return task.x_train[idx], task.y_train_onehot[idx]


def _epochs_in(history) -> int:
    """The epochs a train_base call reports (its history's loss list), at least 1."""
    try:
        return max(1, len(expect_history(history, "train_base(model, x, y)")["loss"]))
    except Feedback:
        return 1


def _takes_no_epochs(err: SubmissionRaised) -> bool:
    """The learner's train_base has no `epochs` parameter (Python's own TypeError for the call)."""
    return err.is_a("TypeError") and "unexpected keyword argument" in err.message and "'epochs'" in err.message


def fine_tune(submission, model, x, y) -> None:
    """train_base(model, x, y, epochs=FINE_TUNE_EPOCHS); where train_base takes no `epochs`,
    train_base(model, x, y) again until its histories add up to FINE_TUNE_EPOCHS epochs."""
    try:
        submission.train_base(model, x, y, epochs=FINE_TUNE_EPOCHS)
        return
    except SubmissionRaised as err:
        if not _takes_no_epochs(err):
            raise
    done = 0
    for _ in range(MAX_FINE_TUNE_CALLS):
        done += _epochs_in(submission.train_base(model, x, y))
        if done >= FINE_TUNE_EPOCHS:
            return


class Base(NamedTuple):
    model: ModelRef      # the live model in the sandbox
    trained: ModelRef    # its description after train_base
    history: object


class Tuned(NamedTuple):
    model: ModelRef      # the live (frozen, fine-tuned) model
    before: ModelRef     # its description after freeze_base, before fine-tuning
    after: ModelRef      # its description after fine-tuning
    seconds: float


def _base(submission, old_task, steps) -> Base:
    def make():
        what = f"build_base({SHAPE})"
        model = model_from(submission.build_base, what, SHAPE)
        warm_up()
        history = submission.train_base(model, old_task.x_train, old_task.y_train_onehot)
        return Base(model, model.trained(), history)
    return steps("base", make)


def _new(submission, old_task, steps) -> ModelRef:
    def make():
        base = _base(submission, old_task, steps)
        return expect_model(submission.replace_head(base.model, 5), "replace_head(model, 5)")
    return steps("head", make)


def _tuned(submission, old_task, new_task, steps) -> Tuned:
    def make():
        import time
        new = _new(submission, old_task, steps)
        frozen = submission.freeze_base(new)
        frozen = new if frozen is None else expect_model(frozen, "freeze_base(model)")
        before = frozen.trained()
        x, y = few_shot(new_task)
        started = time.monotonic()
        fine_tune(submission, frozen, x, y)
        return Tuned(frozen, before, frozen.trained(), time.monotonic() - started)
    return steps("tuned", make)


def _weights_by_layer(model) -> list[tuple[str, bool, list[np.ndarray]]]:
    """(layer class, trainable, weights) of each layer that has weights, in order (nested models
    flattened; a layer inside a frozen model is frozen)."""
    out = []
    for layer in model.layers:
        if hasattr(layer, "layers"):
            out += [(k, t and layer.trainable, w) for k, t, w in _weights_by_layer(layer)]
        elif layer.weights:
            out.append((type(layer).__name__, bool(layer.trainable), [np.asarray(w) for w in layer.get_weights()]))
    return out


def _head_only_trainable(model) -> bool:
    head = {id(w) for w in model.layers[-1].trainable_weights}
    return bool(head) and {id(w) for w in model.trainable_weights} == head


@points(2)
def test_build_base_layer_table_of_the_notes(submission, reference, exercise):
    what = "build_base((28, 28, 1))"
    ref = model_from(submission.build_base, what, (28, 28, 1))
    got = layer_table(rebuild(ref, what, exercise.caps))
    compare_layers(got, reference_layer_table(reference.build_base, (28, 28, 1)), what)


@points(1)
def test_build_base_for_other_shapes(submission, reference, exercise):
    for shape in (SHAPE, (32, 32, 3)):
        what = f"build_base({shape})"
        ref = model_from(submission.build_base, what, shape)
        compare_layers(layer_table(rebuild(ref, what, exercise.caps)),
                       reference_layer_table(reference.build_base, shape), what)


@points(1)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_train_base_returns_the_history(submission, old_task, steps):
    check_training_history(_base(submission, old_task, steps).history, "train_base(model, x, y)")


@points(2)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_replace_head_ends_in_a_new_softmax_head(submission, old_task, steps, exercise):
    base = rebuild(_base(submission, old_task, steps).trained, "your trained base", exercise.caps)
    new = rebuild(_new(submission, old_task, steps), "replace_head(model, 5)", exercise.caps)
    last = new.layers[-1]
    assert type(last).__name__ == "Dense" and last.get_config().get("activation") == "softmax", (
        "the last layer of replace_head(model, 5) should be a new Dense(5, activation='softmax')")
    out = tuple(int(d) for d in new.outputs[0].shape[1:])
    assert out == (5,), f"replace_head(model, 5) outputs shape {out}; it should output (5,)"
    compare_layers(layer_table(new)[:-1], layer_table(base)[:-1], "replace_head(model, 5) (all but its head)")


@points(2)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_replace_head_keeps_the_trained_weights(submission, old_task, steps, exercise):
    base = _weights_by_layer(rebuild(_base(submission, old_task, steps).trained, "your trained base", exercise.caps))
    new = _weights_by_layer(rebuild(_new(submission, old_task, steps), "replace_head(model, 5)", exercise.caps))
    if len(new) != len(base) or any(a[0] != b[0] for a, b in zip(new[:-1], base[:-1])):
        raise Feedback("replace_head(model, 5) should keep every layer of the base but its head")
    for (kind, _, got), (_, _, want) in zip(new[:-1], base[:-1]):
        if len(got) != len(want) or not all(g.shape == w.shape and np.array_equal(g, w) for g, w in zip(got, want)):
            raise Feedback(f"a {kind} layer of replace_head(model, 5) does not hold the weights the base learned; "
                           "reuse the trained model's layers (model.layers[-2].output) instead of building new ones")


@points(2)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_freeze_base_leaves_only_the_head_trainable(submission, old_task, new_task, steps, exercise):
    tuned = _tuned(submission, old_task, new_task, steps)
    model = rebuild(tuned.before, "freeze_base(model)", exercise.caps)
    assert model.trainable, (
        "after freeze_base(model) the model itself is not trainable (model.trainable = False): in Keras 3 such a "
        "model trains none of its layers, whatever their own flags say; set trainable on each layer instead")
    assert _head_only_trainable(model), (
        "after freeze_base(model) the trainable weights should be the head's (the last Dense layer's kernel and "
        "bias) and no others: set layer.trainable = False on every other layer, True on the head")
    head_before = _weights_by_layer(model)[-1][2]
    head_after = _weights_by_layer(rebuild(tuned.after, "your fine-tuned model", exercise.caps))[-1][2]
    assert not all(np.array_equal(b, a) for b, a in zip(head_before, head_after)), (
        "fine-tuning with train_base did not change the head's weights, so the head is not trainable in your model: "
        "in Keras 3 a model with model.trainable = False trains none of its layers, whatever their own flags say; "
        "set trainable on each layer instead")


@points(2)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_fine_tuning_leaves_the_frozen_base_unchanged(submission, old_task, new_task, steps, exercise):
    tuned = _tuned(submission, old_task, new_task, steps)
    before = _weights_by_layer(rebuild(tuned.before, "your frozen model", exercise.caps))
    after = _weights_by_layer(rebuild(tuned.after, "your fine-tuned model", exercise.caps))
    for (kind, trainable, b), (_, _, a) in zip(before[:-1], after[:-1]):
        if not all(np.array_equal(x, y) for x, y in zip(b, a)):
            if trainable:
                raise Feedback(f"fine-tuning with train_base changed the weights of a {kind} layer of the base, which "
                               "freeze_base left trainable: every layer but the head needs trainable = False")
            raise Feedback(f"fine-tuning with train_base changed the weights of a frozen {kind} layer (the batch norm "
                           "statistics count too); compile the model again in freeze_base, after setting trainable")


@points(2)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_extract_features_are_what_the_head_sees(submission, old_task, new_task, steps, exercise):
    tuned = _tuned(submission, old_task, new_task, steps)
    x = few_shot(new_task)[0][:40]
    model = rebuild(tuned.after, "your fine-tuned model", exercise.caps)
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in model.layers[-1].get_weights()[:2])
    features = expect_array(submission.extract_features(tuned.model, x), "extract_features(model, x)",
                            shape=(len(x), kernel.shape[0]), dtype_kind="f")
    z = features.astype(np.float64) @ kernel + bias
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    predicted = heldout.predict(tuned.after, x, exercise.caps, "your fine-tuned model", outputs=5)
    assert np.allclose(p, predicted, atol=1e-4), (
        "extract_features(model, x) should return the output of the layer before the head (what the head "
        "takes); the head applied to your features does not give the model's predictions")


@points(1)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_the_saved_model_loads_as_it_was(submission, old_task, new_task, steps, exercise):
    tuned = _tuned(submission, old_task, new_task, steps)
    x = few_shot(new_task)[0][:40]
    loaded = heldout.predict(tuned.after, x, exercise.caps, "your saved model", outputs=5)
    live = expect_array(tuned.model.predict(x), "model.predict(x)", shape=(len(x), 5), dtype_kind="f")
    assert np.allclose(loaded, live, atol=1e-4), (
        "your fine-tuned model, saved (its configuration and weights) and loaded again, does not predict what the "
        "model itself predicts; build it from Keras's own layers")


@points(5)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_held_out_accuracy_on_the_new_digits(submission, old_task, new_task, steps, exercise, record):
    tuned = _tuned(submission, old_task, new_task, steps)
    threshold = float(exercise.extra["threshold"][new_task.dataset])
    score_held_out(tuned.after, new_task, threshold, tuned.seconds, submission.device, record, exercise.caps)
