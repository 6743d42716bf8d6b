"""Hidden tests for augmentation.

The learner's functions run in the sandbox on crops of scikit-learn's two sample photos
(downsampled); the trusted side never trusts how the learner drew its random numbers. It
checks that every output image is exactly one of the transforms allowed for its input:

- flip: equal to the image or to the image mirrored left-right;
- crop: equal to some size x size window of the zero-padded image (all windows are searched);
- jitter: equal to clip(c x + d, 0, 1) for one (c, d) per image, fitted by least squares on the
  pixels the clip left alone, with c and the brightness b = d - (1 - c) mean(x) within bounds;
- PCA: the same RGB shift for every unclipped pixel of an image, whose coordinates along the
  eigenvectors of the batch's RGB covariance, divided by the eigenvalues, look like normal
  draws with the given standard deviation;

and that shapes, dtypes and the [0, 1] range are kept, the same seed gives the same output,
different seeds different outputs, and labels are untouched. The Keras augmenter is checked
from its configuration (layers, factors, seeds) and by predicting (inference mode: identity).
Messages name the property that failed and never show an expected value.

Every property test also requires the change the README promises, so a function that gives its
input back unchanged gets 0 on each of them: a flip mirrors some images, a crop moves some
windows, a jitter changes some contrast or brightness, a PCA shift moves some colour, the
augmented copies of augment_dataset are not the originals, and the Keras augmenter changes
images while training. The crop's positions are `test_random_crop_reaches_every_position` alone:
both extreme offsets of each axis must appear over many seeded draws (a correct crop misses one
with probability below 1e-9, see there)."""

import functools
import json

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from grader.data import load_sample_images
from grader.modelcheck import expect_model, rebuild
from grader.modelcheck import ModelRef
from grader.testing import Feedback, Rng, expect_array, expect_raises, expect_tuple, points


@functools.lru_cache(maxsize=4)
def _sample_photos(factor):
    return load_sample_images(factor=factor)


def _photos(n=16, height=32, width=32, factor=8, seed=99):
    """n crops (height x width) of the two sample photos downsampled by `factor`, float32."""
    imgs = _sample_photos(factor)
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        img = imgs[k % 2]
        r = int(rng.integers(0, img.shape[0] - height + 1))
        c = int(rng.integers(0, img.shape[1] - width + 1))
        out.append(img[r:r + height, c:c + width])
    return np.stack(out).astype(np.float32)


def _images(value, what, like, shape=None):
    out = expect_array(value, what, shape=shape or like.shape, dtype_kind="f")
    if out.dtype != like.dtype:
        raise Feedback(f"{what} returned {out.dtype} images for {like.dtype} input; keep the input's dtype")
    return out


def _in_range(out, what):
    if out.min() < 0 or out.max() > 1:
        raise Feedback(f"{what} returned values outside [0, 1] (from {out.min():.3g} to {out.max():.3g}); "
                       "clip the result to [0, 1]")


# --------------------------------------------------------------------------------------------
# Allowed transforms, searched on the trusted side
# --------------------------------------------------------------------------------------------


def _flip_kind(out, x):
    """'same', 'mirrored' or None."""
    if np.array_equal(out, x):
        return "same"
    if np.array_equal(out, x[:, ::-1]):
        return "mirrored"
    return None


def _window_offsets(out, x, padding):
    """All (top, left) at which `out` is a window of x zero-padded by `padding`."""
    size = out.shape[0]
    padded = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    if size > padded.shape[0] or size > padded.shape[1]:
        return []
    windows = sliding_window_view(padded, (size, size, x.shape[2]))[:, :, 0]
    hits = np.all(windows == out, axis=(2, 3, 4))
    return [tuple(int(v) for v in p) for p in np.argwhere(hits)]


