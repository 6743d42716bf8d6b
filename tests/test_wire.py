"""The wire format carries data only and refuses everything else."""

import io
import json
import struct

import numpy as np
import pytest

from grader.sandbox.inside import wire
from grader.exercise.testing import Rng
from grader.testing import Surface


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


@pytest.mark.parametrize("bad", [object(), b"bytes", {1.5: "float key"}, np.array([object()], dtype=object),
                                 lambda: 0, {1, 2}, np.array([b"bytes"]), np.bytes_(b"x")])
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


# -- issue 13: int-keyed dicts, arrays of strings, function descriptors ------------------------

@pytest.mark.parametrize("direction", [roundtrip, _sandbox_side])
def test_dicts_with_int_keys_travel_both_ways_and_numpy_int_keys_arrive_as_int(direction):
    weights = {np.int64(0): 1.0, np.uint8(1): np.float64(2.56), -3: "x", 2 ** 63 - 1: [1]}
    out = direction({"w": weights, "empty": {}})
    assert out["w"] == {0: 1.0, 1: 2.56, -3: "x", 2 ** 63 - 1: [1]} and out["empty"] == {}
    assert [type(k) for k in out["w"]] == [int] * 4
    assert out["w"][1].dtype == np.float64  # values keep their types
    assert direction({np.str_("t-shirt"): 1}) == {"t-shirt": 1}  # numpy string keys are strings


@pytest.mark.parametrize("bad, words", [({1: "a", "b": 2}, "mix strings and integers"),
                                        ({True: 1}, "key of type bool"), ({np.bool_(True): 1}, "key of type bool"),
                                        ({1.0: 1}, "key of type float"), ({(1, 2): 1}, "key of type tuple"),
                                        ({np.uint64(2 ** 63): 1}, "64-bit"), ({2 ** 64: 1}, "64-bit")])
def test_dicts_with_mixed_or_other_keys_are_refused_with_a_clear_message(bad, words):
    with pytest.raises(wire.Unsendable, match=words):
        wire.encode({}, {"outer": [bad]})


@pytest.mark.parametrize("body", [[["1", 2]], [[True, 2]], [[1, 2], [1, 3]], [[2 ** 63, 1]], [[1.5, 1]], [[1]],
                                  "not a list"])
def test_forged_int_keyed_dicts_are_refused(body):
    for decode in (lambda f: wire.decode(f), lambda f: wire.decode(f, resolve_handle=lambda h: h)):
        with pytest.raises(wire.WireError):
            decode(_frame({"value": {"K": body}}, []))


@pytest.mark.parametrize("direction", [roundtrip, _sandbox_side])
@pytest.mark.parametrize("arr", [np.array(["t-shirt", "dress", "shoe"]), np.array([["a", "bb"], ["", "زبان"]]),
                                 np.array("one"), np.array([], dtype=str), np.array(["x", "y"], dtype=">U3"),
                                 np.array(["a", "b", "c", "d"])[::2]])
def test_arrays_of_strings_travel_both_ways(arr, direction):
    out = direction({"v": arr})["v"]
    assert type(out) is np.ndarray and out.dtype.kind == "U" and out.shape == arr.shape
    assert out.tolist() == arr.tolist()


@pytest.mark.parametrize("direction", [roundtrip, _sandbox_side])
def test_numpy_strings_travel_as_plain_strings(direction):
    labels = np.array(["dress", "shoe"])
    out = direction([labels[0], list(labels)])
    assert out == ["dress", ["dress", "shoe"]] and type(out[0]) is str


def test_strings_in_an_array_from_the_sandbox_are_cleaned_but_not_those_sent_into_it():
    arr = np.array([["ok", NASTY], ["tab\tx", "\x1b[31mred"]])
    out = roundtrip(arr)
    assert out.shape == (2, 2) and out[0, 0] == "ok" and out[1, 1] == "red" and out[1, 0] == "tab\tx"
    assert out[0, 1] == "ok \ufffd [bold red]x[/bold red] evil end"
    assert _sandbox_side(arr).tolist() == arr.tolist()


