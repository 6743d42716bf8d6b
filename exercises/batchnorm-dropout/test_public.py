"""Public tests for the batchnorm-dropout exercise. From the lecture notes: batch normalization
can learn gamma = sqrt(Var[x]) and beta = E[x] to recover the identity (seed 002; with Keras'
epsilon the exact identity is gamma = sqrt(var + eps)); at test time the running statistics are
used instead of the batch's (seed 002); the moving averages with Keras' momentum 0.99 and the
PyTorch BatchNorm2d(6, eps=1e-05, momentum=0.1) of seed 004; dropout 0.5 (seeds 000, 002, 004);
AlexNet's L2 weight decay 5e-4 (seed 002)."""

import numpy as np

from grader.testing import expect_array, expect_number, expect_tuple, points

X = np.array([[1.0, 10.0, -3.0], [2.0, 14.0, -1.0], [3.0, 9.0, -2.0], [6.0, 11.0, 2.0]])


def _forward(submission, what, *args, **kwargs):
    y, mean, var = expect_tuple(submission.batchnorm_forward(*args, **kwargs), what, 3)
    return (expect_array(y, f"y of {what}", shape=np.shape(args[0]), dtype_kind="f"),
            expect_array(mean, f"new_mean of {what}", shape=(np.shape(args[0])[-1],), dtype_kind="f"),
            expect_array(var, f"new_var of {what}", shape=(np.shape(args[0])[-1],), dtype_kind="f"))


@points(2)
def test_gamma_sqrt_var_and_beta_mean_give_the_identity(submission):
    # seed 002: "the network can learn gamma = sqrt(Var[x]), beta = E[x] to recover the identity mapping"
    eps = 1e-3
    gamma, beta = np.sqrt(X.var(axis=0) + eps), X.mean(axis=0)
    y, _, _ = _forward(submission, "batchnorm_forward(X, sqrt(var + eps), mean, ...)", X, gamma, beta,
                       np.zeros(3), np.ones(3), eps=eps, training=True)
    assert np.allclose(y, X, atol=1e-9), (
        f"with gamma = sqrt(var + eps) and beta = mean (per column) the output must be X itself; got "
        f"{np.round(y, 4).tolist()}. Use the batch's mean and its variance dividing by m (not m - 1)")


@points(1)
def test_gamma_1_beta_0_gives_zero_mean_unit_variance(submission):
    y, _, _ = _forward(submission, "batchnorm_forward(X, ones, zeros, ..., eps=0)", X, np.ones(3), np.zeros(3),
                       np.zeros(3), np.ones(3), eps=0.0, training=True)
    assert np.allclose(y.mean(axis=0), 0, atol=1e-9) and np.allclose(y.var(axis=0), 1, atol=1e-9), (
        "with gamma = 1, beta = 0 and eps = 0 every column of y must have mean 0 and variance 1 "
        "(normalize each feature, i.e. each column, over the batch)")


@points(1)
def test_moving_averages_with_keras_momentum_0_99(submission):
    # Keras: moving = momentum * moving + (1 - momentum) * batch statistic, momentum = 0.99
    _, mean, var = _forward(submission, "batchnorm_forward(X, ..., zeros, ones)", X, np.ones(3), np.zeros(3),
                            np.zeros(3), np.ones(3))
    want_mean = 0.01 * X.mean(axis=0)  # [0.03, 0.11, -0.01]
    want_var = 0.99 + 0.01 * X.var(axis=0)  # [1.025, 1.025, 1.025]
    assert np.allclose(mean, want_mean, atol=1e-12), (
        f"new_mean = 0.99 * 0 + 0.01 * batch mean = {want_mean.tolist()}, got {mean.tolist()}")
    assert np.allclose(var, want_var, atol=1e-12), (
        f"new_var = 0.99 * 1 + 0.01 * batch variance = {np.round(want_var, 6).tolist()}, got {np.round(var, 6).tolist()}")


@points(1)
def test_pytorch_momentum_0_1_is_keras_momentum_0_9(submission):
    # seed 004: BatchNorm2d(6, eps=1e-05, momentum=0.1) updates running = 0.9 running + 0.1 batch:
    # in Keras' convention that is momentum = 0.9 (PyTorch's momentum is the weight of the new batch)
    _, mean, _ = _forward(submission, "batchnorm_forward(X, ..., momentum=0.9, eps=1e-5)", X, np.ones(3),
                          np.zeros(3), np.ones(3), np.ones(3), momentum=0.9, eps=1e-5)
    want = 0.9 + 0.1 * X.mean(axis=0)  # [1.2, 2.0, 0.8]
    assert np.allclose(mean, want, atol=1e-12), (
        f"new_mean = 0.9 * 1 + 0.1 * batch mean = {want.tolist()}, got {mean.tolist()}")


@points(1)
def test_at_test_time_the_running_statistics_are_used(submission):
    # seed 002: "at test time ... a single fixed empirical mean of activations during training is used"
    rm, rv = np.array([2.0, 10.0, 0.0]), np.array([4.0, 1.0, 9.0])
    y, mean, var = _forward(submission, "batchnorm_forward(X, ..., training=False)", X, np.ones(3), np.zeros(3),
                            rm, rv, eps=0.0, training=False)
    want = (X - rm) / np.sqrt(rv)
    assert np.allclose(y, want, atol=1e-12), (
        f"with training=False, y = (X - running_mean) / sqrt(running_var) = {want.tolist()}, got {np.round(y, 4).tolist()}")
    assert np.array_equal(mean, rm) and np.array_equal(var, rv), "with training=False the running statistics stay as they are"


@points(2)
def test_dropout_half(submission):
    # seeds 000 and 002: Dropout(0.5): half the units are dropped, the others doubled
    x = np.ones((40, 50))
    y = expect_array(submission.dropout(x, 0.5, seed=0, training=True), "dropout(ones((40, 50)), 0.5, seed=0, training=True)",
                     shape=x.shape, dtype_kind="f")
    assert np.all((y == 0) | (y == 2)), "with rate 0.5 every output must be 0 (dropped) or 1 / (1 - 0.5) = 2 (kept, scaled)"
    kept = float(np.mean(y == 2))
    assert 0.4 < kept < 0.6, f"with rate 0.5 about half the values should be kept, got {kept:.1%}"
    y = expect_array(submission.dropout(x, 0.5, seed=0, training=False), "dropout(x, 0.5, seed=0, training=False)",
                     shape=x.shape, dtype_kind="f")
    assert np.array_equal(y, x), "with training=False dropout changes nothing"


@points(1)
def test_l2_weight_decay_of_alexnet(submission):
    # seed 002: AlexNet, L2 weight decay 5e-4; penalty = lambda * sum of the squares of the weights
    W = np.array([[1.0, -2.0], [3.0, 0.5]])
    b = np.array([2.0, -1.0])
    got = expect_number(submission.l2_penalty([W, b], 5e-4), "l2_penalty([W, b], 5e-4)")
    assert abs(got - 5e-4 * 19.25) < 1e-12, f"5e-4 * (1 + 4 + 9 + 0.25 + 4 + 1) = 0.009625, got {got}"