def _fit_jitter(out, x):
    """(c, d, largest error) with out ~ clip(c x + d, 0, 1), fitted on unclipped pixels."""
    x = x.astype(np.float64).ravel()
    o = out.astype(np.float64).ravel()
    inside = (o > 1e-6) & (o < 1 - 1e-6)
    if inside.sum() < 10 or np.ptp(x[inside]) < 1e-3:
        return None
    a = np.stack([x[inside], np.ones(inside.sum())], axis=1)
    (c, d), *_ = np.linalg.lstsq(a, o[inside], rcond=None)
    err = float(np.max(np.abs(np.clip(c * x + d, 0, 1) - o)))
    return float(c), float(d), err


def _pca_basis(images):
    values, vectors = np.linalg.eigh(np.cov(images.reshape(-1, 3).astype(np.float64), rowvar=False))
    return values, vectors


def _pca_shift(out, x):
    """The RGB shift of one image (median over pixels the clip left alone) and the largest
    difference between the output and the input shifted by it."""
    x = x.astype(np.float64).reshape(-1, 3)
    o = out.astype(np.float64).reshape(-1, 3)
    inside = np.all((o > 1e-6) & (o < 1 - 1e-6), axis=1)
    if inside.sum() < 10:
        return None, np.inf
    shift = np.median(o[inside] - x[inside], axis=0)
    err = float(np.max(np.abs(np.clip(x + shift, 0, 1) - o)))
    return shift, err


# --------------------------------------------------------------------------------------------
# random_flip
# --------------------------------------------------------------------------------------------


@points(2)
def test_random_flip_mirrors_left_right_or_keeps(submission):
    x = _photos(16, 24, 36)
    mirrored = []
    for data, what in ((x, "random_flip(images, rng)"), (x[:5].astype(np.float64), "random_flip on float64 images")):
        out = _images(submission.random_flip(data, Rng(5)), what, data)
        for i in range(len(data)):
            kind = _flip_kind(out[i], data[i])
            if kind is None:
                upside = np.array_equal(out[i], data[i][::-1])
                raise Feedback(f"{what}: image {i} is neither unchanged nor mirrored left-right"
                               + (" (it is flipped upside down: mirror the columns, axis 2 of the batch)"
                                  if upside else ""))
            mirrored.append(kind == "mirrored")
    assert any(mirrored), (
        "random_flip returned all 21 images unchanged: it should mirror each image left-right with probability 1/2")


@points(1)
def test_random_flip_is_random_and_seeded(submission):
    x = _photos(16, 24, 36)
    outs = {s: _images(submission.random_flip(x, Rng(s)), f"random_flip(images, Rng({s}))", x) for s in (1, 2, 3)}
    again = _images(submission.random_flip(x, Rng(1)), "random_flip(images, Rng(1))", x)
    assert np.array_equal(outs[1], again), "random_flip gives different images for the same generator seed"
    assert not (np.array_equal(outs[1], outs[2]) and np.array_equal(outs[1], outs[3])), (
        "random_flip gives the same images for different generator seeds; draw from the rng argument")
    for s, out in outs.items():
        kinds = [_flip_kind(out[i], x[i]) for i in range(len(x))]
        flipped = kinds.count("mirrored")
        assert 0 < flipped < len(x), (
            f"random_flip(images, Rng({s})) mirrored {flipped} of {len(x)} images; each image should be "
            "mirrored with probability 1/2, on its own")


# --------------------------------------------------------------------------------------------
# random_crop
# --------------------------------------------------------------------------------------------


def _crop_offsets(submission, x, size, padding, seed):
    what = f"random_crop(images of {x.shape[1]}x{x.shape[2]}, size={size}, padding={padding}, rng)"
    out = _images(submission.random_crop(x, size, padding, Rng(seed)), what, x,
                  shape=(len(x), size, size, x.shape[3]))
    offsets = []
    for i in range(len(x)):
        found = _window_offsets(out[i], x[i], padding)
        if not found:
            raise Feedback(f"{what}: image {i} is not a {size}x{size} window of the image padded with "
                           f"{padding} zeros on each side")
        offsets.append(found)
    return out, offsets


@points(2)
def test_random_crop_is_a_window_of_the_padded_image(submission):
    _, offsets = _crop_offsets(submission, _photos(16, 28, 28), 28, 4, 7)
    _, more = _crop_offsets(submission, _photos(12, 30, 40), 24, 2, 8)
    # the change promised: with size = height and some padding, some windows move off the centre
    assert any((4, 4) not in found for found in offsets), (
        "random_crop(size=28, padding=4) returned every 28x28 image unshifted; pad with zeros, then cut the window "
        "at a random position of the padded image")


