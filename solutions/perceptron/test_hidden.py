"""Hidden tests for the perceptron exercise: edge cases of step and predict, the exact
weights of the learning rule on data the learner has not seen (compared with the reference
run in the trusted process), the epoch count and convergence flag, XOR, random linearly
separable sets, the remaining gates and the error for an unknown gate. Messages never show
an expected value.

One mistake, one test: the threshold at exactly 0 (step(0) = 0, in step, predict and the
training rule) is `test_the_output_at_exactly_0_is_0` alone. The other tests use inputs off the
boundary, and the training tests accept the weights of the rule run with step(0) = 1 too, so a
learner whose only mistake is step(0) = 1 loses that one test, with a hint about the threshold.
A single number may come back as a Python int, a numpy integer or a 0-d integer array."""

import numpy as np

from grader.testing import (SubmissionRaised, error_summary, expect_array, expect_bool, expect_number, expect_raises,
                            expect_tuple, points)

GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def _training(result, what, d):
    w, b, converged = expect_tuple(result, what, 3)
    w = expect_array(w, f"the weights w returned by {what}", shape=(d,), dtype_kind="f")
    b = expect_number(b, f"the bias b returned by {what}")
    converged = expect_bool(converged, f"the converged flag returned by {what}")
    return w, b, converged


def _rule(X, y, lr, epochs, at_zero):
    """The perceptron learning rule with step(0) = `at_zero` (the README's rule is at_zero=0)."""
    X = np.asarray(X, dtype=float)
    w = np.zeros(X.shape[1])
    b = 0.0
    for _ in range(epochs):
        mistakes = 0
        for xi, yi in zip(X, y):
            z = xi @ w + b
            yhat = 1 if z > 0 or (z == 0 and at_zero) else 0
            if yhat != yi:
                w = w + lr * (yi - yhat) * xi
                b = b + lr * (yi - yhat)
                mistakes += 1
        if mistakes == 0:
            return w, float(b), True
    return w, float(b), False


def _matches(got, want):
    return (np.allclose(got[0], want[0], rtol=1e-9, atol=1e-9) and np.isclose(got[1], want[1], rtol=1e-9, atol=1e-9)
            and got[2] == want[2])


def _same_training(got, want, what, X=None, y=None, lr=None, epochs=None):
    """The learner's (w, b, converged) against the rule's. With the data given, the weights of
    the rule run with step(0) = 1 are accepted too: that mistake is the threshold test's."""
    if X is not None and _matches(got, _rule(X, y, lr, epochs, at_zero=1)):
        return
    w, b, converged = got
    w_ref, b_ref, converged_ref = want
    assert np.allclose(w, w_ref, rtol=1e-9, atol=1e-9), (
        f"{what}: the weights w differ from the perceptron rule's ({error_summary(w, w_ref)}); "
        "start from zeros, visit the samples in order and update only on a mistake")
    assert np.isclose(b, b_ref, rtol=1e-9, atol=1e-9), (
        f"{what}: the bias b differs from the perceptron rule's ({error_summary(b, b_ref)})")
    assert converged == converged_ref, (
        f"{what}: the converged flag is wrong; it is True exactly when an epoch (within the "
        "allowed number of epochs) had no mistake")


