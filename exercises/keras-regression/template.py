# This file was generated from the reference solution by `dlgrade templates`.
"""Regression with Keras: predict a number, not a class.

The lecture notes' regression network, written with the Keras functional API:

    inputs = Input(shape=(10,))
    x = Dense(8, activation="relu")(inputs)
    x = Dense(4, activation="relu")(x)
    x = Dense(1, activation="linear")(x)
    model = Model(inputs, x)

and a "wide and deep" network, where the inputs also go straight to the output layer through a
Concatenate. The grader trains both on scikit-learn's diabetes set (10 standardised features;
the target, the disease's progression after one year, standardised with the training split's
mean and standard deviation) and measures the mean absolute error on patients your code never
sees, in the target's own units.

Use `keras` (Keras 3) only: no `tensorflow` imports, so the code runs on every backend.
Run the public tests with `dlgrade check`.
"""

import keras
from keras import layers


def build_regressor(n_features=10):
    """Build the notes' regression network with the functional API; return the model.

    Input(shape=(n_features,)) -> Dense(8, relu) -> Dense(4, relu) -> Dense(1) (a linear output:
    activation=None or "linear"). For 10 features it has 88 + 36 + 5 = 129 parameters.

    Compile it here with loss="mse" and metrics=["mae"] (and an optimizer of your choice), or
    compile it at the start of train_regressor: the grader checks the trained model's settings.
    """
    raise NotImplementedError("write your code here")


def build_wide_and_deep(n_features=10):
    """Build a wide and deep network with the functional API; return the model.

    The deep path is the notes' hidden layers, Dense(8, relu) -> Dense(4, relu), on the input;
    a Concatenate joins the input itself (the wide path) and the deep path's output, and a
    Dense(1) (linear) on the joined vector is the output. For 10 features: 88 + 36 + 0 + 15 =
    139 parameters. Compile it as build_regressor's model (here, or in train_regressor).
    """
    raise NotImplementedError("write your code here")


def train_regressor(model, X, y):
    """Train `model` (made by build_regressor or build_wide_and_deep) on inputs `X` of shape
    (n, n_features) and targets `y` of shape (n,); return the training history,
    `model.fit(...)` or its `.history` (a dict such as {"loss": [...], "mae": [...]}).

    The model must be compiled with loss="mse" and metrics=["mae"] when it trains (compile it
    here first if build_* did not). You choose the epochs and the batch size; the grader gives
    the training a time limit (see the README). Pass verbose=0.
    """
    raise NotImplementedError("write your code here")
