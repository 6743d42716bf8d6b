"""The Keras functional API: one model with two inputs (mixed data).

The lecture notes (002) write a Sequential model again with the functional API
(`inputs = Input(shape=(10,)); x = Dense(8, activation="relu")(inputs); ...;
model = Model(inputs, x)`) and use it for mixed data: images and numbers about the same example,
each through its own branch, joined by a `Concatenate` layer. Here the example is a handwritten
Persian digit: its 16x16 image, and eight numbers computed from the same image (the ink in four
bands of rows and in four bands of columns; the README says how to compute them).

    image (16, 16, 1) -> Conv2D(16, (3, 3), relu) -> MaxPooling2D((2, 2))
                      -> Conv2D(32, (3, 3), relu) -> MaxPooling2D((2, 2)) -> Flatten   (128,)
    numbers (8,)      -> Dense(16, relu)                                                (16,)
    Concatenate()([image branch, number branch])                                        (144,)
    Dense(num_classes, softmax)

Use `keras` (Keras 3) only: no `tensorflow` imports, so the code runs on every backend.
Run the public tests with `dlgrade check`.
"""

import keras
from keras import layers


def build_two_input_model(image_shape, n_numeric, num_classes):
    """Build and compile a functional model with two inputs: `keras.Input(shape=image_shape)`
    for the images (height, width, channels) and `keras.Input(shape=(n_numeric,))` for the
    numbers; return the model.

    The image branch: at least one Conv2D and one pooling layer, then Flatten (the layers above
    are a good choice). The number branch: at least one Dense layer. Join the two branches with
    `keras.layers.Concatenate()` and end in Dense(num_classes, activation="softmax").
    `keras.Model(inputs=[...], outputs=...)`; the order of the two inputs is yours (the grader
    reads it from the model).

    Compile it with loss="categorical_crossentropy", metrics=["accuracy"] and an optimizer of
    your choice (for example "adam").
    """
    ### BEGIN SOLUTION
    image_in = keras.Input(shape=tuple(image_shape), name="image")
    x = layers.Conv2D(16, (3, 3), activation="relu")(image_in)
    x = layers.MaxPooling2D((2, 2))(x)
    x = layers.Conv2D(32, (3, 3), activation="relu")(x)
    x = layers.MaxPooling2D((2, 2))(x)
    x = layers.Flatten()(x)
    numeric_in = keras.Input(shape=(int(n_numeric),), name="numbers")
    n = layers.Dense(16, activation="relu")(numeric_in)
    merged = layers.Concatenate()([x, n])
    out = layers.Dense(num_classes, activation="softmax")(merged)
    model = keras.Model(inputs=[image_in, numeric_in], outputs=out)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model
    ### END SOLUTION


def train_two_input_model(model, images, numbers, y):
    """Train `model` (made by build_two_input_model) on `images` (n, height, width, channels),
    `numbers` (n, n_numeric) and one-hot labels `y` (n, num_classes); return the training
    history, `model.fit(...).history` (a dict such as {"loss": [...], "accuracy": [...]}).

    Give model.fit the two inputs as a list in the order of your model's inputs (or as a dict by
    the inputs' names). You choose the number of epochs and the batch size; the grader trains on
    3,000 digits and gives the training a time limit (see the README): keep well within it, and
    pass verbose=0.
    """
    ### BEGIN SOLUTION
    history = model.fit([images, numbers], y, epochs=10, batch_size=32, verbose=0)
    return history.history
    ### END SOLUTION