def _coverage_image(height, width, channels=3):
    """An image whose pixel values are all different and non-zero: a window of it zero-padded
    has exactly one position."""
    count = height * width * channels
    return (np.arange(1, count + 1, dtype=np.float64) / (count + 1)).reshape(height, width, channels).astype(np.float32)


# Both extreme offsets of both axes must appear. 150 calls of one image (so a crop that draws
# one position per batch is not penalised here; that is test_random_crop_varies_and_is_seeded's)
# on a 10 x 12 image, size 8, padding 1: tops 0..4 (5 positions), lefts 0..6 (7 positions). A
# correct crop misses a given extreme with probability (4/5)^150 = 2.9e-15 (top) or
# (6/7)^150 = 9.6e-11 (left), all four together below 2e-10 (union bound). A crop drawing with
# an exclusive upper bound (rng.integers(0, max)) never reaches the last position and fails.
COVERAGE_CALLS = 150


@points(1)
def test_random_crop_reaches_every_position(submission):
    h, w, size, padding = 10, 12, 8, 1
    x = _coverage_image(h, w)[None]
    max_top, max_left = h + 2 * padding - size, w + 2 * padding - size
    tops, lefts = set(), set()
    what = f"random_crop(one {h}x{w} image, size={size}, padding={padding}, rng)"
    for seed in range(COVERAGE_CALLS):
        out = _images(submission.random_crop(x, size, padding, Rng(1000 + seed)), what, x,
                      shape=(1, size, size, 3))
        found = _window_offsets(out[0], x[0], padding)
        if len(found) != 1:
            raise Feedback(f"{what}: the result is not a {size}x{size} window of the image padded with {padding} "
                           "zeros on each side")
        tops.add(found[0][0])
        lefts.add(found[0][1])
    missing = []
    for axis, seen, top in (("top row", tops, max_top), ("left column", lefts, max_left)):
        for extreme in (0, top):
            if extreme not in seen:
                missing.append(f"{axis} {extreme}")
    assert not missing, (
        f"over {COVERAGE_CALLS} calls of {what} the window never started at {' or '.join(missing)}; every position "
        f"0 .. height + 2*padding - size (here 0 .. {max_top} for the top row and 0 .. {max_left} for the left "
        "column) should be possible: rng.integers(low, high) never returns high, so use high = last position + 1")


@points(1)
def test_random_crop_varies_and_is_seeded(submission):
    x = _photos(16, 28, 28)
    size, padding = 28, 4
    out, offsets = _crop_offsets(submission, x, size, padding, 11)
    chosen = [o[0] for o in offsets]
    assert len(set(chosen)) >= 3, (
        "random_crop picked (almost) the same window for every image of a batch; draw the position of each "
        "image's window on its own")
    again = _images(submission.random_crop(x, size, padding, Rng(11)), "random_crop(..., Rng(11))", x)
    other = _images(submission.random_crop(x, size, padding, Rng(12)), "random_crop(..., Rng(12))", x)
    assert np.array_equal(out, again), "random_crop gives different windows for the same generator seed"
    assert not np.array_equal(out, other), "random_crop gives the same windows for different generator seeds"


@points(1)
def test_random_crop_rejects_a_window_too_large(submission):
    x = _photos(2, 16, 16)
    with expect_raises("ValueError", "random_crop(16x16 images, size=21, padding=2, rng)"):
        submission.random_crop(x, 21, 2, Rng(0))


# --------------------------------------------------------------------------------------------
# color_jitter
# --------------------------------------------------------------------------------------------


