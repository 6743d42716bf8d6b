"""activations-losses graded through the real engine and sandbox: a learner using other conventions
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
    return find_exercise("activations-losses")


def test_other_allowed_conventions_get_full_marks(ex):
    for suite in ("public", "hidden"):
        result = grade(ex, NEAR_MISS / "activations_losses_other_conventions.py", suite)
        assert result.full_marks, (suite, _lost(result))


def test_mse_with_one_half_loses_only_the_mse_tests(ex, tmp_path):
    path = _broken(tmp_path, ex, "return float(np.mean(d ** 2))", "return float(0.5 * np.mean(d ** 2))")
    hidden = _lost(grade(ex, path, "hidden"))
    assert set(hidden) == {"test_mse_matches_keras"}, hidden
    assert "no 1/2" in hidden["test_mse_matches_keras"]
    public = _lost(grade(ex, path, "public"))
    assert set(public) == {"test_mse_has_no_one_half"}, public


@pytest.mark.parametrize("old, new, test, hint", [
    ("P = np.clip(np.atleast_2d(np.asarray(P, dtype=float)), EPSILON, 1.0 - EPSILON)",
     "P = np.clip(np.atleast_2d(np.asarray(P, dtype=float)), 1e-12, 1.0)",
     "test_categorical_cross_entropy_clips_at_1e_7", "clip P to [1e-7, 1 - 1e-7]"),
    ("e = np.exp(z - np.max(z, axis=axis, keepdims=True))", "e = np.exp(z)",
     "test_softmax_is_stable_at_1000", "subtract the maximum"),
    ("s = sigmoid(z)\n    return s * (1.0 - s)", "return z * (1.0 - z)",
     "test_sigmoid_grad_matches_finite_differences", "the argument is z"),
])
def test_one_mistake_loses_one_hidden_test_with_its_hint(ex, tmp_path, old, new, test, hint):
    result = grade(ex, _broken(tmp_path, ex, old, new), "hidden")
    lost = _lost(result)
    assert set(lost) == {test}, lost
    assert hint in lost[test]
    assert result.score == result.max_score - result.tests[[t.name for t in result.tests].index(test)].max_score
