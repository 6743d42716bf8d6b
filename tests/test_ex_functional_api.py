"""functional-api graded through the real engine and sandbox: the reference gets every point and
the template none; a learner who declares the number input first (and other allowed idioms) gets
full marks, the held-out digits reaching its model in its own input order; a learner who merges
the branches with Add instead of Concatenate loses exactly the Concatenate test."""

from __future__ import annotations

import pytest

from exercise_kit import NEAR_MISS, check_reference_full_and_template_zero, edited_reference, lost
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade


@pytest.fixture(scope="module")
def ex():
    return find_exercise("functional-api")


def _held_out(seed, hoda):
    from grader.data import digit_task
    from grader.data.digits import digit_features
    x = digit_task("functional-16", hoda, heldout_seed=seed).x_test
    return [x, digit_features(x)]


def test_reference_full_marks_and_template_zero(ex):
    check_reference_full_and_template_zero(ex, held_out=_held_out)


def test_numbers_first_and_other_idioms_get_full_marks(ex):
    result = grade(ex, NEAR_MISS / "functional_api_numbers_first.py", "hidden")
    assert result.full_marks, lost(result)


def test_an_add_merge_loses_only_the_concatenate_test(ex, tmp_path):
    path = edited_reference(tmp_path, ex, "merged = layers.Concatenate()([x, n])",
                            "merged = layers.Add()([layers.Dense(16, activation='relu')(x), n])")
    hidden = lost(grade(ex, path, "hidden"))
    assert set(hidden) == {"test_a_concatenate_joins_the_two_branches"}, hidden
    assert "Concatenate" in hidden["test_a_concatenate_joins_the_two_branches"]