def _jitter_params(submission, x, brightness, contrast, seed):
    what = f"color_jitter(images, brightness={brightness}, contrast={contrast}, rng)"
    out = _images(submission.color_jitter(x, brightness, contrast, Rng(seed)), what, x)
    _in_range(out, what)
    cs, bs = [], []
    for i in range(len(x)):
        fit = _fit_jitter(out[i], x[i])
        if fit is None or fit[2] > 1e-4:
            raise Feedback(f"{what}: image {i} is not clip((x - mean) * c + mean + b, 0, 1) for any one c and "
                           "b (the mean is one number per image: over all its pixels and channels)")
        c, d, _ = fit
        b = d - (1 - c) * float(x[i].astype(np.float64).mean())
        if not (1 - contrast - 1e-4 <= c <= 1 + contrast + 1e-4):
            raise Feedback(f"{what}: image {i} has its contrast scaled by {c:.3f}, outside "
                           "[1 - contrast, 1 + contrast]")
        if abs(b) > brightness + 1e-4:
            raise Feedback(f"{what}: image {i} has its brightness shifted by {b:.3f}, outside "
                           "[-brightness, brightness] (or the shift is not taken around the image's mean)")
        cs.append(c)
        bs.append(b)
    return out, np.array(cs), np.array(bs)


@points(2)
def test_color_jitter_fits_contrast_and_brightness_within_bounds(submission):
    x = _photos(16, 24, 24)
    _, cs, bs = _jitter_params(submission, x, 0.2, 0.4, 3)
    _jitter_params(submission, x[:6], 0.05, 0.1, 4)
    # the change promised: a contrast factor from [0.6, 1.4] and a shift from [-0.2, 0.2] per image
    assert np.any(np.abs(cs - 1) > 1e-3) or np.any(np.abs(bs) > 1e-3), (
        "color_jitter(images, brightness=0.2, contrast=0.4, rng) returned every image unchanged: draw a contrast "
        "factor c and a brightness shift b for each image and apply them")


@points(1)
def test_color_jitter_draws_per_image_and_is_seeded(submission):
    x = _photos(16, 24, 24)
    out, cs, bs = _jitter_params(submission, x, 0.2, 0.4, 21)
    assert cs.min() < 1 < cs.max(), (
        "color_jitter: over 16 images the contrast factor was never both below and above 1; draw c "
        "uniformly from [1 - contrast, 1 + contrast] for each image")
    assert bs.min() < 0 < bs.max(), (
        "color_jitter: over 16 images the brightness shift was never both negative and positive; draw b "
        "uniformly from [-brightness, brightness] for each image")
    again = _images(submission.color_jitter(x, 0.2, 0.4, Rng(21)), "color_jitter(..., Rng(21))", x)
    other = _images(submission.color_jitter(x, 0.2, 0.4, Rng(22)), "color_jitter(..., Rng(22))", x)
    assert np.allclose(out, again, atol=1e-7), "color_jitter gives different images for the same generator seed"
    assert not np.allclose(out, other, atol=1e-4), "color_jitter gives the same images for different generator seeds"


# --------------------------------------------------------------------------------------------
# pca_color_augment
# --------------------------------------------------------------------------------------------


def _pca_alphas(submission, x, alpha_std, seed):
    what = f"pca_color_augment(images, alpha_std={alpha_std}, rng)"
    out = _images(submission.pca_color_augment(x, alpha_std, Rng(seed)), what, x)
    _in_range(out, what)
    values, vectors = _pca_basis(x)
    alphas = []
    for i in range(len(x)):
        shift, err = _pca_shift(out[i], x[i])
        if shift is None or err > 1e-4:
            raise Feedback(f"{what}: the pixels of image {i} are not all shifted by the same RGB colour "
                           "(up to the clip to [0, 1])")
        alphas.append((vectors.T @ shift) / values)
    return out, np.array(alphas)


@points(2)
def test_pca_shift_is_one_colour_per_image(submission):
    x = _photos(16, 20, 20)
    out, alphas = _pca_alphas(submission, x, 0.5, 5)
    assert np.any(np.abs(alphas) > 1e-3), (
        "pca_color_augment(images, alpha_std=0.5, rng) shifted no image's colour: add the colour "
        "[p_1 p_2 p_3] . [alpha_1 lambda_1, alpha_2 lambda_2, alpha_3 lambda_3] to every pixel")
    again = _images(submission.pca_color_augment(x, 0.5, Rng(5)), "pca_color_augment(..., Rng(5))", x)
    other = _images(submission.pca_color_augment(x, 0.5, Rng(6)), "pca_color_augment(..., Rng(6))", x)
    assert np.allclose(out, again, atol=1e-7), "pca_color_augment gives different images for the same generator seed"
    assert not np.allclose(out, other, atol=1e-5), (
        "pca_color_augment gives the same images for different generator seeds")


