"""Hidden tests for vgg.

Architecture: the learner's models, as the sandbox described them (JSON config), are compared
layer by layer (class, output shape, parameters) with keras.applications.VGG16(weights=None) or
with the reference solution built here (each built once per worker: `reference_layer_table`).
The learner's table is read off the config by the size walker (`check_layer_table`, caps first,
nothing allocated); only where it differs is the model rebuilt in Keras's safe mode, and Keras's
table decides. Activations and layer names are read from the layer configs. The VGG
block is also checked by its numbers: the learner's block weights are loaded into the
reference block on the trusted side and both predict the same random images.

Accuracy: the learner's small VGG is built and trained in the sandbox on the training digits
of digit_task("vgg-32") (Hoda when the course has it, else scikit-learn's digits); only the
training split enters the sandbox. The sandbox hands back the trained model (config + weights)
and the held-out images, drawn with the grading's secret `heldout_seed`, are predicted on the
trusted side (`grader.exercise.heldout`, a limited child process) and scored here. The threshold per data
set is in exercise.toml; [caps] bounds what a model may cost the trusted side (VGG16 travels as
config only: 138M parameters are within vgg's caps).

Each test costs one property's points: the VGG16 activations are checked once (test_vgg16_
activations); the small VGG's own Dense activations with its layer table; its training history
and its held-out accuracy are separate tests.

Messages name the property that failed and never show an expected value beyond the
architecture that the README states."""

import numpy as np
import pytest

from grader.modelcheck import (builds_fixture, check_layer_table, compile_settings, digit_task_fixture, expect_history, expect_model,
                               layer_configs, loss_name, reference_layer_table, score_trained, trained_fixture)
from grader.testing import Feedback, error_summary, expect_array, points


builds = builds_fixture()  # the learner's VGG16s, built once per grading for the tests that look at them


def _vgg16(submission, builds, shape, classes):
    """The learner's `build_vgg16(shape, classes)` as the sandbox described it (one call per grading:
    a VGG16 build is ~0.25-1 s of the learner's own time)."""
    what = f"build_vgg16({shape}, {classes})"
    return builds((shape, classes), lambda: expect_model(submission.architecture("build_vgg16", shape, classes),
                                                         what)), what


def _checked(submission, exercise, want, call, what, *args, **kwargs):
    """The learner's `call(*args, **kwargs)` as the sandbox described it, its layer table compared
    with `want`; (the description, the table)."""
    ref = expect_model(submission.architecture(call, *args, **kwargs), what)
    return ref, check_layer_table(ref, want, what, exercise.caps)


def _check_activations(ref, what, convs=True):
    """Conv2D (when `convs`) and hidden Dense layers use ReLU, the last Dense softmax."""
    dense = []
    for kind, config in layer_configs(ref, what):
        if convs and kind == "Conv2D" and config.get("activation") != "relu":
            raise Feedback(f"a Conv2D layer of {what} does not use activation='relu'")
        if kind == "Dense":
            dense.append(config)
    if not dense:
        raise Feedback(f"{what} has no Dense layer")
    if any(d.get("activation") != "relu" for d in dense[:-1]):
        raise Feedback(f"a hidden Dense layer of {what} does not use activation='relu'")
    if dense[-1].get("activation") != "softmax":
        raise Feedback(f"the last Dense layer of {what} does not use activation='softmax'")


def _not_keras_applications(ref, what):
    """keras.applications.VGG16 itself (recognised by its layer names) is not an answer."""
    names = [config.get("name") for _, config in layer_configs(ref, what)]
    theirs = [f"block{b}_{kind}" for b, convs in enumerate((2, 2, 3, 3, 3), start=1)
              for kind in [f"conv{i}" for i in range(1, convs + 1)] + ["pool"]]
    if names == theirs + ["flatten", "fc1", "fc2", "predictions"]:
        raise Feedback(f"{what} has the layer names of keras.applications.VGG16: build VGG16 yourself from "
                       "your vgg_block (keras.applications.VGG16 is what it is compared with)")


def _vgg16_rows(input_shape, classes):
    import keras
    return reference_layer_table(keras.applications.VGG16, weights=None, input_shape=input_shape, classes=classes)


# --------------------------------------------------------------------------------------------
# The VGG block
# --------------------------------------------------------------------------------------------


@points(2)
def test_vgg_block_other_sizes(submission, reference, exercise):
    for shape, filters, convs in (((12, 10, 5), 7, 3), ((9, 9, 2), 4, 1), ((6, 6, 16), 8, 2)):
        what = f"vgg_block_model({shape}, {filters}, {convs})"
        _checked(submission, exercise, reference_layer_table(reference.vgg_block_model, shape, filters, convs),
                 "vgg_block_model", what, shape, filters, convs)


