"""A correct activations-losses learner using other conventions its README allows: relu'(0) = 1
(integer derivative array), sigmoid through tanh, softmax through log-sum-exp, numpy scalars and
0-d arrays as loss results, the categorical clip as [1e-7, 1], and logarithms in base 2 through
np.log2 and np.emath.logn. It must get full marks."""

import numpy as np


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def tanh(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-2.0 * np.abs(z))
    return np.sign(z) * (1.0 - e) / (1.0 + e)


def relu(z):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, 0.0)


def softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = np.max(z, axis=axis, keepdims=True)
    lse = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return np.exp(z - lse)


def sigmoid_grad(z):
    s = sigmoid(z)
    return s - s * s


def tanh_grad(z):
    return 1.0 / np.cosh(np.clip(np.asarray(z, dtype=float), -350, 350)) ** 2


def relu_grad(z):
    return (np.asarray(z) >= 0).astype(int)


def mse(y, y_hat):
    return np.mean(np.square(np.subtract(y, y_hat)))


def mae(y, y_hat):
    return np.array(np.mean(np.abs(np.subtract(y, y_hat))))


def mape(y, y_hat):
    y = np.asarray(y, dtype=float)
    return np.mean(np.abs((y - y_hat) / np.clip(np.abs(y), 1e-7, None))) * 100


def binary_cross_entropy(y, p):
    y = np.asarray(y, dtype=float)
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))


def categorical_cross_entropy(Y, P):
    Y = np.asarray(Y, dtype=float).reshape(-1, np.shape(Y)[-1])
    P = np.clip(np.asarray(P, dtype=float).reshape(Y.shape), 1e-7, 1.0)
    return -np.sum(Y * np.log(P)) / Y.shape[0]


def entropy(p, base=2):
    p = np.asarray(p, dtype=float)
    p = p[p > 0]
    if base == 2:
        return -np.sum(p * np.log2(p))
    return -np.sum(p * np.emath.logn(base, p))


def cross_entropy(p, q, base=2):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    keep = p != 0
    return float(-(p[keep] @ np.log(q[keep])) / np.log(base))
