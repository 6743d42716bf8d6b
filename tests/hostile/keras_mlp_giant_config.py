"""Hostile keras-mlp submission (tests/test_trusted_scoring.py): a small model whose description
declares Dense(6_000_000). Rebuilding that description on the trusted side once allocated 5.3 GB;
the config must be refused from its numbers before anything is allocated."""

import json

import keras
from keras import layers


def build_mlp(input_dim=25, num_classes=10):
    model = keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    config = json.loads(model.to_json())
    dense = config["config"]["layers"][1]
    dense["config"]["units"] = 6_000_000
    dense["build_config"] = {"input_shape": [None, input_dim]}
    config["config"]["layers"][2]["build_config"] = {"input_shape": [None, 6_000_000]}
    text = json.dumps(config)
    model.to_json = lambda **kwargs: text  # the runner describes the model by what to_json says
    return model


def train_mlp(model, x, y):
    return model.fit(x, y, epochs=2, batch_size=64, verbose=0).history
