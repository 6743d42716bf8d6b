"""Public tests for the gradient-descent exercise. From the lecture notes: gradient descent in one
dimension takes steps proportional to the negative gradient (seed 000); a rate too large makes the
steps explode and descent never lands exactly on the minimum (seed 004); where the slope is 0
without a minimum the point does not move (seed 004's vanishing gradient); a local minimum can
catch the descent, so the notes advise several starts (seed 004); Keras' SGD with momentum,
`v = momentum * m - lr * g` and its inverse time decay `lr * 1 / (1 + decay * iterations)` (the
Keras source quoted in seed 002); AlexNet's rate 1e-2 divided by 10 when the validation accuracy
plateaus (seed 002)."""

import numpy as np

from grader.testing import Surface, expect_array, expect_number, points


def _iterates(value, what, n):
    return expect_array(value, what, shape=(n,), dtype_kind="f", finite=False)


@points(2)
def test_descent_on_x_squared(submission):
    # f(x) = x^2, f'(x) = 2x: x_{k+1} = x_k - 0.1 * 2 x_k = 0.8 x_k
    xs = _iterates(submission.gradient_descent(Surface.polynomial([0, 0, 1]), 3.0, 0.1, 3),
                   "gradient_descent(grad of x^2, x0=3, lr=0.1, steps=3)", 4)
    assert np.allclose(xs, [3.0, 2.4, 1.92, 1.536], atol=1e-12), (
        f"on f(x) = x^2 from 3 with lr 0.1 the iterates are [3, 2.4, 1.92, 1.536] (x0 first), got {xs.tolist()}")


@points(1)
def test_a_rate_too_large_diverges(submission):
    # seed 004 (exploding steps): lr = 1.5 on x^2 gives x_{k+1} = x_k - 3 x_k = -2 x_k
    xs = _iterates(submission.gradient_descent(Surface.polynomial([0, 0, 1]), 1.0, 1.5, 6),
                   "gradient_descent(grad of x^2, x0=1, lr=1.5, steps=6)", 7)
    want = [1.0, -2.0, 4.0, -8.0, 16.0, -32.0, 64.0]
    assert np.array_equal(xs, want), (
        f"with lr = 1.5 on x^2 every step overshoots: {want}; got {xs.tolist()} (return the iterates as they are, "
        "without clamping or stopping)")


@points(1)
def test_a_zero_slope_does_not_move(submission):
    # seed 004: where the derivative is 0 (here x^3 at 0, not a minimum) gradient descent stops moving
    xs = _iterates(submission.gradient_descent(Surface.polynomial([0, 0, 0, 1]), 0.0, 0.1, 4),
                   "gradient_descent(grad of x^3, x0=0, lr=0.1, steps=4)", 5)
    assert np.array_equal(xs, np.zeros(5)), f"f'(0) = 0 for x^3, so x stays at 0; got {xs.tolist()}"


@points(1)
def test_a_local_minimum_catches_the_descent(submission):
    # seed 004: f(x) = x^4 - 2x^2 + 0.5x has a global minimum near -1.057 and a local one near 0.930
    f = Surface.polynomial([0, 0.5, -2, 0, 1])
    left = _iterates(submission.gradient_descent(f, -2.0, 0.05, 200), "gradient_descent(f, x0=-2, lr=0.05, steps=200)", 201)
    right = _iterates(submission.gradient_descent(f, 2.0, 0.05, 200), "gradient_descent(f, x0=2, lr=0.05, steps=200)", 201)
    assert abs(left[-1] + 1.0575) < 1e-3, f"from -2 the descent ends in the global minimum near -1.0575, got {left[-1]:.4f}"
    assert abs(right[-1] - 0.9304) < 1e-3, f"from 2 the descent ends in the local minimum near 0.9304, got {right[-1]:.4f}"
    assert np.allclose(left[:3], [-2.0, -0.825, -0.902696875], atol=1e-9), (
        f"the first steps from -2 are [-2, -0.825, -0.9027] (x - 0.05 * (0.5 - 4x + 4x^3)), got {left[:3].tolist()}")


@points(2)
def test_keras_momentum_by_hand(submission):
    # seed 002 (Keras source): v = momentum * v - lr * g; w = w + v. On f(w) = sum(w^2) (g = 2w) from
    # [1, -2] with lr 0.1 and momentum 0.9: v1 = [-0.2, 0.4], w1 = [0.8, -1.6];
    # v2 = 0.9 v1 - 0.1 * [1.6, -3.2] = [-0.34, 0.68], w2 = [0.46, -0.92]
    ws = expect_array(submission.sgd_momentum(Surface.bowl(), np.array([1.0, -2.0]), 0.1, 0.9, 2),
                      "sgd_momentum(grad of sum(w^2), [1, -2], lr=0.1, momentum=0.9, steps=2)", shape=(3, 2), dtype_kind="f")
    want = np.array([[1.0, -2.0], [0.8, -1.6], [0.46, -0.92]])
    assert np.allclose(ws, want, atol=1e-12), f"the iterates should be {want.tolist()}, got {ws.tolist()}"


@points(1)
def test_inverse_time_decay_of_the_keras_source(submission):
    # seed 002: lr = lr * (1. / (1. + decay * iterations)); lr0 = 0.1, decay = 0.5
    want = [0.1, 0.1 / 1.5, 0.05, 0.04, 0.1 / 3]
    got = [expect_number(submission.inverse_time_decay(0.1, 0.5, k), f"inverse_time_decay(0.1, 0.5, {k})") for k in range(5)]
    assert np.allclose(got, want, rtol=1e-12), (
        f"lr0 / (1 + decay * step) for steps 0..4 is {np.round(want, 4).tolist()}, got {np.round(got, 4).tolist()}")


@points(2)
def test_alexnet_divides_the_rate_by_ten_on_a_plateau(submission):
    # seed 002: AlexNet's rate 1e-2, reduced by 10 when the validation score plateaus (patience 1 here)
    losses = [2.0, 1.5, 1.4, 1.45, 1.3, 1.3, 1.2]
    got = expect_array(submission.reduce_on_plateau(losses, 1e-2), "reduce_on_plateau(losses, 1e-2)",
                       shape=(7,), dtype_kind="f")
    want = [1e-2, 1e-2, 1e-2, 1e-2, 1e-3, 1e-3, 1e-4]
    assert np.allclose(got, want, rtol=1e-9), (
        f"for validation losses {losses} the rates per epoch are {want} (epoch 3 did not improve, so epoch 4 "
        f"uses a tenth; 1.3 is not below the best 1.3, so epoch 6 another tenth); got {got.tolist()}")
