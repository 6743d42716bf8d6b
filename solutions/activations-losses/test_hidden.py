"""Hidden tests for the activations-losses exercise: agreement with Keras' own activations and
losses (computed here, on the trusted side; the learner's file is numpy only), stability at
+-1000, the derivatives against central finite differences of the true functions, the 1e-7 clips
of Keras, and entropy and cross-entropy in other bases. Messages never show an expected value."""

import functools

import numpy as np

from grader.testing import error_summary, expect_array, expect_number, points


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


def _rng():
    return np.random.default_rng(2024)


def _array(value, what, shape, finite=True):
    return expect_array(value, what, shape=shape, dtype_kind="n", finite=finite).astype(float)


# --- activations --------------------------------------------------------------------------


@points(1)
def test_sigmoid_matches_keras(submission):
    z = _rng().normal(scale=4.0, size=(3, 4, 5))
    got = _array(submission.sigmoid(z), "sigmoid(z) for z of shape (3, 4, 5)", z.shape)
    want = _k(_keras().activations.sigmoid(z))
    assert _close(got, want, rtol=1e-6, atol=1e-9), (
        f"sigmoid(z) differs from 1 / (1 + e^-z) ({error_summary(got, want)})")


@points(1)
def test_tanh_matches_keras(submission):
    z = _rng().normal(scale=3.0, size=(6, 7))
    got = _array(submission.tanh(z), "tanh(z) for z of shape (6, 7)", z.shape)
    want = _k(_keras().activations.tanh(z))
    assert _close(got, want, rtol=1e-6, atol=1e-9), f"tanh(z) differs from sinh(z) / cosh(z) ({error_summary(got, want)})"


@points(1)
def test_relu_matches_keras(submission):
    z = _rng().normal(size=(4, 9))
    got = _array(submission.relu(z), "relu(z) for z of shape (4, 9)", z.shape)
    want = _k(_keras().activations.relu(z))
    assert _close(got, want, rtol=0.0, atol=1e-12), f"relu(z) differs from max(0, z) ({error_summary(got, want)})"


@points(1)
def test_activations_of_a_single_number(submission):
    for name, fn, x, want in (("sigmoid", submission.sigmoid, 0.8, 1 / (1 + np.exp(-0.8))),
                              ("tanh", submission.tanh, -0.3, np.tanh(-0.3)),
                              ("relu", submission.relu, -2.5, 0.0)):
        got = expect_number(fn(x), f"{name}({x}) for a single number")
        assert abs(got - want) < 1e-9, f"{name} of a single Python number is wrong ({abs(got - want):.3g} off)"


@points(2)
def test_softmax_matches_keras_on_rows(submission):
    z = _rng().normal(scale=3.0, size=(8, 5))
    got = _array(submission.softmax(z), "softmax(z) for z of shape (8, 5)", z.shape)
    want = _k(_keras().activations.softmax(z, axis=-1))
    assert _close(got, want, rtol=1e-6, atol=1e-12), (
        f"softmax(z) of a (8, 5) array must be taken along the last axis, each row separately "
        f"({error_summary(got, want)})")


@points(1)
def test_softmax_along_the_given_axis(submission):
    z = _rng().normal(size=(3, 4, 5))
    for axis in (0, 1):
        got = _array(submission.softmax(z, axis=axis), f"softmax(z, axis={axis}) for z of shape (3, 4, 5)", z.shape)
        want = _k(_keras().activations.softmax(z, axis=axis))
        assert _close(got, want, rtol=1e-6, atol=1e-12), (
            f"softmax(z, axis={axis}) must normalize along axis {axis} ({error_summary(got, want)})")


