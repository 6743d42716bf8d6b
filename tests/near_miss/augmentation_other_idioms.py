"""A correct augmentation written with other idioms the README allows: np.flip, a crop that
draws the left column before the top row with endpoint=True and no padding copy, jitter and PCA
in float32 with the draws in another order, and the Keras augmenter built with the functional
API and tuple factors. It must get full marks."""

import keras
import numpy as np


def random_flip(images, rng):
    images = np.asarray(images)
    coins = rng.integers(0, 2, size=len(images)).astype(bool)
    return np.where(coins[:, None, None, None], np.flip(images, axis=2), images).astype(images.dtype)


def random_crop(images, size, padding, rng):
    images = np.asarray(images)
    n, h, w, c = images.shape
    last_top, last_left = h + 2 * padding - size, w + 2 * padding - size
    if last_top < 0 or last_left < 0:
        raise ValueError("the window is larger than the padded image")
    out = np.zeros((n, size, size, c), dtype=images.dtype)
    for i in range(n):
        left = int(rng.integers(0, last_left, endpoint=True))
        top = int(rng.integers(0, last_top, endpoint=True))
        for r in range(size):
            src_r = top + r - padding
            if 0 <= src_r < h:
                for col in range(size):
                    src_c = left + col - padding
                    if 0 <= src_c < w:
                        out[i, r, col] = images[i, src_r, src_c]
    return out


def color_jitter(images, brightness, contrast, rng):
    images = np.asarray(images)
    out = np.empty_like(images)
    for i, x in enumerate(images):
        b = rng.uniform(-brightness, brightness)
        c = rng.uniform(1 - contrast, 1 + contrast)
        mean = x.mean(dtype=np.float32)
        out[i] = np.clip((x - mean) * np.float32(c) + mean + np.float32(b), 0, 1)
    return out


def pca_color_augment(images, alpha_std, rng):
    images = np.asarray(images)
    values, vectors = np.linalg.eigh(np.cov(images.reshape(-1, 3), rowvar=False))
    out = np.empty_like(images)
    for i, x in enumerate(images):
        alpha = rng.normal(0.0, alpha_std, size=3)
        shift = vectors @ (alpha * values)
        out[i] = np.clip(x + shift.astype(images.dtype), 0, 1)
    return out


def augment_dataset(x, y, copies, rng):
    x, y = np.asarray(x), np.asarray(y)
    pad = max(1, x.shape[1] // 8)
    xs = [x] + [random_crop(random_flip(x, rng), x.shape[1], pad, rng) for _ in range(copies)]
    return np.concatenate(xs), np.tile(y, copies + 1)


def build_keras_augmenter(seed=0):
    inputs = keras.Input(shape=(None, None, 3))
    h = keras.layers.RandomFlip(mode="horizontal", seed=seed)(inputs)
    h = keras.layers.RandomRotation(factor=(-0.1, 0.1), seed=seed)(h)
    h = keras.layers.RandomZoom(height_factor=(-0.1, 0.1), seed=seed)(h)
    outputs = keras.layers.RandomContrast(factor=0.2, value_range=(0, 1), seed=seed)(h)
    return keras.Model(inputs, outputs, name="augmenter")
