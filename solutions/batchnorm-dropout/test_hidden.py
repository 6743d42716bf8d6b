"""Hidden tests for the batchnorm-dropout exercise: agreement with `keras.layers.BatchNormalization`
in training and inference mode (run here, on the trusted side, in float64), per-channel
normalization of images, a finite-difference gradient check of the backward pass, dropout's kept
fraction, scale, seeding and inference identity, and the L2 penalty against
`keras.regularizers.L2`. Messages never show an expected value."""

import functools

import numpy as np

from grader.testing import error_summary, expect_array, expect_number, expect_tuple, points


@functools.lru_cache(maxsize=1)
def _keras():
    from grader.exercise.frameworks import import_keras_quietly
    import_keras_quietly()  # no framework start-up lines on the terminal
    import keras
    return keras


def _k(value) -> np.ndarray:
    """A Keras result as numpy, in the dtype Keras computed it in."""
    return np.asarray(_keras().ops.convert_to_numpy(value))


def _close(got, want, rtol, atol=0.0) -> bool:
    """got ~ want; looser when Keras could only compute in float32 (a backend without float64)."""
    if np.asarray(want).dtype == np.float32:
        rtol, atol = max(rtol, 1e-5), max(atol, 1e-6)
    return bool(np.allclose(got, np.asarray(want, dtype=float), rtol=rtol, atol=atol))


def _keras_bn(x, gamma, beta, mean, var, momentum, eps, training):
    layer = _keras().layers.BatchNormalization(momentum=momentum, epsilon=eps, dtype="float64")
    layer.build(x.shape)
    layer.set_weights([gamma, beta, mean, var])
    y = _k(layer(x, training=training))
    return y, _k(layer.moving_mean), _k(layer.moving_variance)


def _case(shape, seed=99):
    rng = np.random.default_rng(seed)
    d = shape[-1]
    x = rng.normal(size=shape) * rng.uniform(0.5, 3, size=d) + rng.uniform(-2, 2, size=d)
    return (x, rng.uniform(0.5, 2, size=d), rng.normal(size=d), rng.normal(size=d), rng.uniform(0.5, 2, size=d))


def _forward(submission, what, x, *args, **kwargs):
    out = expect_tuple(submission.batchnorm_forward(x, *args, **kwargs), what, 3)
    d = x.shape[-1]
    return (expect_array(out[0], f"y of {what}", shape=x.shape, dtype_kind="f"),
            expect_array(out[1], f"new_mean of {what}", shape=(d,), dtype_kind="f"),
            expect_array(out[2], f"new_var of {what}", shape=(d,), dtype_kind="f"))


@points(2)
def test_training_output_matches_keras(submission):
    x, g, b, m, v = _case((16, 5))
    y, _, _ = _forward(submission, "batchnorm_forward(x, ..., momentum=0.9, eps=1e-3, training=True)", x, g, b, m, v,
                       momentum=0.9, eps=1e-3, training=True)
    want, _, _ = _keras_bn(x, g, b, m, v, 0.9, 1e-3, True)
    assert _close(y, want, rtol=1e-7, atol=1e-9), (
        f"the training-mode output differs from keras.layers.BatchNormalization ({error_summary(y, want)}): "
        "normalize with the batch's mean and variance (divide by m), eps inside the square root, then gamma and beta")


@points(2)
def test_training_updates_the_moving_averages_as_keras(submission):
    x, g, b, m, v = _case((12, 4), seed=7)
    _, mean, var = _forward(submission, "batchnorm_forward(x, ..., momentum=0.8, training=True)", x, g, b, m, v,
                            momentum=0.8, eps=1e-3, training=True)
    _, want_mean, want_var = _keras_bn(x, g, b, m, v, 0.8, 1e-3, True)
    assert _close(mean, want_mean, rtol=1e-9, atol=1e-12), (
        f"new_mean differs from Keras' moving mean ({error_summary(mean, want_mean)}): "
        "momentum * running_mean + (1 - momentum) * batch mean (Keras' momentum weighs the OLD value)")
    assert _close(var, want_var, rtol=1e-9, atol=1e-12), (
        f"new_var differs from Keras' moving variance ({error_summary(var, want_var)}): Keras averages the "
        "biased batch variance (divide by m, not m - 1, as PyTorch does)")


