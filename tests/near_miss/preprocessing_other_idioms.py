"""A correct preprocessing in other idioms the README allows: std 0 kept for a constant feature
(standardize_apply leaves it at 0), another stratified allocation and unsorted indices, Counter
for the class weights, np.moveaxis, a bincount confusion matrix with nan_to_num."""

from collections import Counter

import numpy as np


def standardize_fit(X):
    X = np.asarray(X, dtype=np.float64)
    mean = X.sum(axis=0) / len(X)
    return mean, np.sqrt(((X - mean) ** 2).mean(axis=0))


def standardize_apply(X, mean, std):
    centred = np.asarray(X, dtype=np.float64) - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(std) > 0, centred / std, 0.0)


def stratified_split(y, test_size=0.2, seed=42):
    if not 0 < test_size < 1:
        raise ValueError("test_size must be in (0, 1)")
    y = np.asarray(y)
    n = len(y)
    n_test = int(np.ceil(test_size * n))
    rng = np.random.default_rng(seed)
    classes = sorted(set(y.tolist()))
    share = {c: np.sum(y == c) * n_test / n for c in classes}
    take = {c: int(np.floor(share[c])) for c in classes}
    # the remainder goes to the largest classes first (another allowed choice)
    for c in sorted(classes, key=lambda c: -np.sum(y == c))[: n_test - sum(take.values())]:
        take[c] += 1
    test = np.concatenate([rng.choice(np.flatnonzero(y == c), size=take[c], replace=False) for c in classes])
    train = np.setdiff1d(np.arange(n), test)
    return rng.permutation(train), test


def class_weights(y):
    y = np.asarray(y)
    counts = dict(enumerate(y.sum(axis=0))) if y.ndim == 2 else Counter(y.tolist())
    top = max(counts.values())
    return {int(c): top / float(k) for c, k in counts.items()}


def to_chw(images):
    x = np.asarray(images)
    if x.ndim == 2:
        return (x[None] / 255.0).astype(np.float32)
    return (np.moveaxis(x, -1, -3) / 255.0).astype(np.float32)


def minibatches(n, batch_size, seed):
    order = np.random.default_rng(seed).permutation(n)
    cuts = np.arange(batch_size, n, batch_size)
    return [b for b in np.split(order, cuts)]


def confusion_matrix(y_true, y_pred, num_classes, normalize=None):
    k = num_classes
    C = np.bincount(np.asarray(y_true) * k + np.asarray(y_pred), minlength=k * k).reshape(k, k)
    if normalize is None:
        return C
    with np.errstate(divide="ignore", invalid="ignore"):
        if normalize == "true":
            return np.nan_to_num(C / C.sum(axis=1, keepdims=True))
        if normalize == "pred":
            return np.nan_to_num(C / C.sum(axis=0, keepdims=True))
        if normalize == "all":
            return np.nan_to_num(C / C.sum())
    raise ValueError(f"unknown normalize {normalize!r}")
