"""Transfer learning: a base trained on some digits, its head replaced and fine-tuned on others.

The lecture notes (004) take a network trained on EMNIST's 26 letters and reuse it for the 10
digits: `numberNet.fc2 = nn.Linear(50, 10)` replaces the last layer, and a loop sets
`requires_grad = False` on every other parameter so that only the new head learns. Here the same
in Keras 3: the base is the notes' small network,

    Input                                    (28, 28, 1)
    Conv2D(6, (3, 3), padding="same")        (28, 28, 6)       60 parameters
    BatchNormalization()                     (28, 28, 6)       24
    Activation("relu")                       (28, 28, 6)        0
    MaxPooling2D((2, 2))                     (14, 14, 6)        0
    Conv2D(6, (3, 3), padding="same")        (14, 14, 6)      330
    BatchNormalization()                     (14, 14, 6)       24
    Activation("relu")                       (14, 14, 6)        0
    MaxPooling2D((2, 2))                     (7, 7, 6)          0
    Flatten()                                (294,)             0
    Dense(50, activation="relu")             (50,)         14,750   (the notes' fc1: 294 -> 50)
    Dense(5, activation="softmax")           (5,)             255   (the head: the digits 0-4)
                                                           15,443 in all

(the notes' fc2 is Dense(26) for their 26 letters: 1,326 parameters, 16,514 in all; the base
here has 5 outputs, the digits 0-4). The grader trains it on the digits 0-4 at 16x16x1, replaces
its head with a new 5-way softmax for the digits 5-9, freezes the rest, fine-tunes it on a few
digits 5-9 and scores it on held-out digits 5-9.

Use `keras` (Keras 3) only: no `tensorflow` imports, so the code runs on every backend.
Run the public tests with `dlgrade check`.
"""

import keras
from keras import layers


def build_base(input_shape, num_classes=5):
    """Build and compile the base network of the table above for images of `input_shape`
    (height, width, channels), with 5 outputs (the digits 0-4); return the model. The grader
    calls build_base(input_shape); `num_classes` is an optional extra it never passes.

    Layers, in this order: two blocks of Conv2D(6, (3, 3), padding="same") (no activation of its
    own), BatchNormalization(), Activation("relu"), MaxPooling2D((2, 2)); then Flatten(),
    Dense(50, activation="relu") and Dense(num_classes, activation="softmax"), the head.
    Start the model with `keras.Input(shape=input_shape)` so that it is built.

    Compile it with loss="categorical_crossentropy", metrics=["accuracy"] and an optimizer of
    your choice (for example "adam").
    """
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=tuple(input_shape)),
        layers.Conv2D(6, (3, 3), padding="same"),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(6, (3, 3), padding="same"),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(50, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model
    ### END SOLUTION


def train_base(model, x, y, epochs=8):
    """Train `model` on images `x` (n, height, width, channels) and one-hot labels `y`
    (n, num_classes) for `epochs` epochs; return the training history,
    `model.fit(...).history` (a dict such as {"loss": [...], "accuracy": [...]}).

    Train for exactly `epochs` epochs (the grader fine-tunes with this same function and asks for
    40 epochs; a train_base(model, x, y) without `epochs` is called again until it has trained
    40); you choose the batch size. Pass verbose=0 to keep the output short.
    """
    ### BEGIN SOLUTION
    history = model.fit(x, y, epochs=int(epochs), batch_size=32, verbose=0)
    return history.history
    ### END SOLUTION


def replace_head(model, num_classes):
    """A model that keeps every layer of `model` but its last (the head) and ends in a new
    Dense(num_classes, activation="softmax") on the output of the layer before it: the notes'
    `numberNet.fc2 = nn.Linear(50, 10)`. The kept layers keep their trained weights (reuse the
    layers themselves, do not build new ones). Compile the new model like build_base does and
    return it.
    """
    ### BEGIN SOLUTION
    features = model.layers[-2].output
    head = layers.Dense(num_classes, activation="softmax")(features)
    new_model = keras.Model(model.inputs, head)
    new_model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return new_model
    ### END SOLUTION


def freeze_base(model):
    """Freeze every layer of `model` but the last: `layer.trainable = False` (the notes'
    `requires_grad = False`), the head stays trainable. Compile the model again afterwards (Keras
    takes a change of `trainable` into account when the model is compiled), with
    loss="categorical_crossentropy", metrics=["accuracy"] and
    `keras.optimizers.Adam(learning_rate=0.01)`: the new head starts from random weights and
    learns from a few examples in a few epochs. Return the model.
    """
    ### BEGIN SOLUTION
    for layer in model.layers[:-1]:
        layer.trainable = False
    model.layers[-1].trainable = True
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  metrics=["accuracy"])
    return model
    ### END SOLUTION


def extract_features(model, x):
    """The features the head of `model` sees for images `x`: the output of the layer before the
    last, as a numpy array of shape (n, 50) for the base above (the notes: the output of a layer
    can be computed ahead of time for the training images).
    """
    ### BEGIN SOLUTION
    extractor = keras.Model(model.inputs, model.layers[-2].output)
    return extractor.predict(x, verbose=0)
    ### END SOLUTION
