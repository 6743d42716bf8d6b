"""The data-only wire format between the trusted grader and the sandbox.

A frame is an 8-byte big-endian length, then a 4-byte header length, a UTF-8 JSON header and the
binary blobs the header refers to (numpy arrays in `.npy` form, read with `allow_pickle=False`).
Values are a tagged tree, so a learner's dict can never be mistaken for an array:

    None, bool, int, float, str    as themselves
    {"L": [...]}  list             {"T": [...]}  tuple
    {"D": [[key, value], ...]}     dict with str keys
    {"K": [[key, value], ...]}     dict with int keys (numpy integer keys arrive as int)
    {"A": i}      numpy array      (blob i; numbers, booleans or unicode strings)
    {"S": i}      numpy scalar     (blob i, a 0-d array)
    {"R": seed}   numpy.random.Generator made from seed (trusted side -> sandbox only)
    {"M": {...}}  a Keras model described as data: handle, JSON config, compile config,
                  weights (sandbox -> trusted side only; decoded as `ModelRef`)
    {"H": n}      a handle to a model that lives in the sandbox (trusted side -> sandbox only)
    {"F": {"kind": k, "params": {...}}}  a `Surface` (a known function: polynomial, bowl, saddle,
                  Rosenbrock), trusted side -> sandbox only, where it arrives as `SurfaceGrad`:
                  a plain callable that returns the gradient, with `.value(w)`
    {"I": [d, ...]}  a `KerasInput`: the shape of a symbolic Keras input (1 to 4 sizes of 1 to
                  4096, no batch dimension), trusted side -> sandbox only, where it arrives as
                  `keras.Input(shape=...)` (Keras is imported then); a call that returns a Keras
                  tensor built on it comes back as a model (`{"M": ...}`, made by the runner)

Nothing here unpickles or evaluates anything. Decoding validates every node (tags, key types,
depth, counts, sizes, dtypes) and raises `WireError` on anything else. On the trusted side decoding
also cleans every string once (`clean_text`: lone surrogates replaced, control characters and bidi
overrides removed, a length cap), so nothing downstream meets raw sandbox text; the runner's hello
is read with `hello_info` (device "cpu" or "gpu", a few known version strings).

This module runs inside the sandbox too, so it imports only the standard library and numpy.
One module of ~700 lines on purpose: the sandbox sees this file and `runner.py` alone (see there),
so the functions a `Surface` describes are computed here, by the same code on both sides.
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import struct
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only; numpy itself is imported on first use (_numpy)
    import numpy as np


MAX_DEPTH = 32
MAX_NODES = 1_000_000
MAX_STRING = 1 << 20    # a string inside a returned value (longer: the answer is refused)
MAX_TEXT = 8000         # a string in a header: an exception's message or traceback, a status
MAX_CONFIG = 8 << 20    # a Keras model's JSON config (a VGG16's is about 30 kB; 8 MiB is plenty)
MAX_INT = 1 << 63       # Python ints travel within the 64-bit range
MAX_NAME = 200          # a model's name
MAX_OUTPUT = 1 << 20    # captured stdout/stderr, after the byte cap of the sandbox's limits
ALLOWED_KINDS = "biufcU"  # numbers, booleans, unicode strings (each at most MAX_STRING characters)
MAX_STRINGS = 1_000_000  # strings in one array (a label per sample; each cleaned on the trusted side)
MAX_COEFFS = 64         # a polynomial Surface's coefficients
MAX_PARAM = 1e12        # a Surface's parameters are finite numbers of at most this magnitude
MAX_INPUT_RANK = 4      # a KerasInput's shape: 1 to 4 sizes (no batch dimension) ...
MAX_INPUT_DIM = 4096    # ... each a whole number from 1 to 4096

# C0 controls but tab and newline, DEL, C1 controls (ESC, CSI, OSC... start terminal sequences), and
# the bidi embeddings, overrides and isolates that reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_C1 = re.compile("[\x80-\x9f]")
# Whole terminal sequences first, so "\x1b[31mred" reads "red" (OSC/DCS/APC/PM/SOS up to their
# terminator, CSI up to its final byte, then two-character escapes), with their C1 forms.
_SEQUENCE = re.compile("(?:\x1b[]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\\\|\x9c)?"
                       "|(?:\x1b\\[|\x9b)[0-?]{0,64}[ -/]{0,16}[@-~]?"
                       "|\x1b[ -/]{0,4}[0-~]?")


def clean_text(text: str, limit: int = MAX_TEXT) -> str:
    """`text` made safe to store, print and encode: lone surrogates become U+FFFD, a CR or CRLF
    becomes a newline, other control characters (ESC included) and bidi overrides are removed,
    and it is cut to at most `limit` characters, saying so."""
    text = str.__str__(text) if isinstance(text, str) else str(text)
    total = len(text)
    if total > 4 * limit + 64:  # never clean megabytes that are cut anyway
        text = text[:4 * limit + 64]
    text = _SURROGATE.sub("\ufffd", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x1b" in text or _C1.search(text):
        text = _SEQUENCE.sub("", text)
    text = _CONTROL.sub("", text)
    if len(text) > limit:
        cut = len(text) - limit + total - min(total, 4 * limit + 64)
        note = " [... cut]" if limit < 200 else f"\n[... {cut} more characters were cut]"
        text = text[:max(limit - len(note), 0)] + note[:limit]
    return text


def clean_tree(node, limit: int = MAX_TEXT, depth: int = 0):
    """A JSON tree (a frame header) with every string, keys included, passed through `clean_text`."""
    if depth > MAX_DEPTH:
        raise WireError("a frame header is nested too deeply")
    if type(node) is str:
        return clean_text(node, limit)
    if type(node) is list:
        return [clean_tree(v, limit, depth + 1) for v in node]
    if type(node) is dict:
        return {clean_text(k, MAX_NAME): clean_tree(v, limit, depth + 1) for k, v in node.items()}
    return node


VERSION_KEYS = ("python", "numpy", "keras", "backend", "tensorflow", "jax", "torch")
BACKENDS = ("tensorflow", "jax", "torch", "numpy")
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_-]{0,39}")


def hello_info(hello: dict) -> tuple[dict, list[str]]:
    """(info, notes) from the runner's hello (sent before any learner code ran): info is
    {"device": "cpu" | "gpu", "versions": {known key: short version string}}; notes say what was
    dropped, for the instructor."""
    notes = []
    device = hello.get("device", "cpu")
    if device not in ("cpu", "gpu"):
        notes.append(f"the sandbox reported the device {clean_text(repr(device), 60)}; recorded as cpu")
        device = "cpu"
    versions, raw = {}, hello.get("versions", {})
    if type(raw) is not dict:
        notes.append("the sandbox's versions were not a dict; ignored")
        raw = {}
    for key, value in raw.items():
        ok = key in VERSION_KEYS and type(value) is str and _VERSION.fullmatch(value) is not None
        if ok and key == "backend":
            ok = value in BACKENDS
        if ok:
            versions[key] = value
        else:
            notes.append(f"the sandbox reported the version {clean_text(repr(key), 40)}: "
                         f"{clean_text(repr(value), 60)}; ignored")
    return {"device": device, "versions": versions}, notes[:8]


class WireError(Exception):
    """A frame or value that does not follow the format, or a channel that broke."""


class Unsendable(WireError):
    """A value of a type that cannot cross the boundary (the message names the type)."""


class RngSeed:
    """Placeholder for `{"R": seed}`; the sandbox side turns it into a Generator."""

    def __init__(self, seed: int):
        self.seed = int(seed)


class ModelExport:
    """Sandbox side: a Keras model as data, plus the handle the sandbox keeps it under."""

    def __init__(self, handle: int, name: str, config: str, compile_config: str | None, weights: list):
        self.handle, self.name, self.config = handle, name, config
        self.compile_config, self.weights = compile_config, weights


class ModelRef:
    """Trusted side: what the sandbox said about one of its Keras models. `config` is the
    model's JSON config (rebuild it only in safe mode), `compile_config` JSON or None, `weights`
    validated numeric arrays. Passing a ModelRef back to the sandbox passes its handle."""

    def __init__(self, handle: int, name: str, config: str, compile_config: str | None, weights: list):
        self.handle, self.name, self.config = handle, name, config
        self.compile_config, self.weights = compile_config, weights
        self.session = None  # set by the trusted side, to run `predict` in the sandbox
        self.sandbox_start = None  # which start of the session's sandbox holds it (set with `session`)
        self.architecture_only = False  # asked for as architecture: config alone, no weights, no sandbox

    def stale(self) -> bool:
        """True when the sandbox that held this model has been restarted since (a test stopped the
        learner's code): its handle names nothing, or another model, in the new sandbox. A model
        described as architecture only is held by no sandbox: its config never goes stale."""
        return self.session is not None and not self.architecture_only and not self.session.holds(self)

    def __repr__(self) -> str:
        return f"<model {self.name!r} in the sandbox (handle {self.handle})>"

    def predict(self, x, batch_size: int = 256):
        """The sandbox's model applied to `x` (runs in the sandbox; returns an array)."""
        if self.session is None:
            raise RuntimeError("this model description is not connected to a sandbox")
        if self.architecture_only:
            raise RuntimeError("this model was asked for as architecture only: it has no weights to predict with")
        return self.session.predict(self, x, batch_size)

    def trained(self) -> "ModelRef":
        """A fresh description of the sandbox's live model with its current (trained) weights."""
        if self.session is None:
            raise RuntimeError("this model description is not connected to a sandbox")
        if self.architecture_only:
            raise RuntimeError("this model was asked for as architecture only: it has no weights")
        return self.session.describe(self)


NUMERIC_KINDS = "biufc"


def _dict_key(key, np):
    """A dict key as it travels: a str, or a Python int (numpy integers included, bools not)."""
    if isinstance(key, str):
        return str.__str__(key)
    if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
        key = int(key)
        if not -MAX_INT <= key < MAX_INT:
            raise Unsendable("a dict key outside the 64-bit range")
        return key
    raise Unsendable(f"a dict with a key of type {type(key).__name__} (keys must be all strings or all integers)")


_SURFACE_PARAMS = {"polynomial": ("coeffs",), "bowl": ("scale",), "saddle": (), "rosenbrock": ("a", "b")}


def _check_surface(kind, params, error=ValueError) -> dict:
    """The parameters of a Surface of `kind`, validated (known kind, exactly its parameters,
    finite numbers of at most MAX_PARAM in magnitude, 1 to MAX_COEFFS coefficients), as plain
    floats; anything else raises `error` with a one-line message."""
    if type(kind) is not str or kind not in _SURFACE_PARAMS:
        raise error(f"an unknown function kind {clean_text(repr(kind), 60)} "
                    f"(known: {', '.join(_SURFACE_PARAMS)})")
    if type(params) is not dict or set(params) != set(_SURFACE_PARAMS[kind]):
        raise error(f"a {kind} function takes exactly the parameters ({', '.join(_SURFACE_PARAMS[kind])})")

    np = _numpy()

    def number(name, v):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise error(f"the {kind} function's {name} is not a number")
        try:
            v = float(v)
        except OverflowError:
            v = float("inf")
        if not abs(v) <= MAX_PARAM:  # NaN fails this too
            raise error(f"the {kind} function's {name} is {v}; it must be finite and at most {MAX_PARAM:g} in size")
        return v
    out = {}
    for name in _SURFACE_PARAMS[kind]:
        if name == "coeffs":
            coeffs = params[name]
            if type(coeffs) not in (list, tuple) or not 1 <= len(coeffs) <= MAX_COEFFS:
                raise error(f"a polynomial takes a list of 1 to {MAX_COEFFS} coefficients")
            out[name] = [number("coefficient", c) for c in coeffs]
        else:
            out[name] = number(name, params[name])
    return out


class Surface:
    """A known function, sent to the sandbox as data (a descriptor), where the learner receives it
    as a `SurfaceGrad`. Build one with `Surface.polynomial(coeffs)` (1-D, lowest power first, as
    numpy.polynomial), `Surface.bowl(scale)` (scale * sum(w**2), any shape), `Surface.saddle()`
    (x**2 - y**2) or `Surface.rosenbrock(a, b)` ((a - x)**2 + b * (y - x**2)**2); w of shape (2,)
    for the last two. `.value(w)` and `.grad(w)` compute f and its gradient: a float for a number
    or 0-d input, else an array of w's shape."""

    def __init__(self, kind: str, params: dict):
        self.kind = kind
        self.params = _check_surface(kind, params)

    @classmethod
    def polynomial(cls, coeffs) -> "Surface":
        """f(x) = sum(coeffs[i] * x**i): the highest power last (numpy.polynomial's order)."""
        return cls("polynomial", {"coeffs": list(coeffs)})

    @classmethod
    def bowl(cls, scale: float = 1.0) -> "Surface":
        """f(w) = scale * sum(w**2), for w of any shape."""
        return cls("bowl", {"scale": scale})

    @classmethod
    def saddle(cls) -> "Surface":
        """f(x, y) = x**2 - y**2, for w = (x, y)."""
        return cls("saddle", {})

    @classmethod
    def rosenbrock(cls, a: float = 1.0, b: float = 100.0) -> "Surface":
        """f(x, y) = (a - x)**2 + b * (y - x**2)**2, for w = (x, y)."""
        return cls("rosenbrock", {"a": a, "b": b})

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"Surface.{self.kind}({args})"

    def _input(self, w):
        np = _numpy()
        try:
            arr = np.asarray(w, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"the {self.kind} function takes numbers, not {type(w).__name__}") from None
        if self.kind in ("saddle", "rosenbrock") and arr.shape != (2,):
            raise ValueError(f"the {self.kind} function takes w of shape (2,), not {arr.shape}")
        return np, arr

    @staticmethod
    def _output(arr):
        return float(arr) if arr.ndim == 0 else arr

    def value(self, w):
        """f(w): a float (a polynomial of an array: the array of its values)."""
        np, w = self._input(w)
        p = self.params
        with np.errstate(all="ignore"):  # a diverging descent reaches inf, as it would by hand
            if self.kind == "polynomial":
                out = np.zeros_like(w)
                for c in reversed(p["coeffs"]):
                    out = out * w + c
                return self._output(out)
            if self.kind == "bowl":
                return float(p["scale"] * np.sum(w * w))
            x, y = w
            if self.kind == "saddle":
                return float(x * x - y * y)
            return float((p["a"] - x) ** 2 + p["b"] * (y - x * x) ** 2)

    def grad(self, w):
        """The gradient at w: a float for a number or 0-d input, else an array of w's shape."""
        np, w = self._input(w)
        p = self.params
        with np.errstate(all="ignore"):
            if self.kind == "polynomial":
                out = np.zeros_like(w)
                coeffs = p["coeffs"]
                for i in range(len(coeffs) - 1, 0, -1):
                    out = out * w + i * coeffs[i]
                return self._output(out)
            if self.kind == "bowl":
                return self._output(2.0 * p["scale"] * w)
            x, y = w
            if self.kind == "saddle":
                return np.array([2.0 * x, -2.0 * y])
            a, b = p["a"], p["b"]
            return np.array([-2.0 * (a - x) - 4.0 * b * x * (y - x * x), 2.0 * b * (y - x * x)])


class SurfaceGrad:
    """Sandbox side: the function a `Surface` describes, handed to the learner's code as
    `grad`: `grad(w)` is the gradient at w, `grad.value(w)` is f(w)."""

    __slots__ = ("_surface",)

    def __init__(self, surface: Surface):
        self._surface = surface

    def __call__(self, w):
        return self._surface.grad(w)

    def value(self, w):
        """f(w)."""
        return self._surface.value(w)

    def __repr__(self) -> str:
        return f"<gradient of {self._surface!r}>"


def _check_input_shape(shape, error=ValueError) -> tuple:
    """A KerasInput's shape, validated (a list or tuple of 1 to MAX_INPUT_RANK whole numbers from 1
    to MAX_INPUT_DIM; bools are not numbers), as a tuple of ints; anything else raises `error`."""
    if type(shape) not in (list, tuple) or not 1 <= len(shape) <= MAX_INPUT_RANK:
        raise error(f"a Keras input's shape is a tuple of 1 to {MAX_INPUT_RANK} sizes without the batch "
                    f"dimension, not {clean_text(repr(shape), 60)}")
    np = _numpy()
    out = []
    for size in shape:
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) \
                or not 1 <= int(size) <= MAX_INPUT_DIM:
            raise error(f"a Keras input's sizes are whole numbers from 1 to {MAX_INPUT_DIM}, "
                        f"not {clean_text(repr(size), 60)}")
        out.append(int(size))
    return tuple(out)


