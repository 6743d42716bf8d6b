"""style-losses graded through the real engine and sandbox: the reference gets full marks and
the template 0; a learner in the other conventions the README allows (Gatys et al.'s 1/2 * sum
and quarter of the mean) gets full marks; a Gram matrix not divided by h * w loses exactly the
test of its values, with the hint that names the division."""

from __future__ import annotations

import pytest

from exercise_kit import NEAR_MISS, check_reference_full_and_template_zero, lost as _lost
from exercise_kit import edited_reference as _broken
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade


@pytest.fixture(scope="module")
def ex():
    return find_exercise("style-losses")


def test_reference_full_marks_and_template_zero(ex):
    check_reference_full_and_template_zero(ex)


def test_other_allowed_conventions_get_full_marks(ex):
    for suite in ("public", "hidden"):
        result = grade(ex, NEAR_MISS / "style_losses_other_conventions.py", suite)
        assert result.full_marks, (suite, _lost(result))


def test_a_gram_matrix_not_divided_by_h_w_loses_only_the_values_test(ex, tmp_path):
    path = _broken(tmp_path, ex, "return flat.T @ flat / (h * w)", "return flat.T @ flat")
    hidden = _lost(grade(ex, path, "hidden"))
    assert set(hidden) == {"test_gram_matrix_matches_the_reference"}, hidden
    assert "divide the sums by the number of positions h * w" in hidden["test_gram_matrix_matches_the_reference"]
    public = _lost(grade(ex, path, "public"))
    assert set(public) == {"test_gram_matrix_of_a_2x2_image_with_2_channels"}, public


def test_a_style_loss_that_averages_the_layers_loses_only_the_style_test(ex, tmp_path):
    path = _broken(tmp_path, ex, "    return total\n", "    return total / len(weights)\n")
    hidden = _lost(grade(ex, path, "hidden"))
    assert set(hidden) == {"test_style_loss_matches_the_reference"}, hidden
    assert "each layer's own weight" in hidden["test_style_loss_matches_the_reference"]
