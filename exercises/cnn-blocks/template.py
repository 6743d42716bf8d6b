# This file was generated from the reference solution by `dlgrade templates`.
"""CNN building blocks in Keras (lecture 002): GoogLeNet's inception module, ResNet's residual
block and the simplified AlexNet of the notes' table.

The two block functions take a Keras tensor `x` (functional API) and return the block's output
tensor; the grader calls them on `keras.Input` tensors and checks the model from that input to
what you return. Build everything from built-in Keras layers (keras.layers): no Lambda layers,
no custom layer classes, no tensorflow imports, nothing downloaded.
"""

import keras
from keras import layers


def inception_module(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj):
    """GoogLeNet's inception module on the tensor `x` (height, width, channels), four branches
    side by side, each convolution with padding="same" and activation="relu":

        1. Conv2D(f1, 1x1)
        2. Conv2D(f3_reduce, 1x1) -> Conv2D(f3, 3x3)
        3. Conv2D(f5_reduce, 1x1) -> Conv2D(f5, 5x5)
        4. MaxPooling2D(3x3, strides=1, padding="same") -> Conv2D(pool_proj, 1x1)

    concatenated on the channels in this order (1x1, 3x3, 5x5, pool): the height and width stay,
    the depth becomes f1 + f3 + f5 + pool_proj.
    """
    raise NotImplementedError("write your code here")


def residual_block(x, filters, stride=1):
    """ResNet's residual block on the tensor `x`: a[l+2] = g(z[l+2] + a[l]), g = ReLU.

    Main path: Conv2D(filters, 3x3, strides=stride, padding="same") -> BatchNormalization ->
    ReLU -> Conv2D(filters, 3x3, strides=1, padding="same") -> BatchNormalization (z[l+2]).
    Shortcut (a[l]): `x` itself when the shape stays (stride 1 and as many channels as
    `filters`); otherwise a projection, Conv2D(filters, 1x1, strides=stride) (with a
    BatchNormalization after it, or not). Then Add()([z, shortcut]) and a ReLU.
    """
    raise NotImplementedError("write your code here")


def build_alexnet(input_shape=(227, 227, 3), num_classes=1000):
    """The simplified AlexNet of the notes' table (one stream, no normalization layers), not
    compiled:

        Conv2D(96, 11x11, strides 4, relu)            55x55x96
        MaxPooling2D(3x3, strides 2)                  27x27x96
        Conv2D(256, 5x5, padding "same", relu)        27x27x256
        MaxPooling2D(3x3, strides 2)                  13x13x256
        Conv2D(384, 3x3, padding "same", relu)        13x13x384
        Conv2D(384, 3x3, padding "same", relu)        13x13x384
        Conv2D(256, 3x3, padding "same", relu)        13x13x256
        MaxPooling2D(3x3, strides 2)                  6x6x256
        Flatten                                       9216
        Dense(4096, relu), Dense(4096, relu)          4096, 4096
        Dense(num_classes, softmax)                   1000

    (the shapes for the default 227x227x3 input; Dropout(0.5) after each of the two hidden Dense
    layers is allowed). 62,378,344 parameters at the default shape.
    """
    raise NotImplementedError("write your code here")
