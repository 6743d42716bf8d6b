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
    ### BEGIN SOLUTION
    images = np.asarray(images)
    flip = rng.random(len(images)) < 0.5
    out = images.copy()
    out[flip] = images[flip][:, :, ::-1]
    return out
    ### END SOLUTION


def random_crop(images, size, padding, rng):
    """Random cropping: pad each image with `padding` rows of zeros at the top and at the bottom
    and `padding` columns of zeros at the left and at the right (not the channels), then cut out
    a size x size window at a random position, every position of the padded image equally
    likely, independently for each image. Returns (n, size, size, channels).
    Raise ValueError when the window does not fit in the padded image."""
    ### BEGIN SOLUTION
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    if size > h + 2 * padding or size > w + 2 * padding:
        raise ValueError(f"a {size}x{size} window does not fit in a {h + 2 * padding}x{w + 2 * padding} padded image")
    padded = np.pad(images, ((0, 0), (padding, padding), (padding, padding)) + ((0, 0),) * (images.ndim - 3))
    tops = rng.integers(0, h + 2 * padding - size + 1, size=n)
    lefts = rng.integers(0, w + 2 * padding - size + 1, size=n)
    out = np.empty((n, size, size) + images.shape[3:], dtype=images.dtype)
    for i in range(n):
        out[i] = padded[i, tops[i]:tops[i] + size, lefts[i]:lefts[i] + size]
    return out
    ### END SOLUTION


def color_jitter(images, brightness, contrast, rng):
    """Colour shifting (colour jitter) of brightness and contrast. For each image draw one
    contrast factor c uniformly from [1 - contrast, 1 + contrast] and one brightness shift b
    uniformly from [-brightness, brightness], and return

        clip((x - mean) * c + mean + b, 0, 1)

    where `mean` is that image's mean over all its pixels and channels (one number per image)."""
    ### BEGIN SOLUTION
    images = np.asarray(images)
    n = len(images)
    c = rng.uniform(1 - contrast, 1 + contrast, size=n)
    b = rng.uniform(-brightness, brightness, size=n)
    per_image = (n,) + (1,) * (images.ndim - 1)
    x = images.astype(np.float64)
    mean = x.mean(axis=tuple(range(1, images.ndim)), keepdims=True)
    out = (x - mean) * c.reshape(per_image) + mean + b.reshape(per_image)
    return np.clip(out, 0.0, 1.0).astype(images.dtype)
    ### END SOLUTION


def pca_color_augment(images, alpha_std, rng):
    """PCA colour augmentation (Krizhevsky et al., 2012). Compute the 3x3 covariance matrix of
    the RGB values of all pixels of all the images given, and its eigenvalues lambda_i with
    unit eigenvectors p_i. For each image draw alpha_1, alpha_2, alpha_3 from a normal
    distribution with mean 0 and standard deviation `alpha_std`, and add the same colour

        [p_1 p_2 p_3] [alpha_1 lambda_1, alpha_2 lambda_2, alpha_3 lambda_3]^T

    to every pixel of that image; then clip to [0, 1]. Images have 3 channels (RGB)."""
    ### BEGIN SOLUTION
    images = np.asarray(images)
    pixels = images.reshape(-1, 3).astype(np.float64)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(pixels, rowvar=False))
    alphas = rng.normal(0.0, alpha_std, size=(len(images), 3))
    shifts = (alphas * eigenvalues) @ eigenvectors.T          # row k: sum_i p_i alpha_ki lambda_i
    out = images.astype(np.float64) + shifts[:, None, None, :]
    return np.clip(out, 0.0, 1.0).astype(images.dtype)
    ### END SOLUTION


def augment_dataset(x, y, copies, rng):
    """A larger training set: the n original images followed by `copies` augmented copies of
    all of them, (copies + 1) * n images in all; copy k holds, in the original order, each
    image mirrored with random_flip and then cropped with random_crop(..., size=height,
    padding=max(1, height // 8)). The images are square (height == width). The labels follow
    their images: y_aug is y repeated copies + 1 times, unchanged. Returns (x_aug, y_aug)."""
    ### BEGIN SOLUTION
    x = np.asarray(x)
    y = np.asarray(y)
    size = x.shape[1]
    padding = max(1, size // 8)
    parts = [x]
    for _ in range(copies):
        parts.append(random_crop(random_flip(x, rng), size, padding, rng))
    return np.concatenate(parts), np.concatenate([y] * (copies + 1))
    ### END SOLUTION


def build_keras_augmenter(seed=0):
    """The same ideas as Keras preprocessing layers, which augment while a model trains and do
    nothing when it predicts: a keras.Sequential of

        keras.Input(shape=(None, None, 3))          images of any size, RGB in [0, 1]
        RandomFlip("horizontal")
        RandomRotation(0.1)                          up to 10% of a full turn either way
        RandomZoom(0.1)
        RandomContrast(0.2, value_range=(0, 1))

    with seed=seed passed to each of the four layers. Do not compile it."""
    ### BEGIN SOLUTION
    return keras.Sequential([
        keras.Input(shape=(None, None, 3)),
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomRotation(0.1, seed=seed),
        keras.layers.RandomZoom(0.1, seed=seed),
        keras.layers.RandomContrast(0.2, value_range=(0, 1), seed=seed),
    ], name="augmenter")
    ### END SOLUTION
