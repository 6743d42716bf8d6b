"""scikit-learn's bundled data, offline: the 8x8 digits (split with a fixed seed) and the two
sample photos."""

from __future__ import annotations

import numpy as np

from grader.data.errors import DataError, check_seed, check_size

__all__ = ["load_digits_split", "load_sample_images"]

def load_digits_split(
    test_size: float = 0.3, seed: int = 0, scale: bool = True, *, as_images: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits, split stratified with a fixed seed: (x_train, x_test, y_train, y_test).

    x is float32 of shape (n, 64), or (n, 8, 8, 1) with ``as_images``; ``scale`` divides by 16
    so x lies in [0, 1]. y is int64.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        raise DataError(f"test_size must be a fraction between 0 and 1, got {test_size!r}; pass e.g. test_size=0.3")
    seed = check_seed(seed)
    digits = load_digits()
    x = digits.data.astype(np.float32)
    if scale:
        x /= np.float32(16)
    if as_images:
        x = x.reshape(-1, 8, 8, 1)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return x_train, x_test, y_train, y_test


def load_sample_images(factor: int = 1) -> np.ndarray:
    """scikit-learn's two bundled photos (china, flower) as float32 (2, H, W, 3) in [0, 1].

    ``factor`` > 1 downsamples by averaging factor x factor blocks (rows/columns that do not
    fill a block are dropped): 427x640 at factor 1, 213x320 at factor 2.
    """
    factor = check_size(factor, "factor", 1, 64)
    from sklearn.datasets import load_sample_images as _sk_sample_images

    try:
        photos = _sk_sample_images().images
    except ImportError:
        raise DataError(
            "scikit-learn needs Pillow to decode its bundled sample photos: install it (pip install pillow)"
        ) from None
    x = np.stack(photos).astype(np.float32) / np.float32(255)
    if factor > 1:
        n, h, w, c = x.shape
        h2, w2 = h // factor, w // factor
        x = x[:, : h2 * factor, : w2 * factor].reshape(n, h2, factor, w2, factor, c).mean(axis=(2, 4), dtype=np.float32)
    return x
