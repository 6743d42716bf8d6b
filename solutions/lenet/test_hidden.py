"""Hidden tests for lenet.

Architecture: the learner's models, as the sandbox described them (JSON config), are compared
layer by layer (class, output shape, parameters) with the reference solution's model built here,
for the notes' 32x32x3 input and for other image sizes, channel counts and class counts. The
learner's table is read off the config by the size walker (`check_layer_table`; Keras rebuilds the
model where the walker's table differs, and its table decides); the notes' model is also rebuilt
in Keras's safe mode on the trusted side (the first test). Activations and the dropout rate are
read from the layer configs.

Accuracy: the learner's LeNet is built and trained in the sandbox on the training digits of
digit_task("lenet-32") (Hoda at 32x32x1 when the course has it, else scikit-learn's digits
brought to 32x32x1); only the training split enters the sandbox. The sandbox hands back the
trained model (config + weights) and the held-out digits, drawn with the grading's secret
`heldout_seed`, are predicted on the trusted side (`grader.exercise.heldout`, a limited child process) and
scored here. The threshold per data set is in exercise.toml ([threshold]), with how it was
measured; the model's size is capped by [caps] before anything is allocated.

Each test costs one property's points: the layer tables compare classes, shapes and parameter
counts only; the activations and the dropout rate have their own test; the history and the
held-out accuracy are separate.

Messages name the property that failed and never show an expected value beyond the
architecture that the README states."""

import numpy as np
import pytest

from grader.modelcheck import (builds_fixture, check_layer_table, check_training_history, compile_settings,
                               digit_task_fixture, layer_configs, reference_layer_table, loss_name, metric_names,
                               model_from, rebuild, score_trained, trained_fixture)
from grader.testing import Feedback, points

TRAIN_SECONDS = 90  # the README promises the training this much time (on CPU)

task = digit_task_fixture("lenet-32")  # the grading's digits: training split to the sandbox, held-out split never
trained = trained_fixture()  # the learner's LeNet, built and trained once for the tests that need it
builds = builds_fixture()  # each of the learner's models the tests look at, built once per grading


def _call(input_shape, num_classes):
    return f"build_lenet(input_shape={tuple(input_shape)}, num_classes={num_classes})"


TRAINED = ((32, 32, 1), 10)  # the arguments of the model trained on digit_task("lenet-32")


def _built(submission, builds, input_shape=(32, 32, 3), num_classes=10):
    """The learner's model for these arguments as the sandbox described it, and the call's text;
    one sandbox call per grading and arguments. The model that is trained (`TRAINED`) is built the
    usual way; the others are read as architecture only (built without weights: ~20 ms each)."""
    what = _call(input_shape, num_classes)
    if (tuple(input_shape), num_classes) == TRAINED:
        build = submission.build_lenet
    else:
        def build(**kwargs):
            return submission.architecture("build_lenet", **kwargs)
    return builds((tuple(input_shape), num_classes), lambda: (
        model_from(build, what, input_shape=tuple(input_shape), num_classes=num_classes), what))


def _check_layers(submission, reference, exercise, builds, input_shape, num_classes):
    ref, what = _built(submission, builds, input_shape, num_classes)
    return check_layer_table(ref, reference_layer_table(reference.build_lenet, input_shape=input_shape,
                                                        num_classes=num_classes), what, exercise.caps)


def _check_activations(ref, what):
    """Conv2D and hidden Dense layers use ReLU, the last Dense softmax, Dropout drops half."""
    dense = []
    for kind, config in layer_configs(ref, what):
        if kind == "Conv2D" and config.get("activation") != "relu":
            raise Feedback(f"a Conv2D layer of {what} does not use activation='relu'")
        rate = config.get("rate")
        if kind == "Dropout" and not (isinstance(rate, (int, float)) and np.isclose(float(rate), 0.5)):
            raise Feedback(f"the Dropout layer of {what} should drop half of its inputs: Dropout(0.5)")
        if kind == "Dense":
            dense.append(config)
    if not dense:
        raise Feedback(f"{what} has no Dense layer")
    if any(c.get("activation") != "relu" for c in dense[:-1]):
        raise Feedback(f"a hidden Dense layer of {what} does not use activation='relu'")
    if dense[-1].get("activation") != "softmax":
        raise Feedback(f"the last Dense layer of {what} does not use activation='softmax'")


def _train(submission, task, trained, builds):
    """The learner's LeNet built for the task and trained on its training split (once per grading);
    its build is the one the layer-table test of the same shape looked at."""
    shape = tuple(int(d) for d in task.x_train.shape[1:])
    return trained(lambda: _built(submission, builds, shape, task.num_classes)[0],
                   lambda model: submission.train_lenet(model, task.x_train, task.y_train_onehot))


@points(1)
def test_build_lenet_returns_a_built_keras_model(submission, exercise, builds):
    ref, what = _built(submission, builds)
    rebuild(ref, what, exercise.caps)  # Keras's safe mode rebuilds it from its config


@points(2)
def test_layer_table_of_the_notes(submission, reference, exercise, builds):
    rows = _check_layers(submission, reference, exercise, builds, (32, 32, 3), 10)
    total = sum(r.params for r in rows)
    assert total == 62958, f"{_call((32, 32, 3), 10)} has {total:,} parameters in all; the notes' LeNet has 62,958"


@points(1)
def test_layer_table_for_grey_32x32_digits(submission, reference, exercise, builds):
    _check_layers(submission, reference, exercise, builds, (32, 32, 1), 10)


@points(2)
def test_layer_table_for_other_shapes_and_classes(submission, reference, exercise, builds):
    for input_shape, num_classes in (((28, 28, 1), 10), ((64, 64, 3), 5), ((40, 48, 1), 4), ((36, 36, 2), 2)):
        _check_layers(submission, reference, exercise, builds, input_shape, num_classes)


@points(1)
def test_activations_and_dropout_rate(submission, builds):
    for input_shape, num_classes in (((32, 32, 3), 10), ((40, 48, 1), 4)):
        _check_activations(*_built(submission, builds, input_shape, num_classes))


@points(1)
def test_compiled_with_categorical_crossentropy_and_accuracy(submission, exercise, builds):
    ref, what = _built(submission, builds)
    settings = compile_settings(ref, what)
    name = loss_name(settings)  # function losses included
    assert name == "categorical_crossentropy", (
        f"{what} is compiled with the loss {name or 'None'!r}; one-hot labels and a softmax output go with "
        "loss='categorical_crossentropy'")
    assert any("acc" in m for m in metric_names(settings)), (
        f"{what} is compiled without an accuracy metric; pass metrics=['accuracy']")


@points(2)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_train_lenet_returns_the_history(submission, task, trained, builds):
    _, history, _ = _train(submission, task, trained, builds)
    check_training_history(history, "train_lenet(model, x, y)")


@points(5)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_held_out_accuracy(submission, task, trained, builds, exercise, record):
    score_trained(_train(submission, task, trained, builds), task, exercise, submission.device, record,
                  "train_lenet(model, x, y)")
