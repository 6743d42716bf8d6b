"""Public tests for the backprop exercise. The numbers come from the lecture notes: the
weight shapes of a 3-5-8-4 network (seed 004), "identical initial weights cannot learn"
(seed 004), the softmax example S(3) = e^3 / (e^3 + e^1.5 + e^2 + e^0.7) and the 4 x 3 matrix
with the bias row [13, 14, 15] (seed 001), the cross-entropy examples of seed 001 and seed 004,
the one-hot test/prediction matrices of seed 000 and the Keras model Dense(64, relu,
input_dim=25) + Dense(10, softmax) trained with epochs=30, batch_size=64 (seed 000)."""

import numpy as np

from grader.testing import expect_array, expect_dict, expect_number, expect_tuple, points

LN2 = np.log(2.0)


def _keys(n_layers):
    return [f"{p}{i}" for i in range(1, n_layers + 1) for p in ("W", "b")]


def _forward(submission, X, params, what):
    probs, cache = expect_tuple(submission.forward(X, params), what, 2)
    return expect_array(probs, f"the probabilities returned by {what}", shape=(X.shape[0], None), dtype_kind="f"), cache


@points(2)
def test_init_params_shapes_3_5_8_4(submission):
    # seed 004: 3 inputs, hidden layers of 5 and 8 nodes, 4 outputs. PyTorch prints the weight
    # shapes as (5,3), (8,5), (4,8) (outputs first); here W{i} is (inputs, outputs).
    params = expect_dict(submission.init_params([3, 5, 8, 4], seed=0), "init_params([3, 5, 8, 4])", _keys(3))
    want = {"W1": (3, 5), "b1": (5,), "W2": (5, 8), "b2": (8,), "W3": (8, 4), "b3": (4,)}
    for key, shape in want.items():
        expect_array(params[key], f"init_params([3, 5, 8, 4])[{key!r}]", shape=shape, dtype_kind="f")


@points(1)
def test_init_params_are_random_and_seeded(submission):
    # seed 004: if all initial weights are the same number, no deep learning model can learn
    a = expect_dict(submission.init_params([3, 5, 8, 4], seed=0), "init_params([3, 5, 8, 4], seed=0)", _keys(3))
    b = expect_dict(submission.init_params([3, 5, 8, 4], seed=0), "init_params([3, 5, 8, 4], seed=0)", _keys(3))
    for i in (1, 2, 3):
        W = expect_array(a[f"W{i}"], f"W{i}", shape=None, dtype_kind="f")
        assert np.unique(W).size > 1, (
            f"all entries of W{i} are equal ({W.flat[0]}); draw them at random (identical weights "
            "give identical neurons that never become different)")
        assert np.array_equal(W, np.asarray(b[f"W{i}"])), (
            f"init_params gave a different W{i} for the same seed; draw from np.random.default_rng(seed)")


@points(2)
def test_softmax_lecture_example(submission):
    # seed 001: S(3) = e^3 / (e^3 + e^1.5 + e^2 + e^0.7). With identity weights and zero biases
    # the logits of the network are the inputs [3, 1.5, 2, 0.7] themselves (ReLU keeps them).
    X = np.array([[3.0, 1.5, 2.0, 0.7]])
    params = {"W1": np.eye(4), "b1": np.zeros(4), "W2": np.eye(4), "b2": np.zeros(4)}
    probs, _ = _forward(submission, X, params, "forward([[3, 1.5, 2, 0.7]], identity params)")
    want = np.exp(X[0]) / np.exp(X[0]).sum()  # [0.591, 0.132, 0.218, 0.059]
    assert probs.shape == (1, 4), f"forward should return probs of shape (1, 4), got {probs.shape}"
    assert np.allclose(probs[0], want, atol=1e-6), (
        f"softmax([3, 1.5, 2, 0.7]) should be {np.round(want, 3).tolist()}, got {np.round(probs[0], 3).tolist()}")
    assert np.argmax(probs[0]) == 0, "the largest input (3) must get the largest probability"


