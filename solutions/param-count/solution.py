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
    ### BEGIN SOLUTION
    for name, value in (("f", f), ("c_in", c_in), ("c_out", c_out)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    weights = int(f) * int(f) * int(c_in) * int(c_out)
    return weights + int(c_out) if bias else weights
    ### END SOLUTION


def dense_params(n_in, n_out, bias=True):
    """Number of parameters of a Dense (fully connected) layer from n_in inputs to n_out units:
    n_in * n_out weights plus n_out biases (when bias is True).
    Raise ValueError when n_in or n_out is not a whole number >= 1 (bool refused).

    >>> dense_params(400, 120)      # LeNet-5's first Dense layer
    48120
    """
    ### BEGIN SOLUTION
    for name, value in (("n_in", n_in), ("n_out", n_out)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    weights = int(n_in) * int(n_out)
    return weights + int(n_out) if bias else weights
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    def whole(layer, key, default=None):
        if key not in layer:
            if default is None:
                raise ValueError(f"a {layer['type']!r} layer needs the key {key!r}")
            return default
        value = layer[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} of a {layer['type']!r} layer must be a whole number >= 1, got {value!r}")
        return int(value)

    if not isinstance(input_shape, (tuple, list)) or len(input_shape) == 0:
        raise ValueError(f"input_shape must be a tuple of sizes, got {input_shape!r}")
    for size in input_shape:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"input_shape must hold whole numbers >= 1, got {input_shape!r}")
    if not isinstance(layers, (tuple, list)):
        raise ValueError("layers must be a list of dicts")

    names = {"conv": "conv2d", "pool": "max_pooling2d", "batchnorm": "batch_normalization", "flatten": "flatten",
             "dense": "dense", "dropout": "dropout"}
    seen = {}
    shape = tuple(int(v) for v in input_shape)
    rows = []
    for layer in layers:
        if not isinstance(layer, dict) or "type" not in layer:
            raise ValueError(f"each layer must be a dict with a 'type', got {layer!r}")
        kind = layer["type"]
        if kind not in names:
            raise ValueError(f"unknown layer type {kind!r}")
        if kind == "conv":
            filters = whole(layer, "filters")
            f = whole(layer, "kernel")
            s = whole(layer, "stride", 1)
            padding = layer.get("padding", "valid")
            if len(shape) != 3:
                raise ValueError(f"a conv layer needs an input of shape (h, w, c), got {shape}")
            if padding == "same":
                out = (-(-shape[0] // s), -(-shape[1] // s))
            elif padding == "valid":
                out = ((shape[0] - f) // s + 1, (shape[1] - f) // s + 1)
            elif isinstance(padding, int) and not isinstance(padding, bool) and padding >= 0:
                out = ((shape[0] + 2 * padding - f) // s + 1, (shape[1] + 2 * padding - f) // s + 1)
            else:
                raise ValueError(f"padding must be 'valid', 'same' or a whole number >= 0, got {padding!r}")
            if min(out) < 1:
                raise ValueError(f"a {f}x{f} kernel does not fit in an input of shape {shape}")
            params = conv2d_params(f, shape[2], filters)
            shape = (out[0], out[1], filters)
        elif kind == "pool":
            size = whole(layer, "size")
            s = whole(layer, "stride", size)
            padding = layer.get("padding", "valid")
            if len(shape) != 3:
                raise ValueError(f"a pool layer needs an input of shape (h, w, c), got {shape}")
            if padding == "same":
                out = (-(-shape[0] // s), -(-shape[1] // s))
            elif padding == "valid":
                out = ((shape[0] - size) // s + 1, (shape[1] - size) // s + 1)
            else:
                raise ValueError(f"a pool's padding must be 'valid' or 'same', got {padding!r}")
            if min(out) < 1:
                raise ValueError(f"a {size}x{size} window does not fit in an input of shape {shape}")
            params = 0
            shape = (out[0], out[1], shape[2])
        elif kind == "batchnorm":
            params = 4 * shape[-1]
        elif kind == "flatten":
            total = 1
            for v in shape:
                total *= v
            params = 0
            shape = (total,)
        elif kind == "dense":
            units = whole(layer, "units")
            params = dense_params(shape[-1], units)
            shape = shape[:-1] + (units,)
        else:  # dropout
            params = 0
        base = names[kind]
        count = seen.get(base, 0)
        seen[base] = count + 1
        rows.append((base if count == 0 else f"{base}_{count}", shape, params))
    return rows
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    return count_params((32, 32, 3), [
        {"type": "conv", "filters": 8, "kernel": 5},
        {"type": "pool", "size": 2},
        {"type": "conv", "filters": 16, "kernel": 5},
        {"type": "pool", "size": 2},
        {"type": "flatten"},
        {"type": "dense", "units": 120},
        {"type": "dropout", "rate": 0.5},
        {"type": "dense", "units": 84},
        {"type": "dense", "units": 10},
    ])
    ### END SOLUTION
