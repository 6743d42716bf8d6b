"""Convolution by hand: the cross-correlation a Conv2D layer computes (with bias, stride and
Keras' paddings), and max and average pooling, in numpy.

Shapes are channels last, without a batch dimension: an image is (H, W) (one channel) or
(H, W, C); a filter bank is (f, f) for one channel or (f, f, C, K) for K filters.
"""

import math

import numpy as np


def conv2d(x, w, b=None, stride=1, padding=0):
    """The output of a convolutional layer: cross-correlation as in Keras and PyTorch (the kernel
    is not flipped), plus a bias.

    x: (H, W) with w: (f, f), or x: (H, W, C) with w: (f, f, C, K).
    b: None (no bias), a number, or K numbers (one per filter).
    stride: a whole number >= 1 (the same along both axes).
    padding: a whole number p >= 0 (p zeros on every side), "valid" (p = 0) or "same" (Keras: the
    output has ceil(n / stride) rows and columns; when the zeros to add are odd in number, the
    extra one goes at the end: bottom and right).

    out[i, j, k] = sum over u, v, c of xp[i*s + u, j*s + v, c] * w[u, v, c, k]  + b[k]
    where xp is x padded with zeros. Returns a float array of shape (H', W') for a 2-D x or
    (H', W', K) for a 3-D x, with H' = floor((H + before + after - f) / s) + 1.

    Raise ValueError for another padding, a stride < 1, shapes that do not go together, or a
    filter larger than the padded input.
    """
    ### BEGIN SOLUTION
    def paddings(n, f):
        """(before, after) zeros on one axis of size n for a filter of size f."""
        if isinstance(padding, str):
            if padding == "valid":
                return 0, 0
            if padding == "same":
                total = max((math.ceil(n / stride) - 1) * stride + f - n, 0)
                return total // 2, total - total // 2
        elif not isinstance(padding, (bool, np.bool_)) and isinstance(padding, (int, np.integer)) and padding >= 0:
            return int(padding), int(padding)
        raise ValueError(f"padding must be 'valid', 'same' or a whole number >= 0, got {padding!r}")

    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    two_d = x.ndim == 2
    if two_d and w.ndim == 2:
        x, w = x[:, :, None], w[:, :, None, None]
    elif not (x.ndim == 3 and w.ndim == 4):
        raise ValueError(f"x of shape {x.shape} and w of shape {w.shape} do not go together: "
                         "use (H, W) with (f, f), or (H, W, C) with (f, f, C, K)")
    if w.shape[2] != x.shape[2]:
        raise ValueError(f"x has {x.shape[2]} channels but the filters expect {w.shape[2]}")
    if isinstance(stride, (bool, np.bool_)) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"stride must be a whole number >= 1, got {stride!r}")
    fh, fw, _, k = w.shape
    top, bottom = paddings(x.shape[0], fh)
    left, right = paddings(x.shape[1], fw)
    xp = np.pad(x, ((top, bottom), (left, right), (0, 0)))
    if fh > xp.shape[0] or fw > xp.shape[1]:
        raise ValueError(f"a {fh}x{fw} filter does not fit in the padded input of {xp.shape[0]}x{xp.shape[1]}")
    oh = (xp.shape[0] - fh) // stride + 1
    ow = (xp.shape[1] - fw) // stride + 1
    out = np.zeros((oh, ow, k))
    for i in range(oh):
        for j in range(ow):
            patch = xp[i * stride:i * stride + fh, j * stride:j * stride + fw, :]
            out[i, j, :] = np.tensordot(patch, w, axes=([0, 1, 2], [0, 1, 2]))
    if b is not None:
        out = out + np.broadcast_to(np.asarray(b, dtype=float).reshape(-1), (k,))
    return out[:, :, 0] if two_d else out
    ### END SOLUTION


def max_pool(a, size=2, stride=None):
    """Max pooling: the largest value of each size x size window, windows moved by `stride`
    (default: `size`, windows side by side), only windows that fit ("valid": a last partial
    window is dropped). a: (H, W) or (H, W, C), each channel pooled on its own. Returns a float
    array of shape (H', W') or (H', W', C) with H' = floor((H - size) / stride) + 1.

    Raise ValueError when size or stride is not a whole number >= 1, or the window does not fit.
    """
    ### BEGIN SOLUTION
    a = np.asarray(a, dtype=float)
    if a.ndim not in (2, 3):
        raise ValueError(f"a must be (H, W) or (H, W, C), got shape {a.shape}")
    stride = size if stride is None else stride
    for name, value in (("size", size), ("stride", stride)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    if size > a.shape[0] or size > a.shape[1]:
        raise ValueError(f"a {size}x{size} window does not fit in a map of {a.shape[0]}x{a.shape[1]}")
    oh = (a.shape[0] - size) // stride + 1
    ow = (a.shape[1] - size) // stride + 1
    out = np.zeros((oh, ow) + a.shape[2:])
    for i in range(oh):
        for j in range(ow):
            out[i, j] = a[i * stride:i * stride + size, j * stride:j * stride + size].max(axis=(0, 1))
    return out
    ### END SOLUTION


def avg_pool(a, size=2, stride=None):
    """Average pooling: like max_pool, with the mean of each window (a size x size kernel of
    1 / size**2, moved by the stride, one channel at a time)."""
    ### BEGIN SOLUTION
    a = np.asarray(a, dtype=float)
    if a.ndim not in (2, 3):
        raise ValueError(f"a must be (H, W) or (H, W, C), got shape {a.shape}")
    stride = size if stride is None else stride
    for name, value in (("size", size), ("stride", stride)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    if size > a.shape[0] or size > a.shape[1]:
        raise ValueError(f"a {size}x{size} window does not fit in a map of {a.shape[0]}x{a.shape[1]}")
    oh = (a.shape[0] - size) // stride + 1
    ow = (a.shape[1] - size) // stride + 1
    out = np.zeros((oh, ow) + a.shape[2:])
    for i in range(oh):
        for j in range(ow):
            out[i, j] = a[i * stride:i * stride + size, j * stride:j * stride + size].mean(axis=(0, 1))
    return out
    ### END SOLUTION
