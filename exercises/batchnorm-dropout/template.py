# This file was generated from the reference solution by `dlgrade templates`.
"""Batch normalization (forward and backward), inverted dropout and the L2 weight penalty, in numpy,
with Keras' conventions: `BatchNormalization(momentum=0.99, epsilon=1e-3)` normalizes every
feature (the last axis) over all the other axes, and `Dropout(rate)` drops a fraction `rate` of
the inputs during training and scales the others by 1 / (1 - rate).
Run the public tests with `dlgrade check`.
"""

import numpy as np


def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum=0.99, eps=1e-3, training=True):
    """Batch normalization of x, shape (n, d) or (n, H, W, C): one mean and variance per feature
    (the last axis), taken over all the other axes. gamma, beta, running_mean and running_var have
    shape (d,) (or (C,)). Return (y, new_mean, new_var), y of x's shape.

    training=True: mu and var are the batch's mean and (biased, divide by m) variance;
        y = gamma * (x - mu) / sqrt(var + eps) + beta;
        new_mean = momentum * running_mean + (1 - momentum) * mu, and the same for the variance.
    training=False: y uses running_mean and running_var instead, and they are returned unchanged.
    """
    raise NotImplementedError("write your code here")


def batchnorm_backward(dy, x, gamma, eps=1e-3):
    """Gradients of a training-mode batch normalization (batch statistics) with respect to its
    input and parameters. dy is the gradient of the loss with respect to y (x's shape).
    Return (dx, dgamma, dbeta): dx of x's shape, dgamma and dbeta of shape (d,), with
    x_hat = (x - mu) / sqrt(var + eps) and m the number of values per feature:
        dbeta = sum dy,   dgamma = sum dy * x_hat      (sums over all axes but the last)
        dx = gamma / (m sqrt(var + eps)) * (m dy - sum dy - x_hat * sum(dy * x_hat))
    """
    raise NotImplementedError("write your code here")


def dropout(x, rate, seed, training):
    """Inverted dropout. training=True: each element is dropped (set to 0) with probability
    `rate` and kept otherwise, and the kept ones are divided by (1 - rate), so that the mean is
    unchanged; draw the random numbers from np.random.default_rng(seed). training=False (or
    rate = 0): return x unchanged. The result has x's shape, as floats."""
    raise NotImplementedError("write your code here")


def l2_penalty(weights, lam):
    """The L2 penalty added to the loss, as Keras' `regularizers.L2(lam)` computes it:
    lam * (the sum of the squares of every weight). `weights` is a list of arrays. Return a float."""
    raise NotImplementedError("write your code here")