@points(1)
def test_softmax_is_stable_at_1000(submission):
    z = np.array([[1000.0, 999.0, 0.0], [-1000.0, -1001.0, -1003.0], [1000.0, -1000.0, 1000.0]])
    got = _array(submission.softmax(z), "softmax of inputs near +-1000", z.shape, finite=False)
    assert np.all(np.isfinite(got)), (
        "softmax of inputs near +-1000 gave NaN or inf: subtract the maximum of each row before exp")
    want = _k(_keras().activations.softmax(z))
    assert _close(got, want, rtol=0.0, atol=1e-9), f"softmax of inputs near +-1000 is wrong ({error_summary(got, want)})"


@points(1)
def test_sigmoid_is_stable_at_1000(submission):
    z = np.array([-1000.0, -800.0, 800.0, 1000.0])
    got = _array(submission.sigmoid(z), "sigmoid([-1000, -800, 800, 1000])", z.shape, finite=False)
    assert np.all(np.isfinite(got)), "sigmoid at +-1000 gave NaN or inf: e^1000 overflows, so avoid e^z for large z"
    assert np.allclose(got, [0.0, 0.0, 1.0, 1.0], atol=1e-12), (
        f"sigmoid must be about 0 at -1000 and about 1 at 1000 ({error_summary(got, np.array([0.0, 0, 1, 1]))})")


@points(1)
def test_tanh_is_stable_at_1000(submission):
    z = np.array([-1000.0, -400.0, 400.0, 1000.0])
    got = _array(submission.tanh(z), "tanh([-1000, -400, 400, 1000])", z.shape, finite=False)
    assert np.all(np.isfinite(got)), (
        "tanh at +-1000 gave NaN or inf: (e^z - e^-z) / (e^z + e^-z) is inf / inf there; use np.tanh or "
        "a form that only exponentiates negative numbers")
    assert np.allclose(got, [-1.0, -1.0, 1.0, 1.0], atol=1e-12), "tanh must be about -1 at -1000 and about 1 at 1000"


# --- derivatives ---------------------------------------------------------------------------


def _central(f, z, h=1e-6):
    return (f(z + h) - f(z - h)) / (2 * h)


def _sig(z):
    return 1 / (1 + np.exp(-z))


@points(1)
def test_sigmoid_grad_matches_finite_differences(submission):
    z = _rng().uniform(-6, 6, size=(5, 6))
    got = _array(submission.sigmoid_grad(z), "sigmoid_grad(z) for z of shape (5, 6)", z.shape)
    want = _central(_sig, z)
    assert np.allclose(got, want, atol=1e-7), (
        f"sigmoid_grad(z) disagrees with the slope of sigmoid at z ({error_summary(got, want)}); "
        "the argument is z, and sigmoid'(z) = sigmoid(z) (1 - sigmoid(z))")


@points(1)
def test_tanh_grad_matches_finite_differences(submission):
    z = _rng().uniform(-4, 4, size=(7, 3))
    got = _array(submission.tanh_grad(z), "tanh_grad(z) for z of shape (7, 3)", z.shape)
    want = _central(np.tanh, z)
    assert np.allclose(got, want, atol=1e-7), (
        f"tanh_grad(z) disagrees with the slope of tanh at z ({error_summary(got, want)}); "
        "the argument is z, and tanh'(z) = 1 - tanh(z)^2")


@points(1)
def test_relu_grad_matches_finite_differences(submission):
    z = _rng().normal(size=(4, 8))
    z[np.abs(z) < 1e-3] = 0.5
    got = _array(submission.relu_grad(z), "relu_grad(z) for z of shape (4, 8)", z.shape)
    want = _central(lambda v: np.maximum(v, 0.0), z)
    assert np.allclose(got, want, atol=1e-6), (
        f"relu_grad(z) disagrees with the slope of relu at z ({error_summary(got, want)}): 1 where z > 0, 0 where z < 0")
    at0 = _array(submission.relu_grad(np.zeros(3)), "relu_grad(zeros(3))", (3,))
    assert np.all((at0 == 0) | (at0 == 1)), "relu_grad at exactly 0 must be 0 or 1 (the README lets you choose)"


# --- losses against Keras ------------------------------------------------------------------