@points(1)
def test_bias_row_is_added_to_every_sample(submission):
    # seed 001: the 4 x 3 matrix [[1,2,3],[4,5,6],[7,8,9],[10,11,12]] and the row [13, 14, 15]
    # repeated for every one of the 4 rows. With W1 = 0 every row of Z1 is b1 = [13, 14, 15].
    X = np.arange(1.0, 13.0).reshape(4, 3)
    params = {"W1": np.zeros((3, 3)), "b1": np.array([13.0, 14.0, 15.0]), "W2": np.eye(3), "b2": np.zeros(3)}
    probs, _ = _forward(submission, X, params, "forward(X, params) for the 4 x 3 lecture matrix")
    want = np.exp([13.0, 14.0, 15.0]) / np.exp([13.0, 14.0, 15.0]).sum()  # [0.090, 0.245, 0.665]
    assert probs.shape == (4, 3), f"forward should return probs of shape (4, 3), got {probs.shape}"
    assert np.allclose(probs, want[None, :], atol=1e-6), (
        f"every row should be softmax([13, 14, 15]) = {np.round(want, 3).tolist()}, got {np.round(probs, 3).tolist()}; "
        "add b1 to every row (broadcasting) and take the softmax of each row separately")


@points(2)
def test_cross_entropy_lecture_examples(submission):
    # seed 001: (1) p = [0.9, 0.07, 0.015, 0.015], t = [1, 0, 0, 0]: -log2(0.9) = 0.15
    #           (2) p = [0.6, 0.1, 0.2, 0.1],     t = [1, 0, 0, 0]: -log2(0.6) = 0.7
    # The slide uses log base 2 (bits); cross_entropy uses the natural log like Keras, so the
    # values are -ln(0.9) = 0.105 and -ln(0.6) = 0.511, and dividing by ln(2) gives the slide's.
    P = np.array([[0.9, 0.07, 0.015, 0.015], [0.6, 0.1, 0.2, 0.1]])
    T = np.array([[1.0, 0, 0, 0], [1.0, 0, 0, 0]])
    for i, bits in ((0, 0.15), (1, 0.7)):
        got = expect_number(submission.cross_entropy(P[i:i + 1], T[i:i + 1]), f"cross_entropy(example {i + 1})")
        want = -np.log(P[i, 0])
        assert np.isclose(got, want, atol=1e-6), (
            f"cross_entropy({P[i].tolist()}, [1, 0, 0, 0]) should be -ln({P[i, 0]}) = {want:.4f}, got {got:.4f}")
        assert round(got / LN2, 2 if i == 0 else 1) == bits, f"in bits the lecture gets {bits}"
    got = expect_number(submission.cross_entropy(P, T), "cross_entropy(both examples)")
    want = -(np.log(0.9) + np.log(0.6)) / 2
    assert np.isclose(got, want, atol=1e-6), (
        f"for the two rows together the loss is the MEAN over the rows, {want:.4f}; got {got:.4f}")


@points(1)
def test_cross_entropy_cat_example(submission):
    # seed 004: probability 0.25 for "cat", 0.75 for "not cat", the image is a cat:
    # H = -(1 * log(0.25) + 0 * log(0.75)) = 1.386
    got = expect_number(submission.cross_entropy(np.array([[0.25, 0.75]]), np.array([[1.0, 0.0]])),
                        "cross_entropy([[0.25, 0.75]], [[1, 0]])")
    assert np.isclose(got, -np.log(0.25), atol=1e-6), f"-(1 * ln(0.25) + 0 * ln(0.75)) = 1.3863, got {got:.4f}"


