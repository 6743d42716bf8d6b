"""transfer-learning graded through the real engine and sandbox: the reference gets every point
and the template none; a learner in other allowed idioms (a Sequential of the kept layers,
trainable set in one loop, features by calling the layers) gets full marks; a learner whose
freeze_base sets model.trainable = False and then the head's flag (Keras 3 then trains nothing,
though the saved config lists the head as trainable) loses the only-the-head-trainable test with
a hint that says why, and the held-out accuracy its random head cannot reach."""

from __future__ import annotations

import pytest

from exercise_kit import NEAR_MISS, check_reference_full_and_template_zero, edited_reference, lost
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade


@pytest.fixture(scope="module")
def ex():
    return find_exercise("transfer-learning")


def test_reference_full_marks_and_template_zero(ex):
    check_reference_full_and_template_zero(ex)


def test_other_idioms_get_full_marks(ex):
    result = grade(ex, NEAR_MISS / "transfer_learning_other_idioms.py", "hidden")
    assert result.full_marks, lost(result)


def test_a_model_level_freeze_loses_the_trainable_head_test(ex, tmp_path):
    path = edited_reference(tmp_path, ex, "    for layer in model.layers[:-1]:\n        layer.trainable = False",
                            "    model.trainable = False")
    hidden = lost(grade(ex, path, "hidden"))
    assert set(hidden) == {"test_freeze_base_leaves_only_the_head_trainable",
                           "test_held_out_accuracy_on_the_new_digits"}, hidden
    assert "model.trainable = False" in hidden["test_freeze_base_leaves_only_the_head_trainable"]
