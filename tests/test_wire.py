"""The wire format carries data only and refuses everything else."""

import io
import json
import struct

import numpy as np
import pytest

from grader import wire
from grader.testing import Rng


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
