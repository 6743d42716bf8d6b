"""A correct perceptron whose step returns a 0-d numpy array for a single number
(np.where(z > 0, 1, 0)), which the README allows; it must get full marks."""

import numpy as np


def step(z):
    return np.where(np.asarray(z) > 0, 1, 0)


def predict(X, w, b):
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[None, :]
    return step(X @ np.asarray(w, dtype=float) + b)


def train_perceptron(X, y, lr=1.0, epochs=100):
    X = np.asarray(X, dtype=float)
    w = np.zeros(X.shape[1])
    b = 0.0
    for _ in range(epochs):
        mistakes = 0
        for xi, yi in zip(X, y):
            error = yi - int(step(xi @ w + b))
            if error:
                w = w + lr * error * xi
                b = b + lr * error
                mistakes += 1
        if mistakes == 0:
            return w, float(b), True
    return w, float(b), False


def logic_gate(name):
    gates = {"AND": ([1, 1], -1.5), "OR": ([1, 1], -0.5), "NAND": ([-1, -1], 1.5), "NOR": ([-1, -1], 0.5),
             "A_AND_NOT_B": ([1, -1], -0.5)}
    if name not in gates:
        raise ValueError(f"unknown gate {name!r}")
    w, b = gates[name]
    return np.array(w, dtype=float), b