def test_over_long_strings_in_an_array_are_refused_both_ways():
    arr = np.array(["x" * (wire.MAX_STRING + 1), "y"])
    with pytest.raises(wire.Unsendable, match="the limit is 1048576"):
        wire.encode({}, arr)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    for decode in (lambda f: wire.decode(f), lambda f: wire.decode(f, resolve_handle=lambda h: h)):
        with pytest.raises(wire.WireError, match="over the 1048576-character limit"):
            decode(_frame({"value": {"A": 0}}, [buf.getvalue()]))
    assert roundtrip(np.array(["x" * wire.MAX_STRING]))[0] == "x" * wire.MAX_STRING  # the limit itself is fine


def test_a_string_scalar_blob_is_refused():
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array("abc"), allow_pickle=False)
    with pytest.raises(wire.WireError, match="not a number"):
        wire.decode(_frame({"value": {"S": 0}}, [buf.getvalue()]))


SURFACES = [Surface.polynomial([1.0, -2.0, 0.5, 0.25]), Surface.bowl(), Surface.bowl(scale=3.0), Surface.saddle(),
            Surface.rosenbrock(), Surface.rosenbrock(a=2.0, b=10.0)]


def _numeric_grad(f, w, h=1e-6):
    w = np.asarray(w, dtype=float)
    out = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        up, down = w.copy(), w.copy()
        up[i] += h
        down[i] -= h
        out[i] = (f(up) - f(down)) / (2 * h)
    return out


@pytest.mark.parametrize("surface", SURFACES, ids=repr)
def test_a_surface_grad_is_the_derivative_of_its_value(surface):
    w = np.array([0.7, -1.3]) if surface.kind in ("saddle", "rosenbrock") else np.array([[0.7, -1.3, 2.0]])
    value = (lambda v: float(np.sum(surface.value(v)))) if surface.kind == "polynomial" else surface.value
    assert np.allclose(surface.grad(w), _numeric_grad(value, w), rtol=1e-5, atol=1e-5)
    assert surface.grad(w).shape == w.shape


def test_the_surfaces_compute_their_formulas():
    poly = Surface.polynomial([1, 2, 3])  # 1 + 2x + 3x^2: the highest power last
    assert poly.value(2.0) == 17.0 and poly.grad(2.0) == 14.0
    assert np.array_equal(poly.grad(np.array([1.0, 2.0])), [8.0, 14.0])
    assert Surface.bowl(2.0).value(np.ones((2, 3))) == 12.0 and Surface.bowl().grad(3) == 6.0
    assert Surface.saddle().value([1.0, 2.0]) == -3.0 and Surface.saddle().grad([1.0, 2.0]).tolist() == [2.0, -4.0]
    rosen = Surface.rosenbrock()
    assert rosen.value([1.0, 1.0]) == 0.0 and rosen.grad([1.0, 1.0]).tolist() == [0.0, 0.0]
    assert rosen.value([0.0, 0.0]) == 1.0 and rosen.grad([0.0, 0.0]).tolist() == [-2.0, 0.0]


@pytest.mark.parametrize("w", [2.0, 2, np.float32(2.0), np.array(2.0)])
def test_a_number_in_gives_a_python_float_out(w):
    for surface in (Surface.polynomial([0, 0, 1]), Surface.bowl()):
        assert type(surface.grad(w)) is float and surface.grad(w) == 4.0
        assert type(surface.value(w)) is float and surface.value(w) == 4.0


def test_a_diverging_descent_reaches_inf_without_an_error():
    bowl = Surface.bowl()
    x = 1.0
    for _ in range(2000):
        x = x - 1.5 * bowl.grad(x)  # |1 - 2 * 1.5| = 2: doubles each step
    assert x in (float("inf"), float("-inf")) or np.isnan(x)


@pytest.mark.parametrize("surface, w, words", [(Surface.saddle(), 1.0, r"shape \(2,\)"),
                                               (Surface.rosenbrock(), np.zeros(3), r"shape \(2,\)"),
                                               (Surface.bowl(), "abc", "takes numbers")])
