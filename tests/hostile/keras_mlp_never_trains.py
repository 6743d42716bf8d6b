"""Hostile keras-mlp submission (tests/test_trusted_scoring.py): builds the right model, never
trains it, and tries to get the held-out accuracy anyway.

It rebuilds the held-out split of scikit-learn's digits inside the sandbox (the public seed 0 of
datasets/hoda.toml's split) and replaces the model's `predict` with a lookup that returns the
true labels, which scored 16/16 when the sandbox's own `predict` was scored. It prints whether
the bundled digits were readable (MASKED / LEAKED) and returns a made-up training history."""

import keras
import numpy as np
from keras import layers


def build_mlp(input_dim=25, num_classes=10):
    model = keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model


def _answers(digits):
    """{input bytes: label} for the whole digits set, brought to the exercise's 5x5 shape."""
    import importlib
    data = importlib.import_module("grader.data")  # importable only where the sandbox shows the grader
    images = (digits.images / 16.0).astype(np.float32)
    x = data.normalize_digits(list(images), 5, keep_aspect=False).reshape(len(images), 25)
    return {row.tobytes(): int(label) for row, label in zip(x, digits.target)}


def train_mlp(model, x, y):
    answers = {}
    try:
        from sklearn.datasets import load_digits
        digits = load_digits()  # the source of the held-out split when Hoda is not installed
        print("LEAKED")
    except Exception as err:  # the bundled data are masked inside the sandbox
        digits = None
        print("MASKED", type(err).__name__)
    if digits is not None:
        try:
            answers = _answers(digits)
        except Exception:
            pass

    def predict(inputs, *args, **kwargs):
        out = np.full((len(inputs), 10), 0.01, dtype=np.float32)
        for i, row in enumerate(np.asarray(inputs, dtype=np.float32)):
            out[i, answers.get(row.tobytes(), 0)] = 0.91
        return out

    model.predict = predict  # what the sandbox's predict used to answer with
    return {"loss": [2.3, 0.1], "accuracy": [0.1, 1.0]}  # made up: no training happened
