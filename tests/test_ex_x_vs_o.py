"""x-vs-o graded through the real engine and sandbox: the reference gets full marks and the
template 0; a correct learner that cuts every value to two decimals as the notes print them gets
full marks; a flipped feature, a division by 9 whatever the feature's size, and Keras' "valid"
pooling (partial windows dropped) each lose exactly their one hidden test with a hint that names the
cause. The public tables are the notes' and match the arithmetic on the X of grader.data."""

from __future__ import annotations

from importlib.util import module_from_spec, spec_from_file_location

import numpy as np
import pytest

from grader.data import X_GRID
from exercise_kit import NEAR_MISS, check_reference_full_and_template_zero, lost as _lost
from exercise_kit import edited_reference as _near_miss
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade

@pytest.fixture(scope="module")
def ex():
    return find_exercise("x-vs-o")


def test_reference_full_marks_and_template_zero(ex):
    check_reference_full_and_template_zero(ex)


def test_values_cut_to_two_decimals_get_full_marks(ex):
    for suite in ("public", "hidden"):
        result = grade(ex, NEAR_MISS / "x_vs_o_two_decimals.py", suite)
        assert result.full_marks, (suite, _lost(result))


@pytest.mark.parametrize("old, new, test, words", [
    ("    feature = np.asarray(feature, dtype=float)\n", "    feature = np.asarray(feature, dtype=float)[::-1, ::-1]\n",
     "test_feature_map_does_not_flip_the_feature", "turned the feature"),
    ("/ feature.size", "/ 9", "test_feature_map_divides_by_the_number_of_pixels", "not by 9"),
    ("while s[-1] + size < n and s[-1] + stride < n:", "while s[-1] + stride + size <= n:",
     "test_max_pool_cover_runs_past_the_edge", "runs past the edge"),
])
def test_one_mistake_loses_one_hidden_test(ex, tmp_path, old, new, test, words):
    result = grade(ex, _near_miss(tmp_path, ex, old, new), "hidden")
    hints = _lost(result)
    assert set(hints) == {test}, hints
    assert words in hints[test], hints[test]
    assert result.score == result.max_score - next(t.max_score for t in result.tests if t.name == test)


def test_valid_pooling_fails_the_public_tables(ex, tmp_path):
    # Keras' default pooling gives 3x3 from 7x7: the learner reads the shape in the message
    path = _near_miss(tmp_path, ex, "while s[-1] + size < n and s[-1] + stride < n:", "while s[-1] + stride + size <= n:")
    hints = _lost(grade(ex, path, "public"))
    assert set(hints) == {"test_max_pool_cover_tables", "test_conv_relu_pool_gives_the_three_pooled_maps"}, hints
    assert "shape (4, 4)" in hints["test_max_pool_cover_tables"] and "(3, 3)" in hints["test_max_pool_cover_tables"]


def test_public_tables_are_the_arithmetic_cut_to_two_decimals(ex):
    # every printed value of 003 is the exact k/9 cut (not rounded) to two decimals
    spec = spec_from_file_location("x_vs_o_public", ex.public_tests)
    public = module_from_spec(spec)
    spec.loader.exec_module(public)
    for feature, table, pooled in ((public.DIAGONAL, public.MAP_DIAGONAL, public.POOL_DIAGONAL),
                                   (public.CROSS, public.MAP_CROSS, public.POOL_CROSS),
                                   (public.ANTI_DIAGONAL, public.MAP_ANTI_DIAGONAL, public.POOL_ANTI_DIAGONAL)):
        exact = np.array([[np.sum(X_GRID[i:i + 3, j:j + 3] * feature) / 9 for j in range(7)] for i in range(7)])
        assert np.array_equal(np.trunc(exact * 100) / 100, np.asarray(table))
        padded = np.full((8, 8), -np.inf)
        padded[:7, :7] = np.maximum(exact, 0)
        pool = padded.reshape(4, 2, 4, 2).max(axis=(1, 3))
        assert np.array_equal(np.trunc(pool * 100) / 100, np.asarray(pooled))
