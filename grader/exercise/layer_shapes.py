"""The shape arithmetic of one Keras layer call, from the layer's JSON config alone: its output
shape, its parameter count and its multiply-adds per example (`layer_cost`), for the layer kinds
the course uses (`KNOWN_LAYERS`). The model walker (`grader.exercise.modelsize`) applies it layer by
layer; nothing here imports Keras or allocates anything."""

from __future__ import annotations

import math

__all__ = ["ModelRefused", "KNOWN_LAYERS", "layer_cost", "shape_size", "MAX_DIM"]

MAX_DIM = 1 << 40


class ModelRefused(Exception):
    """A model config that is refused before anything is allocated: over a cap, an unknown layer
    kind, or a config that cannot be read. The message is the learner's (it names the problem
    and what to do)."""


# ------------------------------------------------------------------------------------------------
# shape arithmetic
# ------------------------------------------------------------------------------------------------


def shape_size(shape) -> int:
    """The number of elements of an array of `shape`."""
    return math.prod(int(d) for d in shape)


def _pair(value, name: str, layer: str) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_DIM for v in value)):
        raise ModelRefused(f"layer {layer!r} has an invalid {name} {value!r}")
    return int(value[0]), int(value[1])


def _conv_out(n: int, k: int, s: int, d: int, padding: str) -> int:
    if padding == "same":
        return -(-n // s)
    span = (k - 1) * d + 1
    return (n - span) // s + 1 if n >= span else 0


def _spatial(shape: tuple, data_format: str, layer: str) -> tuple[int, int, int, bool]:
    if len(shape) != 3:
        raise ModelRefused(f"layer {layer!r} needs images (height, width, channels), but receives shape {shape}")
    if data_format == "channels_first":
        return shape[1], shape[2], shape[0], True
    return shape[0], shape[1], shape[2], False


def _image(h: int, w: int, c: int, first: bool) -> tuple:
    return (c, h, w) if first else (h, w, c)


_SAME_SHAPE = {
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Identity",
    "Rescaling", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
    "RandomBrightness", "RandomGrayscale", "RandomShear", "RandomSaturation", "RandomHue",
    "RandomColorJitter", "RandomSharpness", "RandomPosterization", "RandomInvert", "RandomErasing",
    "RandomGaussianBlur", "RandomColorDegeneration", "AutoContrast", "Solarization",
    "RandomElasticTransform", "RandomPerspective", "ActivityRegularization", "Masking",
}
_MERGE = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}
KNOWN_LAYERS = sorted(_SAME_SHAPE | _MERGE | {
    "InputLayer", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
    "GlobalMaxPooling2D", "Flatten", "BatchNormalization", "LayerNormalization", "ZeroPadding2D", "Cropping2D",
    "Reshape", "Concatenate", "Resizing", "CenterCrop", "RandomCrop", "UpSampling2D", "Conv2DTranspose"})


