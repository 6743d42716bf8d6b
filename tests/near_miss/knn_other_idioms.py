"""A correct k-NN in other idioms the README allows: broadcasting for L1, the expansion
|a|^2 + |b|^2 - 2ab for L2 (clipped at 0), np.unique for the votes, lists returned for labels."""

import numpy as np


def one_hot(labels, classes):
    labels = np.asarray(labels)
    classes = np.asarray(classes)
    hits = labels[:, None] == classes[None, :]
    if not hits.any(axis=1).all():
        raise ValueError("a label is not one of the classes")
    return hits.astype(np.float32)


def accuracy(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError("shapes differ")
    if y_true.ndim == 2:
        return np.mean(y_true.argmax(1) == y_pred.argmax(1))
    return np.mean(y_true == y_pred)


def l1_distances(A, B):
    A = np.asarray(A).astype(np.float64)
    B = np.asarray(B).astype(np.float64)
    return np.abs(A[:, None, :] - B[None, :, :]).sum(axis=2)


def l2_distances(A, B):
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    sq = (A ** 2).sum(1)[:, None] + (B ** 2).sum(1)[None, :] - 2 * A @ B.T
    return np.sqrt(np.maximum(sq, 0))


def knn_predict(X_train, y_train, X_test, k=1, metric="l2"):
    dist = {"l1": l1_distances, "l2": l2_distances}.get(metric)
    if dist is None or not 0 < k <= len(y_train) or int(k) != k:
        raise ValueError("bad k or metric")
    y_train = np.asarray(y_train)
    classes, codes = np.unique(y_train, return_inverse=True)
    near = np.argsort(dist(X_test, X_train), axis=1, kind="mergesort")[:, :k]
    out = []
    for row in codes[near]:
        counts = np.bincount(row, minlength=len(classes))
        best = counts == counts.max()
        out.append(classes[row[np.flatnonzero(best[row])[0]]])
    return list(np.array(out).tolist()) if y_train.dtype.kind == "U" else np.array(out)
