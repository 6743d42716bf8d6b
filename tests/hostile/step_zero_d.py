"""Not hostile: a correct perceptron whose `step` uses np.where, so a single number gives a 0-d
array (the README allows it). The wire must bring it back as a 0-d array, not shape (1,)."""
import numpy as np


def step(z):
    return np.where(np.asarray(z) > 0, 1, 0)


def predict(X, w, b):
    X = np.atleast_2d(np.asarray(X, dtype=float))
    return step(X @ np.asarray(w, dtype=float).reshape(-1) + float(b))


def train_perceptron(X, y, lr=1.0, epochs=100):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1)
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        mistakes = 0
        for xi, yi in zip(X, y):
            err = yi - (1 if xi @ w + b > 0 else 0)
            if err:
                mistakes += 1
                w, b = w + lr * err * xi, b + lr * err
        if mistakes == 0:
            return w, float(b), True
    return w, float(b), False


GATES = {"AND": ([1.0, 1.0], -1.5), "OR": ([1.0, 1.0], -0.5), "NAND": ([-1.0, -1.0], 1.5),
         "NOR": ([-1.0, -1.0], 0.5), "A_AND_NOT_B": ([1.0, -1.0], -0.5)}


def logic_gate(name):
    if name not in GATES:
        raise ValueError(f"unknown gate {name!r}")
    w, b = GATES[name]
    return np.array(w), float(b)
