"""Hidden tests for keras-mlp.

Architecture: the learner's models, as the sandbox described them (JSON config), are compared
layer by layer (class, output shape, parameters) with the reference solution's model built here,
for the notes' 25 inputs and for other input and class counts. The learner's table is read off
the config by the size walker (`check_layer_table`; Keras rebuilds the model where the walker's
table differs, and its table decides); `build_mlp()` is also rebuilt in Keras's safe mode on the
trusted side (the first test).

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

import pytest

from grader.modelcheck import (builds_fixture, check_layer_table, check_training_history, compile_settings,
                               digit_task_fixture, layer_configs, reference_layer_table, loss_name, metric_names,
                               model_from, rebuild, score_trained, trained_fixture)
from grader.testing import Feedback, points

TRAIN_SECONDS = 60  # the README promises the training this much time (on CPU)

task = digit_task_fixture("mlp-5x5")  # the grading's digits: training split to the sandbox, held-out split never
trained = trained_fixture()  # the learner's MLP, built and trained once for the tests that need it
builds = builds_fixture()  # each of the learner's models the tests look at, built once per grading


def _built(submission, builds, what, **kwargs):
    """The learner's model for these arguments as the sandbox described it (or a message saying
    why it is no model); one sandbox call per grading and arguments (the trained model is the
    25-input one)."""
    return builds(tuple(sorted(kwargs.items())), lambda: model_from(submission.build_mlp, what, **kwargs))


def _check_activations(ref, what):
    dense = [config for kind, config in layer_configs(ref, what) if kind == "Dense"]
    if len(dense) != 2:
        raise Feedback(f"{what} should have 2 Dense layers, but it has {len(dense)}")
    if dense[0].get("activation") != "relu":
        raise Feedback(f"the hidden Dense layer of {what} does not use activation='relu'")
    if dense[1].get("activation") != "softmax":
        raise Feedback(f"the output Dense layer of {what} does not use activation='softmax'")


def _train(submission, task, trained, builds):
    """The learner's MLP built for the task and trained on its training split (once per grading);
    its build is the one the layer-table test of the same arguments looked at."""
    what = f"build_mlp(input_dim={task.x_train.shape[1]}, num_classes={task.num_classes})"
    return trained(lambda: _built(submission, builds, what, input_dim=int(task.x_train.shape[1]),
                                  num_classes=task.num_classes),
                   lambda model: submission.train_mlp(model, task.x_train, task.y_train_onehot))


@points(1)
def test_build_mlp_returns_a_built_keras_model(submission, exercise, builds):
    rebuild(_built(submission, builds, "build_mlp()"), "build_mlp()", exercise.caps)  # Keras's safe mode, weights too


@points(2)
def test_layer_table_for_25_inputs(submission, reference, exercise, builds):
    what = "build_mlp(input_dim=25, num_classes=10)"
    rows = check_layer_table(_built(submission, builds, what, input_dim=25, num_classes=10),
                             reference_layer_table(reference.build_mlp, input_dim=25, num_classes=10), what,
                             exercise.caps)
    total = sum(r.params for r in rows)
    assert total == 2314, f"build_mlp(input_dim=25, num_classes=10) has {total:,} parameters in all; the notes' model has 2,314"


@points(1)
def test_activations_relu_then_softmax(submission, builds):
    what = "build_mlp(input_dim=25, num_classes=10)"
    _check_activations(_built(submission, builds, what, input_dim=25, num_classes=10), what)


@points(3)
def test_layer_table_for_other_inputs_and_classes(submission, reference, exercise, builds):
    for input_dim, num_classes in ((64, 10), (784, 10), (16, 3), (25, 2)):
        what = f"build_mlp(input_dim={input_dim}, num_classes={num_classes})"
        check_layer_table(_built(submission, builds, what, input_dim=input_dim, num_classes=num_classes),
                          reference_layer_table(reference.build_mlp, input_dim=input_dim, num_classes=num_classes),
                          what, exercise.caps)


@points(2)
def test_compiled_with_categorical_crossentropy_and_accuracy(submission, builds):
    ref = _built(submission, builds, "build_mlp()")
    settings = compile_settings(ref, "build_mlp()")
    name = loss_name(settings)  # function losses included
    assert name == "categorical_crossentropy", (
        f"build_mlp() is compiled with the loss {name or 'None'!r}; one-hot labels and a softmax output go with "
        "loss='categorical_crossentropy'")
    assert any("acc" in m for m in metric_names(settings)), (
        "build_mlp() is compiled without an accuracy metric; pass metrics=['accuracy']")


@points(2)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_train_mlp_returns_the_history(submission, task, trained, builds):
    _, history, _ = _train(submission, task, trained, builds)
    check_training_history(history, "train_mlp(model, x, y)")


@points(5)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_held_out_accuracy(submission, task, trained, builds, exercise, record):
    score_trained(_train(submission, task, trained, builds), task, exercise, submission.device, record,
                  "train_mlp(model, x, y)")