def layer_cost(kind: str, cfg: dict, shapes: list[tuple], name: str) -> tuple[tuple, int, int]:
    """(output shape, params, multiply-adds per example) of one layer call on input `shapes`."""
    if kind in _MERGE or kind == "Concatenate":
        if len(shapes) < 2 or any(len(s) != len(shapes[0]) for s in shapes):
            raise ModelRefused(f"layer {name!r} ({kind}) needs two or more inputs of the same rank")
        if kind == "Concatenate":
            axis = cfg.get("axis", -1)
            if not isinstance(axis, int) or isinstance(axis, bool) or not -len(shapes[0]) - 1 <= axis <= len(shapes[0]):
                raise ModelRefused(f"layer {name!r} (Concatenate) has an invalid axis {axis!r}")
            axis = axis % (len(shapes[0]) + 1) - 1 if axis >= 0 else axis
            out = list(shapes[0])
            out[axis] = sum(s[axis] for s in shapes)
            return tuple(out), 0, 0
        return tuple(max(dims) for dims in zip(*shapes)), 0, 0
    if len(shapes) != 1:
        raise ModelRefused(f"layer {name!r} ({kind}) takes one input, but receives {len(shapes)}")
    shape = shapes[0]
    if kind in _SAME_SHAPE:
        params = shape_size(shape) if kind == "PReLU" else 0
        return shape, params, 0
    if kind == "Dense":
        units = cfg.get("units")
        if not isinstance(units, int) or isinstance(units, bool) or not 0 < units <= MAX_DIM or not shape:
            raise ModelRefused(f"layer {name!r} (Dense) has an invalid number of units {units!r}")
        d = shape[-1]
        params = d * units + (units if cfg.get("use_bias", True) else 0)
        return shape[:-1] + (units,), params, shape_size(shape[:-1]) * d * units
    if kind == "Conv2D":
        h, w, c, first = _spatial(shape, cfg.get("data_format") or "channels_last", name)
        filters = cfg.get("filters")
        if not isinstance(filters, int) or isinstance(filters, bool) or not 0 < filters <= MAX_DIM:
            raise ModelRefused(f"layer {name!r} (Conv2D) has an invalid number of filters {filters!r}")
        kh, kw = _pair(cfg.get("kernel_size"), "kernel_size", name)
        sh, sw = _pair(cfg.get("strides", 1), "strides", name)
        dh, dw = _pair(cfg.get("dilation_rate", 1), "dilation_rate", name)
        groups = cfg.get("groups", 1) or 1
        if not isinstance(groups, int) or groups < 1 or c % groups or filters % groups:
            raise ModelRefused(f"layer {name!r} (Conv2D) has an invalid number of groups {groups!r}")
        padding = str(cfg.get("padding", "valid")).lower()
        oh, ow = _conv_out(h, kh, sh, dh, padding), _conv_out(w, kw, sw, dw, padding)
        per = kh * kw * (c // groups)
        params = per * filters + (filters if cfg.get("use_bias", True) else 0)
        return _image(oh, ow, filters, first), params, oh * ow * filters * per
    if kind == "Conv2DTranspose":
        return _conv_transpose(cfg, shape, name)
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        h, w, c, first = _spatial(shape, cfg.get("data_format") or "channels_last", name)
        ph, pw = _pair(cfg.get("pool_size", 2), "pool_size", name)
        strides = cfg.get("strides")
        sh, sw = _pair(strides, "strides", name) if strides is not None else (ph, pw)
        padding = str(cfg.get("padding", "valid")).lower()
        return _image(_conv_out(h, ph, sh, 1, padding), _conv_out(w, pw, sw, 1, padding), c, first), 0, 0
    if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        h, w, c, first = _spatial(shape, cfg.get("data_format") or "channels_last", name)
        return ((_image(1, 1, c, first)) if cfg.get("keepdims") else (c,)), 0, 0
    if kind == "Flatten":
        return (shape_size(shape),), 0, 0
    if kind in ("BatchNormalization", "LayerNormalization"):
        axis = cfg.get("axis", -1)
        axes = axis if isinstance(axis, list) else [axis]
        if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise ModelRefused(f"layer {name!r} ({kind}) has an invalid axis {axis!r}")
        # axes count the batch axis at 0
        try:
            size = shape_size(shape[a - 1] if a > 0 else shape[a] for a in axes)
        except IndexError:
            raise ModelRefused(f"layer {name!r} ({kind}) has an axis {axis!r} outside its input shape {shape}") from None
        per = int(bool(cfg.get("center", True))) + int(bool(cfg.get("scale", True)))
        per += 2 if kind == "BatchNormalization" else 0
        return shape, per * size, 0
    if kind in ("ZeroPadding2D", "Cropping2D"):
        h, w, c, first = _spatial(shape, cfg.get("data_format") or "channels_last", name)
        key = "padding" if kind == "ZeroPadding2D" else "cropping"
        value = cfg.get(key, 1)
        if isinstance(value, int) and not isinstance(value, bool):
            value = ((value, value), (value, value))
        if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value):
            value = ((value[0], value[0]), (value[1], value[1]))
        try:
            (top, bottom), (left, right) = value
            if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_DIM
                       for v in (top, bottom, left, right)):
                raise ValueError
        except (TypeError, ValueError):
            raise ModelRefused(f"layer {name!r} ({kind}) has an invalid {key} {cfg.get(key)!r}") from None
        sign = 1 if kind == "ZeroPadding2D" else -1
        oh, ow = h + sign * (top + bottom), w + sign * (left + right)
        if oh <= 0 or ow <= 0:
            raise ModelRefused(f"layer {name!r} (Cropping2D) crops more than its input {shape}")
        return _image(oh, ow, c, first), 0, 0
    if kind == "UpSampling2D":
        h, w, c, first = _spatial(shape, cfg.get("data_format") or "channels_last", name)
        fh, fw = _pair(cfg.get("size", 2), "size", name)
        return _image(h * fh, w * fw, c, first), 0, 0
    if kind in ("Resizing", "CenterCrop", "RandomCrop"):
        h, w, c, first = _spatial(shape, cfg.get("data_format") or "channels_last", name)
        oh, ow = _pair([cfg.get("height"), cfg.get("width")], "height/width", name)
        return _image(oh, ow, c, first), 0, 0
    if kind == "Reshape":
        target = cfg.get("target_shape")
        if (not isinstance(target, (list, tuple)) or not target
                or not all(isinstance(d, int) and not isinstance(d, bool) and (d > 0 or d == -1) for d in target)
                or sum(d == -1 for d in target) > 1):
            raise ModelRefused(f"layer {name!r} (Reshape) has an invalid target shape {target!r}")
        total, known = shape_size(shape), shape_size(d for d in target if d != -1)
        out = tuple(total // known if d == -1 else d for d in target)
        if shape_size(out) != total:
            raise ModelRefused(f"layer {name!r} (Reshape) cannot reshape {shape} to {tuple(target)}")
        return out, 0, 0
    raise ModelRefused(f"the layer kind {kind:.80} (layer {name!r}) is not one the grader can check; build the "
                       "model from the course's layers (Dense, Conv2D, MaxPooling2D, Flatten, Dropout, "
                       "BatchNormalization, Activation, ...)")


def _transpose_out(n: int, k: int, s: int, d: int, padding: str, output_padding: int | None) -> int:
    """Keras's output length of a transposed convolution (keras.src.ops.operation_utils)."""
    k = (k - 1) * d + 1
    if output_padding is None:
        return n * s if padding == "same" else n * s + max(k - s, 0)
    pad = k // 2 if padding == "same" else 0
    return (n - 1) * s + k - 2 * pad + output_padding


def _conv_transpose(cfg: dict, shape: tuple, name: str) -> tuple[tuple, int, int]:
    h, w, c, first = _spatial(shape, cfg.get("data_format") or "channels_last", name)
    filters = cfg.get("filters")
    if not isinstance(filters, int) or isinstance(filters, bool) or not 0 < filters <= MAX_DIM:
        raise ModelRefused(f"layer {name!r} (Conv2DTranspose) has an invalid number of filters {filters!r}")
    kh, kw = _pair(cfg.get("kernel_size"), "kernel_size", name)
    sh, sw = _pair(cfg.get("strides", 1), "strides", name)
    dh, dw = _pair(cfg.get("dilation_rate", 1), "dilation_rate", name)
    out_pad = cfg.get("output_padding")
    if out_pad is None:
        ph = pw = None
    else:
        ph, pw = (out_pad, out_pad) if isinstance(out_pad, int) else tuple(out_pad) if isinstance(
            out_pad, (list, tuple)) and len(out_pad) == 2 else (None, -1)
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < MAX_DIM for v in (ph, pw)):
            raise ModelRefused(f"layer {name!r} (Conv2DTranspose) has an invalid output_padding {out_pad!r}")
    padding = str(cfg.get("padding", "valid")).lower()
    oh, ow = _transpose_out(h, kh, sh, dh, padding, ph), _transpose_out(w, kw, sw, dw, padding, pw)
    params = kh * kw * c * filters + (filters if cfg.get("use_bias", True) else 0)
    return _image(oh, ow, filters, first), params, h * w * c * kh * kw * filters