def _regression():
    rng = _rng()
    y = rng.uniform(0.5, 3.0, size=(6, 4)) * rng.choice([-1.0, 1.0], size=(6, 4))
    return y, y + rng.normal(scale=0.7, size=y.shape)


def _keras_loss(name, y, p):
    return np.mean(_k(getattr(_keras().losses, name)(y, p)))


@points(1)
def test_mse_matches_keras(submission):
    y, y_hat = _regression()
    got = expect_number(submission.mse(y, y_hat), "mse(y, y_hat) for arrays of shape (6, 4)")
    want = _keras_loss("mean_squared_error", y, y_hat)
    assert _close(got, want, rtol=1e-9), (
        f"mse differs from Keras' mean squared error ({abs(got - want):.3g} off): the mean over all elements, no 1/2")


@points(1)
def test_mae_matches_keras(submission):
    y, y_hat = _regression()
    got = expect_number(submission.mae(y, y_hat), "mae(y, y_hat) for arrays of shape (6, 4)")
    want = _keras_loss("mean_absolute_error", y, y_hat)
    assert _close(got, want, rtol=1e-9), f"mae differs from Keras' mean absolute error ({abs(got - want):.3g} off)"


@points(1)
def test_mape_matches_keras(submission):
    y, y_hat = _regression()
    got = expect_number(submission.mape(y, y_hat), "mape(y, y_hat) for arrays of shape (6, 4)")
    want = _keras_loss("mean_absolute_percentage_error", y, y_hat)
    assert _close(got, want, rtol=1e-9), (
        f"mape differs from Keras' mean absolute percentage error ({abs(got - want):.3g} off): "
        "100 * mean(|y - y_hat| / |y|), with |y| (not y_hat) in the denominator")


@points(1)
def test_mape_clips_a_zero_target_at_1e_7(submission):
    y, y_hat = np.array([0.0, 2.0, -1.0]), np.array([0.5, 1.0, -1.5])
    got = expect_number(submission.mape(y, y_hat), "mape(y, y_hat) with a target of 0", finite=False)
    # Keras' definition in float64 (on a float32 backend Keras rounds 1e-7 and 1 - 1e-7)
    want = 100.0 * float(np.mean(np.abs(y - y_hat) / np.maximum(np.abs(y), 1e-7)))
    assert np.isfinite(got), "mape with a target of 0 is not finite: clip the denominator |y| at 1e-7 as Keras does"
    assert np.isclose(got, want, rtol=1e-6), (
        f"mape with a target of 0 differs from Keras' ({abs(got - want):.3g} off): the denominator is max(|y|, 1e-7)")


@points(1)
def test_binary_cross_entropy_matches_keras(submission):
    rng = _rng()
    y = rng.integers(0, 2, size=(10, 3)).astype(float)
    p = rng.uniform(0.02, 0.98, size=(10, 3))
    got = expect_number(submission.binary_cross_entropy(y, p), "binary_cross_entropy(y, p) for arrays of shape (10, 3)")
    want = _keras_loss("binary_crossentropy", y, p)
    assert _close(got, want, rtol=1e-6), (
        f"binary_cross_entropy differs from Keras' ({abs(got - want):.3g} off): "
        "mean of -(y ln p + (1 - y) ln(1 - p)) over all elements, natural log")


@points(1)
def test_binary_cross_entropy_clips_at_1e_7(submission):
    y, p = np.array([1.0, 0.0, 1.0, 0.0]), np.array([0.0, 1.0, 1.0, 0.0])
    got = expect_number(submission.binary_cross_entropy(y, p), "binary_cross_entropy with probabilities 0 and 1",
                        finite=False)
    q = np.clip(p, 1e-7, 1 - 1e-7)  # Keras' definition in float64
    want = float(np.mean(-(y * np.log(q) + (1 - y) * np.log(1 - q))))
    assert np.isfinite(got), "binary_cross_entropy with a probability of exactly 0 or 1 is not finite: clip p first"
    assert np.isclose(got, want, rtol=1e-4), (
        f"binary_cross_entropy with probabilities 0 and 1 differs from Keras' ({abs(got - want):.3g} off): "
        "clip p to [1e-7, 1 - 1e-7] before the logs")


