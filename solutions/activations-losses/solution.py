"""Activation functions, their derivatives, the usual losses, and entropy.

Everything is numpy, elementwise where it can be, and follows Keras' definitions: natural
logarithms in the losses, probabilities clipped to [1e-7, 1 - 1e-7] before a log, MAPE's
denominator clipped at 1e-7, and every loss is the mean over the samples. The information-theory
pair `entropy` and `cross_entropy` take the logarithm's base (2 by default: bits).
Run the public tests with `dlgrade check`.
"""

import numpy as np

EPSILON = 1e-7  # keras.config.epsilon()


def sigmoid(z):
    """The logistic function 1 / (1 + e^(-z)), elementwise, for a number or an array of any
    shape. It must not give NaN for z = +-1000 (the result there is 1 and 0)."""
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION


def tanh(z):
    """The hyperbolic tangent sinh(z) / cosh(z) = (e^z - e^(-z)) / (e^z + e^(-z)), elementwise.
    It must not give NaN for z = +-1000 (the result there is 1 and -1)."""
    ### BEGIN SOLUTION
    return np.tanh(np.asarray(z, dtype=float))
    ### END SOLUTION


def relu(z):
    """The rectified linear unit max(0, z), elementwise, as floats."""
    ### BEGIN SOLUTION
    return np.maximum(np.asarray(z, dtype=float), 0.0)
    ### END SOLUTION


def softmax(z, axis=-1):
    """e^(z_i) / sum_j e^(z_j) along `axis` (the last one by default): the results along that
    axis are positive and sum to 1. Subtract the maximum along the axis first, so that inputs of
    +-1000 neither overflow nor give NaN."""
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
    ### END SOLUTION


def sigmoid_grad(z):
    """The derivative of sigmoid at z: sigmoid(z) * (1 - sigmoid(z)), elementwise. The argument
    is z (the input of the activation), not sigmoid(z)."""
    ### BEGIN SOLUTION
    s = sigmoid(z)
    return s * (1.0 - s)
    ### END SOLUTION


def tanh_grad(z):
    """The derivative of tanh at z: 1 - tanh(z)^2, elementwise (the argument is z)."""
    ### BEGIN SOLUTION
    return 1.0 - tanh(z) ** 2
    ### END SOLUTION


def relu_grad(z):
    """The derivative of relu at z: 1 where z > 0, 0 where z < 0 (at exactly z = 0 either 0 or
    1), elementwise, as floats."""
    ### BEGIN SOLUTION
    return (np.asarray(z, dtype=float) > 0).astype(float)
    ### END SOLUTION


def mse(y, y_hat):
    """Mean squared error, mean((y - y_hat)^2) over all elements (Keras' definition: no 1/2).
    Return a float."""
    ### BEGIN SOLUTION
    d = np.asarray(y, dtype=float) - np.asarray(y_hat, dtype=float)
    return float(np.mean(d ** 2))
    ### END SOLUTION


def mae(y, y_hat):
    """Mean absolute error, mean(|y - y_hat|) over all elements. Return a float."""
    ### BEGIN SOLUTION
    d = np.asarray(y, dtype=float) - np.asarray(y_hat, dtype=float)
    return float(np.mean(np.abs(d)))
    ### END SOLUTION


def mape(y, y_hat):
    """Mean absolute percentage error as Keras computes it:
    100 * mean(|y - y_hat| / max(|y|, 1e-7)) over all elements. Return a float."""
    ### BEGIN SOLUTION
    y = np.asarray(y, dtype=float)
    d = np.abs(y - np.asarray(y_hat, dtype=float)) / np.maximum(np.abs(y), EPSILON)
    return float(100.0 * np.mean(d))
    ### END SOLUTION


def binary_cross_entropy(y, p):
    """Binary cross-entropy of labels y in {0, 1} (or targets in [0, 1]) and predicted
    probabilities p of the same shape:  mean(-(y ln p + (1 - y) ln(1 - p))) over all elements,
    natural log, with p first clipped to [1e-7, 1 - 1e-7]. Return a float."""
    ### BEGIN SOLUTION
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), EPSILON, 1.0 - EPSILON)
    return float(np.mean(-(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))))
    ### END SOLUTION


def categorical_cross_entropy(Y, P):
    """Categorical cross-entropy of one-hot (or probability) rows Y and predicted probability
    rows P, both of shape (n, k) (a 1-D pair is one sample):
    mean over the n rows of -sum_j Y[i, j] ln P[i, j], natural log, with P first clipped to
    [1e-7, 1 - 1e-7]. Return a float."""
    ### BEGIN SOLUTION
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    P = np.clip(np.atleast_2d(np.asarray(P, dtype=float)), EPSILON, 1.0 - EPSILON)
    return float(np.mean(-np.sum(Y * np.log(P), axis=-1)))
    ### END SOLUTION


def entropy(p, base=2):
    """Shannon entropy H(p) = -sum_x p(x) log_base p(x) of a 1-D probability vector p, in bits
    for base 2 (the default), in nats for base e. A zero probability contributes 0 (the limit of
    p log p). No clipping. Return a float."""
    ### BEGIN SOLUTION
    p = np.asarray(p, dtype=float)
    nz = p > 0
    return float(-np.sum(p[nz] * np.log(p[nz])) / np.log(base))
    ### END SOLUTION


def cross_entropy(p, q, base=2):
    """Cross-entropy H(p, q) = -sum_x p(x) log_base q(x) of two 1-D probability vectors (p the
    true distribution, q the predicted one). Terms where p(x) = 0 contribute 0; q is positive
    wherever p is. No clipping. Return a float."""
    ### BEGIN SOLUTION
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    nz = p > 0
    return float(-np.sum(p[nz] * np.log(q[nz])) / np.log(base))
    ### END SOLUTION
