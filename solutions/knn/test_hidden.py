"""Hidden tests for the k-NN exercise: one-hot and accuracy beyond the notes' example, the
distances against scikit-learn, the classifier against scikit-learn's KNeighborsClassifier, the
README's two tie rules on constructed data, the refusals, and a held-out accuracy threshold.

One property per test. The distances are compared on float inputs everywhere except
`test_distances_of_uint8_pixels_do_not_wrap_around`; the classifier's comparisons with
scikit-learn skip the test points where a vote or the k-th distance ties (scikit-learn breaks
those its own way), and the two tie rules are each one test (the sort that keeps equal distances
in training order needs more than 16 training points to show: numpy's default sort is stable
on short rows). The held-out digits are scikit-learn's 8x8 digits, split with the grading's
secret seed and sent under a secret transform (the features permuted, some negated, each shifted
by a whole number: L1 and L2 distances do not change, ties included, but the digits cannot be
looked up); their labels stay here and the accuracy is computed here. Messages never show an
expected value."""

import numpy as np
import pytest

from grader.testing import Feedback, error_summary, expect_array, expect_number, expect_raises, points

HELD_OUT_TRAIN = 1000
HELD_OUT_TEST = 400


def _blobs(seed, n, d, classes):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(classes, d))
    y = rng.integers(0, classes, size=n)
    return centers[y] + rng.normal(size=(n, d)), y


def _labels(value, what, n):
    """A learner's 1-D array of n labels (numbers or strings)."""
    if isinstance(value, list):
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        raise Feedback(f"{what} should return a numpy array of labels, but it returned {type(value).__name__}")
    if value.shape != (n,):
        raise Feedback(f"{what} should have shape ({n},), but it has shape {value.shape}")
    if value.dtype.kind not in "biuU":
        raise Feedback(f"{what} should hold labels of the same kind as y_train, but its dtype is {value.dtype}")
    return value


def _unambiguous(D, y_train, k):
    """Rows whose k nearest neighbours and vote have no tie (there every rule agrees)."""
    keep = []
    for row in D:
        order = np.argsort(row, kind="stable")
        if k < len(row) and row[order[k - 1]] == row[order[k]]:
            keep.append(False)
            continue
        counts = np.bincount(y_train[order[:k]])
        keep.append(int(np.sum(counts == counts.max())) == 1)
    return np.array(keep)


@points(1)
def test_one_hot_follows_the_order_of_classes(submission, reference):
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 5, size=30)
    for classes in ([0, 1, 2, 3, 4], [4, 2, 0, 3, 1], [3, 1, 4, 0, 2, 9]):
        what = f"one_hot(labels, {classes})"
        out = expect_array(submission.one_hot(labels, np.array(classes)), what, shape=(30, len(classes)),
                           dtype_kind="n")
        want = reference.one_hot(labels, np.array(classes))
        assert np.array_equal(out, want), (
            f"{what} is wrong in {int(np.sum(np.any(out != want, axis=1)))} of 30 rows: column j must be "
            "classes[j], in the order given (not sorted), one 1.0 per row")
    words = ["dress", "shoe", "t-shirt", "bag", "shoe", "bag"]
    classes = ["shoe", "bag", "t-shirt", "dress"]
    out = expect_array(submission.one_hot(words, classes), f"one_hot({words}, {classes})", shape=(6, 4),
                       dtype_kind="n")
    assert np.array_equal(out, reference.one_hot(words, classes)), (
        f"one_hot({words}, {classes}) is wrong: with string labels too, column j is classes[j]")


@points(1)
def test_one_hot_returns_floats(submission):
    # the notes' one-hot rows are floats (0., 1.), as Keras' to_categorical gives
    out = expect_array(submission.one_hot([2, 0, 1], [0, 1, 2]), "one_hot([2, 0, 1], [0, 1, 2])", shape=(3, 3))
    assert out.dtype.kind == "f", f"one_hot should return a float array (0.0 and 1.0), not {out.dtype}"


@points(1)
def test_one_hot_refuses_an_unknown_label(submission):
    for labels, classes in ((["shoe", "hat"], ["t-shirt", "dress", "shoe"]), ([0, 1, 3], [0, 1, 2])):
        with expect_raises("ValueError", f"one_hot({labels}, {classes}) (a label that is not a class)"):
            submission.one_hot(labels, classes)


