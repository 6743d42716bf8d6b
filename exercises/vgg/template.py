# This file was generated from the reference solution by `dlgrade templates`.
"""VGG in Keras: the VGG block, VGG16 layer by layer, and a small VGG that learns digits.

Build every model from built-in Keras layers (keras.layers) with the functional API or
keras.Sequential: no Lambda layers, no custom layer classes, no nested models. Use `keras`
only (no tensorflow imports), and do not download anything (no pretrained weights).
"""

import keras
from keras import layers


def vgg_block(x, filters, convs):
    """One VGG block applied to the tensor `x` (functional API), returning the new tensor.

    `convs` convolutions, each Conv2D(filters, (3, 3), strides 1, padding="same",
    activation="relu"), then MaxPooling2D((2, 2), strides=(2, 2)). The convolutions keep the
    height and width ("same"); the pooling halves them (rounding down).
    """
    raise NotImplementedError("write your code here")


def vgg_block_model(input_shape, filters, convs):
    """A model that is one VGG block: keras.Input -> vgg_block -> keras.Model.

    Written for you (the grader tests vgg_block through it): keep it as it is.
    """
    inputs = keras.Input(shape=tuple(input_shape))
    return keras.Model(inputs, vgg_block(inputs, filters, convs), name="vgg_block")


def build_vgg16(input_shape=(224, 224, 3), num_classes=1000):
    """VGG16 (configuration D of Simonyan and Zisserman), layer by layer like
    keras.applications.VGG16(weights=None, input_shape=input_shape, classes=num_classes):

        block 1:  2 convs of  64 filters, max-pool
        block 2:  2 convs of 128 filters, max-pool
        block 3:  3 convs of 256 filters, max-pool
        block 4:  3 convs of 512 filters, max-pool
        block 5:  3 convs of 512 filters, max-pool
        Flatten, Dense(4096, relu), Dense(4096, relu), Dense(num_classes, softmax)

    Use vgg_block for the blocks. The model is not compiled. At the default input shape
    it has 138,357,544 parameters.
    """
    raise NotImplementedError("write your code here")


def build_vgg_small(input_shape, num_classes, widths=(32, 64), convs_per_block=2):
    """A small VGG-style classifier, compiled.

    One vgg_block(x, w, convs_per_block) for each w in `widths`, in order; then Flatten,
    Dense(128, relu) and Dense(num_classes, softmax). Compile it with
    optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"].
    """
    raise NotImplementedError("write your code here")


def train_vgg_small(model, x, y, epochs=4, batch_size=32):
    """Train the compiled `model` on images `x` (n, height, width, channels) with one-hot labels
    `y` (n, num_classes) and return the History that model.fit returns (or its .history dict).

    The grader calls train_vgg_small(model, x, y): your defaults for epochs and batch_size
    are what it trains with. Train on x and y only (no validation data is given), quietly
    (verbose=0).
    """
    raise NotImplementedError("write your code here")
