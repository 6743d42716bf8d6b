"""Public tests for augmentation: small worked examples of each transform.

Run them with `dlgrade check`. Your functions get a numpy.random.Generator (`Rng(seed)` here
becomes numpy.random.default_rng(seed) in your code). Random outputs are checked by what every
allowed output must satisfy, so any correct way of drawing the random numbers passes.
"""

import json

import numpy as np

from grader.data import load_sample_images
from grader.modelcheck import expect_model, rebuild
from grader.modelcheck import ModelRef
from grader.testing import Rng, expect_array, expect_tuple, points


_SHAPE_KEYS = ("batch_shape", "batch_input_shape", "input_shape", "build_input_shape")


def _sized(ref, height, width):
    """The learner's description with images of any size ((None, None, 3), as the README asks)
    fixed to height x width, so the trusted side can size and rebuild it for the test images."""
    try:
        config = json.loads(ref.config)
    except ValueError:
        return ref

    def fix(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _SHAPE_KEYS and isinstance(value, list) and len(value) == 4 and value[1] is None \
                        and value[2] is None:
                    node[key] = [value[0], height, width, value[3]]
                else:
                    fix(value)
        elif isinstance(node, list):
            for item in node:
                fix(item)

    fix(config)
    return ModelRef(ref.handle, ref.name, json.dumps(config), ref.compile_config, ref.weights)


def _batch(image, n):
    return np.repeat(np.asarray(image, dtype=np.float32)[None], n, axis=0)


@points(1)
def test_flip_of_a_2x3_image(submission):
    image = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)[:, :, None] / 10   # (2, 3, 1)
    mirrored = np.array([[3, 2, 1], [6, 5, 4]], dtype=np.float32)[:, :, None] / 10
    x = _batch(image, 40)
    out = expect_array(submission.random_flip(x, Rng(0)), "random_flip(images, Rng(0))", shape=x.shape,
                       dtype_kind="f")
    same = [np.array_equal(o, image) for o in out]
    flipped = [np.array_equal(o, mirrored) for o in out]
    assert all(s or f for s, f in zip(same, flipped)), (
        "every image of random_flip should be [[.1, .2, .3], [.4, .5, .6]] unchanged or mirrored left-right "
        "[[.3, .2, .1], [.6, .5, .4]]")
    assert 0 < sum(flipped) < 40, f"random_flip mirrored {sum(flipped)} of 40 images; about half should be mirrored"
    assert out.dtype == x.dtype, f"random_flip returned {out.dtype} for float32 images; keep the dtype"


@points(1)
def test_crop_keeps_size_with_zero_padding(submission):
    x = _batch(np.ones((4, 4, 1)), 32)
    same = expect_array(submission.random_crop(x, 4, 0, Rng(0)), "random_crop(images, 4, 0, rng)", shape=x.shape)
    assert np.array_equal(same, x), "random_crop with padding 0 and size 4 of a 4x4 image can only return the image"
    many = _batch(np.ones((4, 4, 1)), 200)
    out = expect_array(submission.random_crop(many, 4, 1, Rng(1)), "random_crop(images, 4, 1, rng)",
                       shape=many.shape)
    assert set(np.unique(out)) <= {0.0, 1.0}, "random_crop of an image of ones, padded with zeros, holds only 0 and 1"
    zeros = (out == 0).reshape(200, -1).sum(axis=1)
    assert set(zeros) <= {0, 4, 7}, (
        "a 4x4 window of a 4x4 image of ones padded by 1 holds 0 zeros (centre), 4 (shifted one way) or "
        f"7 (shifted both ways); got windows with {sorted(set(int(z) for z in zeros))} zeros")
    assert len(set(zeros)) == 3, (
        "over 200 images random_crop should pick windows at every kind of position: the centre and shifted ones")
    small = expect_array(submission.random_crop(x, 3, 1, Rng(2)), "random_crop(images, 3, 1, rng)",
                         shape=(32, 3, 3, 1))
    assert small.dtype == x.dtype, "random_crop should keep the dtype of the images"