@points(2)
def test_pca_shift_follows_the_principal_components(submission):
    x = _photos(16, 20, 20)
    for alpha_std, seed in ((0.1, 31), (0.5, 32)):
        _, alphas = _pca_alphas(submission, x, alpha_std, seed)
        what = f"pca_color_augment(images, alpha_std={alpha_std}, rng)"
        scaled = alphas / alpha_std
        assert np.all(np.abs(scaled) < 6), (
            f"{what}: the colour shifts are too large along some principal component for "
            "alpha_i ~ N(0, alpha_std) times eigenvalue lambda_i (use the eigenvalues of the covariance of the "
            "RGB values of all pixels of all images, not their square roots, and unit eigenvectors)")
        spread = float(np.sqrt(np.mean(scaled ** 2)))
        assert 0.6 < spread < 1.5, (
            f"{what}: along the principal components the colour shifts divided by the eigenvalues have a "
            f"spread of {spread:.2f} alpha_std; draws from N(0, alpha_std) should give about 1")


# --------------------------------------------------------------------------------------------
# augment_dataset
# --------------------------------------------------------------------------------------------


@points(1)
def test_augment_dataset_keeps_labels_and_originals(submission):
    x = _photos(8, 24, 24)
    y = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=np.int64)
    what = "augment_dataset(x, y, copies=2, rng)"
    x_aug, y_aug = expect_tuple(submission.augment_dataset(x, y, 2, Rng(40)), what, 2)
    x_aug = _images(x_aug, f"the images of {what}", x, shape=(24, 24, 24, 3))
    y_aug = expect_array(y_aug, f"the labels of {what}", shape=(24,), dtype_kind="i")
    assert y_aug.dtype == y.dtype, f"the labels of {what} changed dtype; return y's labels unchanged"
    assert np.array_equal(y_aug, np.concatenate([y, y, y])), (
        f"the labels of {what} are not y repeated copies + 1 times: every augmented image keeps its label")
    assert np.array_equal(x_aug[:8], x), f"{what} should start with the original images, unchanged"
    assert not np.array_equal(x_aug[8:], np.concatenate([x, x])), (
        f"{what} repeated the original images unchanged; its copies should be flipped and cropped (the labels "
        "are checked on an augmented set)")
    y_float = np.array([0.0, 1.0, 0.0, 1.0], dtype=np.float32)
    _, y_aug = expect_tuple(submission.augment_dataset(x[:4], y_float, 1, Rng(41)), "augment_dataset(..., copies=1)", 2)
    y_aug = expect_array(y_aug, "the labels of augment_dataset(..., copies=1)", shape=(8,))
    assert y_aug.dtype == y_float.dtype and np.array_equal(y_aug, np.concatenate([y_float, y_float])), (
        "augment_dataset changed labels given as floats; return them as they are, repeated")


@points(2)
def test_augment_dataset_copies_are_flips_and_crops(submission):
    x = _photos(8, 24, 24)
    y = np.arange(8)
    what = "augment_dataset(x, y, copies=3, rng)"
    x_aug, _ = expect_tuple(submission.augment_dataset(x, y, 3, Rng(50)), what, 2)
    x_aug = _images(x_aug, f"the images of {what}", x, shape=(32, 24, 24, 3))
    padding = 3
    kinds, offsets = [], []
    for k in range(1, 4):
        for i in range(8):
            out = x_aug[8 * k + i]
            found = [(kind, off) for kind, img in (("same", x[i]), ("mirrored", x[i][:, ::-1]))
                     for off in _window_offsets(out, img, padding)]
            if not found:
                raise Feedback(f"{what}: image {i} of copy {k} is not a window of original image {i} (mirrored or "
                               "not) zero-padded by max(1, height // 8)")
            kinds.append({f[0] for f in found})
            offsets.append({f[1] for f in found})
    assert any("mirrored" in s for s in kinds) and any("same" in s for s in kinds), (
        f"{what}: the copies are never (or always) mirrored; use random_flip")
    assert len(set().union(*offsets)) >= 3, f"{what}: the copies are (almost) never shifted; use random_crop"
    assert not np.array_equal(x_aug[8:16], x_aug[16:24]), (
        f"{what}: copies 1 and 2 are identical; draw anew for each copy")


