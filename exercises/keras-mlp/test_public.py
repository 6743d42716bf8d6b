"""Public tests for keras-mlp. The model is the one of the lecture notes (seed 000):

    model = Sequential()
    model.add(Dense(64, activation='relu', input_dim=25))
    model.add(Dense(10, activation='softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='rmsprop', metrics=['accuracy'])

whose summary has 25 * 64 + 64 = 1,664 and 64 * 10 + 10 = 650 parameters, 2,314 in all.
The training test trains on 800 of the training digits and measures the accuracy on the other
200 of them (the hidden test trains on all the training digits and measures held-out digits
that you never see)."""

import time

import numpy as np
import pytest

from grader.data import digit_task
from grader.modelcheck import (model_from, accuracy, class_predictions, compile_settings, expect_history,
                               layer_rows, loss_name, rebuild)
from grader.testing import Feedback, points

VALIDATION_BAR = 0.80  # on 200 of the training digits; the hidden threshold is in exercise.toml


_model = model_from  # the learner's model, or a message saying why it cannot be described


def _build(submission):
    ref = _model(submission.build_mlp, "build_mlp()")
    return ref, rebuild(ref, "build_mlp()")


@points(2)
def test_layer_table_of_the_notes(submission):
    _, model = _build(submission)
    rows = [r for r in layer_rows(model) if r.kind != "InputLayer"]
    want = [("Dense", (64,), 1664), ("Dense", (10,), 650)]
    got = [(r.kind, r.output_shape, r.params) for r in rows]
    assert got == want, (
        "build_mlp() should have the layers of the notes, Dense (None, 64) with 1,664 parameters and Dense "
        "(None, 10) with 650 (2,314 in all); your model has: " + "; ".join(str(r) for r in rows))


@points(1)
def test_activations_relu_then_softmax(submission):
    _, model = _build(submission)
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    acts = [layer.get_config().get("activation") for layer in dense]
    assert acts == ["relu", "softmax"], (
        f"the activations of the Dense layers should be ['relu', 'softmax'], but they are {acts}")


@points(1)
def test_compiled_with_categorical_crossentropy_and_accuracy(submission):
    ref, _ = _build(submission)
    settings = compile_settings(ref, "build_mlp()")
    loss = settings.get("loss")
    name = loss["config"] if isinstance(loss, dict) and isinstance(loss.get("config"), str) else loss_name(settings)
    assert name == "categorical_crossentropy", (
        f"build_mlp() is compiled with loss {name or 'None'!r}; it should be 'categorical_crossentropy'")
    metrics = [str(m if not isinstance(m, dict) else m.get("class_name")).lower() for m in settings.get("metrics") or []]
    assert any("acc" in m for m in metrics), f"build_mlp() should be compiled with metrics=['accuracy'], not {metrics}"


@points(3)
@pytest.mark.seconds(60)
def test_train_mlp_learns_the_digits(submission, record, hoda):
    task = digit_task("mlp-5x5", hoda)
    order = np.random.default_rng(0).permutation(len(task.x_train))
    n_val = min(200, len(order) // 4)
    val, fit = order[:n_val], order[n_val:n_val + 800]
    ref = _model(submission.build_mlp, "build_mlp(input_dim=25, num_classes=10)", input_dim=task.x_train.shape[1],
                 num_classes=10)
    t0 = time.monotonic()
    history = submission.train_mlp(ref, task.x_train[fit], task.y_train_onehot[fit])
    seconds = time.monotonic() - t0
    history = expect_history(history, "train_mlp(model, x, y)", keys=("loss",))
    record("history", history)
    if not any("acc" in k for k in history):
        raise Feedback("train_mlp(model, x, y): the history has no accuracy; compile with metrics=['accuracy']")
    predicted = class_predictions(ref.predict(task.x_train[val]), len(val), 10)
    acc = accuracy(predicted, task.y_train[val])
    record("metric", {"accuracy": acc, "threshold": VALIDATION_BAR, "dataset": f"{task.dataset} (validation)",
                      "seconds": seconds, "device": submission.device})
    assert acc >= VALIDATION_BAR, (
        f"after {len(history['loss'])} epochs ({seconds:.0f} s) your model classifies {acc:.1%} of {len(val)} "
        f"validation digits of {task.dataset} correctly; at least {VALIDATION_BAR:.0%} is expected here (train longer: more "
        "epochs, or a smaller batch size)")