@points(2)
def test_categorical_cross_entropy_matches_keras(submission):
    rng = _rng()
    P = rng.dirichlet(np.ones(5), size=12)
    Y = np.eye(5)[rng.integers(0, 5, size=12)]
    got = expect_number(submission.categorical_cross_entropy(Y, P), "categorical_cross_entropy(Y, P) for 12 rows, 5 classes")
    want = _keras_loss("categorical_crossentropy", Y, P)
    assert _close(got, want, rtol=1e-6), (
        f"categorical_cross_entropy differs from Keras' ({abs(got - want):.3g} off): the MEAN over the rows of "
        "-sum_j Y ln P, natural log")


@points(1)
def test_categorical_cross_entropy_clips_at_1e_7(submission):
    Y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    P = np.array([[0.0, 0.5, 0.5], [0.0, 1.0, 0.0]])
    got = expect_number(submission.categorical_cross_entropy(Y, P),
                        "categorical_cross_entropy with a true class of probability 0", finite=False)
    want = float(np.mean(-np.sum(Y * np.log(np.clip(P, 1e-7, 1 - 1e-7)), axis=1)))  # Keras' definition in float64
    assert np.isfinite(got), "categorical_cross_entropy is not finite when a probability is 0: clip P first"
    assert np.isclose(got, want, rtol=1e-4), (
        f"categorical_cross_entropy with a probability of 0 differs from Keras' ({abs(got - want):.3g} off): "
        "clip P to [1e-7, 1 - 1e-7] (not a smaller or larger number) before the log")


# --- information theory --------------------------------------------------------------------


@points(1)
def test_entropy_in_other_bases(submission):
    rng = _rng()
    for base in (2, np.e, 10):
        p = rng.dirichlet(np.ones(6))
        got = expect_number(submission.entropy(p, base=base), f"entropy(p, base={base:.4g}) for 6 outcomes")
        want = float(-np.sum(p * np.log(p)) / np.log(base))
        assert np.isclose(got, want, rtol=1e-9), (
            f"entropy(p, base={base:.4g}) is wrong ({abs(got - want):.3g} off): -sum p log_base p, "
            "and log_base x = ln x / ln base")


@points(1)
def test_a_zero_probability_contributes_nothing_to_the_entropy(submission):
    got = expect_number(submission.entropy(np.array([1.0, 0.0])), "entropy([1, 0])", finite=False)
    assert np.isfinite(got), "entropy([1, 0]) is NaN: 0 * log(0) must count as 0 (leave out the zero probabilities)"
    assert abs(got) < 1e-12, "a certain outcome has entropy 0"
    p = np.array([0.5, 0.0, 0.25, 0.25, 0.0])
    got = expect_number(submission.entropy(p), "entropy([0.5, 0, 0.25, 0.25, 0])", finite=False)
    assert np.isfinite(got) and abs(got - 1.5) < 1e-9, "zero probabilities must add nothing to the entropy"


@points(1)
def test_cross_entropy_of_two_distributions(submission):
    rng = _rng()
    for base in (2, np.e):
        p, q = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
        got = expect_number(submission.cross_entropy(p, q, base=base), f"cross_entropy(p, q, base={base:.4g})")
        want = float(-np.sum(p * np.log(q)) / np.log(base))
        assert np.isclose(got, want, rtol=1e-9), (
            f"cross_entropy(p, q, base={base:.4g}) is wrong ({abs(got - want):.3g} off): -sum p log_base q, "
            "p the true distribution, q the predicted one")
        h = expect_number(submission.entropy(p, base=base), "entropy(p)")
        assert got >= h - 1e-12, "cross_entropy(p, q) can never be smaller than entropy(p)"
