"""param-count's audit fixes through the real engine and sandbox: each near miss of the new layer
options (made from the reference by one textual change) loses exactly its own hidden test, and the
public test of the notes' network that shows it."""

from __future__ import annotations

import pytest

from grader.exercise.spec import find_exercise
from grader.grading.engine import grade

INT_PADDING = "(shape[0] + 2 * padding - f) // s + 1, (shape[1] + 2 * padding - f) // s + 1"
POOL_SAME = '''            if padding == "same":
                out = (-(-shape[0] // s), -(-shape[1] // s))
            elif padding == "valid":
                out = ((shape[0] - size) // s + 1, (shape[1] - size) // s + 1)'''

NEAR_MISSES = {
    # PyTorch's count: gamma and beta only
    "batchnorm_as_pytorch": ("params = 4 * shape[-1]", "params = 2 * shape[-1]",
                             {"test_batchnorm_has_four_parameters_per_channel_and_keeps_the_shape"},
                             {"test_emnist_cnn_of_lecture_004"}),
    # a name of its own for the batch norm rows: the batch norm test only, never the names test
    "batchnorm_named_otherwise": ('"batchnorm": "batch_normalization"', '"batchnorm": "batchnorm"',
                                  {"test_batchnorm_has_four_parameters_per_channel_and_keeps_the_shape"}, set()),
    # an integer padding read as no padding
    "integer_padding_ignored": (INT_PADDING, "(shape[0] - f) // s + 1, (shape[1] - f) // s + 1",
                                {"test_integer_padding_matches_the_reference"},
                                {"test_mnist_cnn_of_lecture_004", "test_emnist_cnn_of_lecture_004"}),
    # a pool's 'same' read as 'valid': GoogLeNet's stem pool gives 55x55x64
    "pool_same_as_valid": (POOL_SAME, POOL_SAME.replace("-(-shape[0] // s), -(-shape[1] // s)",
                                                        "(shape[0] - size) // s + 1, (shape[1] - size) // s + 1"),
                           {"test_pool_same_padding_is_keras_ceil"}, {"test_googlenet_stem_of_lecture_002"}),
}


def _lost(result) -> set[str]:
    return {t.name for t in result.tests if t.status != "passed"}


@pytest.mark.parametrize("name", NEAR_MISSES)
def test_a_near_miss_loses_exactly_its_own_test(name, tmp_path):
    ex = find_exercise("param-count")
    old, new, hidden_lost, public_lost = NEAR_MISSES[name]
    text = ex.solution.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the reference no longer contains {old!r}"
    path = tmp_path / ex.entry
    path.write_text(text.replace(old, new), encoding="utf-8")
    hidden = grade(ex, path, "hidden")
    assert _lost(hidden) == hidden_lost, [(t.name, t.output[:200]) for t in hidden.tests if t.status != "passed"]
    assert hidden.score == hidden.max_score - 1
    assert _lost(grade(ex, path, "public")) == public_lost


def test_the_notes_networks_count_as_the_issue_says():
    """The reference itself: 30,840 for the MNIST CNN, 24 per BatchNorm2d(6), 56x56x64 after GoogLeNet's pool."""
    import importlib.util
    ex = find_exercise("param-count")
    spec = importlib.util.spec_from_file_location("param_count_reference", ex.solution)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    mnist = ref.count_params((28, 28, 1), [{"type": "conv", "filters": 10, "kernel": 5, "padding": 1},
                                           {"type": "pool", "size": 2}, {"type": "conv", "filters": 20, "kernel": 5,
                                                                         "padding": 1},
                                           {"type": "pool", "size": 2}, {"type": "flatten"},
                                           {"type": "dense", "units": 50}, {"type": "dense", "units": 10}])
    assert [r[2] for r in mnist if r[2]] == [260, 5020, 25050, 510] and sum(r[2] for r in mnist) == 30840
    assert ref.count_params((14, 14, 6), [{"type": "batchnorm"}]) == [("batch_normalization", (14, 14, 6), 24)]
    stem = ref.count_params((224, 224, 3), [{"type": "conv", "filters": 64, "kernel": 7, "stride": 2, "padding": "same"},
                                            {"type": "pool", "size": 3, "stride": 2, "padding": "same"}])
    assert stem[1][1] == (56, 56, 64)


def test_keras_counts_and_pads_as_the_reference():
    """Keras itself: BatchNormalization has 4 parameters per channel, a 'same' max pool 3x3/2 of
    112x112 gives 56x56, a 5x5 conv after ZeroPadding2D(1) gives 26x26 with 260 parameters."""
    import keras
    from keras import layers
    model = keras.Sequential([keras.Input((28, 28, 1)), layers.ZeroPadding2D(1), layers.Conv2D(10, 5),
                              layers.MaxPooling2D(2), layers.BatchNormalization()])
    assert model.layers[1].output.shape[1:] == (26, 26, 10) and model.layers[1].count_params() == 260
    assert model.layers[-1].count_params() == 4 * 10
    pool = keras.Sequential([keras.Input((112, 112, 64)), layers.MaxPooling2D(3, 2, padding="same")])
    assert pool.output_shape[1:] == (56, 56, 64)