def test_a_wrong_input_raises_a_clear_error(surface, w, words):
    with pytest.raises((ValueError, TypeError), match=words):
        surface.grad(w)


def test_a_surface_reaches_the_sandbox_as_a_plain_callable_of_the_same_function():
    for surface in SURFACES:
        grad = _sandbox_side([surface])[0]
        assert type(grad) is wire.SurfaceGrad and callable(grad)
        w = np.array([0.5, 2.0])
        assert np.array_equal(grad(w), surface.grad(w)) and grad.value(w) == pytest.approx(surface.value(w))
    frame = wire.encode({}, Surface.bowl())
    head = json.loads(frame[12:12 + struct.unpack(">I", frame[8:12])[0]])
    assert head["value"] == {"F": {"kind": "bowl", "params": {"scale": 1.0}}}  # data: a descriptor


def test_a_function_never_travels_from_the_sandbox_to_the_trusted_side():
    grad = _sandbox_side(Surface.saddle())
    with pytest.raises(wire.Unsendable, match="SurfaceGrad"):
        wire.encode({}, [grad])
    with pytest.raises(wire.WireError, match="unknown tag 'F'"):
        wire.decode(wire.encode({}, Surface.saddle())[8:])


HOSTILE = [({"kind": "exec", "params": {}}, "unknown function kind"),
           ({"kind": ["bowl"], "params": {}}, "unknown function kind"),
           ({"kind": "bowl", "params": {"scale": 1.0, "code": "x"}}, "exactly the parameters"),
           ({"kind": "bowl", "params": {}}, "exactly the parameters"),
           ({"kind": "bowl", "params": {"scale": float("nan")}}, "must be finite"),
           ({"kind": "bowl", "params": {"scale": 1e300}}, "must be finite"),
           ({"kind": "bowl", "params": {"scale": 10 ** 400}}, "must be finite"),
           ({"kind": "bowl", "params": {"scale": "1"}}, "not a number"),
           ({"kind": "bowl", "params": {"scale": True}}, "not a number"),
           ({"kind": "polynomial", "params": {"coeffs": [1.0] * 10 ** 6}}, "1 to 64 coefficients"),
           ({"kind": "polynomial", "params": {"coeffs": []}}, "1 to 64 coefficients"),
           ({"kind": "polynomial", "params": {"coeffs": [1.0, None]}}, "not a number"),
           ({"kind": "rosenbrock", "params": {"a": 1.0, "b": float("-inf")}}, "must be finite"),
           ({"kind": "saddle", "params": [], "extra": 1}, "unknown fields")]


@pytest.mark.parametrize("body, words", HOSTILE)
def test_a_hostile_function_descriptor_is_refused_at_decode(body, words):
    raw = json.dumps({"value": {"F": body}, "blobs": []}).encode()  # allows NaN and huge numbers
    with pytest.raises(wire.WireError, match=words):
        wire.decode(struct.pack(">I", len(raw)) + raw, make_rng=np.random.default_rng, resolve_handle=lambda h: h)


@pytest.mark.parametrize("make, words", [(lambda: Surface.bowl(float("nan")), "must be finite"),
                                         (lambda: Surface.polynomial(range(65)), "1 to 64"),
                                         (lambda: Surface("sphere", {}), "unknown function kind"),
                                         (lambda: Surface.rosenbrock(b="100"), "not a number")])
def test_a_bad_surface_is_refused_where_the_test_author_builds_it(make, words):
    with pytest.raises(ValueError, match=words):
        make()


def test_a_surface_changed_after_it_was_built_is_checked_again_when_sent():
    surface = Surface.bowl()
    surface.params["scale"] = float("inf")
    with pytest.raises(wire.Unsendable, match="must be finite"):
        wire.encode({}, surface)


# -- through a real sandbox: a grading whose tests send these values ---------------------------

