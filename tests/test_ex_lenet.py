"""lenet graded through the real engine and sandbox. The layer tables of the learner's six models
are read off their configs (`check_layer_table`, no Keras rebuild where they agree with the
reference), so these gradings check that path end to end: a learner in other idioms the README
allows gets full marks, and a wrong dropout rate loses exactly the activations test, whose hint
names it. (The reference's full marks and the held-out inputs that never enter the sandbox:
tests/test_trusted_scoring.py.)"""

from __future__ import annotations

import pytest

from exercise_kit import NEAR_MISS, edited_reference, lost
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade


@pytest.fixture(scope="module")
def ex():
    return find_exercise("lenet")


def test_the_functional_api_and_other_idioms_get_full_marks(ex):
    result = grade(ex, NEAR_MISS / "lenet_other_idioms.py", "hidden", heldout_seed=7)
    assert result.full_marks, lost(result)


def test_a_wrong_dropout_rate_loses_only_the_activations_test(ex, tmp_path):
    path = edited_reference(tmp_path, ex, "layers.Dropout(0.5)", "layers.Dropout(0.3)")
    hidden = lost(grade(ex, path, "hidden", heldout_seed=7))
    assert set(hidden) == {"test_activations_and_dropout_rate"}, hidden
    assert "Dropout(0.5)" in hidden["test_activations_and_dropout_rate"]

