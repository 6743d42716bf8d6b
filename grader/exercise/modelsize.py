"""The size of a Keras model computed from its JSON config alone, before anything is allocated.

A learner's model travels as a JSON config (`wire.ModelRef.config`). Rebuilding it with Keras
allocates every weight the config declares, and predicting with it allocates every activation:
`Dense(6_000_000)` would take gigabytes on the trusted side. `model_size(config)` walks the config
with arithmetic of its own (no Keras import, no allocation) and returns the parameter count, the
activation elements per example, the multiply-adds per example and the model's layer table (each
layer's class, output shape and parameters, as Keras's summary lists them); `check_caps` refuses a model
over an exercise's caps (`[caps]` in exercise.toml) with a `ModelRefused` that names the problem
and what to do. Both `modelcheck.rebuild` and the held-out predictor (`grader.exercise.heldout`) call it
first.

The walker knows the layer kinds the course uses (Sequential and functional models, a model used
as a layer of another, to `MAX_NESTING` deep; the arithmetic of each kind is in
`grader.exercise.layer_shapes`); any other kind is refused with a message naming it, never guessed. Every layer's `build_config` input shape
(which Keras uses to allocate the layer's weights) must agree with the shape the walker
propagated, so a config cannot declare a small graph and build big layers."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

from grader.exercise.layer_shapes import KNOWN_LAYERS, MAX_DIM, ModelRefused, layer_cost, shape_size

__all__ = ["Caps", "LayerRow", "ModelSize", "ModelRefused", "model_size", "check_caps", "input_shapes",
           "output_shapes", "KNOWN_LAYERS"]

#: a model config bigger than this is not even parsed (VGG16's is about 20 kB)
MAX_CONFIG_CHARS = 8 << 20
MAX_LAYERS = 2000


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
class LayerRow:
    """One layer as a Keras summary shows it."""

    kind: str
    output_shape: tuple
    params: int

    def __str__(self) -> str:
        return f"{self.kind} {self.output_shape} {self.params:,} params"


@dataclass(frozen=True)
class ModelSize:
    params: int
    activations: int  # per example
    macs: int  # per example
    layers: int
    output_shape: tuple  # one output's shape, or a tuple of shapes for several outputs
    input_shapes: tuple = ()  # each input's shape per example, in the model's input order
    output_shapes: tuple = ()  # each output's shape per example
    #: the outermost model's layers in `model.layers` order, without InputLayers: a model used as a
    #: layer is one row (its class, output, all its parameters), a layer called twice is listed once
    rows: tuple[LayerRow, ...] = ()


#: how deep models may nest inside models (a base model used as a layer: transfer learning)
MAX_NESTING = 4


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
        self.counted: set[int] = set()  # the layers (their config entries) whose weights are counted
        self.named: dict[str, int] = {}  # each layer's full name (within its model) -> its config entry
        self.prefix = ""  # the names of the models a nested layer lies in ("base/")
        self.depth = 0
        self.inputs: list[tuple] = []  # the outermost model's input shapes, in order
        self.rows: list[LayerRow] = []  # the outermost model's layer table (depth 0 only)
        self.listed: set[int] = set()  # the layers (config entries) already in `rows`

    def nested(self, layer: dict, kind: str, cfg: dict, shapes: list[tuple], name: str) -> tuple:
        """A model used as a layer (a base model inside a transfer-learning model): its own layers
        are walked on the shapes it is called on, which must be the shapes it was built for."""
        if self.depth >= MAX_NESTING:
            raise ModelRefused(f"layer {name!r} nests models more than {MAX_NESTING} deep")
        inner = _Walk()
        inner.counted, inner.named, inner.depth, inner.layers = self.counted, self.named, self.depth + 1, self.layers
        inner.prefix = f"{self.prefix}{cfg.get('name', layer.get('name', '?'))}/"
        out = _walk_model(kind, cfg, inner)
        if len(inner.inputs) != len(shapes) or any(tuple(a) != tuple(b) for a, b in zip(inner.inputs, shapes)):
            raise ModelRefused(f"the model {name!r} inside the model was built for inputs {inner.inputs} but "
                               f"receives {list(shapes)}")
        if isinstance(out, tuple) and out and isinstance(out[0], tuple):
            raise ModelRefused(f"the model {name!r} inside the model has several outputs; use one output")
        self.layers = inner.layers
        self.params += inner.params
        self.activations += inner.activations - sum(shape_size(s) for s in inner.inputs)  # its inputs are counted
        self.macs += inner.macs
        self.list(layer, kind, out, inner.params)
        return out

    def list(self, layer: dict, kind: str, out: tuple, params: int) -> None:
        """A row of the outermost model's layer table, at the layer's first call."""
        if self.depth == 0 and id(layer) not in self.listed:
            self.listed.add(id(layer))
            self.rows.append(LayerRow(kind, tuple(out), params))

    def identify(self, layer: dict, full_name: str, name: str) -> None:
        """A layer is one config entry (called once, or several times when shared); two entries with
        one name are a configuration Keras never writes (its names are unique in a model), and would
        have one layer's weights stand for two in the count."""
        if self.named.setdefault(self.prefix + full_name, id(layer)) != id(layer):
            raise ModelRefused(f"two layers of the model are both named {name!r}; the model's configuration is "
                               "inconsistent: return the model Keras built")

    def call(self, layer: dict, shapes: list[tuple]) -> tuple:
        kind = layer.get("class_name")
        cfg = layer.get("config")
        if not isinstance(kind, str) or not isinstance(cfg, dict):
            raise ModelRefused("a layer of the model has no class name or config")
        full_name = str(cfg.get("name", layer.get("name", "?")))
        name = full_name[:80]  # for messages
        self.identify(layer, full_name, name)
        if kind in ("Sequential", "Functional", "Model"):
            return self.nested(layer, kind, cfg, shapes, name)
        self.layers += 1
        if self.layers > MAX_LAYERS:
            raise ModelRefused(f"the model has more than {MAX_LAYERS} layers")
        out, params, macs = layer_cost(kind, cfg, shapes, name)
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
        if id(layer) not in self.counted:  # a shared layer's weights count once
            self.counted.add(id(layer))
            self.params += params
        self.activations += shape_size(out)
        self.macs += macs
        self.list(layer, kind, out, params)
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
    walk.inputs.append(shape)
    walk.activations += shape_size(shape)
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
            walk.activations += shape_size(shape)
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
    walk.inputs.extend(_functional_inputs(cfg, tensors))
    return shapes[0] if len(shapes) == 1 else tuple(shapes)


