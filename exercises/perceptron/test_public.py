"""Public tests for the perceptron exercise. The numbers come from the lecture notes
(seeds 000 and 001): the heaviside definition, the "6 - 4 = 2" example, the zero input
that needs a bias, the (1000, 4) feature matrix, the McCulloch-Pitts gates and the
perceptron learning rule."""

import numpy as np

from grader.testing import expect_array, expect_bool, expect_number, expect_tuple, points

GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def _check_training(result, what, want_w, want_b, want_converged, if_step_0_is_1=None):
    """`if_step_0_is_1`: what the rule gives when it predicts 1 at exactly x . w + b = 0. That
    mistake is test_step_is_heaviside's, so it is not counted again here."""
    w, b, converged = expect_tuple(result, what, 3)
    w = expect_array(w, f"the weights w returned by {what}", shape=(len(want_w),), dtype_kind="f")
    b = expect_number(b, f"the bias b returned by {what}")
    converged = expect_bool(converged, f"the converged flag returned by {what}")
    if if_step_0_is_1 is not None:
        alt_w, alt_b, alt_converged = if_step_0_is_1
        if np.allclose(w, alt_w) and np.isclose(b, alt_b) and converged == alt_converged:
            return
    got = f"w = {w.tolist()}, b = {b}, converged = {converged}"
    want = f"w = {list(want_w)}, b = {want_b}, converged = {want_converged}"
    assert np.allclose(w, want_w) and np.isclose(b, want_b) and converged == want_converged, (
        f"{what} returned {got}, expected {want}. Start from zeros, visit the samples in order, "
        "update with w += lr*(y_i - yhat_i)*x_i and b += lr*(y_i - yhat_i), and stop after the "
        "first epoch without a mistake")


@points(2)
def test_step_is_heaviside(submission):
    # seed 001: heaviside(x) = 0 if x < 0, 1 if x > 0; seed 000: "if the sum is positive: 1,
    # otherwise 0", so heaviside(0) = 0.
    z = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    out = expect_array(submission.step(z), "step(z)", shape=(5,), dtype_kind="i")
    assert np.array_equal(out, [0, 0, 0, 1, 1]), (
        f"step({z.tolist()}) returned {out.tolist()}, expected [0, 0, 0, 1, 1]: "
        "1 where z > 0 and 0 elsewhere (also 0 at z = 0)")
    # seed 000: "if the input is 0 the output is 0 whatever the weights": the sum is exactly 0
    out = expect_array(submission.predict(np.zeros((3, 2)), np.array([0.7, -2.5]), 0.0),
                       "predict(zeros((3, 2)), w, 0)", shape=(3,), dtype_kind="i")
    assert np.array_equal(out, [0, 0, 0]), (
        f"with x = 0 and b = 0 the weighted sum is exactly 0 and the output must be step(0) = 0, got {out.tolist()}")


@points(1)
def test_lecture_example_six_minus_four(submission):
    # seed 000: "6 - 4 = 2, so the output is 1"
    out = expect_array(submission.step(np.array([6.0 - 4.0])), "step([2.0])", shape=(1,), dtype_kind="i")
    assert out[0] == 1, f"step(6 - 4) = step(2) should be 1, got {out[0]}"
    out = expect_array(submission.predict(np.array([[6.0, 4.0]]), np.array([1.0, -1.0]), 0.0),
                       "predict([[6, 4]], [1, -1], 0)", shape=(1,), dtype_kind="i")
    assert out[0] == 1, f"the weighted sum is 6 - 4 = 2 > 0, so predict should give [1], got {out.tolist()}"


