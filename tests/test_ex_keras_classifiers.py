"""keras-classifiers graded through the real engine and sandbox: the reference gets full marks on
both suites and the template none; a learner in other conventions the README allows (the notes'
sum / count class weights, the functional API, loss objects) gets full marks; a train_weighted
that ignores the class weights loses exactly the minority-recall test, with a hint naming
class_weight (the imbalanced subset is built so that it must: see exercise.toml's `measured`)."""

from __future__ import annotations

import pytest

from exercise_kit import NEAR_MISS, check_reference_full_and_template_zero, edited_reference, lost
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade


@pytest.fixture(scope="module")
def ex():
    return find_exercise("keras-classifiers")


def _held_out(seed, hoda):
    from grader.data import imbalanced_task, tabular_task
    return [tabular_task("iris", seed).x_test, tabular_task("breast_cancer", seed).x_test,
            imbalanced_task("breast_cancer", seed, 0.10, ("mean texture", "mean smoothness")).x_test]


def test_reference_full_marks_and_template_zero(ex):
    check_reference_full_and_template_zero(ex, held_out=_held_out)


def test_proportional_class_weights_and_other_idioms_get_full_marks(ex):
    result = grade(ex, NEAR_MISS / "keras_classifiers_other_conventions.py", "hidden")
    assert result.full_marks, lost(result)


def test_training_without_class_weights_loses_only_the_recall_test(ex, tmp_path):
    path = edited_reference(tmp_path, ex, "class_weight=class_weight_dict(y), verbose=0)", "verbose=0)")
    hidden = lost(grade(ex, path, "hidden"))
    assert set(hidden) == {"test_minority_class_recall_on_an_imbalanced_subset"}, hidden
    assert "class_weight=class_weight_dict(y)" in hidden["test_minority_class_recall_on_an_imbalanced_subset"]
