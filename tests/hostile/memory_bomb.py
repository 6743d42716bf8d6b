"""Allocate far more memory than any limit."""
import numpy as np

HOARD = []


def step(z):
    while True:
        HOARD.append(np.ones(10**8))


def predict(X, w, b):
    return bytearray(10**12)


def train_perceptron(X, y, lr=1.0, epochs=100):
    s = "x"
    while True:
        s = s + s


logic_gate = step
