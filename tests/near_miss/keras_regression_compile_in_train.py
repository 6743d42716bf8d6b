"""A keras-regression learner in other conventions the README allows: Sequential for the plain
regressor, activation=None outputs, keras.layers.concatenate (the function), compiling in
train_regressor (not in build_*), Keras's loss and metric objects, returning history.history."""

import keras
from keras import layers


def build_regressor(n_features=10):
    return keras.Sequential([keras.Input(shape=(n_features,)), layers.Dense(8, activation="relu"),
                             layers.Dense(4, activation="relu"), layers.Dense(1)])


def build_wide_and_deep(n_features=10):
    wide = keras.Input(shape=(n_features,), name="features")
    hidden = layers.Dense(4, activation="relu")(layers.Dense(8, activation="relu")(wide))
    return keras.Model(wide, layers.Dense(1, activation=None)(layers.concatenate([hidden, wide])))


def train_regressor(model, X, y):
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01), loss=keras.losses.MeanSquaredError(),
                  metrics=[keras.metrics.MeanAbsoluteError()])
    return model.fit(X, y, epochs=30, batch_size=16, verbose=0).history
