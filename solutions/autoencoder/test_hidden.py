"""Hidden tests for autoencoder.

What makes the learner's model an autoencoder (the README's three properties) is checked one
property per test on the model rebuilt from its configuration in safe mode on the trusted side:
its output shape equals its input shape; its bottleneck (`grader.exercise.modelgraph.bottleneck`:
over every path from the input to the output, the narrowest layer) holds fewer values than the
input, so no shortcut carries the image around it (a 1x1 convolution, the identity, scores a
perfect clean error and is caught here); a Conv2DTranspose layer decodes.

Reconstruction: the learner's model is built and trained in the sandbox on the training digits of
digit_task("autoencoder-28") (Hoda at 28x28x1 when the course has it, else scikit-learn's digits
brought to 28x28x1); only the training split enters the sandbox. The trained model comes back as
data and the held-out digits, drawn with the grading's secret `heldout_seed`, are reconstructed on
the trusted side (`grader.exercise.heldout`): once clean, once with Gaussian noise drawn here with
that seed (standard deviation `[threshold] noise_std`, clipped to [0, 1]); both errors are
measured against the clean digits (mean squared error per pixel, lower is better) and compared
with the thresholds of exercise.toml, calibrated as `measured` says.

add_noise is checked by its statistics (any draw from np.random.default_rng(seed) passes), its
clipping and its repeatability. Messages never show an expected value beyond what the README
states."""

import json

import numpy as np
import pytest

from grader.exercise import heldout
from grader.exercise.modelgraph import all_layers, bottleneck, output_size
from grader.modelcheck import (builds_fixture, compile_settings, digit_task_fixture, expect_history, loss_name,
                               model_from, rebuild, score_metric, trained_fixture)
from grader.testing import Feedback, expect_array, points

TRAIN_SECONDS = 90  # the README promises the training this much time (on CPU)
NOTES_SHAPE = (28, 28, 1)
RECONSTRUCTION_LOSSES = {"mse", "mean_squared_error", "binary_crossentropy", "mae", "mean_absolute_error",
                         "huber", "huber_loss", "log_cosh", "logcosh"}

task = digit_task_fixture("autoencoder-28")  # training split to the sandbox, held-out split never
trained = trained_fixture()  # the learner's autoencoder, built and trained once for the tests that need it
builds = builds_fixture()  # each of the learner's models the tests look at, built once per grading


def _call(input_shape) -> str:
    return f"build_autoencoder(input_shape={tuple(input_shape)})"


def _built(submission, exercise, builds, input_shape=NOTES_SHAPE):
    """(the sandbox's model, its rebuilt copy here, the call's text), once per grading and shape."""
    what = _call(input_shape)

    def build():
        ref = model_from(submission.build_autoencoder, what, input_shape=tuple(input_shape))
        return ref, rebuild(ref, what, exercise.caps), what
    return builds(("build", tuple(input_shape)), build)


def _output_shape(model) -> tuple:
    outputs = model.outputs
    if len(outputs) != 1:
        raise Feedback(f"the autoencoder has {len(outputs)} outputs; it should have one, the reconstructed image")
    return tuple(int(d) if d is not None else None for d in outputs[0].shape[1:])


def _check_output_shape(submission, exercise, builds, input_shape):
    _, model, what = _built(submission, exercise, builds, input_shape)
    got = _output_shape(model)
    if got != tuple(input_shape):
        raise Feedback(f"{what} outputs images of shape {got}; an autoencoder gives back an image of its input's "
                       f"shape {tuple(input_shape)} (a transposed convolution with padding='same' and strides=2 "
                       "doubles the height and width exactly; 'valid' adds kernel_size - strides more)")


def _train(submission, exercise, task, trained, builds):
    """The learner's autoencoder built for the task's images and trained on its training split
    (once per grading)."""
    shape = tuple(int(d) for d in task.x_train.shape[1:])
    return trained(lambda: _built(submission, exercise, builds, shape)[0],
                   lambda model: submission.train_autoencoder(model, task.x_train))


def _noisy(x: np.ndarray, std: float, seed: int) -> np.ndarray:
    """The held-out digits with the grader's own noise (drawn here with the secret seed)."""
    rng = np.random.default_rng([int(seed), 14])
    return np.clip(x + rng.normal(0.0, std, size=x.shape), 0.0, 1.0).astype(np.float32)


