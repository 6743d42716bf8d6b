# This file was generated from the reference solution by `dlgrade templates`.
"""The perceptron (Rosenblatt, 1957): a step activation on a weighted sum, the perceptron
learning rule, and logic gates built from a single neuron.

Use numpy only. Run the public tests with `dlgrade check`.
"""

import numpy as np


def step(z):
    """Heaviside step function, applied elementwise.

    step(z) = 1 where z > 0 and 0 elsewhere (so step(0) = 0).
    `z` is a number or a numpy array of any shape; return an integer numpy array of the same
    shape (a 0-d array or a numpy integer for a single number), never booleans.
    """
    raise NotImplementedError("write your code here")


def predict(X, w, b):
    """Output of a perceptron with weights `w` (shape (d,)) and bias `b` (a number).

    `X` is an (n, d) array of n samples, or a single sample as a 1-D array of shape (d,)
    (then n = 1). Return an integer array of shape (n,) holding step(X @ w + b).
    """
    raise NotImplementedError("write your code here")


def train_perceptron(X, y, lr=1.0, epochs=100):
    """Train a perceptron with the perceptron learning rule.

    Start from w = zeros(d) (float) and b = 0.0. In each epoch visit the samples in order
    i = 0, 1, ..., n-1 and, with yhat_i = step(x_i . w + b), update
        w <- w + lr * (y_i - yhat_i) * x_i
        b <- b + lr * (y_i - yhat_i)
    Stop after the first epoch in which no sample was misclassified (converged = True), or
    after `epochs` epochs (converged = False if the last epoch still had a mistake).
    Return (w, b, converged): w a float array of shape (d,), b a float, converged a bool.
    """
    raise NotImplementedError("write your code here")


def logic_gate(name):
    """Weights (w, b) of a single perceptron that computes a logic gate on inputs in {0, 1}^2.

    `name` is one of "AND", "OR", "NAND", "NOR", "A_AND_NOT_B" (A is the first input, B the
    second). Any weights work as long as predict(X, w, b) gives the gate's truth table.
    Return (w, b) with w a float array of shape (2,) and b a float.
    Raise ValueError for any other name.
    """
    raise NotImplementedError("write your code here")