@points(1)
def test_accuracy_of_labels_matches_scikit_learn(submission):
    from sklearn.metrics import accuracy_score
    rng = np.random.default_rng(11)
    for n, classes in ((50, 3), (7, 10), (1, 2)):
        y_true = rng.integers(0, classes, size=n)
        y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, classes, size=n))
        got = expect_number(submission.accuracy(y_true, y_pred), f"accuracy(y_true, y_pred) for {n} labels")
        assert abs(got - accuracy_score(y_true, y_pred)) < 1e-12, (
            f"accuracy(y_true, y_pred) for {n} integer labels is off by {abs(got - accuracy_score(y_true, y_pred)):.3g}: "
            "it is the fraction of positions where the two agree")
    words = ["a", "b", "b", "c", "a"]
    got = expect_number(submission.accuracy(words, ["a", "b", "c", "c", "b"]), "accuracy of 5 string labels")
    assert abs(got - 0.6) < 1e-12, "accuracy of string labels is wrong: compare the labels one by one"


@points(1)
def test_accuracy_of_probability_rows_compares_the_largest_entry(submission):
    from sklearn.metrics import accuracy_score
    rng = np.random.default_rng(12)
    Y = np.eye(4)[rng.integers(0, 4, size=40)]
    P = rng.random((40, 4))
    P /= P.sum(axis=1, keepdims=True)
    want = accuracy_score(Y.argmax(axis=1), P.argmax(axis=1))
    got = expect_number(submission.accuracy(Y, P), "accuracy(Y, P) for one-hot rows Y and probability rows P")
    assert abs(got - want) < 1e-12, (
        "accuracy(Y, P) for 2-D inputs is wrong: a row is right when the largest entry of P is in the column of "
        "Y's 1 (argmax of each row), which for one-hot P is (Y * P).sum() / n")


@points(1)
def test_accuracy_refuses_different_shapes(submission):
    with expect_raises("ValueError", "accuracy([0, 1, 2], [0, 1]) (different lengths)"):
        submission.accuracy(np.array([0, 1, 2]), np.array([0, 1]))


@points(2)
def test_l1_distances_match_scikit_learn(submission):
    from sklearn.metrics import pairwise_distances
    rng = np.random.default_rng(21)
    for n, m, d in ((6, 9, 4), (1, 5, 64), (12, 1, 3)):
        A, B = rng.normal(size=(n, d)), rng.normal(size=(m, d)) * 3
        what = f"l1_distances(A, B) for A {A.shape} and B {B.shape}"
        got = expect_array(submission.l1_distances(A, B), what, shape=(n, m), dtype_kind="f")
        want = pairwise_distances(A, B, metric="manhattan")
        assert np.allclose(got, want, rtol=1e-9, atol=1e-9), (
            f"{what} differs from the sum of absolute differences ({error_summary(got, want)})")


@points(2)
def test_l2_distances_match_scikit_learn(submission):
    from sklearn.metrics import pairwise_distances
    rng = np.random.default_rng(22)
    for n, m, d in ((6, 9, 4), (1, 5, 64), (12, 1, 3)):
        A, B = rng.normal(size=(n, d)), rng.normal(size=(m, d)) * 3
        what = f"l2_distances(A, B) for A {A.shape} and B {B.shape}"
        got = expect_array(submission.l2_distances(A, B), what, shape=(n, m), dtype_kind="f")
        want = pairwise_distances(A, B, metric="euclidean")
        assert np.allclose(got, want, rtol=1e-6, atol=1e-6), (
            f"{what} differs from the Euclidean distance ({error_summary(got, want)}); it is the square root of "
            "the sum of squared differences")


@points(1)
def test_distance_of_a_point_to_itself_is_0(submission):
    rng = np.random.default_rng(23)
    A = rng.normal(size=(20, 8)) * 10
    for name in ("l1_distances", "l2_distances"):
        got = expect_array(getattr(submission, name)(A, A), f"{name}(A, A)", shape=(20, 20), dtype_kind="f",
                           finite=False)
        diag = np.abs(np.diag(got))
        if not np.all(np.isfinite(diag)):
            raise Feedback(f"{name}(A, A) gives NaN for the distance of a point to itself: a rounding error made a "
                           "squared distance slightly negative; clip it at 0 before the square root (np.maximum(d2, 0))")
        assert diag.max() < 1e-4, (
            f"{name}(A, A) gives a point a distance of up to {diag.max():.3g} to itself; "
            "a rounding error that makes a squared distance slightly negative must be clipped at 0 before the sqrt")