def _numbers(value, shape):
    """`value` as a numeric array of `shape` when it is one in any allowed form (a single number
    also as a Python or numpy number or a 1-element array), else None: a wrong form is another
    test's property, never this one's."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.generic, np.ndarray, list, tuple)):
        return None
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        return None
    if arr.dtype.kind not in "biuf":
        return None
    if shape == () and arr.size == 1:
        return arr.reshape(())
    return arr if arr.shape == shape else None


def _training_or_none(call):
    """(w, b, converged) as plain values, or None when the call raised or the result has another
    form (those are the training tests' properties)."""
    try:
        w, b, converged = call()
        w = _numbers(w, np.shape(w))
        b = _numbers(b, ())
        if w is None or b is None or not isinstance(converged, (bool, np.bool_)):
            return None
        return w.astype(float), float(b), bool(converged)
    except (SubmissionRaised, TypeError, ValueError):
        return None


@points(2)
def test_the_output_at_exactly_0_is_0(submission):
    # heaviside: 1 only where z > 0, so step(0) = step(-0.0) = 0; the same threshold in predict
    # (a sample exactly on the boundary x . w + b = 0) and in the training rule. Only the outputs
    # at exactly 0 are judged here; shapes, dtypes and the other values are the other tests'.
    hint = "step is 1 only where z > 0 and 0 elsewhere, so step(0) = 0 (heaviside, as in the notes)"
    z = np.array([[0.0, -0.0, 1.5], [-1.5, 0.0, 2.0]])
    out = _numbers(submission.step(z), z.shape)
    if out is not None:
        wrong = int(np.sum(out[z == 0] != 0))
        assert wrong == 0, f"step(z) gives {wrong} non-zero value(s) where z = 0: {hint}"
    for value in (0.0, -0.0, 0):
        out = _numbers(submission.step(value), ())
        assert out is None or int(out) == 0, f"step({value!r}) returned {int(out)}: {hint}"
    X = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 1.0], [0.0, 0.0]])
    w = np.array([1.0, -1.0])
    out = _numbers(submission.predict(X, w, 0.0), (4,))
    on = (X @ w) == 0
    if out is not None:
        wrong = int(np.sum(out[on] != 0))
        assert wrong == 0, (f"predict(X, w, 0) gives 1 for {wrong} sample(s) exactly on the boundary x . w + b = 0: "
                            f"the output there is step(0) = 0 ({hint})")
    y = np.array([0, 0, 0, 1])
    got = _training_or_none(lambda: submission.train_perceptron(GATE_INPUTS, y, lr=1.0, epochs=1))
    if got is not None and got[0].shape == (2,) and _matches(got, _rule(GATE_INPUTS, y, 1.0, 1, at_zero=1)):
        raise AssertionError(
            "train_perceptron(AND, lr=1.0, epochs=1) predicts 1 for samples whose weighted sum x . w + b is exactly 0 "
            f"(from zeros, the first samples): the prediction there is step(0) = 0 ({hint})")


@points(1)
def test_step_values_dtype_and_shape(submission):
    z = np.array([[1e-300, -1e-300, 7.5], [-2.0, 0.25, -1e9]])
    out = expect_array(submission.step(z), "step(z) for a (2, 3) array", shape=(2, 3), dtype_kind="i")
    want = (z > 0).astype(int)
    assert np.array_equal(out, want), (
        f"step(z) is wrong on {int(np.sum(out != want))} of 6 non-zero entries of a 2-D array; check tiny positive "
        "and negative values")


@points(1)
def test_step_of_a_single_number(submission):
    # a Python int, a numpy integer or a 0-d integer array are all a single integer (the dtype
    # is test_step_values_dtype_and_shape's)
    for z in (1e-12, -5.0, 3, -1e-300, 2.5):
        out = expect_array(submission.step(z), f"step({z!r})", shape=(), dtype_kind="n")
        assert int(out) == int(z > 0), f"step({z!r}) is wrong for a single number"


@points(1)
def test_predict_single_sample_1d(submission):
    w = np.array([0.3, -0.8, 1.1])
    for x, b in ((np.array([1.0, 2.0, 3.0]), -1.0), (np.array([1.0, 1.0, 0.0]), 0.25)):
        out = expect_array(submission.predict(x, w, b), "predict(x, w, b) for one sample x of shape (3,)",
                           shape=(1,), dtype_kind="n")
        assert out[0] == int(x @ w + b > 0), "predict is wrong for a single sample given as a 1-D array"


@points(2)
def test_predict_matches_reference(submission, reference):
    rng = np.random.default_rng(1234)
    X = rng.normal(size=(50, 5))
    w = rng.normal(size=5)
    b = float(rng.normal())
    out = expect_array(submission.predict(X, w, b), "predict(X, w, b)", shape=(50,), dtype_kind="i")
    want = reference.predict(X, w, b)
    assert np.array_equal(out, want), f"predict(X, w, b) is wrong on {int(np.sum(out != want))} of 50 samples"
    Xi = rng.integers(-3, 4, size=(40, 3))
    wi = np.array([2, -1, 1])
    Xi = Xi[Xi @ wi - 1 != 0][:20]              # off the boundary: step(0) is another test's
    out = expect_array(submission.predict(Xi, wi, -1), "predict(X, w, b) with integer X, w and b",
                       shape=(20,), dtype_kind="i")
    want = reference.predict(Xi, wi, -1)
    assert np.array_equal(out, want), (
        f"predict with integer inputs is wrong on {int(np.sum(out != want))} of 20 samples")


@points(2)
def test_train_other_gates_and_rates(submission, reference):
    tables = {"NAND": [1, 1, 1, 0], "NOR": [1, 0, 0, 0], "A_AND_NOT_B": [0, 0, 1, 0], "AND": [0, 0, 0, 1]}
    for name, y in tables.items():
        for lr in (1.0, 0.25):
            y = np.array(y)
            what = f"train_perceptron on the {name} table with lr={lr}"
            got = _training(submission.train_perceptron(GATE_INPUTS, y, lr=lr, epochs=50), what, 2)
            _same_training(got, reference.train_perceptron(GATE_INPUTS, y, lr=lr, epochs=50), what,
                           GATE_INPUTS, y, lr, 50)


