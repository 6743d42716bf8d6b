"""A hostile near miss for augmentation: every function gives its input back unchanged (copied,
same dtype), and the Keras augmenter holds only an Identity layer. It must get 0 on every property test."""

import keras
import numpy as np


def random_flip(images, rng):
    return np.array(images, copy=True)


def random_crop(images, size, padding, rng):
    return np.array(images, copy=True)[:, :size, :size]


def color_jitter(images, brightness, contrast, rng):
    return np.array(images, copy=True)


def pca_color_augment(images, alpha_std, rng):
    return np.array(images, copy=True)


def augment_dataset(x, y, copies, rng):
    x = np.asarray(x)
    y = np.asarray(y)
    return np.concatenate([x] * (copies + 1)), np.concatenate([y] * (copies + 1))


def build_keras_augmenter(seed=0):
    return keras.Sequential([keras.Input(shape=(None, None, 3)), keras.layers.Identity()], name="augmenter")