@points(2)
def test_inference_matches_keras(submission):
    x, g, b, m, v = _case((9, 6), seed=5)
    y, mean, var = _forward(submission, "batchnorm_forward(x, ..., training=False)", x, g, b, m, v,
                            momentum=0.99, eps=1e-3, training=False)
    want, want_mean, want_var = _keras_bn(x, g, b, m, v, 0.99, 1e-3, False)
    assert _close(y, want, rtol=1e-7, atol=1e-9), (
        f"the inference-mode output differs from keras.layers.BatchNormalization ({error_summary(y, want)}): "
        "with training=False use running_mean and running_var, not the batch's statistics")
    assert _close(mean, want_mean, 1e-9) and _close(var, want_var, 1e-9), (
        "with training=False the running statistics must come back unchanged")


@points(1)
def test_images_are_normalized_per_channel(submission):
    x, g, b, m, v = _case((4, 5, 6, 3), seed=11)
    y, mean, var = _forward(submission, "batchnorm_forward(images of shape (4, 5, 6, 3), ...)", x, g, b, m, v,
                            momentum=0.99, eps=1e-3, training=True)
    want, want_mean, _ = _keras_bn(x, g, b, m, v, 0.99, 1e-3, True)
    assert _close(y, want, rtol=1e-7, atol=1e-9) and _close(mean, want_mean, 1e-9), (
        f"for images (n, H, W, C) every channel is normalized over n, H and W together ({error_summary(y, want)}); "
        "take the statistics over all axes but the last")


def _loss(x, gamma, beta, dy, eps):
    axes = tuple(range(x.ndim - 1))
    y = gamma * (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + eps) + beta
    return float(np.sum(dy * y))


def _backward(submission, dy, x, gamma, eps, what):
    out = expect_tuple(submission.batchnorm_backward(dy, x, gamma, eps=eps), what, 3)
    d = x.shape[-1]
    return (expect_array(out[0], f"dx of {what}", shape=x.shape, dtype_kind="f"),
            expect_array(out[1], f"dgamma of {what}", shape=(d,), dtype_kind="f"),
            expect_array(out[2], f"dbeta of {what}", shape=(d,), dtype_kind="f"))


@points(1)
def test_backward_dgamma_and_dbeta(submission):
    x, g, b, _, _ = _case((10, 4), seed=21)
    dy = np.random.default_rng(22).normal(size=x.shape)
    _, dgamma, dbeta = _backward(submission, dy, x, g, 1e-3, "batchnorm_backward(dy, x, gamma)")
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-3)
    assert np.allclose(dbeta, dy.sum(axis=0), atol=1e-9), f"dbeta is wrong ({error_summary(dbeta, dy.sum(axis=0))}): sum dy over the batch"
    assert np.allclose(dgamma, (dy * x_hat).sum(axis=0), atol=1e-9), (
        f"dgamma is wrong ({error_summary(dgamma, (dy * x_hat).sum(axis=0))}): sum of dy * x_hat over the batch")


def _numeric_dx(x, g, b, dy):
    num = np.zeros_like(x)
    h = 1e-6
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        num[idx] = (_loss(xp, g, b, dy, 1e-3) - _loss(xm, g, b, dy, 1e-3)) / (2 * h)
    return num


@points(2)
def test_backward_dx_matches_finite_differences(submission):
    for shape, seed in (((6, 3), 31), ((3, 4, 4, 2), 41)):
        x, g, b, _, _ = _case(shape, seed=seed)
        dy = np.random.default_rng(seed + 1).normal(size=x.shape)
        dx, _, _ = _backward(submission, dy, x, g, 1e-3, f"batchnorm_backward(dy, x, gamma) for x of shape {shape}")
        num = _numeric_dx(x, g, b, dy)
        rel = np.linalg.norm(dx - num) / max(np.linalg.norm(dx) + np.linalg.norm(num), 1e-12)
        assert rel < 1e-5, (
            f"dx for x of shape {shape} disagrees with finite differences (relative error {rel:.2g}, "
            f"{error_summary(dx, num)}): the batch mean and variance depend on x too, so dx has the two extra terms "
            "- sum dy and - x_hat * sum(dy * x_hat)")