@points(2)
def test_train_exact_weights_on_random_data(submission, reference):
    rng = np.random.default_rng(99)
    X = rng.normal(size=(30, 4))
    y = (rng.random(30) < 0.5).astype(int)  # labels not separable in general
    for lr, epochs in ((0.1, 7), (0.5, 1), (1.0, 20)):
        what = f"train_perceptron on 30 random samples with lr={lr}, epochs={epochs}"
        got = _training(submission.train_perceptron(X, y, lr=lr, epochs=epochs), what, 4)
        _same_training(got, reference.train_perceptron(X, y, lr=lr, epochs=epochs), what, X, y, lr, epochs)


@points(2)
def test_train_stops_after_first_clean_epoch(submission, reference):
    y = np.array([0, 0, 0, 1])
    for epochs in (4, 5, 6, 7):
        what = f"train_perceptron(AND, lr=1.0, epochs={epochs})"
        got = _training(submission.train_perceptron(GATE_INPUTS, y, lr=1.0, epochs=epochs), what, 2)
        _same_training(got, reference.train_perceptron(GATE_INPUTS, y, lr=1.0, epochs=epochs), what,
                       GATE_INPUTS, y, 1.0, epochs)


@points(2)
def test_xor_does_not_converge(submission, reference):
    y = np.array([0, 1, 1, 0])
    got = _training(submission.train_perceptron(GATE_INPUTS, y), "train_perceptron(XOR) with the default lr and epochs", 2)
    assert got[2] is False, (
        "train_perceptron on the XOR table reported convergence; XOR is not linearly separable "
        "(Minsky and Papert), so no epoch can be free of mistakes")
    _same_training(got, reference.train_perceptron(GATE_INPUTS, y),
                   "train_perceptron(XOR) with the default lr and epochs", GATE_INPUTS, y, 1.0, 100)


@points(3)
def test_random_separable_sets_are_learned(submission, reference):
    rng = np.random.default_rng(2024)
    for d in (2, 3, 5, 8):
        w_true = rng.normal(size=d)
        b_true = float(rng.normal())
        X = rng.normal(size=(200, d)) * 2
        margin = (X @ w_true + b_true) / np.linalg.norm(w_true)
        X = X[np.abs(margin) > 0.15][:80]
        y = (X @ w_true + b_true > 0).astype(int)
        what = f"train_perceptron on a linearly separable set of {len(X)} points in {d} dimensions"
        w, b, converged = _training(submission.train_perceptron(X, y, lr=1.0, epochs=1000), what, d)
        acc = float(np.mean(reference.predict(X, w, b) == y))
        assert converged, f"{what} did not report convergence within 1000 epochs"
        assert acc == 1.0, f"{what}: the returned weights classify only {acc:.1%} of the training set"


@points(1)
def test_train_returns_floats_for_integer_data(submission):
    X = np.array([[2, 1], [1, 3], [-1, -2], [-2, 1]], dtype=np.int64)
    y = np.array([1, 1, 0, 0], dtype=np.int64)
    w, b, converged = _training(submission.train_perceptron(X, y, lr=1, epochs=10),
                                "train_perceptron with integer X and y", 2)
    assert w.dtype.kind == "f", "w should be a float array even when X holds integers"


@points(2)
def test_nand_and_nor_gates(submission):
    tables = {"NAND": [1, 1, 1, 0], "NOR": [1, 0, 0, 0], "AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1],
              "A_AND_NOT_B": [0, 0, 1, 0]}
    for name, want in tables.items():
        w, b = expect_tuple(submission.logic_gate(name), f"logic_gate({name!r})", 2)
        w = expect_array(w, f"the weights of logic_gate({name!r})", shape=(2,), dtype_kind="n")
        b = expect_number(b, f"the bias of logic_gate({name!r})")
        got = (GATE_INPUTS @ w.astype(float) + b > 0).astype(int)
        wrong = int(np.sum(got != np.array(want)))
        assert wrong == 0, f"the weights of logic_gate({name!r}) give the wrong output on {wrong} of the 4 inputs"


@points(1)
def test_unknown_gate_raises_value_error(submission):
    for name in ("XOR", "xnor", "", "MAYBE"):
        with expect_raises("ValueError", f"logic_gate({name!r})"):
            submission.logic_gate(name)
