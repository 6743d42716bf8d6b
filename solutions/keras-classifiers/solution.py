"""Classifiers with Keras: three iris species (softmax), a binary diagnosis (sigmoid), and class
weights for imbalanced data.

The lecture notes (002) weight the classes of an imbalanced set when they train:

    class_weight = {0: 1., 1: 50., 2: 2.}
    model.fit(X_train, Y_train, epochs=5, batch_size=32, class_weight=class_weight)

Keras 3 takes `class_weight` as a dict {class label (int): weight (float)}.
The grader trains your models on scikit-learn's iris and breast-cancer sets (standardised
features, integer labels) with your train_weighted, and measures them on rows your code never sees.

Use `keras` (Keras 3) only: no `tensorflow` imports, so the code runs on every backend.
Run the public tests with `dlgrade check`.
"""

import keras
import numpy as np
from keras import layers


def build_iris_classifier(hidden=16):
    """Build and compile the iris classifier; return the model.

    Input(shape=(4,)) -> Dense(hidden, relu) -> Dense(3, softmax). For hidden=16 it has
    4 * 16 + 16 = 80 and 16 * 3 + 3 = 51 parameters, 131 in all.
    The labels are the integers 0, 1, 2: compile with loss="sparse_categorical_crossentropy",
    metrics=["accuracy"] and an optimizer of your choice.
    """
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=(4,)),
        layers.Dense(hidden, activation="relu"),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
    ### END SOLUTION


def build_binary_classifier(n_features):
    """Build and compile a binary classifier; return the model.

    Input(shape=(n_features,)) -> Dense(16, relu) -> Dense(1, sigmoid): one output, the
    probability of class 1. For 30 features: 30 * 16 + 16 = 496 and 16 + 1 = 17 parameters.
    The labels are 0 and 1: compile with loss="binary_crossentropy", metrics=["accuracy"] and an
    optimizer of your choice.
    """
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=(n_features,)),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model
    ### END SOLUTION


def class_weight_dict(y):
    """The class weights of the integer labels `y` (shape (n,)), as a dict {label: weight} with
    int keys and float values, one entry per label that occurs in `y`.

    The weight of class c is n / (k * count_c) (scikit-learn's "balanced"): n labels, k classes,
    count_c labels of class c. A class twice as rare weighs twice as much; balanced classes all
    weigh 1.0.
    """
    ### BEGIN SOLUTION
    classes, counts = np.unique(np.asarray(y), return_counts=True)
    n, k = int(counts.sum()), len(classes)
    return {int(c): float(n / (k * count)) for c, count in zip(classes, counts)}
    ### END SOLUTION


def train_weighted(model, X, y):
    """Train `model` (compiled by build_iris_classifier or build_binary_classifier) on inputs `X`
    of shape (n, n_features) and integer labels `y` of shape (n,), each example weighted by its
    class: `model.fit(..., class_weight=class_weight_dict(y))`. Return the training history,
    `model.fit(...)` or its `.history`.

    You choose the epochs and the batch size; the grader gives each training a time limit
    (see the README). Pass verbose=0.
    """
    ### BEGIN SOLUTION
    return model.fit(X, y, epochs=40, batch_size=32, class_weight=class_weight_dict(y), verbose=0)
    ### END SOLUTION
