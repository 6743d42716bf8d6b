"""transfer-learning graded through the real engine and sandbox: the reference gets every point
and the template none; a learner in other allowed idioms (a Sequential of the kept layers,
model.trainable = False then the head trainable again, features by calling the layers) gets full
marks; a learner whose freeze_base leaves the batch norm layers trainable loses the tests of
those two properties (only the head trainable, the frozen base unchanged) with a hint that names
the trainable layer."""

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


def test_batch_norm_left_trainable_loses_the_freezing_tests(ex, tmp_path):
    path = edited_reference(tmp_path, ex, "    for layer in model.layers[:-1]:\n        layer.trainable = False",
                            "    for layer in model.layers[:-1]:\n"
                            "        if not isinstance(layer, layers.BatchNormalization):\n"
                            "            layer.trainable = False")
    hidden = lost(grade(ex, path, "hidden"))
    assert {"test_freeze_base_leaves_only_the_head_trainable",
            "test_fine_tuning_leaves_the_frozen_base_unchanged"} <= set(hidden) <= {
        "test_freeze_base_leaves_only_the_head_trainable", "test_fine_tuning_leaves_the_frozen_base_unchanged",
        "test_held_out_accuracy_on_the_new_digits"}, hidden
    assert "left trainable" in hidden["test_fine_tuning_leaves_the_frozen_base_unchanged"]
