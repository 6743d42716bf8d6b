# This file was generated from the reference solution by `dlgrade templates`.
"""Convolution arithmetic: the output size of convolution, pooling and transposed-convolution
layers, and the output shape of a Keras Conv2D layer.

Everything here is plain Python on whole numbers (no numpy needed). Every function raises
ValueError when an argument is not a whole number (a bool or a float such as 5.0 is refused
too), is out of range, or when the layer would produce an output of size 0 or less.
"""


def conv_output_size(n, f, padding=0, stride=1):
    """Output size of a convolution along one axis.

    n: input size (n x n image), f: filter size (f x f), padding: p zeros added on each side,
    stride: s. The answer is  floor((n + 2p - f) / s) + 1.

    Raise ValueError when n < 1, f < 1, padding < 0, stride < 1, when an argument is not a
    whole number (bool and float are refused), or when the result would be smaller than 1
    (the filter does not fit in the padded input).

    >>> conv_output_size(39, 3)              # (39 + 0 - 3) / 1 + 1
    37
    >>> conv_output_size(227, 11, stride=4)  # AlexNet CONV1
    55
    """
    raise NotImplementedError("write your code here")


def same_padding(f):
    """The padding p that keeps the size of the input when the stride is 1 ("same"
    convolution): n + 2p - f + 1 = n  =>  p = (f - 1) / 2.

    Return it as an int. Raise ValueError when f is not a whole number, when f < 1, or when f
    is even (then (f - 1) / 2 is not a whole number of pixels).

    >>> same_padding(3)
    1
    """
    raise NotImplementedError("write your code here")


def pool_output_size(n, f, stride):
    """Output size of a pooling layer (max or average) along one axis: a window of size f
    moved with stride s, no padding:  floor((n - f) / s) + 1.

    Raise ValueError like conv_output_size does (n < 1, f < 1, stride < 1, not a whole
    number, or a window that does not fit).

    >>> pool_output_size(55, 3, 2)           # AlexNet POOL1: (55 - 3) / 2 + 1
    27
    """
    raise NotImplementedError("write your code here")


def conv_transpose_output_size(n, f, padding=0, stride=1):
    """Output size of a transposed convolution (ConvTranspose2d / Conv2DTranspose) along one
    axis:  (n - 1) * s - 2p + f.

    Raise ValueError when n < 1, f < 1, padding < 0, stride < 1, when an argument is not a
    whole number, or when the result would be smaller than 1.

    >>> conv_transpose_output_size(7, 3, stride=2)
    15
    """
    raise NotImplementedError("write your code here")


def conv_output_shape(input_shape, filters, f, padding="valid", stride=1):
    """Output shape (h, w, filters) of a Conv2D layer with `filters` filters of size f x f
    applied to an input of shape (h, w, c) (channels last, no batch dimension).

    padding:
      "valid"  no padding: each side is floor((n - f) / s) + 1
      "same"   as Keras does it: each side is ceil(n / s), for every f (odd or even)
      an int p >= 0: p zeros on each side: floor((n + 2p - f) / s) + 1

    Return a tuple of three ints. Raise ValueError for any other padding (another string, a
    negative number, a float, a bool, None), for an input_shape that is not three whole
    numbers >= 1, for filters, f or stride that are not whole numbers >= 1, and when the
    filter does not fit.

    >>> conv_output_shape((32, 32, 3), 6, 5)
    (28, 28, 6)
    """
    raise NotImplementedError("write your code here")
