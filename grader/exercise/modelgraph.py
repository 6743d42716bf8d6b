"""The paths through a rebuilt Keras model (trusted side): its bottleneck, the narrowest place that
every path from the input to the output must pass (an autoencoder's code), and every layer of it,
nested models included.

`bottleneck(model)` is the widest-path value of the model's graph: over all paths from an input to
an output, the largest of each path's narrowest layer (values per example). A plain chain's
bottleneck is its narrowest layer; a shortcut around a narrow layer (an `Add` or `Concatenate`
with the input) makes the bottleneck as wide as the shortcut. The graph is read from the model's
own configuration (the layers' inbound nodes) and the sizes from the rebuilt layers; Keras is
never imported here (the model is given)."""

from __future__ import annotations

import math

__all__ = ["bottleneck", "all_layers", "output_size"]

_UNBOUNDED = math.inf


def output_size(layer) -> float:
    """The number of values per example a layer (or nested model) outputs; several outputs add
    up; unbounded when Keras does not know it (a layer called more than once has no single size)."""
    try:
        out = layer.output
    except (AttributeError, ValueError, RuntimeError):
        return _UNBOUNDED
    outs = out if isinstance(out, (list, tuple)) else [out]
    total = 0
    for tensor in outs:
        dims = tuple(tensor.shape)[1:]
        if any(d is None for d in dims):
            return _UNBOUNDED
        total += math.prod(int(d) for d in dims)
    return total


def _is_model(layer) -> bool:
    return hasattr(layer, "layers") and hasattr(layer, "get_config") and hasattr(layer, "inputs")


def all_layers(model) -> list:
    """Every layer of `model`, the layers of nested models (and the models themselves) included,
    in order."""
    out = []
    for layer in model.layers:
        out.append(layer)
        if _is_model(layer):
            out.extend(all_layers(layer))
    return out


def _refs(node, out: list) -> None:
    """The layer names of the tensors a functional inbound node takes (its keras_history)."""
    if isinstance(node, dict):
        if node.get("class_name") == "__keras_tensor__":
            hist = (node.get("config") or {}).get("keras_history")
            if isinstance(hist, (list, tuple)) and hist and isinstance(hist[0], str):
                out.append(hist[0])
            return
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _refs(value, out)


def _names(refs) -> list[str]:
    """Layer names from a config's input_layers / output_layers (one triple or a list of them)."""
    if isinstance(refs, (list, tuple)) and len(refs) == 3 and isinstance(refs[0], str):
        refs = [refs]
    return [r[0] for r in refs or [] if isinstance(r, (list, tuple)) and r and isinstance(r[0], str)]


def _width(layer, depth: int) -> float:
    """How many values per example pass this layer: its output's size, and for a nested model no
    more than its own bottleneck."""
    size = output_size(layer)
    if _is_model(layer):
        size = min(size, _widest(layer, depth + 1))
    return size


def _widest(model, depth: int = 0) -> float:
    if depth > 8:
        return _UNBOUNDED  # deeper nesting than any course model: not narrow
    if type(model).__name__ == "Sequential":
        return min((_width(layer, depth) for layer in model.layers), default=_UNBOUNDED)
    config = model.get_config()
    entries = [e for e in config.get("layers", []) if isinstance(e, dict)]
    parents: dict[str, list[str]] = {}
    inputs = set(_names(config.get("input_layers")))
    for entry in entries:
        name = entry.get("name") or (entry.get("config") or {}).get("name")
        if not isinstance(name, str):
            continue
        found: list[str] = []
        _refs(entry.get("inbound_nodes"), found)
        parents[name] = found
        if entry.get("class_name") == "InputLayer":
            inputs.add(name)
    layers = {layer.name: layer for layer in model.layers}
    shared = {e.get("name") for e in entries if len(e.get("inbound_nodes") or []) > 1}
    widths = {name: _UNBOUNDED for name in inputs}
    for _ in range(len(parents) + 1):  # the config lists layers in order; repeat until nothing changes
        changed = False
        for name, ups in parents.items():
            if name in inputs or not any(u in widths for u in ups) or name not in layers:
                continue
            own = _UNBOUNDED if name in shared else _width(layers[name], depth)
            value = min(own, max(widths[u] for u in ups if u in widths))
            if widths.get(name) != value:
                widths[name], changed = value, True
        if not changed:
            break
    outs = [widths[o] for o in _names(config.get("output_layers")) if o in widths]
    return max(outs) if outs else _UNBOUNDED


def bottleneck(model) -> float:
    """The widest-path value of `model` (a rebuilt Sequential or functional Keras model): the
    largest, over all paths from an input to an output, of the fewest values per example that a
    layer on the path outputs (the inputs themselves not counted). Below the input's size, the
    model squeezes everything through a code of at most that many values; `math.inf` when some
    path has no layer of known size."""
    return _widest(model)
