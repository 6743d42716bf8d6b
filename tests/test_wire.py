"""The wire format carries data only and refuses everything else."""

import io
import json
import struct

import numpy as np
import pytest

from grader.sandbox.inside import wire
from grader.exercise.testing import Rng


def roundtrip(value):
    frame = wire.encode({"status": "ok"}, value, rng_type=Rng)
    (length,) = struct.unpack(">Q", frame[:8])
    assert length == len(frame) - 8
    return wire.decode(frame[8:], make_rng=np.random.default_rng)[1]


def test_plain_values_roundtrip():
    value = {"a": [1, 2.5, None, True, "x"], "t": (1, (2, 3)), "nan": float("nan")}
    out = roundtrip(value)
    assert out["a"] == [1, 2.5, None, True, "x"]
    assert out["t"] == (1, (2, 3)) and isinstance(out["t"], tuple)
    assert np.isnan(out["nan"])


def test_arrays_and_numpy_scalars_keep_dtype_and_shape():
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = roundtrip({"arr": arr, "s": np.int16(7), "b": np.array([True, False])})
    assert out["arr"].dtype == np.float32 and out["arr"].shape == (3, 4)
    assert np.array_equal(out["arr"], arr)
    assert out["s"] == 7 and out["s"].dtype == np.int16
    assert out["b"].dtype == bool


def test_a_learner_dict_that_looks_like_a_tag_stays_a_dict():
    out = roundtrip({"A": 0, "L": [1]})
    assert out == {"A": 0, "L": [1]}


def test_rng_becomes_a_generator_on_the_other_side():
    out = roundtrip([Rng(5)])
    assert isinstance(out[0], np.random.Generator)
    assert out[0].integers(1000) == np.random.default_rng(5).integers(1000)


@pytest.mark.parametrize("bad", [object(), b"bytes", {1: "int key"}, np.array([object()], dtype=object),
                                 lambda: 0, {1, 2}])
def test_unsendable_values_are_refused(bad):
    with pytest.raises(wire.Unsendable):
        wire.encode({}, bad)


def test_subclasses_with_custom_eq_travel_as_plain_values():
    class EqFloat(float):
        def __eq__(self, other):
            return True

    out = roundtrip(EqFloat(1.5))
    assert type(out) is float and out == 1.5 and out != 2.0


def _frame(head: dict, blobs: list[bytes]) -> bytes:
    head = dict(head, blobs=[len(b) for b in blobs])
    raw = json.dumps(head).encode()
    return struct.pack(">I", len(raw)) + raw + b"".join(blobs)


def test_object_arrays_in_a_forged_frame_are_not_unpickled():
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError):
        wire.decode(_frame({"value": {"A": 0}}, [buf.getvalue()]))


@pytest.mark.parametrize("head", [{"value": {"Z": 1}}, {"value": {"A": 3}}, {"value": {"D": [[1, 2]]}},
                                  {"value": {"L": 1}}, {"value": {"A": 0, "L": []}}])
def test_malformed_values_are_refused(head):
    with pytest.raises(wire.WireError):
        wire.decode(_frame(head, []))


def test_truncated_and_oversized_frames_are_refused():
    with pytest.raises(wire.WireError):
        wire.decode(b"\x00\x00")
    with pytest.raises(wire.WireError):
        wire.decode(_frame({"value": 1}, []) + b"extra")
    import os
    r, w = os.pipe()
    os.write(w, struct.pack(">Q", 10**12))
    with pytest.raises(wire.WireError, match="over the"):
        wire.read_frame(r, max_bytes=1000)
    os.close(r)
    os.close(w)


# -- shapes and numbers (issue 8, finding 8) ---------------------------------------------------

def _sandbox_side(value):
    """What the sandbox decodes of a value the trusted side sent (the other direction)."""
    frame = wire.encode({"op": "call"}, value, rng_type=Rng)
    return wire.decode(frame[8:], make_rng=np.random.default_rng, resolve_handle=lambda h: h)[1]


@pytest.mark.parametrize("direction", [roundtrip, _sandbox_side])
@pytest.mark.parametrize("arr", [np.array(3), np.where(np.array(2.0) > 0, 1, 0), np.array(1.5, dtype=np.float32),
                                 np.array(True), np.zeros((0,)), np.zeros((0, 3), dtype=np.int8),
                                 np.zeros((2, 0, 4), dtype=np.float16), np.arange(6).reshape(2, 3)[:, ::2],
                                 np.asfortranarray(np.arange(6.0).reshape(2, 3))])
def test_arrays_keep_shape_and_dtype_exactly(arr, direction):
    out = direction({"v": arr})["v"]
    assert type(out) is np.ndarray, type(out)
    assert out.shape == arr.shape and out.dtype == arr.dtype
    assert np.array_equal(out, arr)


@pytest.mark.parametrize("direction", [roundtrip, _sandbox_side])
@pytest.mark.parametrize("scalar", [np.float64(2.5), np.float32(-0.0), np.int64(-7), np.uint8(255), np.bool_(True),
                                    np.complex64(1 + 2j), np.int32(0)])
def test_numpy_scalars_keep_their_dtype(scalar, direction):
    out = direction([scalar])[0]
    assert isinstance(out, np.generic) and out.dtype == scalar.dtype and out == scalar


