"""A correct conv-numpy in other idioms the README allows: float32 arithmetic, np.einsum over
sliding_window_view, Keras' "same" padding from its own formula, numpy integer
arguments accepted. It must get full marks."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pad(n, f, s, padding):
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        out = -(-n // s)
        total = max(0, (out - 1) * s + f - n)
        return (total // 2, total - total // 2)
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool) and padding >= 0:
        return (int(padding), int(padding))
    raise ValueError("padding must be 'valid', 'same' or an int >= 0")


def conv2d(x, w, b=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float32)
    w = np.asarray(w, dtype=np.float32)
    flat = x.ndim == 2
    if flat:
        if w.ndim != 2:
            raise ValueError("a 2-D image takes a 2-D filter")
        x, w = x[..., None], w[..., None, None]
    if x.ndim != 3 or w.ndim != 4 or w.shape[2] != x.shape[2]:
        raise ValueError("shapes do not go together")
    if not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError("stride must be >= 1")
    f = w.shape[0]
    ph, pw = _pad(x.shape[0], f, stride, padding), _pad(x.shape[1], f, stride, padding)
    xp = np.pad(x, (ph, pw, (0, 0)))
    if xp.shape[0] < f or xp.shape[1] < f:
        raise ValueError("the filter does not fit")
    windows = sliding_window_view(xp, (f, f), axis=(0, 1))[::stride, ::stride]   # (H', W', C, f, f)
    out = np.einsum("ijcuv,uvck->ijk", windows, w)
    if b is not None:
        out = out + np.float32(1) * np.asarray(b, dtype=np.float32)
    return out[..., 0] if flat else out


def _pool(a, size, stride, how):
    a = np.asarray(a, dtype=np.float32)
    stride = size if stride is None else stride
    if size < 1 or stride < 1 or size > min(a.shape[:2]):
        raise ValueError("bad size or stride")
    windows = sliding_window_view(a, (size, size), axis=(0, 1))[::stride, ::stride]
    return how(windows, axis=(-2, -1))


def max_pool(a, size=2, stride=None):
    return _pool(a, size, stride, np.max)


def avg_pool(a, size=2, stride=None):
    return _pool(a, size, stride, np.mean)