@points(1)
def test_distances_of_uint8_pixels_do_not_wrap_around(submission):
    from sklearn.metrics import pairwise_distances
    A = np.array([[3, 200, 0, 255], [10, 10, 10, 10]], dtype=np.uint8)
    B = np.array([[5, 100, 255, 0], [10, 10, 10, 10], [0, 0, 0, 0]], dtype=np.uint8)
    for name, metric in (("l1_distances", "manhattan"), ("l2_distances", "euclidean")):
        got = expect_array(getattr(submission, name)(A, B), f"{name}(A, B) for uint8 pixels", shape=(2, 3),
                           dtype_kind="f")
        want = pairwise_distances(A.astype(float), B.astype(float), metric=metric)
        assert np.allclose(got, want, rtol=1e-6, atol=1e-6), (
            f"{name}(A, B) is wrong for uint8 pixels ({error_summary(got, want)}): 3 - 5 wraps around to 254 in "
            "uint8; convert to float before subtracting")


@points(3)
def test_knn_predict_agrees_with_scikit_learn(submission, reference):
    from sklearn.neighbors import KNeighborsClassifier
    X_train, y_train = _blobs(31, 60, 3, 3)
    X_test, _ = _blobs(32, 40, 3, 3)
    X_test = X_test * 1.3
    for k in (1, 3, 5, 8):
        for metric, sk_metric in (("l2", "euclidean"), ("l1", "manhattan")):
            what = f"knn_predict(X_train, y_train, X_test, k={k}, metric={metric!r})"
            got = _labels(submission.knn_predict(X_train, y_train, X_test, k=k, metric=metric), what, 40)
            sk = KNeighborsClassifier(n_neighbors=k, metric=sk_metric, algorithm="brute").fit(X_train, y_train)
            want = sk.predict(X_test)
            dist = reference.l1_distances if metric == "l1" else reference.l2_distances
            keep = _unambiguous(dist(X_test, X_train), y_train, k)
            wrong = int(np.sum(got[keep] != want[keep]))
            assert wrong == 0, (
                f"{what} disagrees with scikit-learn's KNeighborsClassifier on {wrong} of {int(keep.sum())} test "
                "points that have no tie: take the k smallest distances to the training points and the label most "
                "of them have")


@points(2)
def test_a_vote_tie_goes_to_the_nearest(submission):
    # the classes tied for the most votes: the one with the nearest neighbour wins (not the
    # smallest label, as scikit-learn's mode takes). No two distances are equal here.
    X_train = np.array([[0.0], [1.1], [2.3], [-3.6], [5.0], [-6.5], [9.0]])
    y_train = np.array([7, 2, 2, 7, 5, 5, 1])
    X_test = np.array([[0.2], [1.4], [-0.5], [4.4]])
    cases = ((2, [7, 2, 7, 5]), (4, [7, 2, 7, 2]), (6, [7, 2, 7, 2]))
    for k, want in cases:
        what = f"knn_predict(X_train, y_train, X_test, k={k}) with tied votes"
        for metric in ("l1", "l2"):
            got = _labels(submission.knn_predict(X_train, y_train, X_test, k=k, metric=metric), what, 4)
            wrong = int(np.sum(got != np.array(want)))
            assert wrong == 0, (
                f"{what} (metric {metric!r}) is wrong on {wrong} of 4 points, most of them with two labels tied for the most "
                "votes: "
                "the README's rule gives the tie to the label of the nearest of those neighbours")


