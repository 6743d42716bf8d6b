# This file was generated from the reference solution by `dlgrade templates`.
"""Backpropagation from scratch: a multilayer perceptron with ReLU hidden layers and a
softmax output, trained with mini-batch stochastic gradient descent on the mean categorical
cross-entropy. This is what Keras does for `Dense(..., activation='relu')` layers followed by
`Dense(k, activation='softmax')` and `loss='categorical_crossentropy'`, written out in numpy.

Conventions: X has one sample per row, shape (n, d). Layer i has weights W{i} of shape
(layer_sizes[i-1], layer_sizes[i]) and bias b{i} of shape (layer_sizes[i],), so
Z{i} = A{i-1} @ W{i} + b{i}. Use numpy only. Run the public tests with `dlgrade check`.
"""

import numpy as np


def init_params(layer_sizes, seed=0):
    """Initial parameters of the network.

    layer_sizes = [d, h1, ..., k]: d inputs, the hidden layer sizes, k classes. Return a dict
    {"W1": ..., "b1": ..., "W2": ..., "b2": ..., ...} with one W/b pair per layer:
    W{i} a float array of shape (layer_sizes[i-1], layer_sizes[i]) of random values drawn
    from np.random.default_rng(seed) (for example He initialisation: a standard normal times
    sqrt(2 / layer_sizes[i-1])), and b{i} a float array of zeros of shape (layer_sizes[i],).
    The same seed must give the same parameters.
    """
    raise NotImplementedError("write your code here")


def forward(X, params):
    """Forward pass. Return (probs, cache).

    For every layer i = 1..L: Z{i} = A{i-1} @ W{i} + b{i} with A0 = X; A{i} = relu(Z{i}) =
    max(0, Z{i}) for the hidden layers, and probs = softmax(Z{L}) row by row for the last:
    softmax(z)_j = exp(z_j - max(z)) / sum_m exp(z_m - max(z)) (subtracting the row's
    maximum changes nothing mathematically and keeps exp from overflowing).
    probs has shape (n, k); each row sums to 1.
    `cache` is whatever your backward needs (for example the A and Z arrays). It must be data
    only: a dict with string keys (or a list) of numpy arrays, because the grader passes it
    back to your backward from another process.
    """
    raise NotImplementedError("write your code here")


def cross_entropy(probs, Y):
    """Mean categorical cross-entropy over the n rows:
        L = -(1/n) * sum_n sum_j Y[n, j] * log(p[n, j])
    with the natural logarithm (as in Keras). Y has shape (n, k): the one-hot labels when
    training (the same formula works for any rows of target probabilities). Clip the
    probabilities (for example to [1e-12, 1]) before the log so that a probability of 0 gives a
    large finite loss instead of inf or nan. Return a float.
    """
    raise NotImplementedError("write your code here")


def backward(params, cache, Y):
    """Gradients of the mean cross-entropy (as computed by cross_entropy on forward's probs)
    with respect to every parameter. Return a dict with the SAME keys as params
    ("W1", "b1", ...) and arrays of the same shapes.

    The chain rule, from the output back to the input (n = number of rows):
        dZ{L} = (probs - Y) / n                      (softmax + cross-entropy together)
        dW{i} = A{i-1}.T @ dZ{i}        db{i} = dZ{i} summed over the rows
        dA{i-1} = dZ{i} @ W{i}.T        dZ{i-1} = dA{i-1} * (Z{i-1} > 0)   (ReLU')
    """
    raise NotImplementedError("write your code here")


def train(X, Y, layer_sizes, lr, epochs, batch_size, seed=0):
    """Train the network with mini-batch stochastic gradient descent and return its params.

    Start from init_params(layer_sizes, seed). Make rng = np.random.default_rng(seed); at the
    start of every epoch shuffle the sample order with rng.permutation(n), then for each
    mini-batch of `batch_size` consecutive rows of that order (the last one may be smaller):
    forward, backward, and for every key: params[key] -= lr * grads[key].
    """
    raise NotImplementedError("write your code here")
