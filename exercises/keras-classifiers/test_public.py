"""Public tests for keras-classifiers.

The iris classifier (notes 004: four features, three species) with 16 hidden units has
4 * 16 + 16 = 80 and 16 * 3 + 3 = 51 parameters, 131 in all. The class weights of the notes' smile
data set (002: 9,476 "not smiling", 3,690 "smiling") are, by scikit-learn's "balanced" formula
n / (k * count_c), 13,166 / (2 * 9,476) = 0.6947 and 13,166 / (2 * 3,690) = 1.7840 (the notes'
classTotals.sum() / classTotals gives twice these, 1.389 and 3.568: the same up to one factor,
which is also accepted). The training test trains on 80 of the iris training flowers and measures
the accuracy on the other 32 (the hidden tests measure flowers and patients you never see)."""

import time

import numpy as np
import pytest

from grader.data.tabular import tabular_task
from grader.modelcheck import (accuracy, class_predictions, compile_settings, expect_history, layer_rows, loss_name,
                               model_from, rebuild)
from grader.testing import Feedback, expect_number, points

VALIDATION_BAR = 0.80  # on 32 of the iris training flowers; the hidden thresholds are in exercise.toml


@points(2)
def test_iris_classifier_has_131_parameters(submission):
    model = rebuild(model_from(submission.build_iris_classifier, "build_iris_classifier(16)", 16),
                    "build_iris_classifier(16)")
    rows = [r for r in layer_rows(model) if r.kind != "InputLayer"]
    got = [(r.kind, r.output_shape, r.params) for r in rows]
    want = [("Dense", (16,), 80), ("Dense", (3,), 51)]
    assert got == want, (
        "build_iris_classifier(16) should have Dense (None, 16) with 80 parameters and Dense (None, 3) with 51 "
        "(131 in all); your model has: " + "; ".join(str(r) for r in rows))


@points(1)
def test_binary_classifier_sigmoid_and_binary_crossentropy(submission):
    ref = model_from(submission.build_binary_classifier, "build_binary_classifier(30)", 30)
    model = rebuild(ref, "build_binary_classifier(30)")
    acts = [layer.get_config().get("activation") for layer in model.layers if type(layer).__name__ == "Dense"]
    assert acts == ["relu", "sigmoid"], f"the Dense layers' activations should be ['relu', 'sigmoid'], not {acts}"
    name = loss_name(compile_settings(ref, "build_binary_classifier(30)"))
    assert name == "binary_crossentropy", f"build_binary_classifier(30) is compiled with {name or 'None'!r}, not 'binary_crossentropy'"


@points(2)
def test_class_weight_dict_on_the_notes_smile_counts(submission):
    y = np.repeat(np.array([0, 1], dtype=np.int64), [9476, 3690])
    weights = submission.class_weight_dict(y)
    if not isinstance(weights, dict) or sorted(weights) != [0, 1] or not all(isinstance(k, int) for k in weights):
        raise Feedback(f"class_weight_dict(y) should return a dict with the int keys 0 and 1, not {weights!r:.200}")
    w0, w1 = (expect_number(weights[k], f"class_weight_dict(y)[{k}]") for k in (0, 1))
    assert w0 > 0 and np.isclose(w1 / w0, 9476 / 3690, rtol=1e-4), (
        f"class_weight_dict(y) for 9,476 zeros and 3,690 ones gave {{0: {w0:.4f}, 1: {w1:.4f}}}; expected "
        "{0: 0.6947, 1: 1.7840} (n / (k * count_c)), or weights in the same ratio 1 : 2.568")


@points(2)
@pytest.mark.seconds(30)
def test_train_weighted_learns_iris(submission, record):
    task = tabular_task("iris")
    fit, val = np.arange(80), np.arange(80, len(task.y_train))
    ref = model_from(submission.build_iris_classifier, "build_iris_classifier(16)", 16)
    t0 = time.monotonic()
    history = submission.train_weighted(ref, task.x_train[fit], task.y_train[fit])
    seconds = time.monotonic() - t0
    history = expect_history(history, "train_weighted(model, X, y)", keys=("loss",))
    record("history", history)
    predicted = class_predictions(ref.predict(task.x_train[val]), len(val), 3)
    acc = accuracy(predicted, task.y_train[val])
    record("metric", {"name": "accuracy", "value": acc, "threshold": VALIDATION_BAR, "lower_is_better": False,
                      "dataset": "iris (validation)", "seconds": seconds, "device": submission.device})
    assert acc >= VALIDATION_BAR, (
        f"after {len(history['loss'])} epochs ({seconds:.0f} s) your model classifies {acc:.1%} of {len(val)} validation "
        f"flowers correctly; at least {VALIDATION_BAR:.0%} is expected here (train longer: more epochs)")