@points(1)
def test_jitter_keeps_mean_without_brightness(submission):
    image = np.array([[0.25, 0.75], [0.5, 0.5]], dtype=np.float32)[:, :, None]   # mean 0.5
    x = _batch(image, 20)
    same = expect_array(submission.color_jitter(x, 0.0, 0.0, Rng(0)), "color_jitter(images, 0, 0, rng)",
                        shape=x.shape, dtype_kind="f")
    assert np.allclose(same, x, atol=1e-6), "color_jitter with brightness 0 and contrast 0 should change nothing"
    out = expect_array(submission.color_jitter(x, 0.0, 0.5, Rng(1)), "color_jitter(images, 0, 0.5, rng)",
                       shape=x.shape, dtype_kind="f")
    assert np.allclose(out.mean(axis=(1, 2, 3)), 0.5, atol=1e-5), (
        "with brightness 0, (x - mean) * c + mean keeps each image's mean (0.5 here)")
    spread = out[:, 0, 1, 0] - out[:, 0, 0, 0]         # 0.5 * c
    assert np.all((spread > 0.25 - 1e-5) & (spread < 0.75 + 1e-5)), (
        "with contrast 0.5 the factor c lies in [0.5, 1.5], so 0.75 - 0.25 becomes between 0.25 and 0.75")
    assert np.ptp(spread) > 0.01, "color_jitter should draw a different contrast factor for each image"
    bright = expect_array(submission.color_jitter(x, 0.6, 0.0, Rng(2)), "color_jitter(images, 0.6, 0, rng)",
                          shape=x.shape, dtype_kind="f")
    assert bright.min() >= 0 and bright.max() <= 1, "color_jitter should clip its result to [0, 1]"


@points(1)
def test_pca_shifts_every_pixel_by_one_colour(submission):
    x = load_sample_images(factor=16)[:, :20, :20]       # two 20x20 photos
    same = expect_array(submission.pca_color_augment(x, 0.0, Rng(0)), "pca_color_augment(images, 0, rng)",
                        shape=x.shape, dtype_kind="f")
    assert np.allclose(same, x, atol=1e-6), "pca_color_augment with alpha_std 0 should change nothing"
    out = expect_array(submission.pca_color_augment(x, 0.3, Rng(1)), "pca_color_augment(images, 0.3, rng)",
                       shape=x.shape, dtype_kind="f")
    assert out.min() >= 0 and out.max() <= 1, "pca_color_augment should clip its result to [0, 1]"
    for i in range(2):
        inside = np.all((out[i] > 0) & (out[i] < 1), axis=-1)
        shift = (out[i] - x[i])[inside]
        assert np.allclose(shift, shift[0], atol=1e-5), (
            f"image {i}: every pixel should be shifted by the same RGB colour (except where clipped)")
    assert not np.allclose(out, x, atol=1e-4), "pca_color_augment with alpha_std 0.3 changed nothing"


@points(1)
def test_augment_dataset_shapes_and_labels(submission):
    x = load_sample_images(factor=16)[:, :16, :16]        # two 16x16 photos
    y = np.array([0, 1])
    x_aug, y_aug = expect_tuple(submission.augment_dataset(x, y, 3, Rng(0)), "augment_dataset(x, y, 3, rng)", 2)
    x_aug = expect_array(x_aug, "the images of augment_dataset(x, y, 3, rng)", shape=(8, 16, 16, 3), dtype_kind="f")
    y_aug = expect_array(y_aug, "the labels of augment_dataset(x, y, 3, rng)", shape=(8,), dtype_kind="i")
    assert np.array_equal(y_aug, [0, 1, 0, 1, 0, 1, 0, 1]), (
        f"the labels should be y repeated 3 + 1 times, [0, 1, 0, 1, 0, 1, 0, 1]; got {y_aug.tolist()}")
    assert np.array_equal(x_aug[:2], x), "augment_dataset should start with the original images, unchanged"
    assert not np.array_equal(x_aug[2:], np.concatenate([x, x, x])), (
        "augment_dataset repeated the original images unchanged; the copies should be flipped and cropped")


@points(2)
def test_keras_augmenter(submission):
    ref = expect_model(submission.build_keras_augmenter(), "build_keras_augmenter()")
    model = rebuild(_sized(ref, 32, 32), "build_keras_augmenter()")
    kinds = [type(layer).__name__ for layer in model.layers if type(layer).__name__ != "InputLayer"]
    assert kinds == ["RandomFlip", "RandomRotation", "RandomZoom", "RandomContrast"], (
        f"build_keras_augmenter() has the layers {kinds}; it should be RandomFlip, RandomRotation, RandomZoom, "
        "RandomContrast")
    x = load_sample_images(factor=16)
    out = expect_array(ref.predict(x), "build_keras_augmenter().predict(images)", shape=x.shape, dtype_kind="f")
    assert np.allclose(out, x, atol=1e-6), (
        "when predicting (training=False) the augmentation layers should give the images back unchanged")
