"""Hidden tests for keras-mlp.

Architecture: the learner's models are rebuilt from their configuration in safe mode on the
trusted side and compared layer by layer (class, output shape, parameters) with the reference
solution's model built here, for the notes' 25 inputs and for other input and class counts.

Accuracy: the learner's MLP is built and trained in the sandbox on the training digits of
digit_task("mlp-5x5") (Hoda when the course has it, else scikit-learn's digits at 5x5); only the
training split enters the sandbox. The sandbox hands back the trained model (config + weights)
and the held-out digits, drawn with the grading's secret `heldout_seed`, are predicted on the
trusted side (`grader.exercise.heldout`, a limited child process) and scored here. The threshold per data
set is in exercise.toml ([threshold]), with how it was measured; the model's size is capped by
[caps] before anything is allocated.

Each test costs one property's points: the layer tables compare classes, shapes and parameter
counts only; the activations have their own test; the history and the held-out accuracy are
separate (a malformed history never costs the accuracy).

Messages name the property that failed and never show an expected value beyond the
architecture that the README states."""

import time

import pytest

from grader.data import digit_task
from grader.modelcheck import warm_up
from grader.modelcheck import (check_training_history, score_held_out, metric_names, model_from,
                               compare_layers, compile_settings, expect_history, layer_rows, loss_name,
                               rebuild)
from grader.testing import Feedback, points

TRAIN_SECONDS = 60  # the README promises the training this much time (on CPU)


_model = model_from  # the learner's model, or a message saying why it cannot be described


def _rows(model):
    return [r for r in layer_rows(model) if r.kind != "InputLayer"]


def _built(submission, exercise, what, *args, **kwargs):
    ref = _model(submission.build_mlp, what, *args, **kwargs)
    return ref, rebuild(ref, what, exercise.caps)


def _check_activations(model, what):
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    if len(dense) != 2:
        raise Feedback(f"{what} should have 2 Dense layers, but it has {len(dense)}")
    if dense[0].get_config().get("activation") != "relu":
        raise Feedback(f"the hidden Dense layer of {what} does not use activation='relu'")
    if dense[1].get_config().get("activation") != "softmax":
        raise Feedback(f"the output Dense layer of {what} does not use activation='softmax'")


_loss = loss_name  # function losses included


_metric_names = metric_names


@pytest.fixture(scope="module")
def task(heldout_seed):
    return digit_task("mlp-5x5", heldout_seed=heldout_seed)


@pytest.fixture(scope="module")
def trained():
    """Holds the learner's trained MLP (or the failure) for the tests of this grading."""
    return {}


def _train(submission, task, trained):
    """Build and train the learner's MLP once for the tests that need it (a failure is kept and
    raised again for each of them)."""
    if "result" not in trained:
        what = f"build_mlp(input_dim={task.x_train.shape[1]}, num_classes={task.num_classes})"
        try:
            ref = _model(submission.build_mlp, what, input_dim=task.x_train.shape[1], num_classes=task.num_classes)
            warm_up()  # the trusted predictor starts while the sandbox trains
            t0 = time.monotonic()
            history = submission.train_mlp(ref, task.x_train, task.y_train_onehot)
            trained["result"] = (ref, history, time.monotonic() - t0)
        except Exception as err:  # kept and raised again for every test that needs it
            trained["result"], trained["error"] = None, err
    if trained["result"] is None:
        raise trained["error"]
    return trained["result"]


@points(1)
def test_build_mlp_returns_a_built_keras_model(submission, exercise):
    _built(submission, exercise, "build_mlp()")


@points(2)
def test_layer_table_for_25_inputs(submission, reference, exercise):
    _, model = _built(submission, exercise, "build_mlp(input_dim=25, num_classes=10)", input_dim=25, num_classes=10)
    compare_layers(_rows(model), _rows(reference.build_mlp(input_dim=25, num_classes=10)),
                   "build_mlp(input_dim=25, num_classes=10)")
    total = sum(r.params for r in _rows(model))
    assert total == 2314, f"build_mlp(input_dim=25, num_classes=10) has {total:,} parameters in all; the notes' model has 2,314"


@points(1)
def test_activations_relu_then_softmax(submission, exercise):
    _, model = _built(submission, exercise, "build_mlp(input_dim=25, num_classes=10)", input_dim=25, num_classes=10)
    _check_activations(model, "build_mlp(input_dim=25, num_classes=10)")


@points(3)
def test_layer_table_for_other_inputs_and_classes(submission, reference, exercise):
    for input_dim, num_classes in ((64, 10), (784, 10), (16, 3), (25, 2)):
        what = f"build_mlp(input_dim={input_dim}, num_classes={num_classes})"
        _, model = _built(submission, exercise, what, input_dim=input_dim, num_classes=num_classes)
        compare_layers(_rows(model), _rows(reference.build_mlp(input_dim=input_dim, num_classes=num_classes)), what)


@points(2)
def test_compiled_with_categorical_crossentropy_and_accuracy(submission, exercise):
    ref, _ = _built(submission, exercise, "build_mlp()")
    settings = compile_settings(ref, "build_mlp()")
    name = _loss(settings)
    assert name == "categorical_crossentropy", (
        f"build_mlp() is compiled with the loss {name or 'None'!r}; one-hot labels and a softmax output go with "
        "loss='categorical_crossentropy'")
    assert any("acc" in m for m in _metric_names(settings)), (
        "build_mlp() is compiled without an accuracy metric; pass metrics=['accuracy']")


@points(2)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_train_mlp_returns_the_history(submission, task, trained):
    _, history, _ = _train(submission, task, trained)
    check_training_history(history, "train_mlp(model, x, y)")


@points(5)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_held_out_accuracy(submission, task, trained, exercise, record):
    ref, history, seconds = _train(submission, task, trained)
    try:
        record("history", expect_history(history, "train_mlp(model, x, y)"))
    except Feedback:
        pass  # the history test says what is wrong with it
    threshold = float(exercise.extra["threshold"][task.dataset])
    score_held_out(ref, task, threshold, seconds, submission.device, record, exercise.caps)