WIRE_EXERCISE_TESTS = '''"""Tests that send a Surface, an int-keyed dict and string arrays to the learner's functions."""
import numpy as np

from grader.testing import Surface, expect_array, expect_dict


def test_the_learner_descends_with_the_grad_it_receives(submission):
    surface = Surface.polynomial([0.0, -4.0, 1.0])  # (x - 2)**2 - 4: minimum at 2
    got = expect_array(submission.descend(surface, 0.0, 0.25, 5), "descend", shape=(6,), dtype_kind="f")
    want = [0.0]
    for _ in range(5):
        want.append(want[-1] - 0.25 * surface.grad(want[-1]))
    assert np.allclose(got, want), (got, want)


def test_the_learner_calls_value_on_a_2d_surface(submission):
    assert submission.value_at(Surface.rosenbrock(), [0.0, 0.0]) == 1.0


def test_int_keyed_dicts_and_string_arrays_go_both_ways(submission):
    weights = expect_dict(submission.class_weights(np.array([0, 0, 0, 1])), "class_weights")
    assert weights == {0: 1.0, 1: 3.0} and all(type(k) is int for k in weights)
    assert submission.lookup({0: "t-shirt", 1: "shoe"}, 1) == "shoe"
    labels = expect_array(submission.upper(np.array(["t-shirt", "dress"])), "upper", shape=(2,), dtype_kind="U")
    assert labels.tolist() == ["T-SHIRT", "DRESS"]
'''

WIRE_LEARNER = '''import numpy as np


def descend(grad, x0, lr, steps):
    xs = [x0]
    for _ in range(steps):
        xs.append(xs[-1] - lr * grad(xs[-1]))
    return np.array(xs)


def value_at(grad, w):
    return grad.value(np.array(w))


def class_weights(y):
    classes, counts = np.unique(y, return_counts=True)
    return {c: counts.max() / n for c, n in zip(classes, counts)}


def lookup(names, key):
    assert type(key) is int and all(type(k) is int for k in names)
    return names[key]


def upper(labels):
    return np.char.upper(labels)
'''


def test_a_grading_sends_a_surface_int_keyed_dicts_and_string_arrays(tmp_path):
    """A learner's function receives `grad` as a plain callable and calls it; numpy int keys and
    string arrays come back and pass the trusted side's checks."""
    from grader.exercise.spec import load_exercise
    from grader.grading.engine import grade
    folder = tmp_path / "exercises" / "wire-check"
    folder.mkdir(parents=True)
    (folder / "exercise.toml").write_text('id = "wire-check"\nentry = "learner.py"\n'
                                          'functions = ["descend", "value_at", "class_weights", "lookup", "upper"]\n'
                                          '[points]\npublic = 3\n', encoding="utf-8")
    (folder / "test_public.py").write_text(WIRE_EXERCISE_TESTS, encoding="utf-8")
    learner = tmp_path / "learner.py"
    learner.write_text(WIRE_LEARNER, encoding="utf-8")
    result = grade(load_exercise(folder), learner, "public", device="cpu")
    details = [(t.name, t.status, t.output) for t in result.tests]
    assert len(result.tests) == 3 and all(t.score == t.max_score == 1 for t in result.tests), details
    learner.write_text(WIRE_LEARNER.replace("xs[-1] - lr * grad", "xs[-1] + lr * grad"), encoding="utf-8")
    result = grade(load_exercise(folder), learner, "public", device="cpu")
    assert [t.score for t in result.tests] == [0, 1, 1], [(t.name, t.output) for t in result.tests]


def test_string_arrays_are_cleaned_at_numpy_speed_and_only_where_needed():
    import time
    labels = np.array(["t-shirt", "dress", "shoe", "زبان\u200c"] * 250_000)  # 1M strings: the limit
    t0 = time.perf_counter()
    out = roundtrip(labels)
    assert time.perf_counter() - t0 < 5 and out.dtype == labels.dtype and np.array_equal(out, labels)
    mixed = np.array(["ok", "a\x00b", "\udc80", "x\u2066y", "\x9b31mz", "tab\t", "cr\r\nlf", "", "\x7f"], dtype="<U8")
    assert roundtrip(mixed).tolist() == ["ok", "ab", "\ufffd", "xy", "z", "tab\t", "cr\nlf", "", ""]
    assert roundtrip(mixed.astype(">U8")).tolist() == roundtrip(mixed).tolist()  # either byte order


