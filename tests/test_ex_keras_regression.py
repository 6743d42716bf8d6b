"""keras-regression graded through the real engine and sandbox: the reference gets full marks on
both suites and the template none; a learner in other conventions the README allows (compiling in
train_regressor, Sequential, loss and metric objects) gets full marks; a learner with one mistake
(the MAE as the loss) loses exactly that property's test, with a hint that names the cause."""

from __future__ import annotations

import pytest

from exercise_kit import HELD_OUT_SEED, NEAR_MISS, check_reference_full_and_template_zero, edited_reference, lost
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade


@pytest.fixture(scope="module")
def ex():
    return find_exercise("keras-regression")


def _held_out(seed, hoda):
    from grader.data import tabular_task
    return [tabular_task("diabetes", seed).x_test]


def test_reference_full_marks_and_template_zero(ex):
    check_reference_full_and_template_zero(ex, held_out=_held_out)


def test_compiling_in_train_regressor_gets_full_marks(ex):
    # a fixed held-out draw: this learner's ratio to the mean predictor is 0.62-0.87 over 30 draws (bound 0.92)
    result = grade(ex, NEAR_MISS / "keras_regression_compile_in_train.py", "hidden", heldout_seed=HELD_OUT_SEED)
    assert result.full_marks, lost(result)


def test_mae_as_the_loss_loses_only_the_compile_test(ex, tmp_path):
    path = edited_reference(tmp_path, ex, 'loss="mse", metrics=["mae"])\n    return model\n    ### END SOLUTION\n\n\ndef build_wide',
                            'loss="mae", metrics=["mae"])\n    return model\n    ### END SOLUTION\n\n\ndef build_wide')
    hidden = lost(grade(ex, path, "hidden"))
    assert set(hidden) == {"test_trained_model_compiled_with_mse_loss_and_mae_metric"}, hidden
    assert "loss='mse'" in hidden["test_trained_model_compiled_with_mse_loss_and_mae_metric"]


def test_a_crash_in_one_test_costs_that_test_only_though_the_trained_models_were_built_before_it(ex, tmp_path):
    """The trained models are the ones the layer-table tests built (`builds`). When a later test
    stops the learner's code (here build_wide_and_deep(4) exits the sandbox), the sandbox is started
    again and the models built before are gone from it: they are built again there, never trained
    by a handle that names nothing (or another model) in the new sandbox."""
    path = edited_reference(tmp_path, ex, '''    ### BEGIN SOLUTION
    inputs = keras.Input(shape=(n_features,))
    deep = ''', '''    ### BEGIN SOLUTION
    if n_features == 4:
        import os
        os._exit(3)
    inputs = keras.Input(shape=(n_features,))
    deep = ''')
    result = grade(ex, path, "hidden", heldout_seed=HELD_OUT_SEED)
    hidden = lost(result)
    assert set(hidden) == {"test_wide_and_deep_layer_table"}, hidden
    assert "exited (exit code 3)" in hidden["test_wide_and_deep_layer_table"], hidden
