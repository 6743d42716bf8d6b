"""conv-numpy graded through the real engine and sandbox: the reference gets full marks and the
template 0; a correct learner in other allowed idioms (float32, einsum over sliding windows) gets
full marks; a flipped kernel, "same" padding with the extra zero at the start or as (f - 1) // 2 on
each side, a stride applied to the output size only, and a maximum started from 0 each lose exactly
their one hidden test with a hint that names the cause. The reference's
"same" padding and cross-correlation agree with Keras' own convolution (the README's claim)."""

from __future__ import annotations


import numpy as np
import pytest

from exercise_kit import NEAR_MISS, check_reference_full_and_template_zero, lost as _lost
from exercise_kit import edited_reference as _near_miss
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade

@pytest.fixture(scope="module")
def ex():
    return find_exercise("conv-numpy")


def test_reference_full_marks_and_template_zero(ex):
    check_reference_full_and_template_zero(ex)


def test_other_allowed_idioms_get_full_marks(ex):
    for suite in ("public", "hidden"):
        result = grade(ex, NEAR_MISS / "conv_numpy_other_idioms.py", suite)
        assert result.full_marks, (suite, _lost(result))


@pytest.mark.parametrize("old, new, test, words", [
    # the convolution of mathematics: the kernel turned by 180 degrees
    ("    w = np.asarray(w, dtype=float)\n", "    w = np.asarray(w, dtype=float)[::-1, ::-1]\n",
     "test_conv2d_does_not_flip_the_kernel", "flipped the kernel"),
    # "same" with the odd zero at the start (top, left) instead of Keras' end
    ("return total // 2, total - total // 2", "return total - total // 2, total // 2",
     "test_conv2d_same_puts_the_extra_zero_at_the_end", "rest after"),
    # "same" as (f - 1) // 2 zeros on each side, whatever the filter and the stride
    ("total = max((math.ceil(n / stride) - 1) * stride + f - n, 0)\n                return total // 2, total - total // 2",
     "return (f - 1) // 2, (f - 1) // 2",
     "test_conv2d_same_puts_the_extra_zero_at_the_end", "total // 2 zeros before"),
    # the stride ignored: every window, then every s-th output is not taken
    ("oh = (xp.shape[0] - fh) // stride + 1\n    ow = (xp.shape[1] - fw) // stride + 1",
     "oh = (xp.shape[0] - fh) // stride + 1\n    ow = (xp.shape[1] - fw) // stride + 1\n    stride = 1",
     "test_conv2d_stride", "patch starting at (i*s, j*s)"),
    # a maximum that starts from 0
    ("].max(axis=(0, 1))", "].max(axis=(0, 1)).clip(min=0)",
     "test_max_pool_of_negative_values", "do not start from 0"),
])
def test_one_mistake_loses_one_hidden_test(ex, tmp_path, old, new, test, words):
    result = grade(ex, _near_miss(tmp_path, ex, old, new), "hidden")
    hints = _lost(result)
    assert set(hints) == {test}, hints
    assert words in hints[test], hints[test]
    assert result.score == result.max_score - next(t.max_score for t in result.tests if t.name == test)


def test_reference_agrees_with_keras_conv_on_same_padding_and_strides(ex):
    # Keras' "same" (ceil(n / s), the odd zero at the end) and cross-correlation, on the trusted side
    from importlib.util import module_from_spec, spec_from_file_location

    import keras

    spec = spec_from_file_location("conv_numpy_reference", ex.solution)
    reference = module_from_spec(spec)
    spec.loader.exec_module(reference)
    rng = np.random.default_rng(5)
    for h, w, f, s, padding in ((8, 8, 3, 2, "same"), (7, 9, 4, 2, "same"), (6, 6, 2, 1, "same"),
                                (10, 10, 3, 3, "same"), (9, 7, 3, 2, "valid"), (5, 5, 5, 1, "same")):
        x = rng.normal(size=(h, w, 2)).astype("float32")
        kern = rng.normal(size=(f, f, 2, 3)).astype("float32")
        want = keras.ops.convert_to_numpy(keras.ops.conv(x[None], kern, strides=s, padding=padding))[0]
        got = reference.conv2d(x, kern, stride=s, padding=padding)
        assert got.shape == want.shape and np.allclose(got, want, atol=1e-4), (h, w, f, s, padding)