def _trained_autoencoder(model):
    """The trained model as the sandbox holds it now, with the layers build_autoencoder gave it (the
    ones the tests of its properties checked): a training that swaps them (Sequential.pop/add), for
    a copy of the input say, is scored nothing."""
    trained = model.trained() if model.session is not None else model
    try:
        same = json.loads(trained.config) == json.loads(model.config)
    except ValueError:
        same = False
    if not same:
        raise Feedback("train_autoencoder changed the layers of the model build_autoencoder built (e.g. with "
                       "pop/add); train the model it is given, as it is")
    return trained


def _score(submission, exercise, task, trained, builds, record, heldout_seed, noisy: bool):
    result = _train(submission, exercise, task, trained, builds)
    limits = exercise.extra["threshold"]
    std = float(limits["noise_std"])
    model = builds(("trained",), lambda: _trained_autoencoder(result.model))
    x_clean = task.x_test
    x_in = _noisy(x_clean, std, heldout_seed) if noisy else x_clean
    kind = "noisy held-out digits" if noisy else "held-out digits"
    out = heldout.predict(model, x_in, exercise.caps, "your trained model", output_shape=tuple(x_clean.shape[1:]))
    out = expect_array(out, f"your model's reconstructions of the {kind}", shape=x_clean.shape, dtype_kind="f")
    mse = float(np.mean((out.astype(np.float64) - x_clean) ** 2))
    key = f"noisy_{task.dataset}" if noisy else task.dataset
    dataset = f"{task.dataset}, noise std {std:g}" if noisy else task.dataset
    score_metric(record, name="reconstruction MSE", value=mse, threshold=float(limits[key]), lower_is_better=True,
                 dataset=dataset, seconds=result.seconds, device=submission.device,
                 what="your autoencoder")


@points(1)
def test_build_autoencoder_returns_a_built_keras_model(submission, exercise, builds):
    _built(submission, exercise, builds)


@points(1)
def test_output_shape_equals_the_input_shape(submission, exercise, builds):
    _check_output_shape(submission, exercise, builds, NOTES_SHAPE)


@points(1)
def test_output_shape_equals_the_input_shape_for_other_images(submission, exercise, builds):
    for shape in ((32, 32, 1), (16, 16, 3)):
        _check_output_shape(submission, exercise, builds, shape)


@points(2)
def test_the_bottleneck_is_smaller_than_the_input(submission, exercise, builds):
    _, model, what = _built(submission, exercise, builds)
    size = int(np.prod(NOTES_SHAPE))
    width = bottleneck(model)
    if width < size:
        return
    narrowest = min((output_size(layer) for layer in all_layers(model)), default=float("inf"))
    if narrowest < size:
        raise Feedback(f"{what} has a layer of {narrowest:g} values, but a path from the input to the output goes "
                       f"around it (a shortcut such as Add or Concatenate with a wider tensor): every path must pass "
                       f"through a bottleneck of fewer than {size} values, or the model can copy its input")
    raise Feedback(f"{what} never holds fewer values than its input's {size} (its narrowest layer has "
                   f"{narrowest:g}): an autoencoder squeezes the image through a bottleneck, e.g. with pooling, "
                   "strides or fewer filters, or it can learn to copy its input")


@points(1)
def test_the_decoder_uses_conv2d_transpose(submission, exercise, builds):
    _, model, what = _built(submission, exercise, builds)
    kinds = {type(layer).__name__ for layer in all_layers(model)}
    assert "Conv2DTranspose" in kinds, (
        f"{what} has no Conv2DTranspose layer; the decoder builds the image back up with transposed convolutions "
        "(keras.layers.Conv2DTranspose), not only with UpSampling2D or Dense layers")


@points(1)
def test_compiled_with_a_reconstruction_loss(submission, exercise, builds):
    ref, _, what = _built(submission, exercise, builds)
    name = loss_name(compile_settings(ref, what))
    assert name in RECONSTRUCTION_LOSSES, (
        f"{what} is compiled with the loss {name or 'None'!r}; an autoencoder compares its output with its input "
        "pixel by pixel: loss='mse' (or 'binary_crossentropy' with a sigmoid output)")