@points(1)
def test_backward_sums_over_every_position_of_an_image(submission):
    x, g, b, _, _ = _case((3, 4, 4, 2), seed=51)
    dy = np.random.default_rng(52).normal(size=x.shape)
    _, dgamma, dbeta = _backward(submission, dy, x, g, 1e-3, "batchnorm_backward for images (3, 4, 4, 2)")
    axes = (0, 1, 2)
    x_hat = (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + 1e-3)
    want_gamma, want_beta = (dy * x_hat).sum(axis=axes), dy.sum(axis=axes)
    assert np.allclose(dbeta, want_beta, atol=1e-9) and np.allclose(dgamma, want_gamma, atol=1e-9), (
        f"for images (n, H, W, C) dgamma and dbeta are per channel, summed over n, H and W "
        f"({error_summary(np.concatenate([dgamma, dbeta]), np.concatenate([want_gamma, want_beta]))})")


X_DROP = np.random.default_rng(5).uniform(0.5, 2.0, size=(200, 100))


def _drop(submission, rate, seed, training=True, x=X_DROP):
    what = f"dropout(x of shape {x.shape}, rate={rate}, seed={seed}, training={training})"
    return expect_array(submission.dropout(x, rate, seed, training), what, shape=x.shape, dtype_kind="f")


@points(2)
def test_dropout_drops_a_fraction_rate(submission):
    for rate in (0.2, 0.7):
        y = _drop(submission, rate, 3)
        dropped = float(np.mean(y == 0))
        # 20000 draws: the standard deviation of the fraction is below 0.0033
        assert abs(dropped - rate) < 0.02, (
            f"with rate={rate} the fraction of zeros should be close to {rate}, got {dropped:.3f}; "
            "rate is the probability of DROPPING an element")


@points(2)
def test_dropout_scales_the_kept_values_by_1_over_1_minus_rate(submission):
    y = _drop(submission, 0.25, 4)
    kept = y != 0
    assert kept.any(), "dropout with rate 0.25 dropped everything"
    ratio = y[kept] / X_DROP[kept]
    assert np.allclose(ratio, 1 / 0.75, rtol=1e-9), (
        f"the kept values should be x / (1 - rate) (inverted dropout keeps the mean); they are x times "
        f"{float(np.median(ratio)):.4g}")
    assert abs(float(y.mean()) / float(X_DROP.mean()) - 1) < 0.03, "the mean of dropout's output should stay close to x's"


@points(1)
def test_dropout_is_seeded(submission):
    a, b, c = _drop(submission, 0.5, 10), _drop(submission, 0.5, 10), _drop(submission, 0.5, 11)
    assert np.array_equal(a, b), "dropout with the same seed gave different masks: draw from np.random.default_rng(seed)"
    assert not np.array_equal(a, c), "dropout with seeds 10 and 11 gave the same mask: use the seed"


@points(1)
def test_dropout_at_inference_and_rate_0_is_the_identity(submission):
    x = np.random.default_rng(6).normal(size=(3, 4, 5))
    assert np.array_equal(_drop(submission, 0.6, 1, training=False, x=x), x), "with training=False dropout must return x unchanged"
    assert np.array_equal(_drop(submission, 0.0, 1, training=True, x=x), x), "with rate 0 dropout must return x unchanged"


@points(1)
def test_l2_penalty_matches_keras(submission):
    rng = np.random.default_rng(8)
    weights = [rng.normal(size=(5, 4)), rng.normal(size=4), rng.normal(size=(3, 3, 2, 6))]
    got = expect_number(submission.l2_penalty(weights, 0.003), "l2_penalty(three weight arrays, 0.003)")
    want = sum(float(_k(_keras().regularizers.L2(0.003)(w))) for w in weights)  # float32 in Keras
    assert np.isclose(got, want, rtol=1e-5), (
        f"l2_penalty differs from the sum of keras.regularizers.L2(lam) over the arrays ({abs(got - want):.3g} off): "
        "lam * sum of squares, without 1/2")
