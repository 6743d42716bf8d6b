"""gradient-descent graded through the real engine and sandbox: a learner using PyTorch's momentum
convention (allowed by the README) gets full marks; a learner with one mistake loses exactly that
property's test, with a hint that names the cause."""

from __future__ import annotations


import pytest

from exercise_kit import NEAR_MISS, lost as _lost
from exercise_kit import edited_reference as _broken
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade

@pytest.fixture(scope="module")
def ex():
    return find_exercise("gradient-descent")


def test_pytorch_momentum_convention_gets_full_marks(ex):
    for suite in ("public", "hidden"):
        result = grade(ex, NEAR_MISS / "gradient_descent_pytorch_momentum.py", suite)
        assert result.full_marks, (suite, _lost(result))


def test_an_equal_loss_counted_as_improvement_loses_only_the_plateau_tests(ex, tmp_path):
    path = _broken(tmp_path, ex, "if loss < best:", "if loss <= best:")
    hidden = _lost(grade(ex, path, "hidden"))
    assert set(hidden) == {"test_reduce_on_plateau_matches_keras"}, hidden
    assert "equal to the best is not an improvement" in hidden["test_reduce_on_plateau_matches_keras"]
    public = _lost(grade(ex, path, "public"))
    assert set(public) == {"test_alexnet_divides_the_rate_by_ten_on_a_plateau"}, public


@pytest.mark.parametrize("old, new, test, hint", [
    ("x = x - lr * float(grad(x))", "x = min(max(x - lr * float(grad(x)), -1e3), 1e3)",
     "test_a_diverging_rate_is_reported_not_clamped", "no clamp"),
    ("return float(lr0 / (1.0 + decay * step))", "return float(lr0 / (1.0 + decay * (step + 1)))",
     "test_inverse_time_decay_matches_keras", "lr0 / (1 + decay * step)"),
    ("v = momentum * v - lr * np.asarray(grad(w), dtype=float)\n        w = w + v",
     "w = w + v\n        v = momentum * v - lr * np.asarray(grad(w), dtype=float)",
     None, "then w = w + v"),
])
def test_one_mistake_loses_its_hidden_tests_with_its_hint(ex, tmp_path, old, new, test, hint):
    lost = _lost(grade(ex, _broken(tmp_path, ex, old, new), "hidden"))
    if test is None:  # a wrong momentum update: only the momentum tests, each naming the update rule
        assert lost and all(name.startswith("test_momentum") for name in lost), lost
        assert all(hint in text for text in lost.values()), lost
        return
    assert set(lost) == {test}, lost
    assert hint in lost[test]


def test_a_descent_that_stops_when_it_diverges_loses_only_the_divergence_test(ex, tmp_path):
    path = _broken(tmp_path, ex, "        xs.append(x)\n", "        xs.append(x)\n        if abs(x) > 1e6:\n            break\n")
    lost = _lost(grade(ex, path, "hidden"))
    assert set(lost) == {"test_a_diverging_rate_is_reported_not_clamped"}, lost
    assert "no early stop" in lost["test_a_diverging_rate_is_reported_not_clamped"]
