"""The size of a Keras model computed from its JSON config alone, before anything is allocated.

A learner's model travels as a JSON config (`wire.ModelRef.config`). Rebuilding it with Keras
allocates every weight the config declares, and predicting with it allocates every activation:
`Dense(6_000_000)` would take gigabytes on the trusted side. `model_size(config)` walks the config
with arithmetic of its own (no Keras import, no allocation) and returns the parameter count, the
activation elements per example and the multiply-adds per example; `check_caps` refuses a model
over an exercise's caps (`[caps]` in exercise.toml) with a `ModelRefused` that names the problem
and what to do. Both `modelcheck.rebuild` and the held-out predictor (`grader.exercise.heldout`) call it
first.

The walker knows the layer kinds the course uses (Sequential and functional models); any other
kind is refused with a message naming it, never guessed. Every layer's `build_config` input shape
(which Keras uses to allocate the layer's weights) must agree with the shape the walker
propagated, so a config cannot declare a small graph and build big layers."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields

__all__ = ["Caps", "ModelSize", "ModelRefused", "model_size", "check_caps", "KNOWN_LAYERS"]

#: a model config bigger than this is not even parsed (VGG16's is about 20 kB)
MAX_CONFIG_CHARS = 8 << 20
MAX_LAYERS = 2000
MAX_DIM = 1 << 40


@dataclass(frozen=True)
class Caps:
    """What a learner's model may cost the trusted side (exercise.toml `[caps]`).

    max_params: parameters (weights) in all; max_activations: elements of every layer's output for
    one example, added up; max_macs: multiply-adds of one example (Dense and convolutions);
    predict_memory_mb / predict_seconds: the address space and wall time of the trusted held-out
    predictor process (a model within the other caps fits them; a predictor that breaks them is a
    grader fault)."""

    max_params: int = 5_000_000
    max_activations: int = 5_000_000
    max_macs: int = 2_000_000_000
    predict_memory_mb: int = 4096
    predict_seconds: float = 120.0

    @classmethod
    def from_table(cls, table: dict, where: str) -> "Caps":
        """Caps from a TOML table; ValueError naming the key on an unknown key or a bad value."""
        if not isinstance(table, dict):
            raise ValueError(f"{where}: [caps] must be a table")
        names = {f.name: f.type for f in fields(cls)}
        values = {}
        for key, value in table.items():
            if key not in names:
                raise ValueError(f"{where}: [caps] has an unknown key {key!r}; the keys are {', '.join(names)}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{where}: [caps] {key} must be a positive number, not {value!r}")
            values[key] = float(value) if key == "predict_seconds" else int(value)
        return cls(**values)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ModelSize:
    params: int
    activations: int  # per example
    macs: int  # per example
    layers: int
    output_shape: tuple


class ModelRefused(Exception):
    """A model config that is refused before anything is allocated: over a cap, an unknown layer
    kind, or a config that cannot be read. The message is the learner's (it names the problem
    and what to do)."""


# ------------------------------------------------------------------------------------------------
# shape arithmetic
# ------------------------------------------------------------------------------------------------


def _prod(shape) -> int:
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
    "Reshape", "Concatenate", "Resizing", "CenterCrop", "RandomCrop", "UpSampling2D"})


def _layer(kind: str, cfg: dict, shapes: list[tuple], name: str) -> tuple[tuple, int, int]:
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
        params = _prod(shape) if kind == "PReLU" else 0
        return shape, params, 0
    if kind == "Dense":
        units = cfg.get("units")
        if not isinstance(units, int) or isinstance(units, bool) or not 0 < units <= MAX_DIM or not shape:
            raise ModelRefused(f"layer {name!r} (Dense) has an invalid number of units {units!r}")
        d = shape[-1]
        params = d * units + (units if cfg.get("use_bias", True) else 0)
        return shape[:-1] + (units,), params, _prod(shape[:-1]) * d * units
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
        return (_prod(shape),), 0, 0
    if kind in ("BatchNormalization", "LayerNormalization"):
        axis = cfg.get("axis", -1)
        axes = axis if isinstance(axis, list) else [axis]
        if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise ModelRefused(f"layer {name!r} ({kind}) has an invalid axis {axis!r}")
        # axes count the batch axis at 0
        try:
            size = _prod(shape[a - 1] if a > 0 else shape[a] for a in axes)
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
        total, known = _prod(shape), _prod(d for d in target if d != -1)
        out = tuple(total // known if d == -1 else d for d in target)
        if _prod(out) != total:
            raise ModelRefused(f"layer {name!r} (Reshape) cannot reshape {shape} to {tuple(target)}")
        return out, 0, 0
    raise ModelRefused(f"the layer kind {kind:.80} (layer {name!r}) is not one the grader can check; build the "
                       "model from the course's layers (Dense, Conv2D, MaxPooling2D, Flatten, Dropout, "
                       "BatchNormalization, Activation, ...)")


def _input_shape(cfg: dict, name: str) -> tuple:
    shape = cfg.get("batch_shape", cfg.get("batch_input_shape"))
    if shape is None and isinstance(cfg.get("shape"), list):
        shape = [None] + cfg["shape"]
    return _full(shape, f"the input {name!r}")


def _full(shape, what: str) -> tuple:
    """A batch shape from a config (first axis the batch) as a tuple of known sizes."""
    if not isinstance(shape, (list, tuple)) or not shape:
        raise ModelRefused(f"{what} has no shape; start the model with keras.Input(shape=...)")
    dims = shape[1:]
    if not all(isinstance(d, int) and not isinstance(d, bool) and 0 < d <= MAX_DIM for d in dims):
        raise ModelRefused(f"{what} has the shape {tuple(dims)} with an unknown or invalid size; give "
                           "keras.Input a full shape such as shape=(32, 32, 1)")
    return tuple(int(d) for d in dims)


class _Walk:
    def __init__(self):
        self.params = 0
        self.activations = 0
        self.macs = 0
        self.layers = 0
        self.counted: set[str] = set()

    def call(self, layer: dict, shapes: list[tuple]) -> tuple:
        kind = layer.get("class_name")
        cfg = layer.get("config")
        if not isinstance(kind, str) or not isinstance(cfg, dict):
            raise ModelRefused("a layer of the model has no class name or config")
        name = str(cfg.get("name", layer.get("name", "?")))[:80]
        if kind in ("Sequential", "Functional", "Model"):
            raise ModelRefused(f"layer {name!r} is a model inside the model; build one flat model from layers")
        self.layers += 1
        if self.layers > MAX_LAYERS:
            raise ModelRefused(f"the model has more than {MAX_LAYERS} layers")
        out, params, macs = _layer(kind, cfg, shapes, name)
        if any(d <= 0 for d in out):
            raise ModelRefused(f"layer {name!r} ({kind}) outputs an empty shape {out} from its input {shapes}")
        build = layer.get("build_config")
        if isinstance(build, dict) and build.get("input_shape") is not None:
            declared = build["input_shape"]
            got = ([None, *shapes[0]] if len(shapes) == 1 else [[None, *s] for s in shapes])
            if _norm(declared) != _norm(got):
                raise ModelRefused(f"the configuration of layer {name!r} ({kind}) declares the input shape "
                                   f"{_norm(declared)} but receives {_norm(got)}; the model's configuration is "
                                   "inconsistent: return the model Keras built")
        if name not in self.counted:  # a shared layer's weights count once
            self.counted.add(name)
            self.params += params
        self.activations += _prod(out)
        self.macs += macs
        return out


def _norm(shape):
    if isinstance(shape, (list, tuple)):
        return [_norm(s) for s in shape]
    return shape


def _tensor_refs(node, out: list) -> None:
    """The keras_history triples of the tensors in a functional inbound node's args."""
    if isinstance(node, dict):
        if node.get("class_name") == "__keras_tensor__":
            hist = (node.get("config") or {}).get("keras_history")
            if not (isinstance(hist, list) and len(hist) == 3 and isinstance(hist[0], str)):
                raise ModelRefused("a tensor in the model's configuration has no history")
            out.append((hist[0], hist[1], hist[2]))
            return
        for v in node.values():
            _tensor_refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _tensor_refs(v, out)


