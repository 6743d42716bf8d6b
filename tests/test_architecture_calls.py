"""`submission.architecture(FUNCTION, ...)`: a test that reads only the architecture of the learner's
models has them built in the sandbox without their weights and described by config alone. Real
gradings (engine, sandbox, Keras) of a copy of vgg whose hidden tests are the ones below: a model of
8 GB of weights is described within a 6 GB sandbox; a compiled model keeps its settings; a model the
learner's code keeps trains later as usual; a build that needs a variable's value is called the
usual way; the learner's own error stays the learner's; and a test that tries to run such a
model is the grader's fault, never a 0."""

from __future__ import annotations

import shutil

import pytest

from grader.exercise.spec import find_exercise, load_exercise
from grader.grading.engine import grade
from grader.grading.result import Kind

SUBMISSION = '''
import keras
import numpy as np

CALLS = []


def build_huge():
    """40,000 inputs to 50,000 units: 2,000,050,000 parameters, 8 GB of float32 weights."""
    CALLS.append("huge")
    return keras.Sequential([keras.Input((40_000,)), keras.layers.Dense(50_000)])


KERNELS = []  # weak references: they keep nothing alive


def kernels_with_values():
    """How many of build_compiled's first kernels are alive and hold a value."""
    return sum(1 for ref in KERNELS if ref() is not None and ref()._value is not None)


def build_compiled(units):
    import weakref
    CALLS.append("compiled")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    KERNELS.append(weakref.ref(model.layers[0].kernel))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


CACHE = {}


def build_cached(units):
    """Keeps the first model it built and gives it back on every later call."""
    CALLS.append("cached")
    if units not in CACHE:
        CACHE[units] = build_compiled(units)
    return CACHE[units]


def build_with_a_variable_of_its_own():
    """Makes a variable from a value while building, which cannot be left without one."""
    CALLS.append("own variable")
    keras.Variable(np.zeros(3))
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])


def build_that_raises():
    CALLS.append("raises")
    raise ValueError("no model today")


def train(model):
    return model.fit(np.zeros((4, 4)), np.zeros((4, 3)), verbose=0)


def calls():
    return list(CALLS)


def pending_variables():
    from keras.src.backend.common import global_state
    return len(global_state.get_global_attribute("uninitialized_variables", []) or [])
'''

HIDDEN_TESTS = '''
import json

import numpy as np

from grader.exercise.modelsize import model_size
from grader.modelcheck import compile_settings, expect_model, loss_name
from grader.testing import points


@points(1)
def test_1_a_model_over_the_memory_limit_is_described_without_its_weights(submission):
    ref = expect_model(submission.architecture("build_huge"), "build_huge()")
    assert ref.architecture_only and ref.weights == [] and ref.handle == 0
    assert model_size(ref.config).params == 40_000 * 50_000 + 50_000
    assert submission.pending_variables() == 0  # nothing left for a later scope of Keras's to allocate
    assert submission.calls() == ["huge"]


@points(1)
def test_2_a_compiled_model_keeps_its_compile_settings(submission):
    ref = expect_model(submission.architecture("build_compiled", 8), "build_compiled(8)")
    assert loss_name(compile_settings(ref)) == "categorical_crossentropy"
    assert [layer["config"]["units"] for layer in json.loads(ref.config)["config"]["layers"]
            if layer["class_name"] == "Dense"] == [8, 3]
    assert submission.calls()[-1:] == ["compiled"]  # built once: its optimizer was made outside the scope
    assert submission.kernels_with_values() == 0  # a model nobody keeps is never given its weights later


@points(1)
def test_2b_a_model_the_learner_keeps_is_trained_later_as_if_built_the_usual_way(submission):
    expect_model(submission.architecture("build_cached", 5), "build_cached(5)")
    model = expect_model(submission.build_cached(5), "build_cached(5)")  # the same model, now used
    history = submission.train(model)
    assert len(history["loss"]) == 1 and np.isfinite(history["loss"][0])
    assert model.predict(np.ones((2, 4))).shape == (2, 3)


@points(1)
def test_3_a_build_that_needs_a_value_is_called_the_usual_way(submission):
    ref = expect_model(submission.architecture("build_with_a_variable_of_its_own"), "build()")
    assert ref.architecture_only and ref.weights == []
    assert submission.calls()[-2:] == ["own variable", "own variable"], submission.calls()  # refused, then as usual


@points(1)
def test_4_the_learners_own_error_is_theirs(submission):
    submission.architecture("build_that_raises")


@points(1)
def test_5_a_model_without_weights_passed_to_the_learners_code_is_the_graders_fault(submission):
    submission.train(submission.architecture("build_compiled", 4))


@points(1)
def test_6_a_model_without_weights_cannot_predict(submission):
    submission.architecture("build_compiled", 4).predict(np.zeros((1, 4)))


@points(1)
def test_7_the_same_model_built_the_usual_way_is_over_the_memory_limit(submission):
    submission.build_huge()
'''


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    root = tmp_path_factory.mktemp("architecture")
    ex = find_exercise("vgg")
    shutil.copytree(ex.directory, root / "exercises" / "vgg")
    shutil.copytree(ex.solution_dir, root / "solutions" / "vgg", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "solutions" / "vgg" / "test_hidden.py").write_text(HIDDEN_TESTS)
    submission = root / "vgg.py"
    submission.write_text(SUBMISSION)
    copy = load_exercise(root / "exercises" / "vgg", root / "solutions")
    return {t.name: t for t in grade(copy, submission, "hidden", heldout_seed=3).tests}


def test_a_model_is_described_by_its_architecture_without_allocating_its_weights(result):
    for name in ("test_1_a_model_over_the_memory_limit_is_described_without_its_weights",
                 "test_2_a_compiled_model_keeps_its_compile_settings",
                 "test_2b_a_model_the_learner_keeps_is_trained_later_as_if_built_the_usual_way",
                 "test_3_a_build_that_needs_a_value_is_called_the_usual_way"):
        assert result[name].status == "passed", (name, result[name].output)
    huge = result["test_7_the_same_model_built_the_usual_way_is_over_the_memory_limit"]
    assert huge.status != "passed" and huge.kind in (Kind.MEMORY, Kind.RAISED, Kind.CRASHED), huge


def test_the_learners_error_under_an_architecture_call_is_reported_as_theirs(result):
    raised = result["test_4_the_learners_own_error_is_theirs"]
    assert (raised.status, raised.kind) == ("failed", Kind.RAISED), raised
    assert "ValueError: no model today" in raised.output


def test_running_a_model_asked_for_as_architecture_is_the_graders_fault_never_a_zero(result):
    for name in ("test_5_a_model_without_weights_passed_to_the_learners_code_is_the_graders_fault",
                 "test_6_a_model_without_weights_cannot_predict"):
        assert (result[name].status, result[name].kind) == ("error", Kind.GRADER_FAULT), result[name]
        assert "not in your code" in result[name].output
