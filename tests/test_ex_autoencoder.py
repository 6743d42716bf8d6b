"""autoencoder graded through the real engine and sandbox: the reference gets full marks and the
template none; a learner in other conventions the README allows (nested models, the notes' valid
decoder cropped to 28x28, training on clean and noisy inputs) gets full marks; a learner who
trains on clean inputs only loses exactly the noisy test; a model that copies its input scores a
near-perfect clean error and is stopped by the bottleneck test, and one whose training swaps its
layers for a copy is scored nothing. The bottleneck's graph walk
(grader.exercise.modelgraph) is checked on models built here."""

from __future__ import annotations

import math

import pytest

from exercise_kit import NEAR_MISS, check_reference_full_and_template_zero, edited_reference, lost
from grader.data import hoda_available, hoda_dir
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade

HODA = hoda_dir() if hoda_available() else None
NOISY = "test_held_out_reconstruction_error_on_noisy_digits"
BOTTLENECK = "test_the_bottleneck_is_smaller_than_the_input"


@pytest.fixture(scope="module")
def ex():
    return find_exercise("autoencoder")


def _held_out(seed, hoda):
    from grader.data import digit_task
    return [digit_task("autoencoder-28", hoda, heldout_seed=seed).x_test]


def test_reference_full_marks_and_template_zero(ex):
    check_reference_full_and_template_zero(ex, held_out=_held_out)


def test_other_allowed_conventions_get_full_marks(ex):
    result = grade(ex, NEAR_MISS / "autoencoder_other_conventions.py", "hidden", hoda_dir=HODA)
    assert result.full_marks, lost(result)


def test_training_on_clean_inputs_only_loses_only_the_noisy_test(ex, tmp_path):
    path = edited_reference(tmp_path, ex, "noisy = add_noise(x, NOISE_STD, seed=0)", "noisy = x")
    hidden = lost(grade(ex, path, "hidden", hoda_dir=HODA))
    if HODA is None:  # scikit-learn's upscaled digits are smooth: a clean-trained bottleneck denoises them well enough
        assert set(hidden) <= {NOISY}, hidden
        return
    assert set(hidden) == {NOISY}, hidden
    assert "at most" in hidden[NOISY] and "noise std 0.3" in hidden[NOISY], hidden[NOISY]


def test_a_model_that_copies_its_input_is_stopped_by_the_bottleneck_test(ex, tmp_path):
    old = '''    model = keras.Sequential([
        keras.Input(shape=tuple(input_shape)),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(8, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2DTranspose(input_shape[-1], 3, strides=2, padding="same", activation="sigmoid"),
    ], name="autoencoder")'''
    new = '''    model = keras.Sequential([keras.Input(shape=tuple(input_shape)),
                              layers.Conv2DTranspose(input_shape[-1], 1)], name="copy")'''
    path = edited_reference(tmp_path, ex, old, new)
    result = grade(ex, path, "hidden", hoda_dir=HODA)
    hidden = lost(result)
    # a near-perfect clean error: only the bottleneck test tells it is no autoencoder (it also keeps the noise)
    assert set(hidden) == {BOTTLENECK, NOISY} if HODA else BOTTLENECK in hidden, hidden
    assert "never holds fewer values than its input's 784" in hidden[BOTTLENECK], hidden[BOTTLENECK]


def test_a_training_that_swaps_the_layers_for_a_copy_scores_nothing(ex, tmp_path):
    path = edited_reference(tmp_path, ex, """    noisy = add_noise(x, NOISE_STD, seed=0)
    history = model.fit(noisy, x, epochs=10, batch_size=64, verbose=0)""", """    while model.layers:
        model.pop()
    model.add(layers.Conv2DTranspose(1, 1))
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, x, epochs=1, batch_size=64, verbose=0)""")
    hidden = lost(grade(ex, path, "hidden", hoda_dir=HODA))
    assert set(hidden) == {"test_held_out_reconstruction_error", NOISY}, hidden
    assert all("changed the layers" in text for text in hidden.values()), hidden


# ------------------------------------------------------------------------------------------------
# the bottleneck's graph walk
# ------------------------------------------------------------------------------------------------


def test_the_bottleneck_is_the_widest_path_and_a_shortcut_widens_it():
    import keras
    from keras import layers

    from grader.exercise.modelgraph import all_layers, bottleneck

    def chain(*extra):
        return [keras.Input((28, 28, 1)), layers.Conv2D(4, 3, strides=2, padding="same"),
                layers.MaxPooling2D(2), *extra]

    plain = keras.Sequential(chain(layers.Conv2DTranspose(1, 3, strides=4, padding="same")))
    assert bottleneck(plain) == 7 * 7 * 4
    assert bottleneck(keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(1, 1)])) == 784

    inputs = keras.Input((28, 28, 1))
    code = layers.MaxPooling2D(4)(inputs)
    decoded = layers.Conv2DTranspose(1, 3, strides=4, padding="same")(code)
    assert bottleneck(keras.Model(inputs, decoded)) == 49
    shortcut = keras.Model(inputs, layers.Add()([decoded, inputs]))
    assert bottleneck(shortcut) == 784
    assert bottleneck(keras.Model(inputs, layers.Concatenate()([decoded, inputs]))) == 2 * 784

    dense = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(32), layers.Dense(784),
                              layers.Reshape((28, 28, 1))])
    assert bottleneck(dense) == 32

    encoder = keras.Sequential(chain(), name="encoder")
    decoder = keras.Sequential([keras.Input((7, 7, 4)), layers.Conv2DTranspose(1, 3, strides=4, padding="same")],
                               name="decoder")
    nested = keras.Model(inputs, decoder(encoder(inputs)))
    assert bottleneck(nested) == 196
    assert "Conv2DTranspose" in {type(layer).__name__ for layer in all_layers(nested)}
    # a shortcut inside a nested model is still a shortcut
    wrapped = keras.Sequential([keras.Input((28, 28, 1)), shortcut])
    assert bottleneck(wrapped) == 784
    assert math.isinf(bottleneck(keras.Sequential([keras.Input((28, 28, 1))])))