# --------------------------------------------------------------------------------------------
# The Keras augmenter
# --------------------------------------------------------------------------------------------


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


def _bounds(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (-abs(float(value)), abs(float(value)))
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return tuple(sorted(float(v) for v in value))
    return None


def _close(a, b):
    return a is not None and b is not None and np.allclose(a, b, atol=1e-6)


@points(2)
def test_keras_augmenter_layers_and_factors(submission):
    what = "build_keras_augmenter(seed=7)"
    ref = expect_model(submission.build_keras_augmenter(seed=7), what)
    model = rebuild(_sized(ref, 32, 32), what)
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    kinds = [type(layer).__name__ for layer in layers]
    want = ["RandomFlip", "RandomRotation", "RandomZoom", "RandomContrast"]
    assert kinds == want, f"{what} has the layers {', '.join(kinds) or 'none'}; it should have {', '.join(want)}"
    config = {type(layer).__name__: layer.get_config() for layer in layers}
    assert config["RandomFlip"].get("mode") == "horizontal", "RandomFlip should mirror left-right only: 'horizontal'"
    assert _close(_bounds(config["RandomRotation"].get("factor")), (-0.1, 0.1)), (
        "RandomRotation should rotate by up to 0.1 of a full turn either way: RandomRotation(0.1)")
    zoom = config["RandomZoom"]
    assert _close(_bounds(zoom.get("height_factor")), (-0.1, 0.1)) and (
        zoom.get("width_factor") is None or _close(_bounds(zoom.get("width_factor")), (-0.1, 0.1))), (
        "RandomZoom should zoom in or out by up to 10%: RandomZoom(0.1)")
    contrast = config["RandomContrast"]
    low, high = _bounds(contrast.get("factor")) or (None, None)
    assert high is not None and np.isclose(high, 0.2) and -1e-9 <= low <= 0.2 + 1e-9, (
        "RandomContrast should change the contrast by up to 20%: RandomContrast(0.2, ...)")
    assert _close(tuple(contrast.get("value_range") or ()), (0.0, 1.0)), (
        "RandomContrast should be told that the pixel values lie in [0, 1]: value_range=(0, 1)")
    unseeded = [k for k in want if config[k].get("seed") != 7]
    assert not unseeded, f"{what}: pass seed=seed to every random layer (not done for {', '.join(unseeded)})"


@points(1)
def test_keras_augmenter_is_identity_when_predicting(submission):
    x = _sample_photos(10)
    ref = expect_model(submission.build_keras_augmenter(seed=3), "build_keras_augmenter(seed=3)")
    out = expect_array(ref.predict(x), "build_keras_augmenter(seed=3).predict(images)", shape=x.shape,
                       dtype_kind="f")
    assert np.allclose(out, x, atol=1e-6), (
        "build_keras_augmenter(...).predict(images) changed the images: augmentation layers act only while "
        "training, so the model should give back its input unchanged when predicting (no other layers)")
    # the change promised while training, computed on the trusted side from the rebuilt model
    model = rebuild(_sized(ref, x.shape[1], x.shape[2]), "build_keras_augmenter(seed=3)")
    trained = np.asarray(model(x.astype(np.float32), training=True))
    assert trained.shape == x.shape and not np.allclose(trained, x, atol=1e-3), (
        "build_keras_augmenter(seed=3) gives the images back unchanged also while training (training=True): "
        "it should hold the random augmentation layers, which change the images while a model trains")
