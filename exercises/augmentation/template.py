# This file was generated from the reference solution by `dlgrade templates`.
"""Data augmentation: change the pixels without changing the label.

Images are numpy arrays of shape (n, height, width, channels), channels last, with values in
[0, 1]. Every function returns new arrays (it never changes its input) of the same dtype as its
input, and draws every random number from the numpy.random.Generator `rng` it is given (never
from np.random.* or the random module), so the same generator seed gives the same result.
"""

import keras
import numpy as np


def random_flip(images, rng):
    """Mirroring (horizontal flip): each image, independently with probability 1/2, is mirrored
    left-right (its columns in reverse order, image[:, ::-1] for one image) or left as it is."""
    raise NotImplementedError("write your code here")


def random_crop(images, size, padding, rng):
    """Random cropping: pad each image with `padding` rows of zeros at the top and at the bottom
    and `padding` columns of zeros at the left and at the right (not the channels), then cut out
    a size x size window at a random position, every position of the padded image equally
    likely, independently for each image. Returns (n, size, size, channels).
    Raise ValueError when the window does not fit in the padded image."""
    raise NotImplementedError("write your code here")


def color_jitter(images, brightness, contrast, rng):
    """Colour shifting (colour jitter) of brightness and contrast. For each image draw one
    contrast factor c uniformly from [1 - contrast, 1 + contrast] and one brightness shift b
    uniformly from [-brightness, brightness], and return

        clip((x - mean) * c + mean + b, 0, 1)

    where `mean` is that image's mean over all its pixels and channels (one number per image)."""
    raise NotImplementedError("write your code here")


def pca_color_augment(images, alpha_std, rng):
    """PCA colour augmentation (Krizhevsky et al., 2012). Compute the 3x3 covariance matrix of
    the RGB values of all pixels of all the images given, and its eigenvalues lambda_i with
    unit eigenvectors p_i. For each image draw alpha_1, alpha_2, alpha_3 from a normal
    distribution with mean 0 and standard deviation `alpha_std`, and add the same colour

        [p_1 p_2 p_3] [alpha_1 lambda_1, alpha_2 lambda_2, alpha_3 lambda_3]^T

    to every pixel of that image; then clip to [0, 1]. Images have 3 channels (RGB)."""
    raise NotImplementedError("write your code here")


def augment_dataset(x, y, copies, rng):
    """A larger training set: the n original images followed by `copies` augmented copies of
    all of them, (copies + 1) * n images in all; copy k holds, in the original order, each
    image mirrored with random_flip and then cropped with random_crop(..., size=height,
    padding=max(1, height // 8)). The images are square (height == width). The labels follow
    their images: y_aug is y repeated copies + 1 times, unchanged. Returns (x_aug, y_aug)."""
    raise NotImplementedError("write your code here")


def build_keras_augmenter(seed=0):
    """The same ideas as Keras preprocessing layers, which augment while a model trains and do
    nothing when it predicts: a keras.Sequential of

        keras.Input(shape=(None, None, 3))          images of any size, RGB in [0, 1]
        RandomFlip("horizontal")
        RandomRotation(0.1)                          up to 10% of a full turn either way
        RandomZoom(0.1)
        RandomContrast(0.2, value_range=(0, 1))

    with seed=seed passed to each of the four layers. Do not compile it."""
    raise NotImplementedError("write your code here")
