# This file was generated from the reference solution by `dlgrade templates`.
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
    raise NotImplementedError("write your code here")


def tanh(z):
    """The hyperbolic tangent sinh(z) / cosh(z) = (e^z - e^(-z)) / (e^z + e^(-z)), elementwise.
    It must not give NaN for z = +-1000 (the result there is 1 and -1)."""
    raise NotImplementedError("write your code here")


def relu(z):
    """The rectified linear unit max(0, z), elementwise, as floats."""
    raise NotImplementedError("write your code here")


def softmax(z, axis=-1):
    """e^(z_i) / sum_j e^(z_j) along `axis` (the last one by default): the results along that
    axis are positive and sum to 1. Subtract the maximum along the axis first, so that inputs of
    +-1000 neither overflow nor give NaN."""
    raise NotImplementedError("write your code here")


def sigmoid_grad(z):
    """The derivative of sigmoid at z: sigmoid(z) * (1 - sigmoid(z)), elementwise. The argument
    is z (the input of the activation), not sigmoid(z)."""
    raise NotImplementedError("write your code here")


def tanh_grad(z):
    """The derivative of tanh at z: 1 - tanh(z)^2, elementwise (the argument is z)."""
    raise NotImplementedError("write your code here")


def relu_grad(z):
    """The derivative of relu at z: 1 where z > 0, 0 where z < 0 (at exactly z = 0 either 0 or
    1), elementwise, as floats."""
    raise NotImplementedError("write your code here")


def mse(y, y_hat):
    """Mean squared error, mean((y - y_hat)^2) over all elements (Keras' definition: no 1/2).
    Return a float."""
    raise NotImplementedError("write your code here")


def mae(y, y_hat):
    """Mean absolute error, mean(|y - y_hat|) over all elements. Return a float."""
    raise NotImplementedError("write your code here")


def mape(y, y_hat):
    """Mean absolute percentage error as Keras computes it:
    100 * mean(|y - y_hat| / max(|y|, 1e-7)) over all elements. Return a float."""
    raise NotImplementedError("write your code here")


def binary_cross_entropy(y, p):
    """Binary cross-entropy of labels y in {0, 1} (or targets in [0, 1]) and predicted
    probabilities p of the same shape:  mean(-(y ln p + (1 - y) ln(1 - p))) over all elements,
    natural log, with p first clipped to [1e-7, 1 - 1e-7]. Return a float."""
    raise NotImplementedError("write your code here")


def categorical_cross_entropy(Y, P):
    """Categorical cross-entropy of one-hot (or probability) rows Y and predicted probability
    rows P, both of shape (n, k) (a 1-D pair is one sample):
    mean over the n rows of -sum_j Y[i, j] ln P[i, j], natural log, with P first clipped to
    [1e-7, 1 - 1e-7]. Return a float."""
    raise NotImplementedError("write your code here")


def entropy(p, base=2):
    """Shannon entropy H(p) = -sum_x p(x) log_base p(x) of a 1-D probability vector p, in bits
    for base 2 (the default), in nats for base e. A zero probability contributes 0 (the limit of
    p log p). No clipping. Return a float."""
    raise NotImplementedError("write your code here")


def cross_entropy(p, q, base=2):
    """Cross-entropy H(p, q) = -sum_x p(x) log_base q(x) of two 1-D probability vectors (p the
    true distribution, q the predicted one). Terms where p(x) = 0 contribute 0; q is positive
    wherever p is. No clipping. Return a float."""
    raise NotImplementedError("write your code here")
