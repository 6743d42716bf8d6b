"""X or O? The lecture's walk-through of a convolutional layer, step by step, in numpy: filter a
9x9 image with 3x3 features (multiply, add up, divide by the number of pixels), apply ReLU,
max-pool with windows that may run past the edge, and stack one pooled map per feature.
"""

import numpy as np


def feature_map(image, feature):
    """Filter `image` (H, W) with `feature` (f, f): at every position (i, j) where the feature
    fits, multiply each pixel of the patch image[i:i+f, j:j+f] by the feature's pixel at the same
    place, add the products up and divide by the number of pixels of the feature (f * f).

    Returns a float array of shape (H - f + 1, W - f + 1): a 9x9 image and a 3x3 feature give
    7x7. The feature is not flipped. Values may be exact or rounded to two decimals. (The X of
    the notes and its diagonal feature: at the top left 8 of the 9 products are 1 and one is -1,
    so the value is (8 - 1) / 9 = 0.77...)
    """
    ### BEGIN SOLUTION
    image = np.asarray(image, dtype=float)
    feature = np.asarray(feature, dtype=float)
    fh, fw = feature.shape
    oh, ow = image.shape[0] - fh + 1, image.shape[1] - fw + 1
    out = np.empty((oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = np.sum(image[i:i + fh, j:j + fw] * feature) / feature.size
    return out
    ### END SOLUTION


def relu(a):
    """Rectified linear unit, element by element: every negative value becomes 0, the others
    stay as they are. Any shape; returns a float array of the same shape."""
    ### BEGIN SOLUTION
    return np.maximum(np.asarray(a, dtype=float), 0.0)
    ### END SOLUTION


def max_pool_cover(a, size=2, stride=2):
    """Max pooling as the lecture draws it: windows of size x size start at rows (and columns)
    0, stride, 2*stride, ... and the last window may run past the edge (it then covers only what
    is left), so that every pixel is covered. Along an axis of n pixels there are
    ceil((n - size) / stride) + 1 windows (1 when n <= size): a 7x7 map gives 4x4.

    a: a 2-D array (H, W). Returns a float array. The tests use 1 <= stride <= size.
    """
    ### BEGIN SOLUTION
    a = np.asarray(a, dtype=float)

    def starts(n):
        s = [0]
        while s[-1] + size < n and s[-1] + stride < n:
            s.append(s[-1] + stride)
        return s

    rows, cols = starts(a.shape[0]), starts(a.shape[1])
    out = np.empty((len(rows), len(cols)))
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            out[i, j] = a[r:r + size, c:c + size].max()
    return out
    ### END SOLUTION


def conv_relu_pool(image, features):
    """One convolutional layer of the lecture: for each feature, feature_map, then relu, then
    max_pool_cover(size=2, stride=2); the k pooled maps are stacked in the order of the features.

    image: (H, W); features: an array (k, f, f) or a list of k arrays (f, f).
    Returns a float array (k, H', W'): a 9x9 image and three 3x3 features give (3, 4, 4).
    """
    ### BEGIN SOLUTION
    return np.stack([max_pool_cover(relu(feature_map(image, f)), 2, 2) for f in features])
    ### END SOLUTION