@points(2)
def test_equal_distances_keep_the_training_order(submission):
    # 16 of 40 training points lie at the same distance 1 from the test point, the others
    # farther: the first three of them in training order have label 0, the later ones label 1.
    # The README's order (a stable sort: equal distances in training order) takes label 0 for
    # k = 1, 3 and 5; any other order of the equal distances takes label 1 somewhere.
    rng = np.random.default_rng(5)
    tied = np.sort(rng.choice(40, size=16, replace=False))
    at = np.isin(np.arange(40), tied)
    x = np.where(at, np.where(np.arange(40) % 2 == 0, 1.0, -1.0), 2.0 + np.arange(40) % 5)
    X_train = x[:, None]
    y_train = np.full(40, 2)
    y_train[tied] = 1
    y_train[tied[:3]] = 0
    for k in (1, 3, 5):
        what = f"knn_predict(X_train, y_train, [[0.0]], k={k}) with 16 training points at the same distance"
        for metric in ("l1", "l2"):
            got = _labels(submission.knn_predict(X_train, y_train, np.array([[0.0]]), k=k, metric=metric), what, 1)
            assert int(got[0]) == 0, (
                f"{what} (metric {metric!r}) picked other neighbours than the README's: among equal distances the "
                "earlier training point comes first; sort with a stable sort (np.argsort(d, kind='stable'))")


@points(1)
def test_knn_predict_keeps_the_kind_of_labels(submission):
    X_train = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 4.0], [5.0, 4.0]])
    y_train = ["shoe", "shoe", "t-shirt", "t-shirt"]
    X_test = np.array([[0.2, 0.3], [4.4, 3.9], [1.0, 0.9]])
    got = submission.knn_predict(X_train, y_train, X_test, k=1, metric="l2")
    if isinstance(got, list):
        got = np.asarray(got)
    assert isinstance(got, np.ndarray) and got.shape == (3,) and got.dtype.kind == "U", (
        "knn_predict with string labels (y_train a list of strings) should return a 1-D array of strings")
    assert got.tolist() == ["shoe", "t-shirt", "shoe"], "knn_predict with string labels predicts the wrong labels"


@points(1)
def test_knn_predict_refuses_a_bad_k_or_metric(submission):
    X = np.array([[0.0], [1.0], [2.0]])
    y = np.array([0, 1, 1])
    for k, metric in ((0, "l2"), (4, "l2"), (-1, "l1"), (2, "cosine"), (1, "L3")):
        with expect_raises("ValueError", f"knn_predict(X, y, X, k={k}, metric={metric!r}) with 3 training points"):
            submission.knn_predict(X, y, X, k=k, metric=metric)


def _held_out_digits(seed):
    """scikit-learn's digits split with `seed`, under a secret transform drawn from it."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(digits.data, digits.target, train_size=HELD_OUT_TRAIN,
                                              test_size=HELD_OUT_TEST, stratify=digits.target,
                                              random_state=seed % 2**32)
    rng = np.random.default_rng([seed % 2**32, 5])
    perm = rng.permutation(64)
    sign = rng.choice([-1.0, 1.0], size=64)
    shift = rng.integers(-40, 41, size=64).astype(float)
    secret = lambda x: x[:, perm] * sign + shift  # noqa: E731 - whole numbers stay exact
    return secret(x_tr), y_tr.astype(np.int64), secret(x_te), y_te.astype(np.int64)


@points(3)
@pytest.mark.seconds(30)
def test_held_out_digits_accuracy(submission, exercise, heldout_seed, record):
    threshold = float(exercise.extra["threshold"]["digits"])
    x_tr, y_tr, x_te, y_te = _held_out_digits(heldout_seed)
    scores = {}
    for k, metric in ((1, "l2"), (3, "l1")):
        what = f"knn_predict on {HELD_OUT_TEST} held-out digits with k={k}, metric={metric!r}"
        got = _labels(submission.knn_predict(x_tr, y_tr, x_te, k=k, metric=metric), what, HELD_OUT_TEST)
        if got.dtype.kind not in "iu":
            raise Feedback(f"{what} should return integer labels like y_train, but its dtype is {got.dtype}")
        scores[(k, metric)] = float(np.mean(got == y_te))
    worst = min(scores, key=scores.get)
    record("metric", {"accuracy": scores[worst], "threshold": threshold, "dataset": "digits"})
    for (k, metric), acc in scores.items():
        assert acc >= threshold, (
            f"knn_predict with k={k}, metric={metric!r} classifies {acc:.1%} of the held-out digits correctly "
            f"({threshold:.0%} needed); check the distances, the k nearest and the vote")