def _sequential(cfg: dict, walk: _Walk) -> tuple:
    layers = cfg.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ModelRefused("the Sequential model has no layers")
    if isinstance(layers[0], dict) and layers[0].get("class_name") == "InputLayer":
        shape = _input_shape(layers[0].get("config") or {}, "input_layer")
        layers = layers[1:]
        declared = cfg.get("build_input_shape")
        if declared is not None and _full(declared, "the model's build_input_shape") != shape:
            raise ModelRefused("the model's configuration declares two different input shapes; return the model "
                               "Keras built")
    else:
        shape = _full(cfg.get("build_input_shape"), "the Sequential model")
    walk.activations += _prod(shape)
    for layer in layers:
        if not isinstance(layer, dict):
            raise ModelRefused("a layer of the model has an unknown form")
        if layer.get("class_name") == "InputLayer":
            raise ModelRefused("the Sequential model has a second input layer")
        shape = walk.call(layer, [shape])
    return shape


def _functional(cfg: dict, walk: _Walk) -> tuple:
    layers = cfg.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ModelRefused("the model has no layers")
    tensors: dict[tuple, tuple] = {}
    for layer in layers:
        if not isinstance(layer, dict):
            raise ModelRefused("a layer of the model has an unknown form")
        name = layer.get("name", (layer.get("config") or {}).get("name"))
        if not isinstance(name, str):
            raise ModelRefused("a layer of the model has no name")
        if layer.get("class_name") == "InputLayer":
            shape = _input_shape(layer.get("config") or {}, name)
            walk.activations += _prod(shape)
            tensors[(name, 0, 0)] = shape
            continue
        nodes = layer.get("inbound_nodes")
        if not isinstance(nodes, list) or not nodes:
            raise ModelRefused(f"layer {name!r} is not connected to the model's inputs")
        for index, node in enumerate(nodes):
            refs: list = []
            _tensor_refs(node.get("args") if isinstance(node, dict) else node, refs)
            if not refs:
                raise ModelRefused(f"layer {name!r} has a call without inputs")
            try:
                shapes = [tensors[tuple(r)] for r in refs]
            except (KeyError, TypeError):
                raise ModelRefused(f"layer {name!r} uses a tensor that no earlier layer made; the model's "
                                   "configuration cannot be read") from None
            tensors[(name, index, 0)] = walk.call(layer, shapes)
    outputs = cfg.get("output_layers")
    refs: list = []
    if isinstance(outputs, list) and len(outputs) == 3 and isinstance(outputs[0], str):
        refs = [tuple(outputs)]
    elif isinstance(outputs, list):
        refs = [tuple(o) for o in outputs if isinstance(o, list) and len(o) == 3]
    if not refs or any(r not in tensors for r in refs):
        raise ModelRefused("the model's outputs are not made by its layers; the configuration cannot be read")
    shapes = [tensors[r] for r in refs]
    return shapes[0] if len(shapes) == 1 else tuple(shapes)


