# This file was generated from the reference solution by `dlgrade templates`.
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
    raise NotImplementedError("write your code here")


def max_pool(a, size=2, stride=None):
    """Max pooling: the largest value of each size x size window, windows moved by `stride`
    (default: `size`, windows side by side), only windows that fit ("valid": a last partial
    window is dropped). a: (H, W) or (H, W, C), each channel pooled on its own. Returns a float
    array of shape (H', W') or (H', W', C) with H' = floor((H - size) / stride) + 1.

    Raise ValueError when size or stride is not a whole number >= 1, or the window does not fit.
    """
    raise NotImplementedError("write your code here")


def avg_pool(a, size=2, stride=None):
    """Average pooling: like max_pool, with the mean of each window (a size x size kernel of
    1 / size**2, moved by the stride, one channel at a time)."""
    raise NotImplementedError("write your code here")
