"""Public tests for autoencoder. What the grader checks of build_autoencoder() (input 28x28x1):

    its output shape is its input shape, (28, 28, 1) (the notes' PyTorch decoder gives 31x31x1);
    every path from the input to the output passes a layer of fewer than 28 * 28 * 1 = 784
    values (the bottleneck; the reference's encoder ends at 7 * 7 * 8 = 392, the notes' at 7 * 7 * 4 = 196);
    a Conv2DTranspose layer in the decoder.

The training tests train your autoencoder with train_autoencoder on 1,000 of the training digits
(28x28x1) and reconstruct 300 others of them, clean and with noise of standard deviation 0.3
(clipped to [0, 1]); the error is the mean squared error per pixel against the clean digits.
(The hidden tests train on all the training digits and measure held-out digits that you never
see.)"""

import numpy as np
import pytest

from grader.data import digit_task
from grader.exercise.modelgraph import all_layers, bottleneck, output_size
from grader.modelcheck import builds_fixture, expect_history, model_from, rebuild
from grader.testing import Feedback, expect_array, points

SHAPE = (28, 28, 1)
NOISE_STD = 0.3
VALIDATION_BAR = 0.03  # mean squared error per pixel on 300 training digits; the hidden thresholds are in exercise.toml

builds = builds_fixture()  # the models of this run, built (and trained) once


def _build(submission, builds):
    what = f"build_autoencoder(input_shape={SHAPE})"

    def build():
        ref = model_from(submission.build_autoencoder, what, input_shape=SHAPE)
        return ref, rebuild(ref, what), what
    return builds("build", build)


def _trained(submission, builds, hoda):
    """(the trained model in the sandbox, the validation digits) once per run."""
    def train():
        task = digit_task("autoencoder-28", hoda)
        order = np.random.default_rng(0).permutation(len(task.x_train))
        val, fit = task.x_train[order[:300]], task.x_train[order[300:1300]]
        ref = model_from(submission.build_autoencoder, f"build_autoencoder(input_shape={SHAPE})", input_shape=SHAPE)
        history = expect_history(submission.train_autoencoder(ref, fit), "train_autoencoder(model, x)")
        if not all(np.isfinite(history["loss"])):
            raise Feedback("train_autoencoder(model, x): the training loss became NaN or infinite")
        return ref, val
    return builds("trained", train)


def _error(submission, builds, hoda, noisy):
    ref, val = _trained(submission, builds, hoda)
    x = np.clip(val + np.random.default_rng(1).normal(0.0, NOISE_STD, val.shape), 0, 1).astype(np.float32) if noisy else val
    out = expect_array(ref.predict(x), "your model's reconstructions", shape=val.shape, dtype_kind="f")
    return float(np.mean((out.astype(np.float64) - val) ** 2))


@points(1)
def test_output_shape_equals_the_input_shape(submission, builds):
    _, model, what = _build(submission, builds)
    got = tuple(model.outputs[0].shape[1:])
    assert got == SHAPE, f"{what} outputs shape {got}; it should give back the input's shape {SHAPE}"


@points(1)
def test_the_bottleneck_is_smaller_than_the_input(submission, builds):
    _, model, what = _build(submission, builds)
    width = bottleneck(model)
    narrowest = min((output_size(layer) for layer in all_layers(model)), default=float("inf"))
    assert width < 784, (
        f"{what}: some path from the input to the output holds {width:g} values or more all the way (narrowest "
        f"layer: {narrowest:g}); every path must pass a bottleneck of fewer than 784 values (the reference's 7x7x8 = 392)")


@points(1)
def test_the_decoder_uses_conv2d_transpose(submission, builds):
    _, model, what = _build(submission, builds)
    kinds = [type(layer).__name__ for layer in all_layers(model)]
    assert "Conv2DTranspose" in kinds, f"{what} has no Conv2DTranspose layer; its layers are {kinds}"


@points(1)
def test_add_noise_shape_range_and_seed(submission):
    x = np.full((4, 28, 28, 1), 0.5, dtype=np.float32)
    x[0] = 0.0
    a = expect_array(submission.add_noise(x, 0.3, 0), "add_noise(x, 0.3, 0)", shape=x.shape, dtype_kind="f")
    assert a.min() >= 0.0 and a.max() <= 1.0, f"add_noise(x, 0.3, 0) gives values from {a.min():.3f} to {a.max():.3f}; clip to [0, 1]"
    b = submission.add_noise(x, 0.3, 0)
    assert np.array_equal(a, b), "add_noise(x, 0.3, 0) gave different results twice; draw with np.random.default_rng(seed)"
    c = submission.add_noise(x, 0.3, 1)
    assert not np.array_equal(a, c), "add_noise gave the same noise for seeds 0 and 1; draw with np.random.default_rng(seed)"


@points(1)
def test_add_noise_mean_and_standard_deviation(submission):
    x = np.full((20, 28, 28, 1), 0.5, dtype=np.float32)
    out = expect_array(submission.add_noise(x, 0.1, 3), "add_noise(x, 0.1, 3)", shape=x.shape, dtype_kind="f")
    noise = out.astype(np.float64) - 0.5
    assert abs(noise.mean()) < 0.01, f"the noise of add_noise(x, 0.1, 3) has mean {noise.mean():.4f}; it should be 0"
    assert abs(noise.std() - 0.1) < 0.005, (
        f"the noise of add_noise(x, 0.1, 3) has standard deviation {noise.std():.4f}; it should be 0.1")


@points(2)
@pytest.mark.seconds(60)
def test_train_autoencoder_reconstructs_validation_digits(submission, builds, hoda):
    mse = _error(submission, builds, hoda, noisy=False)
    assert mse <= VALIDATION_BAR, (
        f"after training on 1,000 digits your autoencoder reconstructs 300 other training digits with a mean "
        f"squared error of {mse:.4f} per pixel; at most {VALIDATION_BAR} is expected here (train longer, or check "
        "the output activation: pixels are in [0, 1])")


@points(1)
@pytest.mark.seconds(60)
def test_train_autoencoder_denoises_validation_digits(submission, builds, hoda):
    mse = _error(submission, builds, hoda, noisy=True)
    assert mse <= VALIDATION_BAR, (
        f"your autoencoder reconstructs 300 noisy training digits (noise std {NOISE_STD}) with a mean squared error "
        f"of {mse:.4f} per pixel against the clean digits; at most {VALIDATION_BAR} is expected here (train it as a "
        "denoising autoencoder: noisy inputs from add_noise, clean targets)")
