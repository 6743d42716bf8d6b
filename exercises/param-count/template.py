# This file was generated from the reference solution by `dlgrade templates`.
"""Counting parameters: the number of weights and biases of Conv2D and Dense layers, and a
`model.summary()`-like table (name, output shape, parameters) of a small Keras-style network.

Everything here is plain Python on whole numbers (no Keras, no numpy needed). Output shapes
are tuples without the batch dimension: (h, w, c) after a convolution or a pooling layer,
(n,) after Flatten or Dense.
"""


def conv2d_params(f, c_in, c_out, bias=True):
    """Number of parameters of a Conv2D layer with c_out filters of size f x f x c_in.

    Each filter has f * f * c_in weights and (when bias is True) one bias, so the layer has
    (f * f * c_in + 1) * c_out parameters, or f * f * c_in * c_out without bias.
    Raise ValueError when f, c_in or c_out is not a whole number >= 1 (bool refused).

    >>> conv2d_params(3, 3, 10)     # 10 filters of 3 x 3 x 3: (27 + 1) * 10
    280
    """
    raise NotImplementedError("write your code here")


def dense_params(n_in, n_out, bias=True):
    """Number of parameters of a Dense (fully connected) layer from n_in inputs to n_out units:
    n_in * n_out weights plus n_out biases (when bias is True).
    Raise ValueError when n_in or n_out is not a whole number >= 1 (bool refused).

    >>> dense_params(400, 120)      # LeNet-5's first Dense layer
    48120
    """
    raise NotImplementedError("write your code here")


def count_params(input_shape, layers):
    """The rows of a Keras `model.summary()` for a Sequential model: a list with one
    (name, output_shape, params) tuple per layer.

    input_shape: the shape of one input without the batch dimension, e.g. (32, 32, 3) for an
    image or (784,) for a vector.
    layers: a list of dicts, one per layer:
      {"type": "conv", "filters": int, "kernel": int, "stride": int (default 1),
                       "padding": "valid" (default), "same" or an int p >= 0}
                                                                    Conv2D, f x f kernel, bias
      {"type": "pool", "size": int, "stride": int (default: size),
                       "padding": "valid" (default) or "same"}      MaxPooling2D
      {"type": "batchnorm"}                                         BatchNormalization
      {"type": "flatten"}                                           Flatten
      {"type": "dense", "units": int}                               Dense, with bias
      {"type": "dropout"} (a "rate" may be given; it changes nothing here)
    Other keys (such as "activation") are ignored.

    Sizes: "valid" conv and pool: floor((n - f) / s) + 1; "same" conv and pool (Keras):
    ceil(n / s); an int padding p (PyTorch's Conv2d(..., padding=p)): p zeros on every side,
    floor((n + 2p - f) / s) + 1. Conv output channels = filters; Flatten multiplies all
    dimensions; Dense and BatchNormalization act on the last dimension; BatchNormalization and
    Dropout keep the shape. BatchNormalization has 4 parameters per channel, as Keras counts
    them (gamma and beta are trained; the moving mean and variance are not). Pool, Flatten and
    Dropout have 0 parameters.

    Names follow Keras: the first layer of each kind is "conv2d", "max_pooling2d",
    "batch_normalization", "flatten", "dense", "dropout"; the next ones of the same kind get
    "_1", "_2", ... ("conv2d_1").

    Raise ValueError for an unknown "type", a missing required key, a value that is not a whole
    number >= 1 (or an unknown padding, or an int padding < 0), a conv or pool on an input that
    is not (h, w, c), and a layer whose output would be empty (a kernel or window larger than
    its (padded) input).

    >>> count_params((28, 28, 1), [{"type": "conv", "filters": 10, "kernel": 3}])
    [('conv2d', (26, 26, 10), 100)]
    """
    raise NotImplementedError("write your code here")


def lenet5_table():
    """The model.summary() rows of the LeNet-5 network of the lecture notes, built on a
    32 x 32 x 3 input:

        Conv2D(8, (5, 5), activation='relu', input_shape=(32, 32, 3))
        MaxPooling2D((2, 2))
        Conv2D(16, (5, 5), activation='relu')
        MaxPooling2D((2, 2))
        Flatten()
        Dense(120, activation='relu')
        Dropout(0.5)
        Dense(84, activation='relu')
        Dense(10, activation='softmax')

    Return the list of (name, output_shape, params) tuples, as count_params returns it (with
    the names of a fresh Keras session: "conv2d", "max_pooling2d", "conv2d_1", ...).
    """
    raise NotImplementedError("write your code here")
