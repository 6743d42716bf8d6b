"""Public tests for keras-regression. The network is the one of the lecture notes (002):

    inputs = Input(shape=(10,))
    x = Dense(8, activation="relu")(inputs)
    x = Dense(4, activation="relu")(x)
    x = Dense(1, activation="linear")(x)

whose layers have 10 * 8 + 8 = 88, 8 * 4 + 4 = 36 and 4 * 1 + 1 = 5 parameters, 129 in all.
The training test trains on 250 of the diabetes training patients and measures the mean absolute
error on 82 others (the hidden test trains on all of them and measures patients you never see)."""

import time

import numpy as np
import pytest

from grader.data.tabular import tabular_task
from grader.modelcheck import (compile_settings, expect_history, layer_rows, loss_name, metric_names, model_from,
                               rebuild)
from grader.testing import Feedback, expect_array, points

VALIDATION_MAE = 60.0  # on 82 of the training patients; the hidden threshold is in exercise.toml


@points(2)
def test_regressor_has_the_notes_129_parameters(submission):
    model = rebuild(model_from(submission.build_regressor, "build_regressor(10)", 10), "build_regressor(10)")
    rows = [r for r in layer_rows(model) if r.kind != "InputLayer"]
    got = [(r.kind, r.output_shape, r.params) for r in rows]
    want = [("Dense", (8,), 88), ("Dense", (4,), 36), ("Dense", (1,), 5)]
    assert got == want, (
        "build_regressor(10) should have the notes' layers, Dense (None, 8) with 88 parameters, Dense (None, 4) "
        "with 36 and Dense (None, 1) with 5 (129 in all); your model has: " + "; ".join(str(r) for r in rows))


@points(2)
def test_wide_and_deep_joins_the_input_and_the_deep_path(submission):
    model = rebuild(model_from(submission.build_wide_and_deep, "build_wide_and_deep(10)", 10),
                    "build_wide_and_deep(10)")
    rows = [r for r in layer_rows(model) if r.kind != "InputLayer"]
    got = [(r.kind, r.output_shape, r.params) for r in rows]
    want = [("Dense", (8,), 88), ("Dense", (4,), 36), ("Concatenate", (14,), 0), ("Dense", (1,), 15)]
    assert got == want, (
        "build_wide_and_deep(10) should have Dense (None, 8) with 88 parameters, Dense (None, 4) with 36, a "
        "Concatenate of the 10 inputs and those 4 outputs (None, 14), and Dense (None, 1) with 15 (139 in all); "
        "your model has: " + "; ".join(str(r) for r in rows))


@points(3)
@pytest.mark.seconds(30)
def test_train_regressor_learns_the_diabetes_progression(submission, record):
    task = tabular_task("diabetes")
    fit, val = np.arange(250), np.arange(250, len(task.y_train))
    mean, std = float(task.y_train[fit].mean()), float(task.y_train[fit].std())
    ref = model_from(submission.build_regressor, "build_regressor(10)", 10)
    t0 = time.monotonic()
    history = submission.train_regressor(ref, task.x_train[fit], (task.y_train[fit] - mean) / std)
    seconds = time.monotonic() - t0
    history = expect_history(history, "train_regressor(model, X, y)", keys=("loss",))
    record("history", history)
    settings = compile_settings(ref.trained(), "the model train_regressor trained")
    if loss_name(settings) not in ("mse", "mean_squared_error"):
        raise Feedback(f"the model is compiled with the loss {loss_name(settings) or 'None'!r}; it should be 'mse'")
    if not {"mae", "mean_absolute_error"} & set(metric_names(settings)):
        raise Feedback("the model is compiled without metrics=['mae']")
    out = expect_array(ref.predict(task.x_train[val]), "your model's predictions", shape=(len(val), 1),
                       dtype_kind="f")
    mae = float(np.mean(np.abs(out[:, 0] * std + mean - task.y_train[val])))
    record("metric", {"name": "MAE", "value": mae, "threshold": VALIDATION_MAE, "lower_is_better": True,
                      "dataset": "diabetes (validation)", "seconds": seconds, "device": submission.device})
    assert mae <= VALIDATION_MAE, (
        f"after {len(history['loss'])} epochs ({seconds:.0f} s) your model's mean absolute error on {len(val)} "
        f"validation patients is {mae:.1f}; at most {VALIDATION_MAE:.0f} is expected here (predicting the mean "
        "alone gives about 65; train longer, or check that the output layer is linear)")