class KerasInput:
    """A symbolic Keras input, sent to the sandbox as data (its shape, without the batch
    dimension), where the learner's function receives `keras.Input(shape=shape)`. A call that
    returns a Keras tensor computed from it comes back as a `ModelRef` of
    `keras.Model(inputs=<the call's KerasInputs, in order>, outputs=<the tensor>)`, e.g.
    `submission.inception_module(KerasInput((28, 28, 192)), 64, 96, 128, 16, 32, 32)`."""

    def __init__(self, shape):
        self.shape = _check_input_shape(shape)

    def __repr__(self) -> str:
        return f"KerasInput({self.shape!r})"


def _keras_input(shape: tuple):
    """`keras.Input(shape=shape)`: sandbox side, where Keras is imported when the first one arrives."""
    import keras
    return keras.Input(shape=shape)


def _numpy():
    """numpy, imported when a value is first encoded or decoded: commands that only clean text
    (`dlgrade status`, `feedback`) use `clean_text` and stay light."""
    import numpy
    return numpy


def _encode_value(value, blobs: list, depth: int = 0, rng_type=None):
    np = _numpy()
    if depth > MAX_DEPTH:
        raise Unsendable("the value is nested too deeply")
    # Exact checks first: subclasses of the basic types are converted to their base value, so
    # an object with a custom __eq__ never travels.
    if value is None or type(value) is bool:
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):  # numpy.str_ included: a string travels as a plain str
        return str.__str__(value)
    if isinstance(value, np.generic):  # before float: np.float64 is a float; keep its dtype
        arr = np.asarray(value)
        if arr.dtype.kind not in NUMERIC_KINDS or arr.dtype.fields is not None:
            raise Unsendable(f"a numpy scalar of dtype {arr.dtype}")
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.array(arr, copy=True).view(np.ndarray), allow_pickle=False)
        blobs.append(buf.getvalue())
        return {"S": len(blobs) - 1}
    if isinstance(value, int):
        value = int.__int__(value) if type(value) is not int else value
        if not -MAX_INT <= value < MAX_INT:
            raise Unsendable("an integer outside the 64-bit range")
        return value
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, np.ndarray):
        arr = np.asarray(value)
        if arr.dtype.kind not in ALLOWED_KINDS or arr.dtype.fields is not None:
            raise Unsendable(f"a numpy array of dtype {arr.dtype} (only numbers, booleans and strings can be sent)")
        if arr.dtype.kind == "U" and arr.dtype.itemsize // 4 > MAX_STRING:
            raise Unsendable(f"an array of strings of up to {arr.dtype.itemsize // 4} characters "
                             f"(the limit is {MAX_STRING})")
        if arr.dtype.kind == "U" and arr.size > MAX_STRINGS:
            raise Unsendable(f"an array of {arr.size} strings (the limit is {MAX_STRINGS})")
        buf = io.BytesIO()
        # a 0-d array is always contiguous, and stays 0-d (np.ascontiguousarray would make it (1,));
        # a contiguous array is written without a copy
        arr = arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)
        np.lib.format.write_array(buf, arr.view(np.ndarray), allow_pickle=False)
        blobs.append(buf.getvalue())
        return {"A": len(blobs) - 1}
    if isinstance(value, tuple):
        return {"T": [_encode_value(v, blobs, depth + 1, rng_type) for v in tuple.__iter__(value)]}
    if isinstance(value, list):
        return {"L": [_encode_value(v, blobs, depth + 1, rng_type) for v in list.__iter__(value)]}
    if isinstance(value, dict):
        keys = [_dict_key(k, np) for k in dict.keys(value)]
        kinds = {type(k) for k in keys}
        if len(kinds) > 1:
            raise Unsendable("a dict whose keys mix strings and integers (keys must be all strings or all integers)")
        items = [[k, _encode_value(v, blobs, depth + 1, rng_type)] for k, v in zip(keys, dict.values(value))]
        return {"K" if kinds == {int} else "D": items}
    if isinstance(value, KerasInput):
        return {"I": list(_check_input_shape(value.shape, Unsendable))}
    if isinstance(value, Surface):
        return {"F": {"kind": value.kind, "params": _check_surface(value.kind, value.params, Unsendable)}}
    if rng_type is not None and isinstance(value, rng_type):
        return {"R": value.seed}
    if isinstance(value, ModelExport):
        return {"M": {"handle": value.handle, "name": str(value.name), "config": str(value.config),
                      "compile": value.compile_config if value.compile_config is None else str(value.compile_config),
                      "weights": [_encode_value(np.asarray(w), blobs, depth + 1) for w in value.weights]}}
    if isinstance(value, ModelRef):
        return {"H": value.handle}
    raise Unsendable(f"a value of type {type(value).__name__}")


