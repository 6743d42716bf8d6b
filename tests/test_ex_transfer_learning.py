"""transfer-learning graded through the real engine and sandbox: the reference gets every point
and the template none; a learner with exactly the issue's signatures (build_base(input_shape),
train_base(model, x, y) with its epochs inside, so the fine-tuning calls it again) in other
allowed idioms (a Sequential of the kept layers, trainable set in one loop, features by calling
the layers) gets full marks on both suites; a learner whose
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


def _held_out(seed, hoda):
    from grader.data import digit_task
    return [digit_task("transfer-new-16", hoda, heldout_seed=seed).x_test]


def test_reference_full_marks_and_template_zero(ex):
    check_reference_full_and_template_zero(ex, held_out=_held_out)


def test_the_issue_signatures_in_other_idioms_get_full_marks(ex):
    for suite in ("public", "hidden"):
        result = grade(ex, NEAR_MISS / "transfer_learning_issue_signatures.py", suite)
        assert result.full_marks and result.max_score == ex.points[suite], (suite, lost(result))


def test_a_model_level_freeze_loses_the_trainable_head_test(ex, tmp_path):
    path = edited_reference(tmp_path, ex, "    for layer in model.layers[:-1]:\n        layer.trainable = False",
                            "    model.trainable = False")
    hidden = lost(grade(ex, path, "hidden"))
    assert set(hidden) == {"test_freeze_base_leaves_only_the_head_trainable",
                           "test_held_out_accuracy_on_the_new_digits"}, hidden
    assert "model.trainable = False" in hidden["test_freeze_base_leaves_only_the_head_trainable"]