@points(1)
def test_zero_input_needs_a_bias(submission):
    # seed 000: "if the input is 0 the output is 0 whatever the weights ... we fix this by adding a bias"
    # (the output for b = 0, step(0) = 0, is test_step_is_heaviside's)
    X = np.zeros((3, 2))
    w = np.array([0.7, -2.5])
    out = expect_array(submission.predict(X, w, 1.0), "predict(zeros((3, 2)), w, 1)", shape=(3,), dtype_kind="i")
    assert np.array_equal(out, [1, 1, 1]), (
        f"with x = 0 and b = 1 the weighted sum is 1 > 0, so the output must be 1, got {out.tolist()}")
    out = expect_array(submission.predict(X, w, -1.0), "predict(zeros((3, 2)), w, -1)", shape=(3,), dtype_kind="i")
    assert np.array_equal(out, [0, 0, 0]), (
        f"with x = 0 and b = -1 the weighted sum is -1 < 0, so the output must be 0, got {out.tolist()}")


@points(1)
def test_predict_shape_1000_by_4(submission):
    # seed 001: X.shape -> (1000, 4), w has 4 weights, (1000, 4) * (4, 1) -> (1000, 1);
    # here w is a 1-D array of shape (4,) and predict returns shape (1000,)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 4))
    w = np.array([0.5, -1.0, 2.0, 0.25])
    b = 0.1
    out = expect_array(submission.predict(X, w, b), "predict(X, w, b) for X of shape (1000, 4)",
                       shape=(1000,), dtype_kind="i")
    want = (X @ w + b > 0).astype(int)
    wrong = int(np.sum(out != want))
    assert wrong == 0, f"predict(X, w, b) differs from step(X @ w + b) on {wrong} of 1000 samples"


@points(2)
def test_mcculloch_pitts_gates(submission):
    # seed 001: the McCulloch-Pitts neurons C = A and B, C = A or B, C = A and not B
    tables = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "A_AND_NOT_B": [0, 0, 1, 0]}
    for name, want in tables.items():
        w, b = expect_tuple(submission.logic_gate(name), f"logic_gate({name!r})", 2)
        w = expect_array(w, f"the weights of logic_gate({name!r})", shape=(2,), dtype_kind="n")
        b = expect_number(b, f"the bias of logic_gate({name!r})")
        got = (GATE_INPUTS @ w.astype(float) + b > 0).astype(int)
        assert np.array_equal(got, want), (
            f"logic_gate({name!r}) returned w = {w.tolist()}, b = {b}; on the inputs (A, B) = "
            f"(0,0), (0,1), (1,0), (1,1) these give {got.tolist()} but {name} is {want}")


@points(1)
def test_train_identity_neuron(submission):
    # seed 001: the first McCulloch-Pitts neuron, C = A (one input)
    X = np.array([[0.0], [1.0]])
    y = np.array([0, 1])
    _check_training(submission.train_perceptron(X, y), "train_perceptron on C = A", [1.0], 0.0, True,
                    if_step_0_is_1=([1.0], -1.0, True))


@points(2)
def test_train_and_first_epoch(submission):
    # seed 001: w_j <- w_j + eta * (y - yhat) * x_j. On AND from zeros, only (1, 1) is wrong in
    # the first epoch (0 + 0 = 0 is not > 0), so w = 0 + 1 * (1 - 0) * [1, 1] and b = 0 + 1 * (1 - 0)
    y = np.array([0, 0, 0, 1])
    _check_training(submission.train_perceptron(GATE_INPUTS, y, lr=1.0, epochs=1),
                    "train_perceptron(AND, lr=1.0, epochs=1)", [1.0, 1.0], 1.0, False,
                    if_step_0_is_1=([1.0, 1.0], 0.0, False))


@points(2)
def test_train_and_or(submission):
    _check_training(submission.train_perceptron(GATE_INPUTS, np.array([0, 0, 0, 1]), lr=1.0, epochs=100),
                    "train_perceptron(AND, lr=1.0)", [2.0, 1.0], -2.0, True,
                    if_step_0_is_1=([2.0, 1.0], -3.0, True))
    _check_training(submission.train_perceptron(GATE_INPUTS, np.array([0, 1, 1, 1]), lr=1.0, epochs=100),
                    "train_perceptron(OR, lr=1.0)", [1.0, 1.0], 0.0, True,
                    if_step_0_is_1=([1.0, 1.0], -1.0, True))
