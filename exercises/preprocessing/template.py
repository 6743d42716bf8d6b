# This file was generated from the reference solution by `dlgrade templates`.
"""Preparing data for a network in numpy: standardization with the training set's statistics,
a stratified train/test split, class weights for imbalanced classes, images from HWC bytes to
CHW floats, shuffled mini-batches, and the confusion matrix.

Use numpy only. Run the public tests with `dlgrade check`.
"""

import math

import numpy as np


def standardize_fit(X):
    """The per-feature mean and standard deviation of the training set X (n samples on axis 0).

    std is the population standard deviation (divide by n, as the notes' 1/m and scikit-learn's
    StandardScaler). Return (mean, std), each of shape X.shape[1:]. A constant feature has
    std 0: return 1.0 for it (as StandardScaler), or keep 0 and let standardize_apply leave that
    feature at 0.
    """
    raise NotImplementedError("write your code here")


def standardize_apply(X, mean, std):
    """(X - mean) / std with the statistics given (those of the training set, also for the
    test set). Return a float array of X's shape."""
    raise NotImplementedError("write your code here")


def stratified_split(y, test_size=0.2, seed=42):
    """Split the indices 0..n-1 of the labels y into (train_idx, test_idx), stratified.

    The test part has n_test = ceil(test_size * n) indices (scikit-learn's rule); each class c
    with n_c samples puts floor(n_c * n_test / n) or one more of them in it, so that the counts
    add up to n_test (the classes with the largest remainders get one more). Which samples of a
    class go to the test part is drawn with numpy.random.default_rng(seed): the same seed gives
    the same split. Return two 1-D integer arrays (any order), together holding every index once.
    Raise ValueError unless 0 < test_size < 1.
    """
    raise NotImplementedError("write your code here")


def class_weights(y):
    """Keras' class_weight for imbalanced classes: {class: max_count / count}.

    y is a 1-D array of integer labels (the keys are the labels that occur, as ints) or a 2-D
    one-hot matrix (n, K) (class j is column j, its count the column's sum, as the slide's
    labels.sum(axis=0)). The largest class gets 1.0, a class half as big 2.0.
    """
    raise NotImplementedError("write your code here")


def to_chw(images):
    """uint8 pixels in HWC layout -> float32 in [0, 1] in CHW layout (as PyTorch's ToTensor).

    (H, W) gives (1, H, W), (H, W, C) gives (C, H, W), and a batch (N, H, W, C) gives
    (N, C, H, W). Every value is divided by 255.
    """
    raise NotImplementedError("write your code here")


def minibatches(n, batch_size, seed):
    """Shuffled mini-batches of the indices 0..n-1 for one epoch.

    Draw a fresh permutation of the n indices with numpy.random.default_rng(seed) and cut it into
    consecutive batches of batch_size; the last batch holds the rest (smaller when batch_size
    does not divide n; never empty). Return a list of 1-D integer arrays.
    """
    raise NotImplementedError("write your code here")


def confusion_matrix(y_true, y_pred, num_classes, normalize=None):
    """The confusion matrix C of integer labels 0..num_classes-1: C[i, j] counts the samples of
    true class i predicted as class j (rows: true, columns: predicted, as scikit-learn).

    normalize=None gives integer counts; "true" divides each row by its sum (each row of a class
    that occurs sums to 1), "pred" each column, "all" the whole matrix. A row or column with no
    samples stays 0. Raise ValueError for another normalize.
    """
    raise NotImplementedError("write your code here")
