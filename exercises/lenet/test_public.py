"""Public tests for lenet. The layer table is the one of the lecture notes (seed 000), for the
notes' input shape (32, 32, 3):

    Conv2D        (None, 28, 28, 8)    608      = (5*5*3 + 1) * 8
    MaxPooling2D  (None, 14, 14, 8)    0
    Conv2D        (None, 10, 10, 16)   3,216    = (5*5*8 + 1) * 16
    MaxPooling2D  (None, 5, 5, 16)     0
    Flatten       (None, 400)          0
    Dense         (None, 120)          48,120   = (400 + 1) * 120
    Dropout       (None, 120)          0
    Dense         (None, 84)           10,164   = (120 + 1) * 84
    Dense         (None, 10)           850      = (84 + 1) * 10       62,958 in all

The training test trains on 2,000 of the training digits (32x32x1) and measures the accuracy on
500 others of them (fewer with scikit-learn's digits) (the hidden test trains on 5,000 training digits and measures held-out
digits that you never see)."""

import time

import numpy as np
import pytest

from grader.data import digit_task
from grader.modelcheck import (model_from, accuracy, class_predictions, compile_settings, expect_history,
                               layer_rows, loss_name, rebuild)
from grader.testing import Feedback, points

NOTES_TABLE = [
    ("Conv2D", (28, 28, 8), 608),
    ("MaxPooling2D", (14, 14, 8), 0),
    ("Conv2D", (10, 10, 16), 3216),
    ("MaxPooling2D", (5, 5, 16), 0),
    ("Flatten", (400,), 0),
    ("Dense", (120,), 48120),
    ("Dropout", (120,), 0),
    ("Dense", (84,), 10164),
    ("Dense", (10,), 850),
]
VALIDATION_BAR = 0.85  # on 500 of the training digits; the hidden threshold is in exercise.toml


_model = model_from  # the learner's model, or a message saying why it cannot be described


def _build(submission, input_shape=(32, 32, 3), num_classes=10):
    what = f"build_lenet(input_shape={input_shape}, num_classes={num_classes})"
    ref = _model(submission.build_lenet, what, input_shape=input_shape, num_classes=num_classes)
    return ref, rebuild(ref, what), what


@points(3)
def test_layer_table_of_the_notes(submission):
    _, model, what = _build(submission)
    rows = [r for r in layer_rows(model) if r.kind != "InputLayer"]
    if len(rows) != len(NOTES_TABLE):
        raise Feedback(f"{what} has {len(rows)} layers; the notes' LeNet has {len(NOTES_TABLE)}: "
                       + ", ".join(k for k, _, _ in NOTES_TABLE) + "\nyour layers: " + ", ".join(r.kind for r in rows))
    for i, (row, (kind, shape, params)) in enumerate(zip(rows, NOTES_TABLE), start=1):
        assert (row.kind, row.output_shape, row.params) == (kind, shape, params), (
            f"layer {i} of {what} is {row}; the notes have {kind} {shape} {params:,} params")
    total = sum(r.params for r in rows)
    assert total == 62958, f"{what} has {total:,} parameters in all; the notes' LeNet has 62,958"


@points(1)
def test_activations_and_dropout(submission):
    _, model, what = _build(submission)
    got = [(type(layer).__name__, layer.get_config().get("activation", layer.get_config().get("rate")))
           for layer in model.layers if type(layer).__name__ in ("Conv2D", "Dense", "Dropout")]
    want = [("Conv2D", "relu"), ("Conv2D", "relu"), ("Dense", "relu"), ("Dropout", 0.5), ("Dense", "relu"),
            ("Dense", "softmax")]
    assert got == want, (
        f"{what}: the activations (and the dropout rate) should be {want}, but they are {got}")


@points(1)
def test_compiled_with_categorical_crossentropy_and_accuracy(submission):
    ref, _, what = _build(submission)
    settings = compile_settings(ref, what)
    loss = settings.get("loss")
    name = loss["config"] if isinstance(loss, dict) and isinstance(loss.get("config"), str) else loss_name(settings)
    assert name == "categorical_crossentropy", (
        f"{what} is compiled with loss {name or 'None'!r}; it should be 'categorical_crossentropy'")
    metrics = [str(m if not isinstance(m, dict) else m.get("class_name")).lower() for m in settings.get("metrics") or []]
    assert any("acc" in m for m in metrics), f"{what} should be compiled with metrics=['accuracy'], not {metrics}"


@points(3)
@pytest.mark.seconds(90)
def test_train_lenet_learns_the_digits(submission, record, hoda):
    task = digit_task("lenet-32", hoda)
    order = np.random.default_rng(0).permutation(len(task.x_train))
    n_val = min(500, len(order) // 4)  # scikit-learn's digits have only 1,257 training images
    val, fit = order[:n_val], order[n_val:n_val + 2000]
    shape = tuple(int(d) for d in task.x_train.shape[1:])
    ref = _model(submission.build_lenet, f"build_lenet(input_shape={shape}, num_classes=10)", input_shape=shape,
                 num_classes=10)
    t0 = time.monotonic()
    history = submission.train_lenet(ref, task.x_train[fit], task.y_train_onehot[fit])
    seconds = time.monotonic() - t0
    history = expect_history(history, "train_lenet(model, x, y)", keys=("loss",))
    record("history", history)
    if not any("acc" in k for k in history):
        raise Feedback("train_lenet(model, x, y): the history has no accuracy; compile with metrics=['accuracy']")
    predicted = class_predictions(ref.predict(task.x_train[val]), len(val), 10)
    acc = accuracy(predicted, task.y_train[val])
    record("metric", {"accuracy": acc, "threshold": VALIDATION_BAR, "dataset": f"{task.dataset} (validation)",
                      "seconds": seconds, "device": submission.device})
    assert acc >= VALIDATION_BAR, (
        f"after {len(history['loss'])} epochs ({seconds:.0f} s for {len(fit):,} digits) your model classifies "
        f"{acc:.1%} of {len(val)} validation digits of {task.dataset} correctly; at least {VALIDATION_BAR:.0%} is expected here "
        "(train longer: more epochs)")
