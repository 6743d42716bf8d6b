"""A transfer-learning learner with exactly the issue's signatures, build_base(input_shape) (5
outputs inside) and train_base(model, x, y) (8 epochs inside, no `epochs` parameter: the grader
calls it again until it has fine-tuned 40 epochs), in other allowed idioms: the new model a
Sequential of the kept layers, trainable set in one loop over the layers, features computed by
calling the kept layers, batch size 64."""

import keras
import numpy as np
from keras import layers


def build_base(input_shape):
    model = keras.Sequential([keras.Input(shape=input_shape)])
    for _ in range(2):
        model.add(layers.Conv2D(6, 3, padding="same"))
        model.add(layers.BatchNormalization())
        model.add(layers.Activation("relu"))
        model.add(layers.MaxPooling2D())
    model.add(layers.Flatten())
    model.add(layers.Dense(50, activation="relu"))
    model.add(layers.Dense(5, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def train_base(model, x, y):
    return model.fit(x, y, epochs=8, batch_size=64, verbose=0).history


def replace_head(model, num_classes):
    new = keras.Sequential([keras.Input(shape=model.input_shape[1:])] + model.layers[:-1]
                           + [layers.Dense(num_classes, activation="softmax", name="new_head")])
    new.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return new


def freeze_base(model):
    head = model.layers[-1]
    for layer in model.layers:
        layer.trainable = layer is head
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def extract_features(model, x):
    out = keras.ops.convert_to_tensor(np.asarray(x, dtype="float32"))
    for layer in model.layers[:-1]:
        out = layer(out, training=False)
    return keras.ops.convert_to_numpy(out)
