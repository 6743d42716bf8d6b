"""batchnorm-dropout graded through the real engine and sandbox: a learner written in other idioms
the README allows gets full marks; a learner with one mistake loses exactly that property's test,
with a hint that names the cause."""

from __future__ import annotations


import pytest

from exercise_kit import NEAR_MISS, lost as _lost
from exercise_kit import edited_reference as _broken
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade

@pytest.fixture(scope="module")
def ex():
    return find_exercise("batchnorm-dropout")


def test_other_allowed_idioms_get_full_marks(ex):
    for suite in ("public", "hidden"):
        result = grade(ex, NEAR_MISS / "batchnorm_dropout_other_idioms.py", suite)
        assert result.full_marks, (suite, _lost(result))


def test_pytorch_unbiased_running_variance_loses_only_the_moving_average_tests(ex, tmp_path):
    path = _broken(tmp_path, ex, "new_var = momentum * running_var + (1.0 - momentum) * var",
                   "new_var = momentum * running_var + (1.0 - momentum) * x.var(axis=axes, ddof=1)")
    hidden = _lost(grade(ex, path, "hidden"))
    assert set(hidden) == {"test_training_updates_the_moving_averages_as_keras"}, hidden
    assert "biased batch variance" in hidden["test_training_updates_the_moving_averages_as_keras"]
    public = _lost(grade(ex, path, "public"))
    assert set(public) == {"test_moving_averages_with_keras_momentum_0_99"}, public


def test_dropout_without_scaling_loses_only_the_scale_tests(ex, tmp_path):
    path = _broken(tmp_path, ex, "np.where(keep, x / (1.0 - rate), 0.0)", "np.where(keep, x, 0.0)")
    hidden = _lost(grade(ex, path, "hidden"))
    assert set(hidden) == {"test_dropout_scales_the_kept_values_by_1_over_1_minus_rate"}, hidden
    assert "x / (1 - rate)" in hidden["test_dropout_scales_the_kept_values_by_1_over_1_minus_rate"]
    public = _lost(grade(ex, path, "public"))
    assert set(public) == {"test_dropout_half"}, public


def test_a_backward_pass_without_the_batch_terms_loses_only_the_dx_test(ex, tmp_path):
    path = _broken(tmp_path, ex, "dx = np.asarray(gamma, dtype=float) * inv / m * (m * dy - dbeta - x_hat * dgamma)",
                   "dx = np.asarray(gamma, dtype=float) * inv * dy")
    hidden = _lost(grade(ex, path, "hidden"))
    assert set(hidden) == {"test_backward_dx_matches_finite_differences"}, hidden
    assert "two extra terms" in hidden["test_backward_dx_matches_finite_differences"]
