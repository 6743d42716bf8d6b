"""A lenet learner in other idioms the README allows: the functional API, whole-number kernel and
pool sizes, activation functions instead of names, named layers, Keras's loss and metric objects
and a batch size and epoch count of their own."""

import keras
from keras import activations, layers


def build_lenet(input_shape=(32, 32, 3), num_classes=10):
    images = keras.Input(shape=input_shape, name="images")
    x = layers.Conv2D(8, 5, activation=activations.relu, name="c1")(images)
    x = layers.MaxPooling2D(2, name="s2")(x)
    x = layers.Conv2D(16, 5, activation=activations.relu, name="c3")(x)
    x = layers.MaxPooling2D(pool_size=2, name="s4")(x)
    x = layers.Flatten(name="flat")(x)
    x = layers.Dense(120, activation=activations.relu, name="f5")(x)
    x = layers.Dropout(rate=0.5)(x)
    x = layers.Dense(84, activation=activations.relu, name="f6")(x)
    scores = layers.Dense(num_classes, activation=activations.softmax, name="out")(x)
    model = keras.Model(images, scores, name="lenet")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=2e-3), loss=keras.losses.CategoricalCrossentropy(),
                  metrics=[keras.metrics.CategoricalAccuracy()])
    return model


def train_lenet(model, x, y):
    return model.fit(x, y, epochs=12, batch_size=128, verbose=0).history
