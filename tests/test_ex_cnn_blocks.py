"""cnn-blocks graded through the real engine and sandbox (the blocks reach the learner's code as
`keras.Input` tensors and come back as models): the reference gets full marks and the template
0; a learner in other conventions the README allows gets full marks; a learner with two
independent mistakes (the ReLU applied before the residual addition; the inception branches
concatenated in another order) loses exactly those two tests, each with the hint that names its
cause."""

from __future__ import annotations

import pytest

from exercise_kit import NEAR_MISS, check_reference_full_and_template_zero, lost as _lost
from exercise_kit import edited_reference as _broken
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade


@pytest.fixture(scope="module")
def ex():
    return find_exercise("cnn-blocks")


def test_reference_full_marks_and_template_zero(ex):
    check_reference_full_and_template_zero(ex)


def test_other_allowed_conventions_get_full_marks(ex):
    result = grade(ex, NEAR_MISS / "cnn_blocks_other_conventions.py", "hidden")
    assert result.full_marks, _lost(result)


def test_two_mistakes_lose_exactly_their_two_tests(ex, tmp_path):
    path = _broken(tmp_path, ex, "    y = layers.BatchNormalization()(y)\n    if stride",
                   "    y = layers.Activation('relu')(layers.BatchNormalization()(y))\n    if stride")
    path = _broken(tmp_path, ex, "Concatenate(axis=-1)([b1, b3, b5, bp])", "Concatenate(axis=-1)([b3, b1, b5, bp])",
                   source=path)
    hidden = _lost(grade(ex, path, "hidden"))
    assert set(hidden) == {"test_the_input_is_added_before_the_last_relu",
                           "test_inception_module_computes_four_relu_branches_in_order"}, hidden
    assert "before adding the shortcut" in hidden["test_the_input_is_added_before_the_last_relu"]
    assert "another order" in hidden["test_inception_module_computes_four_relu_branches_in_order"]