@points(1)
def test_cross_entropy_with_itself_is_the_entropy(submission):
    # seed 001: H = -[26/30 log2(26/30) + 4/30 log2(4/30)] = 0.57 (bits); the cross-entropy of a
    # distribution with itself is its entropy: 0.3927 in nats, 0.5665 in bits
    q = np.array([[26 / 30, 4 / 30]])
    got = expect_number(submission.cross_entropy(q, q), "cross_entropy(q, q) for q = [26/30, 4/30]")
    want = -np.sum(q * np.log(q))
    assert np.isclose(got, want, atol=1e-6), (
        f"-sum(t * ln(p)) with t = p = [26/30, 4/30] is {want:.4f} (= 0.57 bits), got {got:.4f}; "
        "use the formula -sum_j Y[n, j] * log(p[n, j]) rather than picking out one entry per row")


@points(1)
def test_cross_entropy_of_one_hot_predictions(submission):
    # seed 000: the one-hot test labels and the predictions, 6 of 8 right ((test * prediction).sum() = 6.0)
    test = np.array([[0, 0, 1], [0, 1, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 0, 1], [0, 1, 0]], dtype=float)
    pred = np.array([[0, 0, 1], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=float)
    got = expect_number(submission.cross_entropy(test, test), "cross_entropy(test, test)")
    assert abs(got) < 1e-6, f"predicting every label with probability 1 costs nothing: expected 0, got {got}"
    got = expect_number(submission.cross_entropy(pred, test), "cross_entropy(prediction, test)",
                        finite=False)
    assert np.isfinite(got) and got > 1.0, (
        f"two of the eight rows give the true class probability 0; the loss should be large but "
        f"finite (clip the probabilities before the log), got {got}")


@points(2)
def test_keras_like_model_shapes(submission):
    # seed 000: model.add(Dense(64, activation='relu', input_dim=25)); model.add(Dense(10, activation='softmax'))
    params = expect_dict(submission.init_params([25, 64, 10], seed=0), "init_params([25, 64, 10])", _keys(2))
    for key, shape in {"W1": (25, 64), "b1": (64,), "W2": (64, 10), "b2": (10,)}.items():
        expect_array(params[key], f"init_params([25, 64, 10])[{key!r}]", shape=shape, dtype_kind="f")
    X = np.random.default_rng(0).random((8, 25))
    probs, cache = _forward(submission, X, params, "forward(X, params) for X of shape (8, 25)")
    assert probs.shape == (8, 10), f"forward should return probs of shape (8, 10), got {probs.shape}"
    assert np.all(probs >= 0) and np.allclose(probs.sum(axis=1), 1.0), "every row of probs must sum to 1"
    Y = np.eye(10)[np.arange(8)]
    grads = expect_dict(submission.backward(params, cache, Y), "backward(params, cache, Y)", _keys(2))
    for key in _keys(2):
        expect_array(grads[key], f"backward(...)[{key!r}]", shape=np.shape(params[key]), dtype_kind="f")


@points(2)
def test_train_like_keras_fit(submission):
    # seed 000: model.fit(x_train, y_train, epochs=30, batch_size=64), on 3 well separated blobs
    rng = np.random.default_rng(7)
    centers = rng.normal(size=(3, 25)) * 3
    labels = np.repeat(np.arange(3), 70)
    X = centers[labels] + rng.normal(size=(210, 25))
    Y = np.eye(3)[labels]
    params = expect_dict(submission.train(X, Y, [25, 64, 3], lr=0.1, epochs=30, batch_size=64, seed=0),
                         "train(X, Y, [25, 64, 3], lr=0.1, epochs=30, batch_size=64)", _keys(2))
    for key, shape in {"W1": (25, 64), "b1": (64,), "W2": (64, 3), "b2": (3,)}.items():
        expect_array(params[key], f"the trained {key}", shape=shape, dtype_kind="f")
    probs, _ = _forward(submission, X, params, "forward(X, trained params)")
    acc = float(np.mean(probs.argmax(axis=1) == labels))
    assert acc >= 0.95, f"after training, the training accuracy on three well separated blobs is {acc:.1%}; expected at least 95%"
