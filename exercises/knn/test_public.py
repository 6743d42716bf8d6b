"""Public tests for the k-NN exercise. The numbers come from the lecture notes (seed 000): the
one-hot matrix of the t-shirt / dress / shoe labels, the test and prediction matrices with
(test * prediction).sum() = 6.0 (accuracy 6 / 8 = 0.75), the L1 and L2 distances of small
points, and the 1-nearest and 3-nearest neighbour pictures."""

import numpy as np

from grader.testing import expect_array, expect_number, points

# seed 000: labels and their one-hot rows, columns t-shirt, dress, shoe
LABELS = ["shoe", "dress", "shoe", "t-shirt", "shoe", "t-shirt", "shoe", "dress"]
CLASSES = ["t-shirt", "dress", "shoe"]
ONE_HOT = np.array([[0, 0, 1], [0, 1, 0], [0, 0, 1], [1, 0, 0],
                    [0, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=float)
# seed 000: "One-hot encoding: testing predictions"; rows 3 and 5 are wrong
TEST = np.array([[0, 0, 1], [0, 1, 0], [0, 0, 1], [0, 1, 0],
                 [0, 0, 1], [0, 0, 1], [0, 0, 1], [0, 1, 0]], dtype=float)
PREDICTION = np.array([[0, 0, 1], [0, 1, 0], [0, 0, 1], [1, 0, 0],
                       [0, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=float)


@points(2)
def test_one_hot_of_the_notes(submission):
    out = expect_array(submission.one_hot(LABELS, CLASSES), "one_hot(labels, ['t-shirt', 'dress', 'shoe'])",
                       shape=(8, 3), dtype_kind="f")
    assert np.array_equal(out, ONE_HOT), (
        f"one_hot(labels, ['t-shirt', 'dress', 'shoe']) returned {out.tolist()}, expected {ONE_HOT.tolist()}: "
        "column j is classes[j] (t-shirt, dress, shoe), one 1.0 per row")


@points(1)
def test_accuracy_of_the_notes_matrices(submission):
    # (test * prediction).sum() = 6.0 right rows out of 8
    assert float((TEST * PREDICTION).sum()) == 6.0
    acc = expect_number(submission.accuracy(TEST, PREDICTION), "accuracy(test, prediction) for the notes' matrices")
    assert abs(acc - 0.75) < 1e-12, (
        f"accuracy(test, prediction) returned {acc}, expected 6 / 8 = 0.75: (test * prediction).sum() = 6.0 rows "
        "are right out of 8")


@points(1)
def test_accuracy_of_labels(submission):
    y_true = ["shoe", "dress", "shoe", "dress", "shoe", "shoe", "shoe", "dress"]
    acc = expect_number(submission.accuracy(y_true, LABELS), "accuracy(y_true, y_pred) for 8 labels")
    assert abs(acc - 0.75) < 1e-12, f"accuracy of 6 right labels out of 8 should be 0.75, got {acc}"


@points(1)
def test_l1_and_l2_distances_of_small_points(submission):
    # from (0, 0): (3, 4), (5, 0) and (0, -5) are all at L2 distance 5, but at L1 distances 7, 5, 5
    A = np.array([[0.0, 0.0], [1.0, 1.0]])
    B = np.array([[3.0, 4.0], [5.0, 0.0], [0.0, -5.0]])
    want_l2 = np.sqrt(((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2))
    want_l1 = np.abs(A[:, None, :] - B[None, :, :]).sum(axis=2)
    l2 = expect_array(submission.l2_distances(A, B), "l2_distances(A, B) for A (2, 2) and B (3, 2)",
                      shape=(2, 3), dtype_kind="f")
    assert np.allclose(l2, want_l2, rtol=1e-6, atol=1e-6), (
        f"l2_distances(A, B) returned {l2.tolist()}, expected {want_l2.tolist()}: "
        "D[i, j] = sqrt(sum_k (A[i, k] - B[j, k])^2)")
    l1 = expect_array(submission.l1_distances(A, B), "l1_distances(A, B) for A (2, 2) and B (3, 2)",
                      shape=(2, 3), dtype_kind="f")
    assert np.allclose(l1, want_l1, rtol=1e-9, atol=1e-9), (
        f"l1_distances(A, B) returned {l1.tolist()}, expected {want_l1.tolist()}: D[i, j] = sum_k |A[i, k] - B[j, k]|")


@points(2)
def test_one_and_three_nearest_neighbours(submission):
    # the notes' pictures: a point whose single nearest neighbour is a "b" among "a"s; with k = 3
    # the two "a"s around it win the vote
    X_train = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0], [6.0, 5.0], [2.0, 2.0]])
    y_train = np.array([0, 0, 0, 1, 1, 1])
    X_test = np.array([[1.9, 1.9], [0.2, 0.1], [5.5, 5.2]])
    for k, want in ((1, [1, 0, 1]), (3, [0, 0, 1])):
        for metric in ("l2", "l1"):
            what = f"knn_predict(X_train, y_train, X_test, k={k}, metric={metric!r})"
            out = expect_array(submission.knn_predict(X_train, y_train, X_test, k=k, metric=metric), what,
                               shape=(3,), dtype_kind="i")
            assert out.tolist() == want, f"{what} returned {out.tolist()}, expected {want}"