@points(1)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_train_autoencoder_returns_the_history(submission, exercise, task, trained, builds):
    history = expect_history(_train(submission, exercise, task, trained, builds).history, "train_autoencoder(model, x)")
    losses = history["loss"]
    if not losses or not all(np.isfinite(losses)):
        raise Feedback("train_autoencoder(model, x): the training loss is missing, NaN or infinite; check the "
                       "inputs, the targets and the learning rate")
    if len(losses) > 1 and not losses[-1] < losses[0]:
        raise Feedback("train_autoencoder(model, x): the training loss did not go down; check the targets (the "
                       "clean images) and the optimizer")


@points(4)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_held_out_reconstruction_error(submission, exercise, task, trained, builds, record, heldout_seed):
    result = _train(submission, exercise, task, trained, builds)
    try:
        record("history", expect_history(result.history, "train_autoencoder(model, x)"))
    except Feedback:
        pass  # the history test says what is wrong with it
    _score(submission, exercise, task, trained, builds, record, heldout_seed, noisy=False)


@points(3)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_held_out_reconstruction_error_on_noisy_digits(submission, exercise, task, trained, builds, record,
                                                        heldout_seed):
    _score(submission, exercise, task, trained, builds, record, heldout_seed, noisy=True)


# ------------------------------------------------------------------------------------------------
# add_noise
# ------------------------------------------------------------------------------------------------


def _noise(submission, x, std, seed, what=None):
    what = what or f"add_noise(x of shape {x.shape}, std={std}, seed={seed})"
    return expect_array(submission.add_noise(x, std, seed), what, shape=x.shape, dtype_kind="f"), what


@points(1)
def test_add_noise_keeps_the_shape_and_a_float_dtype(submission):
    for shape in ((5, 28, 28, 1), (3, 16, 16, 3), (40,)):
        x = np.random.default_rng(3).uniform(0.2, 0.8, size=shape).astype(np.float32)
        _noise(submission, x, 0.1, 7)


@points(1)
def test_add_noise_clips_to_0_1(submission):
    x = np.zeros((4, 28, 28, 1), dtype=np.float32)
    x[:2] = 1.0
    out, what = _noise(submission, x, 0.5, 11)
    assert out.min() >= 0.0 and out.max() <= 1.0, (
        f"{what} gives values from {out.min():.3f} to {out.max():.3f}; clip the noisy images to [0, 1]")
    zeros, ones = out[2:], out[:2]
    assert np.mean(zeros == 0.0) > 0.3 and np.mean(ones == 1.0) > 0.3, (
        f"{what}: about half of the pixels of a black image should stay at exactly 0 (and of a white image at 1) "
        "after the noise, as np.clip(x + noise, 0, 1) leaves them; rescaling the result is not clipping")


@points(1)
def test_add_noise_has_mean_0_and_the_standard_deviation_asked_for(submission):
    x = np.full((50, 28, 28, 1), 0.5, dtype=np.float32)
    for std in (0.05, 0.1):
        out, what = _noise(submission, x, std, 5)
        noise = out.astype(np.float64) - 0.5
        mean, spread = float(noise.mean()), float(noise.std())
        per_image = noise.reshape(len(noise), -1).std(axis=1)
        assert abs(mean) < 0.1 * std, f"{what}: the noise's mean is {mean:.4f}; Gaussian noise has mean 0"
        assert abs(spread - std) < 0.05 * std, (
            f"{what}: the noise's standard deviation is {spread:.4f}; it should be std={std} (scale=std in "
            "rng.normal(0, std, size=x.shape), not the variance)")
        assert per_image.min() > 0.8 * std, (
            f"{what}: the noise does not vary from pixel to pixel within an image; draw one value for every "
            "pixel (size=x.shape)")
    out, what = _noise(submission, x, 0.0, 5)
    assert np.allclose(out, x, atol=1e-6), f"{what} changed the images; with std=0 they should come back unchanged"


@points(1)
def test_add_noise_is_repeatable_with_the_same_seed(submission):
    x = np.full((3, 28, 28, 1), 0.5, dtype=np.float32)
    a, what = _noise(submission, x, 0.2, 42)
    b, _ = _noise(submission, x, 0.2, 42)
    c, _ = _noise(submission, x, 0.2, 43)
    assert np.array_equal(a, b), f"{what} gave different noise twice with the same seed; draw it with np.random.default_rng(seed)"
    assert not np.array_equal(a, c), "add_noise gave the same noise for seeds 42 and 43; draw it with np.random.default_rng(seed)"