@points(2)
def test_vgg_block_computes_relu_convolutions_and_max_pooling(submission, reference):
    shape, filters, convs = (10, 14, 3), 6, 2
    what = f"vgg_block_model({shape}, {filters}, {convs})"
    ref = expect_model(submission.vgg_block_model(shape, filters, convs), what)
    want_model = reference.vgg_block_model(shape, filters, convs)
    want_shapes = [tuple(w.shape) for w in want_model.get_weights()]
    got_shapes = [tuple(np.shape(w)) for w in ref.weights]
    if got_shapes != want_shapes:
        raise Feedback(f"the weights of {what} do not have the shapes of {convs} Conv2D({filters}, (3, 3)) "
                       "layers with biases followed by a max-pooling layer")
    # the learner's live block predicts with its own (initial) weights; the reference block
    # loaded with the same weights says what those weights should compute
    want_model.set_weights([np.asarray(w, dtype=np.float32) for w in ref.weights])
    x = np.random.default_rng(2024).normal(size=(4,) + shape).astype(np.float32)
    want = want_model.predict_on_batch(x)  # one batch of 4 (predict() sets up for ~60-250 ms more)
    got = expect_array(ref.predict(x), f"{what}.predict(x)", dtype_kind="f")
    if got.shape != want.shape:  # the real cause is the block's sizes, not its numbers
        raise Feedback(f"{what} outputs shape {got.shape[1:]} for images of {shape}; its convolutions should keep "
                       "the size (padding='same') and its pooling halve it, so its numbers cannot be compared")
    assert np.allclose(got, want, rtol=1e-4, atol=1e-5), (
        f"{what} computes something other than ReLU 3x3 'same' convolutions followed by 2x2 max pooling with "
        f"stride 2 ({error_summary(got, want)})")


# --------------------------------------------------------------------------------------------
# VGG16
# --------------------------------------------------------------------------------------------


@points(3)
def test_vgg16_default_matches_keras_applications(submission, exercise):
    ref = expect_model(submission.architecture("build_vgg16"), "build_vgg16()")
    _not_keras_applications(ref, "build_vgg16()")
    rows = check_layer_table(ref, _vgg16_rows((224, 224, 3), 1000), "build_vgg16()", exercise.caps)
    total = sum(r.params for r in rows)
    assert total == 138_357_544, "build_vgg16() does not have the 138,357,544 parameters of VGG16"


@points(3)
def test_vgg16_other_classes_and_input_shapes(submission, exercise, builds):
    for shape, classes in (((64, 96, 3), 7), ((32, 32, 1), 10)):
        ref, what = _vgg16(submission, builds, shape, classes)
        _not_keras_applications(ref, what)
        check_layer_table(ref, _vgg16_rows(shape, classes), what, exercise.caps)


@points(1)
def test_vgg16_activations(submission, builds):
    _check_activations(*_vgg16(submission, builds, (64, 96, 3), 7))


# --------------------------------------------------------------------------------------------
# The small VGG
# --------------------------------------------------------------------------------------------


@points(2)
def test_small_vgg_other_widths(submission, reference, exercise):
    cases = (((28, 28, 3), 5, (8, 16, 24), 1), ((32, 32, 1), 10, (16, 32), 3), ((20, 24, 2), 3, (12,), 2))
    for shape, classes, widths, convs in cases:
        what = f"build_vgg_small({shape}, {classes}, widths={widths}, convs_per_block={convs})"
        ref, _ = _checked(submission, exercise, reference_layer_table(reference.build_vgg_small, shape, classes,
                                                                      widths, convs),
                          "build_vgg_small", what, shape, classes, widths=widths, convs_per_block=convs)
        _check_activations(ref, what, convs=False)  # the blocks' ReLU is test_vgg16_activations' property


@points(1)
def test_small_vgg_is_compiled_for_one_hot_labels(submission):
    what = "build_vgg_small((16, 16, 3), 4, widths=(8,))"
    ref = expect_model(submission.architecture("build_vgg_small", (16, 16, 3), 4, widths=(8,)), what)
    settings = compile_settings(ref, what)
    assert loss_name(settings) == "categorical_crossentropy", (
        f"{what} is compiled with a loss other than categorical cross-entropy (the labels are one-hot)")
    assert "accuracy" in str(settings.get("metrics")), f"{what} is not compiled with metrics=['accuracy']"
    assert settings.get("optimizer"), f"{what} is compiled without an optimizer"


task = digit_task_fixture("vgg-32")  # the grading's digits: training split to the sandbox, held-out split never
trained = trained_fixture()  # the learner's small VGG, built and trained once for the tests that need it


def _train(submission, task, trained):
    """The learner's small VGG built for the task and trained on its training split (once per grading)."""
    what = "build_vgg_small((32, 32, 1), 10, widths=(16, 32))"
    return trained(lambda: expect_model(submission.build_vgg_small(tuple(task.x_train.shape[1:]), 10, widths=(16, 32)),
                                        what),
                   lambda model: submission.train_vgg_small(model, task.x_train, task.y_train_onehot))


@pytest.mark.seconds(90)
@points(1)
def test_small_vgg_training_history(submission, task, trained):
    _, history, _ = _train(submission, task, trained)
    history = expect_history(history, "train_vgg_small(model, x, y)", keys=("loss", "accuracy"))
    assert len(history["accuracy"]) == len(history["loss"]) >= 1, (
        "the history should hold one loss and one accuracy per epoch")


@pytest.mark.seconds(90)
@points(4)
def test_small_vgg_learns_digits(submission, exercise, task, trained, record):
    # test_small_vgg_training_history says what is wrong with a malformed history
    score_trained(_train(submission, task, trained), task, exercise, submission.device, record,
                  "train_vgg_small(model, x, y)")