def test_python_numbers_stay_python_numbers():
    out = roundtrip([1, 2.5, True, -(2 ** 63), 2 ** 63 - 1])
    assert [type(v) for v in out] == [int, float, bool, int, int]


@pytest.mark.parametrize("big", [2 ** 63, -(2 ** 63) - 1, 10 ** 100])
def test_integers_outside_64_bits_are_refused_both_ways(big):
    with pytest.raises(wire.Unsendable, match="64-bit"):
        wire.encode({}, [big])
    with pytest.raises(wire.WireError, match="64-bit"):
        wire.decode(_frame({"value": {"L": [big]}}, []))


# -- text from the sandbox is cleaned once, here (issue 8, E) ---------------------------------

NASTY = "ok \udc80 \x1b[2J\x1b]52;c;cHduZWQ=\x07[bold red]x[/bold red] \x9b31m\u202eevil\u202c\x00\x7f end"


def test_header_strings_from_the_sandbox_are_cleaned_and_capped():
    head = {"status": "raised", "error": {"type": "ValueError", "message": NASTY + "y" * (20 << 20),
                                          "mro": [NASTY], NASTY: 1}}
    out, _ = wire.decode(_frame(head, []))
    message = out["error"]["message"]
    assert len(message) <= wire.MAX_TEXT and "more characters were cut" in message
    assert message.startswith("ok \ufffd [bold red]x[/bold red] evil end")
    for text in (message, out["error"]["mro"][0], *out["error"]):
        assert not any(ch in text for ch in "\x1b\x00\x7f\x9b\u202e\udc80\x07"), repr(text[:80])
        text.encode("utf-8")  # no lone surrogate left


def test_value_strings_from_the_sandbox_are_cleaned_but_not_those_sent_into_it():
    value = {NASTY: [NASTY, ("tab\tand\nnewline", "persian\u200cزبان")]}
    out = roundtrip(value)
    (key, (text, (kept, persian))), = out.items()
    assert key == text == "ok \ufffd [bold red]x[/bold red] evil end"
    assert kept == "tab\tand\nnewline" and persian == "persian\u200cزبان"
    assert _sandbox_side(value) == value  # the trusted side's own inputs reach the learner unchanged


def test_an_over_long_value_string_is_refused_with_its_size():
    with pytest.raises(wire.WireError, match="over the 1048576-character limit"):
        wire.decode(_frame({"value": "x" * (wire.MAX_STRING + 1)}, []))


def test_model_descriptions_are_cleaned_and_capped():
    model = {"handle": 1, "name": "m\x1b[31m" + "n" * 500, "config": '{"name": "a\x1b]0;t\x07b"}', "compile": None,
             "weights": []}
    ref = wire.decode(_frame({"value": {"M": model}}, []))[1]
    assert ref.name.startswith("mn") and len(ref.name) <= wire.MAX_NAME and "\x1b" not in ref.name
    assert ref.config == '{"name": "ab"}'
    model["config"] = "x" * (wire.MAX_CONFIG + 1)
    with pytest.raises(wire.WireError, match="config of 8.0 MiB is over the 8 MiB limit"):
        wire.decode(_frame({"value": {"M": model}}, []))


@pytest.mark.parametrize("raw", [b"[" * 100_000 + b"]" * 100_000,
                                 json.dumps({"a": 1, "b": json.loads("[" * 40 + "]" * 40)}).encode()])
def test_a_header_nested_too_deeply_is_refused(raw):
    frame = struct.pack(">I", len(raw)) + raw
    with pytest.raises(wire.WireError):
        wire.decode(frame)


def test_the_hello_gives_device_cpu_or_gpu_and_known_versions_only():
    info, notes = wire.hello_info({"device": "gpu", "versions": {"python": "3.11.7", "keras": "3.6.0",
                                                                 "backend": "jax", "jax": "0.4.30"}})
    assert info == {"device": "gpu", "versions": {"python": "3.11.7", "keras": "3.6.0", "backend": "jax",
                                                  "jax": "0.4.30"}} and notes == []
    info, notes = wire.hello_info({"device": "[bold]GPU[/bold]" * 1000, "versions": {
        "python": "3.11", "keras": "<b>3</b>", "backend": "evil", "numpy": "1" * 41, "other": "1.0"}})
    assert info == {"device": "cpu", "versions": {"python": "3.11"}}
    assert len(notes) == 5 and "recorded as cpu" in notes[0] and all(len(n) < 200 for n in notes)
    assert wire.hello_info({"versions": "not a dict"})[0] == {"device": "cpu", "versions": {}}


def test_what_runs_inside_the_sandbox_imports_nothing_of_the_grader():
    """runner.py and wire.py run in the sandbox with nothing of the grader around them: at module
    level only the stdlib, numpy and each other; the learner's frameworks (tensorflow, jax, torch)
    only inside functions, where the runner probes the device; the grader's packages nowhere."""
    import ast
    import sys
    from pathlib import Path
    inside = Path(wire.__file__).resolve().parent
    allowed = set(sys.stdlib_module_names) | {"numpy", "wire"}
    for source in inside.glob("*.py"):
        tree = ast.parse(source.read_text())
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{source.name}: relative import"
                names = [node.module.split(".")[0]]
            else:
                continue
            assert "grader" not in names, f"{source.name} imports the grader"
            if id(node) in top:
                assert set(names) <= allowed, f"{source.name} imports {names} at module level"