def encode(header: dict, value=None, rng_type=None) -> bytes:
    """Frame a message: `header` is plain JSON data, `value` any sendable value."""
    blobs: list[bytes] = []
    head = dict(header)
    head["value"] = _encode_value(value, blobs, rng_type=rng_type)
    head["blobs"] = [len(b) for b in blobs]
    head_bytes = json.dumps(head, allow_nan=True, separators=(",", ":")).encode()
    body = struct.pack(">I", len(head_bytes)) + head_bytes + b"".join(blobs)
    return struct.pack(">Q", len(body)) + body


class _Decoder:
    def __init__(self, blobs: list[bytes], make_rng, resolve_handle, clean: bool = False, make_input=None):
        self.blobs = blobs
        self.make_input = make_input or _keras_input
        self.clean = clean  # the trusted side: every string from the sandbox is cleaned here
        self.used: set[int] = set()
        self.nodes = 0
        self.make_rng = make_rng
        self.resolve_handle = resolve_handle

    def blob_array(self, index) -> np.ndarray:
        np = _numpy()
        if type(index) is not int or not 0 <= index < len(self.blobs) or index in self.used:
            raise WireError("an array reference is invalid")
        self.used.add(index)
        raw = self.blobs[index]
        try:
            arr = np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
        except Exception as err:  # malformed npy, object dtype refused by allow_pickle=False
            raise WireError(f"an array could not be read ({type(err).__name__})") from None
        if arr.dtype.kind not in ALLOWED_KINDS or arr.dtype.fields is not None:
            raise WireError(f"an array has dtype {arr.dtype}, which is not numeric")
        if arr.dtype.kind == "U":
            if arr.dtype.itemsize // 4 > MAX_STRING:
                raise WireError(f"an array holds strings of up to {arr.dtype.itemsize // 4} characters, "
                                f"over the {MAX_STRING}-character limit")
            if arr.size > MAX_STRINGS:
                raise WireError(f"an array of {arr.size} strings is over the {MAX_STRINGS}-string limit")
            if self.clean:
                arr = self.clean_strings(arr)
        return arr

    def clean_strings(self, arr: np.ndarray) -> np.ndarray:
        """A string array from the sandbox with every element passed through `clean_text`: the
        code points are checked at numpy speed and only the strings that hold a character
        `clean_text` changes (a control character, a lone surrogate, a bidi override, or an
        inner NUL) are cleaned one by one."""
        np = _numpy()
        width = arr.dtype.itemsize // 4
        if arr.size == 0 or width == 0:
            return arr
        flat = np.ascontiguousarray(arr.reshape(-1))
        codes = flat.view(np.dtype("u4").newbyteorder(arr.dtype.byteorder)).reshape(-1, width)
        bad = (((codes < 0x20) & (codes != 0) & (codes != 9) & (codes != 10)) | ((codes >= 0x7f) & (codes <= 0x9f))
               | ((codes >= 0x202a) & (codes <= 0x202e)) | ((codes >= 0x2066) & (codes <= 0x2069))
               | ((codes >= 0xd800) & (codes <= 0xdfff))).any(axis=1)
        used = codes != 0  # numpy pads with NULs; a NUL before a used position is the string's own
        last = width - np.argmax(used[:, ::-1], axis=1)
        bad |= used.any(axis=1) & (used.sum(axis=1) < last)
        rows = np.flatnonzero(bad)
        if rows.size == 0:
            return arr
        out = flat.astype(object)
        for i in rows.tolist():
            out[i] = clean_text(str(flat[i]), MAX_STRING)
        return np.array(out.tolist(), dtype=str).reshape(arr.shape)

    def string(self, text: str, limit: int = MAX_STRING) -> str:
        if len(text) > limit:
            raise WireError(f"a string of {len(text)} characters is over the {limit}-character limit")
        return clean_text(text, limit) if self.clean else text

    def value(self, node, depth: int = 0):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise WireError("the value is too large or too deeply nested")
        if node is None or type(node) in (bool, float):
            return node
        if type(node) is int:
            if not -MAX_INT <= node < MAX_INT:
                raise WireError("an integer is outside the 64-bit range")
            return node
        if type(node) is str:
            return self.string(node)
        if type(node) is not dict or len(node) != 1:
            raise WireError("a value has an unknown form")
        (tag, body), = node.items()
        if tag == "L" and type(body) is list:
            return [self.value(v, depth + 1) for v in body]
        if tag == "T" and type(body) is list:
            return tuple(self.value(v, depth + 1) for v in body)
        if tag == "D" and type(body) is list:
            out = {}
            for item in body:
                if type(item) is not list or len(item) != 2 or type(item[0]) is not str:
                    raise WireError("a dict entry has an unknown form")
                out[self.string(item[0])] = self.value(item[1], depth + 1)
            return out
        if tag == "K" and type(body) is list:
            out = {}
            for item in body:
                if type(item) is not list or len(item) != 2 or type(item[0]) is not int:
                    raise WireError("an integer-keyed dict entry has an unknown form")
                if not -MAX_INT <= item[0] < MAX_INT or item[0] in out:
                    raise WireError("an integer-keyed dict has a key outside 64 bits or twice")
                out[item[0]] = self.value(item[1], depth + 1)
            return out
        if tag == "A":
            return self.blob_array(body)
        if tag == "S":
            arr = self.blob_array(body)
            if arr.shape != () or arr.dtype.kind not in NUMERIC_KINDS:
                raise WireError("a scalar has a shape or is not a number")
            return arr[()]
        if tag == "R" and type(body) is int and self.make_rng is not None:
            return self.make_rng(body)
        if tag == "H" and type(body) is int and self.resolve_handle is not None:
            return self.resolve_handle(body)
        if tag == "F" and type(body) is dict and self.resolve_handle is not None:
            if set(body) != {"kind", "params"}:
                raise WireError("a function descriptor has unknown fields")
            kind = body["kind"]
            return SurfaceGrad(Surface(kind, _check_surface(kind, body["params"], WireError)))
        if tag == "I" and type(body) is list and self.resolve_handle is not None:
            return self.make_input(_check_input_shape(body, WireError))
        if tag == "M" and self.resolve_handle is None and type(body) is dict:
            return self.model_ref(body, depth)
        raise WireError(f"a value has an unknown tag {tag!r}")


    def model_ref(self, body: dict, depth: int) -> ModelRef:
        np = _numpy()
        if set(body) != {"handle", "name", "config", "compile", "weights"}:
            raise WireError("a model description has unknown fields")
        handle, name, config, compile_config, weights = (body[k] for k in
                                                        ("handle", "name", "config", "compile", "weights"))
        if type(handle) is not int or type(name) is not str or type(config) is not str:
            raise WireError("a model description has fields of the wrong type")
        if compile_config is not None and type(compile_config) is not str:
            raise WireError("a model's compile config is not text")
        if type(weights) is not list:
            raise WireError("a model description is malformed")
        if len(config) > MAX_CONFIG or len(compile_config or "") > MAX_CONFIG:
            raise WireError(f"a model's config of {max(len(config), len(compile_config or '')) / (1 << 20):.1f} MiB "
                            f"is over the {MAX_CONFIG >> 20} MiB limit; build a smaller model")
        config = self.string(config, MAX_CONFIG)
        compile_config = None if compile_config is None else self.string(compile_config, MAX_CONFIG)
        name = clean_text(name, MAX_NAME)
        arrays = [self.value(w, depth + 1) for w in weights]
        if not all(isinstance(a, np.ndarray) for a in arrays):
            raise WireError("a model's weights are not arrays")
        return ModelRef(handle, name, config, compile_config, arrays)


