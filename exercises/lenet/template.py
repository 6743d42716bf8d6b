# This file was generated from the reference solution by `dlgrade templates`.
"""LeNet: a small convolutional network for handwritten Persian digits.

The lecture notes' LeNet-5 style network (conv -> pool -> conv -> pool -> three dense layers),
with the layer table of the notes for a 32x32x3 input:

    Input                       (32, 32, 3)
    Conv2D(8, (5, 5), relu)     (28, 28, 8)      608 parameters
    MaxPooling2D((2, 2))        (14, 14, 8)        0
    Conv2D(16, (5, 5), relu)    (10, 10, 16)   3,216
    MaxPooling2D((2, 2))        (5, 5, 16)         0
    Flatten                     (400,)             0
    Dense(120, relu)            (120,)        48,120
    Dropout(0.5)                (120,)             0
    Dense(84, relu)             (84,)         10,164
    Dense(10, softmax)          (10,)            850     total 62,958

The grader trains it on Hoda digits of 32x32 pixels with one channel (input_shape=(32, 32, 1)),
pixel values in [0, 1], ink = 1, and one-hot labels.

Use `keras` (Keras 3) only: no `tensorflow` imports, so the code runs on every backend.
Run the public tests with `dlgrade check`.
"""

import keras
from keras import layers


def build_lenet(input_shape=(32, 32, 3), num_classes=10):
    """Build and compile the LeNet of the table above for images of `input_shape`
    (height, width, channels) and `num_classes` classes; return the model.

    Layers, in this order: Conv2D(8, (5, 5), activation="relu"), MaxPooling2D((2, 2)),
    Conv2D(16, (5, 5), activation="relu"), MaxPooling2D((2, 2)), Flatten(),
    Dense(120, activation="relu"), Dropout(0.5), Dense(84, activation="relu"),
    Dense(num_classes, activation="softmax"). Default strides and padding ("valid"), so every
    5x5 convolution makes the image 4 pixels smaller and every pooling halves it.
    Start the model with `keras.Input(shape=input_shape)` so that it is built.

    Compile it with loss="categorical_crossentropy", metrics=["accuracy"] and an optimizer of
    your choice (for example "adam").
    """
    raise NotImplementedError("write your code here")


def train_lenet(model, x, y):
    """Train `model` (made by build_lenet) on images `x` of shape (n, height, width, channels)
    and one-hot labels `y` of shape (n, num_classes); return the training history,
    `model.fit(...).history` (a dict such as {"loss": [...], "accuracy": [...]}).

    You choose the number of epochs and the batch size. The grader trains on 5,000 digits of
    32x32x1 and gives the training a time limit (see the README): keep well within it, and
    pass verbose=0 to keep the output short.
    """
    raise NotImplementedError("write your code here")