def _functional_inputs(cfg: dict, tensors: dict) -> list[tuple]:
    """The functional model's input shapes in the order of its `input_layers` (the order its
    call takes them)."""
    inputs = cfg.get("input_layers")
    if isinstance(inputs, dict):  # keras.Model({"image": ..., "numbers": ...}): model.inputs sorts the keys
        inputs = [inputs[k] for k in sorted(inputs)]
    if isinstance(inputs, list) and len(inputs) == 3 and isinstance(inputs[0], str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs:
        raise ModelRefused("the model's inputs cannot be read from its configuration")
    refs = [tuple(i) for i in inputs if isinstance(i, list) and len(i) == 3]
    if len(refs) != len(inputs) or any(r not in tensors for r in refs):
        raise ModelRefused("the model's inputs are not among its layers; the configuration cannot be read")
    return [tensors[r] for r in refs]


def _walk_model(kind: str, cfg: dict, walk: _Walk):
    if kind == "Sequential":
        return _sequential(cfg, walk)
    if kind in ("Functional", "Model"):
        return _functional(cfg, walk)
    raise ModelRefused(f"the model is a {kind!s:.80}, not a keras.Sequential or functional keras.Model; "
                       "build it with keras.Sequential or the functional API")


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
    walk = _Walk()
    out = _walk_model(config.get("class_name"), config["config"], walk)
    outputs = list(out) if out and isinstance(out[0], tuple) else [out]
    return ModelSize(walk.params, walk.activations, walk.macs, walk.layers, out, tuple(walk.inputs), tuple(outputs),
                     tuple(walk.rows))


def input_shapes(config) -> list[tuple[int, ...]]:
    """The per-example shape of each of the model's inputs, in the order the model takes them
    (ModelRefused when the config cannot be read)."""
    return list(model_size(config).input_shapes)


def output_shapes(config) -> list[tuple[int, ...]]:
    """The per-example shape of each of the model's outputs, in order."""
    return list(model_size(config).output_shapes)


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