def decode(frame: bytes, make_rng=None, resolve_handle=None, make_input=None) -> tuple[dict, object]:
    """Parse one frame body (without its 8-byte length). Returns (header, value).
    The sandbox passes `make_rng` and `resolve_handle` (and may pass `make_input(shape)`, which makes
    what a KerasInput becomes; default `keras.Input(shape=shape)`); the trusted side passes none, so
    only it accepts model descriptions and only the sandbox accepts handles, generators, functions
    and Keras inputs. On the
    trusted side every string of the header and the value is cleaned (`clean_text`): header
    strings are cut at MAX_TEXT, a value's strings over MAX_STRING are refused."""
    if len(frame) < 4:
        raise WireError("a frame is truncated")
    (head_len,) = struct.unpack(">I", frame[:4])
    if head_len > len(frame) - 4:
        raise WireError("a frame header is truncated")
    try:
        head = json.loads(frame[4:4 + head_len].decode())
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WireError("a frame header is not valid JSON") from None
    if type(head) is not dict:
        raise WireError("a frame header is not an object")
    sizes = head.pop("blobs", [])
    if type(sizes) is not list or any(type(s) is not int or s < 0 for s in sizes):
        raise WireError("a frame's blob sizes are invalid")
    if 4 + head_len + sum(sizes) != len(frame):
        raise WireError("a frame's length does not match its contents")
    blobs, pos = [], 4 + head_len
    for size in sizes:
        blobs.append(frame[pos:pos + size])
        pos += size
    trusted = resolve_handle is None
    decoder = _Decoder(blobs, make_rng, resolve_handle, clean=trusted, make_input=make_input)
    value = decoder.value(head.pop("value", None))
    if trusted:
        head = clean_tree(head, MAX_TEXT)
    return head, value


def write_frame(fd: int, data: bytes) -> None:
    """Write all of `data` to a file descriptor."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise TimeoutError
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, max_bytes: int, deadline: float | None = None) -> bytes:
    """Read one frame body. Raises TimeoutError past `deadline` (a time.monotonic() value),
    EOFError when the other side closed, WireError when the frame is larger than `max_bytes`."""
    (length,) = struct.unpack(">Q", _read_exact(fd, 8, deadline))
    if length > max_bytes:
        raise WireError(f"a message of {length} bytes is over the {max_bytes}-byte limit")
    return _read_exact(fd, length, deadline)
