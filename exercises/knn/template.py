# This file was generated from the reference solution by `dlgrade templates`.
"""k-nearest neighbours (k-NN) in numpy: one-hot labels, accuracy, L1 and L2 distances between
every pair of points, and the k-NN classifier with its majority vote.

Use numpy only. Run the public tests with `dlgrade check`.
"""

import numpy as np


def one_hot(labels, classes):
    """One-hot encode `labels` (a list or 1-D array of class labels: ints or strings).

    `classes` lists every class once and fixes the column order: column j is classes[j] (the
    notes' example uses the columns t-shirt, dress, shoe). Return a float array of shape
    (len(labels), len(classes)) with a single 1.0 per row. Raise ValueError when a label is
    not one of `classes`.
    """
    raise NotImplementedError("write your code here")


def accuracy(y_true, y_pred):
    """The fraction of predictions that are right, a float in [0, 1].

    Either both are 1-D arrays (or lists) of labels, compared one by one, or both are 2-D
    arrays of shape (n, classes) (one-hot rows, or scores such as probabilities), and a row is
    right when its largest entry is in the same column (for one-hot rows this is
    (y_true * y_pred).sum() / n). Raise ValueError when the two do not have the same shape.
    """
    raise NotImplementedError("write your code here")


def l1_distances(A, B):
    """L1 (Manhattan) distance between every row of A (n, d) and every row of B (m, d).

    Return a float array D of shape (n, m) with D[i, j] = sum_k |A[i, k] - B[j, k]|.
    A and B may hold integers (even uint8 pixels).
    """
    raise NotImplementedError("write your code here")


def l2_distances(A, B):
    """L2 (Euclidean) distance between every row of A (n, d) and every row of B (m, d).

    Return a float array D of shape (n, m) with D[i, j] = sqrt(sum_k (A[i, k] - B[j, k])^2)
    (the distance itself, not its square). A and B may hold integers (even uint8 pixels).
    """
    raise NotImplementedError("write your code here")


def knn_predict(X_train, y_train, X_test, k=1, metric="l2"):
    """Predict a label for every row of X_test with the k nearest training points.

    X_train is (n, d), y_train holds n labels (ints or strings), X_test is (m, d); `metric` is
    "l1" or "l2". The neighbours of a test point are the training points sorted by distance,
    equal distances in training order (a stable sort); the prediction is the label most of the
    k first neighbours have. When several labels have the most votes, the one whose neighbour
    comes first (the nearest) wins. Return a 1-D array of m labels of the same kind as y_train.
    Raise ValueError for another metric or for k outside 1..n.
    """
    raise NotImplementedError("write your code here")
