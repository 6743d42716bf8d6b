"""Public tests for the activations-losses exercise. The numbers come from the lecture notes:
the entropy of the 26/4 table (0.5665 bits, seed 001) and of a fair coin (1 bit), the
cross-entropy examples 0.152 and 0.737 bits (seed 001), the cat example 1.386 nats (seed 004),
the softmax of [3, 1.5, 2, 0.7] (seed 001), sigmoid's threshold 0.5 and the ranges of sigmoid
and tanh (seeds 001 and 004), tanh = sinh / cosh and relu = max(0, z) (seed 000), and MSE
without the 1/2 that seed 004 writes in its derivation."""

import numpy as np

from grader.testing import expect_array, expect_number, points

Z = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])


@points(1)
def test_entropy_of_the_26_4_table_is_0_5665_bits(submission):
    # seed 001: H = -[26/30 log2(26/30) + 4/30 log2(4/30)], printed 0.57 on the slide
    got = expect_number(submission.entropy(np.array([26 / 30, 4 / 30])), "entropy([26/30, 4/30])")
    assert abs(got - 0.5665) < 1e-4, f"entropy([26/30, 4/30]) in bits should be 0.5665 (the slide rounds it to 0.57), got {got:.4f}"


@points(1)
def test_a_fair_coin_has_1_bit(submission):
    got = expect_number(submission.entropy(np.array([0.5, 0.5])), "entropy([0.5, 0.5])")
    assert abs(got - 1.0) < 1e-9, f"a fair coin has an entropy of exactly 1 bit (log base 2), got {got}"


@points(2)
def test_cross_entropy_examples_in_bits(submission):
    # seed 001: (1) p = [0.9, 0.07, 0.015, 0.015] -> 0.15 on the slide, (2) [0.6, 0.1, 0.2, 0.1] -> 0.7
    t = np.array([1.0, 0.0, 0.0, 0.0])
    for q, want, slide in (([0.9, 0.07, 0.015, 0.015], 0.1520, "0.15"), ([0.6, 0.1, 0.2, 0.1], 0.7370, "0.7")):
        got = expect_number(submission.cross_entropy(t, np.array(q)), f"cross_entropy([1, 0, 0, 0], {q})")
        assert abs(got - want) < 1e-4, (
            f"cross_entropy([1, 0, 0, 0], {q}) = -log2({q[0]}) = {want:.4f} bits (the slide prints {slide}), got {got:.4f}")


@points(2)
def test_the_cat_example_is_1_386_nats(submission):
    # seed 004: the image is a cat, p(cat) = 0.25, p(not cat) = 0.75: -(1 ln 0.25 + 0 ln 0.75)
    got = expect_number(submission.categorical_cross_entropy(np.array([[1.0, 0.0]]), np.array([[0.25, 0.75]])),
                        "categorical_cross_entropy([[1, 0]], [[0.25, 0.75]])")
    assert abs(got - 1.3863) < 1e-4, f"-(1 ln 0.25 + 0 ln 0.75) = 1.3863 (natural log), got {got:.4f}"
    got = expect_number(submission.binary_cross_entropy(np.array([1.0]), np.array([0.25])),
                        "binary_cross_entropy([1], [0.25])")
    assert abs(got - 1.3863) < 1e-4, f"binary_cross_entropy([1], [0.25]) = -ln 0.25 = 1.3863, got {got:.4f}"


@points(2)
def test_softmax_of_the_slide_example(submission):
    # seed 001: S(3) = e^3 / (e^3 + e^1.5 + e^2 + e^0.7); the slide's rounded 0.7, 0.5, 0.15, 0.05
    # add up to 1.4: the exact values are these
    got = expect_array(submission.softmax(np.array([3.0, 1.5, 2.0, 0.7])), "softmax([3, 1.5, 2, 0.7])",
                       shape=(4,), dtype_kind="f")
    want = np.array([0.5913, 0.1319, 0.2175, 0.0593])
    assert np.allclose(got, want, atol=1e-4), (
        f"softmax([3, 1.5, 2, 0.7]) should be {want.tolist()} (sum 1), got {np.round(got, 4).tolist()}")
    assert abs(float(got.sum()) - 1.0) < 1e-9, "the softmax of a vector must sum to 1"