def model_size(config) -> ModelSize:
    """The size of the model a Keras JSON config (a str or the parsed dict) describes; ModelRefused
    when it cannot be computed (unknown layer kind, unreadable or inconsistent config)."""
    if isinstance(config, str):
        if len(config) > MAX_CONFIG_CHARS:
            raise ModelRefused(f"the model's configuration is over {MAX_CONFIG_CHARS >> 20} MB of text")
        try:
            config = json.loads(config)
        except ValueError:
            raise ModelRefused("the model's configuration is not valid JSON") from None
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ModelRefused("the model's configuration cannot be read")
    kind = config.get("class_name")
    walk = _Walk()
    if kind == "Sequential":
        out = _sequential(config["config"], walk)
    elif kind in ("Functional", "Model"):
        out = _functional(config["config"], walk)
    else:
        raise ModelRefused(f"the model is a {kind!s:.80}, not a keras.Sequential or functional keras.Model; "
                           "build it with keras.Sequential or the functional API")
    return ModelSize(walk.params, walk.activations, walk.macs, walk.layers, out)


def check_caps(config, caps: Caps, what: str = "your model") -> ModelSize:
    """`model_size(config)` within `caps`, else ModelRefused with the learner's message."""
    try:
        size = model_size(config)
    except ModelRefused as err:
        raise ModelRefused(f"{what} cannot be checked: {err}") from None
    except RecursionError:
        raise ModelRefused(f"{what} cannot be checked: its configuration is nested too deeply") from None
    for value, cap, noun in ((size.params, caps.max_params, "parameters"),
                             (size.activations, caps.max_activations, "activation values per example "
                                                                      "(the outputs of all its layers)"),
                             (size.macs, caps.max_macs, "multiply-adds per example")):
        if value > cap:
            raise ModelRefused(f"{what} has {value:,} {noun}, over this exercise's limit of {cap:,}; build the "
                               "model the exercise asks for (check the layer sizes: units, filters, padding), "
                               "nothing was allocated")
    return size
