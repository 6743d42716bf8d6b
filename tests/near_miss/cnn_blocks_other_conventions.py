"""cnn-blocks written in other conventions the README allows: the inception module's branches
built in another order (pooling first) with separate ReLU layers and 'valid' 1x1 convolutions;
the residual block with biased convolutions, the first batch norm after the first ReLU, ReLU
layers, no batch norm after the projection, the shortcut computed first; AlexNet as a
keras.Sequential with separate Activation layers and the paper's Dropout(0.5)."""

import keras
from keras import layers


def inception_module(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj):
    pool = layers.MaxPooling2D(pool_size=3, strides=1, padding="same")(x)
    pool = layers.ReLU()(layers.Conv2D(pool_proj, 1)(pool))
    five = layers.ReLU()(layers.Conv2D(f5_reduce, 1)(x))
    five = layers.ReLU()(layers.Conv2D(f5, 5, padding="same")(five))
    three = layers.ReLU()(layers.Conv2D(f3_reduce, 1)(x))
    three = layers.ReLU()(layers.Conv2D(f3, 3, padding="same")(three))
    one = layers.ReLU()(layers.Conv2D(f1, 1)(x))
    return layers.concatenate([one, three, five, pool])


def residual_block(x, filters, stride=1):
    if stride > 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride)(x)
    else:
        shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", activation="relu")(x)
    y = layers.BatchNormalization()(y)
    y = layers.Conv2D(filters, 3, padding="same")(y)
    y = layers.BatchNormalization()(y)
    return layers.ReLU()(layers.add([shortcut, y]))


def build_alexnet(input_shape=(227, 227, 3), num_classes=1000):
    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(96, 11, strides=4), layers.Activation("relu"),
        layers.MaxPooling2D(3, strides=2),
        layers.Conv2D(256, 5, padding="same"), layers.Activation("relu"),
        layers.MaxPooling2D(3, strides=2),
        layers.Conv2D(384, 3, padding="same"), layers.Activation("relu"),
        layers.Conv2D(384, 3, padding="same"), layers.Activation("relu"),
        layers.Conv2D(256, 3, padding="same"), layers.Activation("relu"),
        layers.MaxPooling2D(3, strides=2),
        layers.Flatten(),
        layers.Dense(4096), layers.Activation("relu"), layers.Dropout(0.5),
        layers.Dense(4096), layers.Activation("relu"), layers.Dropout(0.5),
        layers.Dense(num_classes), layers.Activation("softmax"),
    ], name="alexnet")
