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


HARD_IRIS_SEED = 1857134794298225528  # a test course's secret seed: the reference got 6 of 38 wrong (0.842)


def test_the_reference_clears_the_iris_threshold_on_a_hard_held_out_draw(ex):
    """A course's seed draws its held-out iris flowers; on this one the reference scored 0.842 (on
    TensorFlow, this machine's CPU), under the first threshold (0.86), which failed the reference in
    that course. The threshold now sits below every draw seen (see exercise.toml's `measured`)."""
    import importlib.util

    import keras
    import numpy as np

    from grader.data import tabular_task
    spec = importlib.util.spec_from_file_location("keras_classifiers_reference", ex.solution)
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    task = tabular_task("iris", HARD_IRIS_SEED)
    keras.utils.set_random_seed(0)  # as the sandbox seeds every call
    model = reference.build_iris_classifier(16)
    reference.train_weighted(model, task.x_train, task.y_train)
    accuracy = float(np.mean(np.argmax(model.predict(task.x_test, verbose=0), axis=1) == task.y_test))
    assert accuracy >= float(ex.extra["threshold"]["iris"]), accuracy