def test_string_arrays_over_a_million_strings_are_refused_both_ways():
    big = np.array(["a"] * (wire.MAX_STRINGS + 1))
    with pytest.raises(wire.Unsendable, match="1000001 strings"):
        wire.encode({}, big)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, big, allow_pickle=False)
    with pytest.raises(wire.WireError, match="1000000-string limit"):
        wire.decode(_frame({"value": {"A": 0}}, [buf.getvalue()]))


# -- issue 14: a symbolic Keras input (KerasInput) ---------------------------------------------

def test_a_keras_input_travels_as_its_shape_and_arrives_as_what_the_sandbox_makes_of_it():
    from grader.testing import KerasInput
    frame = wire.encode({}, [KerasInput((28, 28, 192)), 64, KerasInput([8])])
    head = json.loads(frame[12:12 + struct.unpack(">I", frame[8:12])[0]])
    assert head["value"] == {"L": [{"I": [28, 28, 192]}, 64, {"I": [8]}]}  # data: a descriptor
    made = []
    out = wire.decode(frame[8:], make_rng=np.random.default_rng, resolve_handle=lambda h: h,
                      make_input=lambda shape: made.append(shape) or f"input{len(made)}")[1]
    assert out == ["input1", 64, "input2"] and made == [(28, 28, 192), (8,)]  # in the call's order


def test_a_keras_input_arrives_in_the_sandbox_as_a_real_keras_input():
    import keras
    from grader.testing import KerasInput
    x = _sandbox_side(KerasInput((5, 5, 3)))
    assert isinstance(x, keras.KerasTensor) and tuple(x.shape) == (None, 5, 5, 3)
    model = keras.Model(inputs=x, outputs=keras.layers.Conv2D(4, 3)(x))
    assert model.output_shape == (None, 3, 3, 4)


@pytest.mark.parametrize("shape, words", [((), "1 to 4 sizes"), ((1, 2, 3, 4, 5), "1 to 4 sizes"),
                                          (5, "1 to 4 sizes"), ("abc", "1 to 4 sizes"),
                                          ((0, 3), "from 1 to 4096"), ((4097,), "from 1 to 4096"),
                                          ((-1, 3), "from 1 to 4096"), ((None, 3), "from 1 to 4096"),
                                          ((2.0, 3), "from 1 to 4096"), ((True, 3), "from 1 to 4096")])
def test_a_bad_keras_input_is_refused_where_the_test_author_builds_it(shape, words):
    from grader.testing import KerasInput
    with pytest.raises(ValueError, match=words):
        KerasInput(shape)


def test_keras_input_sizes_may_be_numpy_integers_and_reach_the_limits():
    from grader.testing import KerasInput
    assert KerasInput((np.int64(4096), 1, 1, 1)).shape == (4096, 1, 1, 1)
    assert type(KerasInput(np.array([2, 3])[:1].tolist()).shape[0]) is int


def test_a_keras_input_changed_after_it_was_built_is_checked_again_when_sent():
    from grader.testing import KerasInput
    x = KerasInput((4, 4))
    x.shape = (4, 10 ** 6)
    with pytest.raises(wire.Unsendable, match="from 1 to 4096"):
        wire.encode({}, x)


@pytest.mark.parametrize("body, words", [([], "1 to 4 sizes"), ([1] * 5, "1 to 4 sizes"), ({"a": 1}, "unknown tag"),
                                         ([0], "from 1 to 4096"), ([4097], "from 1 to 4096"),
                                         ([10 ** 30], "from 1 to 4096"), ([True], "from 1 to 4096"),
                                         ([2.5], "from 1 to 4096"), (["28"], "from 1 to 4096"),
                                         ([[28]], "from 1 to 4096"), ([None], "from 1 to 4096")])
def test_a_forged_keras_input_descriptor_is_refused_at_decode(body, words):
    raw = json.dumps({"value": {"I": body}, "blobs": []}).encode()
    made = []
    with pytest.raises(wire.WireError, match=words):
        wire.decode(struct.pack(">I", len(raw)) + raw, make_rng=np.random.default_rng, resolve_handle=lambda h: h,
                    make_input=made.append)
    assert made == []


