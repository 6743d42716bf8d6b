"""A functional-api learner in other allowed idioms: the number input declared first, inputs named
and fed to fit as a dict, 'same' padding, average pooling, an extra Dense layer after the merge."""

import keras
from keras import layers


def build_two_input_model(image_shape, n_numeric, num_classes):
    numbers = keras.Input(shape=(n_numeric,), name="numbers")
    image = keras.Input(shape=image_shape, name="image")
    n = layers.Dense(32, activation="relu")(numbers)
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(image)
    x = layers.AveragePooling2D(2)(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    z = layers.concatenate([n, x])
    z = layers.Dense(64, activation="relu")(z)
    out = layers.Dense(num_classes, activation="softmax")(z)
    model = keras.Model(inputs=[numbers, image], outputs=out)
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    return model


def train_two_input_model(model, images, numbers, y):
    return model.fit({"image": images, "numbers": numbers}, y, epochs=8, batch_size=32, verbose=0).history