@points(1)
def test_sigmoid_is_one_half_at_0_and_within_0_and_1(submission):
    # seed 001: y_hat = 1 if sigmoid(t) >= 0.5; seed 004: negative inputs give 0 to 0.5, positive 0.5 to 1
    got = expect_array(submission.sigmoid(Z), "sigmoid(z)", shape=Z.shape, dtype_kind="f")
    assert np.allclose(got, 1 / (1 + np.exp(-Z)), atol=1e-9), (
        f"sigmoid({Z.tolist()}) should be 1 / (1 + e^-z) = {np.round(1 / (1 + np.exp(-Z)), 4).tolist()}, "
        f"got {np.round(got, 4).tolist()}")
    assert got[3] == 0.5, "sigmoid(0) must be exactly 0.5"


@points(1)
def test_tanh_is_sinh_over_cosh(submission):
    # seed 000: tanh x = sinh x / cosh x; seed 004: -1 to 0 for negative inputs, 0 to 1 for positive ones
    got = expect_array(submission.tanh(Z), "tanh(z)", shape=Z.shape, dtype_kind="f")
    want = np.sinh(Z) / np.cosh(Z)
    assert np.allclose(got, want, atol=1e-9), (
        f"tanh({Z.tolist()}) should be {np.round(want, 4).tolist()}, got {np.round(got, 4).tolist()}")


@points(1)
def test_relu_is_max_0_z(submission):
    # seed 000: max(0, z); seed 004: 0 below zero, the input itself above
    got = expect_array(submission.relu(Z), "relu(z)", shape=Z.shape, dtype_kind="n")
    assert np.array_equal(got, np.maximum(Z, 0)), (
        f"relu({Z.tolist()}) should be {np.maximum(Z, 0).tolist()}, got {got.tolist()}")


@points(1)
def test_derivatives_at_0(submission):
    s = float(expect_array(submission.sigmoid_grad(np.array([0.0])), "sigmoid_grad([0])", shape=(1,))[0])
    assert abs(s - 0.25) < 1e-9, f"sigmoid'(0) = sigmoid(0)(1 - sigmoid(0)) = 0.25, got {s}"
    t = expect_array(submission.tanh_grad(np.array([0.0])), "tanh_grad([0])", shape=(1,))[0]
    assert abs(float(t) - 1.0) < 1e-9, f"tanh'(0) = 1 - tanh(0)^2 = 1, got {float(t)}"
    r = expect_array(submission.relu_grad(np.array([-2.0, 3.0])), "relu_grad([-2, 3])", shape=(2,))
    assert np.array_equal(r, [0.0, 1.0]), f"relu'(z) is 0 for z < 0 and 1 for z > 0: expected [0, 1], got {r.tolist()}"


@points(1)
def test_mse_has_no_one_half(submission):
    # seed 004 writes MSE = 1/2 (y_hat - y)^2 to simplify its derivative; Keras' MSE has no 1/2
    got = expect_number(submission.mse(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])), "mse([1, 2, 3], [1, 2, 5])")
    assert abs(got - 4 / 3) < 1e-9, f"mse([1, 2, 3], [1, 2, 5]) = (0 + 0 + 4) / 3 = 1.3333 (no 1/2), got {got:.4f}"


@points(1)
def test_mae_and_mape(submission):
    y, y_hat = np.array([2.0, 4.0, 5.0]), np.array([1.0, 5.0, 5.0])
    got = expect_number(submission.mae(y, y_hat), "mae([2, 4, 5], [1, 5, 5])")
    assert abs(got - 2 / 3) < 1e-9, f"mae([2, 4, 5], [1, 5, 5]) = (1 + 1 + 0) / 3 = 0.6667, got {got:.4f}"
    got = expect_number(submission.mape(y, y_hat), "mape([2, 4, 5], [1, 5, 5])")
    assert abs(got - 25.0) < 1e-9, f"mape([2, 4, 5], [1, 5, 5]) = 100 * (1/2 + 1/4 + 0) / 3 = 25, got {got:.4f}"