def test_a_keras_input_never_travels_from_the_sandbox_to_the_trusted_side():
    from grader.testing import KerasInput
    with pytest.raises(wire.WireError, match="unknown tag 'I'"):
        wire.decode(wire.encode({}, [KerasInput((3,))])[8:])


KERAS_INPUT_TESTS = '''"""Tests that send symbolic Keras inputs to the learner's block functions."""
import numpy as np

from grader.exercise.modelsize import input_shapes
from grader.modelcheck import expect_model, layer_rows, rebuild
from grader.testing import KerasInput, SubmissionRaised


def test_a_block_built_on_its_input_comes_back_as_a_model(submission):
    model = expect_model(submission.dense_block(KerasInput((6,)), 3), "dense_block(x, 3)")
    assert model.name == "dense_block", model.name
    rows = [(r.kind, r.output_shape, r.params) for r in layer_rows(rebuild(model))]
    assert rows == [("InputLayer", (6,), 0), ("Dense", (3,), 21)], rows
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(2, 6)
    kernel, bias = model.weights
    assert np.allclose(model.predict(x), x @ kernel + bias, atol=1e-5)


def test_several_inputs_make_one_model_in_the_call_order_and_tensors_in_a_tuple_become_models(submission):
    merged, label = submission.merge(KerasInput((2,)), KerasInput((3,)))
    model = expect_model(merged, "merge(a, b)")
    assert label == "ok" and input_shapes(model.config) == [(2,), (3,)]
    a, b = np.ones((4, 2), np.float32), np.zeros((4, 3), np.float32)
    assert np.array_equal(model.predict([a, b]), np.concatenate([a, b], axis=1))


def _message(call):
    try:
        call()
    except SubmissionRaised as err:
        return err.type_name + ": " + err.message
    return "no error"


def test_a_tensor_not_built_on_its_input_is_refused_with_a_clear_message(submission):
    message = _message(lambda: submission.own_input(KerasInput((4,))))
    assert "not computed from the input tensor it was given" in message and "keras.Input" in message, message
    message = _message(lambda: submission.no_input(4))
    assert "given no Keras input" in message, message
'''

KERAS_INPUT_LEARNER = '''import keras


def dense_block(x, units):
    return keras.layers.Dense(units)(x)


def merge(a, b):
    return keras.layers.Concatenate()([a, b]), "ok"


def own_input(x):
    return keras.layers.Dense(2)(keras.Input(shape=(4,)))


def no_input(n):
    return keras.layers.Dense(2)(keras.Input(shape=(n,)))
'''


def test_a_grading_sends_keras_inputs_and_gets_the_blocks_back_as_models(tmp_path):
    """Through a real sandbox: a block function receives `keras.Input` tensors and its returned
    tensor comes back as a model of the call's inputs; a tensor not built on them is refused."""
    from grader.exercise.spec import load_exercise
    from grader.grading.engine import grade
    folder = tmp_path / "exercises" / "keras-input-check"
    folder.mkdir(parents=True)
    (folder / "exercise.toml").write_text(
        'id = "keras-input-check"\nentry = "learner.py"\n'
        'functions = ["dense_block", "merge", "own_input", "no_input"]\n'
        'preload = ["keras"]\n[points]\npublic = 3\n[limits]\nwall_seconds = 120\ntest_seconds = 60\n'
        'memory_mb = 4096\nprocesses = 256\n', encoding="utf-8")
    (folder / "test_public.py").write_text(KERAS_INPUT_TESTS, encoding="utf-8")
    learner = tmp_path / "learner.py"
    learner.write_text(KERAS_INPUT_LEARNER, encoding="utf-8")
    result = grade(load_exercise(folder), learner, "public", device="cpu")
    details = [(t.name, t.status, t.output) for t in result.tests]
    assert len(result.tests) == 3 and all(t.score == t.max_score == 1 for t in result.tests), details
