"""vgg graded through the real engine and sandbox. Its layer tables are read off the learner's
configs and compared with keras.applications.VGG16 and the reference, each built once per
process (`reference_layer_table`); the layer names come from the configs too. (The reference's full
marks and the held-out inputs that never enter the sandbox: tests/test_trusted_scoring.py.)"""

from __future__ import annotations

from exercise_kit import edited_reference, lost
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade


def test_keras_applications_vgg16_as_the_answer_loses_exactly_the_two_vgg16_table_tests(tmp_path):
    ex = find_exercise("vgg")
    path = edited_reference(tmp_path, ex, '''    inputs = keras.Input(shape=tuple(input_shape))
    x = inputs
    for filters, convs in''', '''    return keras.applications.VGG16(weights=None, input_shape=tuple(input_shape), classes=num_classes)
    inputs = keras.Input(shape=tuple(input_shape))
    x = inputs
    for filters, convs in''')
    hidden = lost(grade(ex, path, "hidden", heldout_seed=7))
    assert set(hidden) == {"test_vgg16_default_matches_keras_applications",
                           "test_vgg16_other_classes_and_input_shapes"}, hidden
    assert all("layer names of keras.applications.VGG16" in out for out in hidden.values()), hidden
