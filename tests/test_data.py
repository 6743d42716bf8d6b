"""grader.data (the package grader/data/) on the real Hoda files, on .cdb files made here, and on the bundled/synthetic sets.

The Hoda files are read where the course keeps them: ``shared/datasets/hoda`` beside the checkout,
else ``$DLGRADE_HODA_DIR``. Where neither exists these tests fail (they do not skip): a grader
that cannot read the course's own data set is broken.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from grader import data
from grader.data import DataError

REPO = Path(__file__).resolve().parents[1]
SHARED_HODA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "hoda"
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

# From shared/datasets/hoda/README.md.
README_FILES = {
    "Test 20000.cdb": {
        "records": 20000,
        "per_class": [2000] * 10,
        "sha256": "f947c38071c886677ec212fe5000863fafae0b4ed349d97d51c33abe3c8e2b07",
    },
    "RemainingSamples.cdb": {
        "records": 22352,
        "per_class": [2070, 2330, 1923, 2334, 2333, 2110, 2254, 2363, 2264, 2371],  # "1,923 .. 2,371"
        "sha256": "11c9b0661b8de5f743b1b01ac76b4de19b238062d6da3500b5d6128fb1989e3d",
    },
}


@pytest.fixture(scope="session")
def hoda() -> Path:
    if SHARED_HODA.is_dir():
        return SHARED_HODA
    env = os.environ.get("DLGRADE_HODA_DIR", "")
    if env and Path(env).is_dir():
        return Path(env)
    pytest.fail(
        f"the Hoda digits are not here: neither {SHARED_HODA} exists nor DLGRADE_HODA_DIR names a folder;"
        " set DLGRADE_HODA_DIR to the folder holding RemainingSamples.cdb and 'Test 20000.cdb'"
    )


# ------------------------------------------------------------------------------------------
# helpers: an independent reference decoder and a .cdb writer
# ------------------------------------------------------------------------------------------


def reference_decode(raw: bytes) -> tuple[list[np.ndarray], list[int]]:
    """Straight from the README, one byte at a time; asserts that every row's runs add up."""
    count = struct.unpack_from("<I", raw, 6)[0]
    pos, images, labels = 1024, [], []
    for i in range(count):
        assert raw[pos] == 0xFF, f"record {i}: start byte"
        label, w, h = raw[pos + 1], raw[pos + 2], raw[pos + 3]
        n = struct.unpack_from("<H", raw, pos + 4)[0]
        pos += 6
        img = np.zeros((h, w), np.uint8)
        j = pos
        for y in range(h):
            x, ink = 0, False
            while x < w:
                r = raw[j]
                j += 1
                if ink:
                    img[y, x : x + r] = 255
                x += r
                ink = not ink
            assert x == w, f"record {i} row {y}: runs add up to {x}, width {w}"
        assert j == pos + n, f"record {i}: byte count {n}, runs used {j - pos}"
        pos += n
        images.append(img)
        labels.append(label)
    assert pos == len(raw), "bytes left after the last record"
    return images, labels


def encode_runs(img: np.ndarray) -> bytes:
    out = bytearray()
    for row in np.asarray(img, bool):
        runs, cur, n = [], False, 0
        for v in row:
            if v == cur:
                n += 1
            else:
                runs.append(n)
                cur, n = bool(v), 1
        runs.append(n)
        out += bytes(runs)
    return bytes(out)


def make_cdb(records, *, height=0, width=0, image_type=0, count=None) -> bytes:
    header = bytearray(1024)
    struct.pack_into("<HBBBBI", header, 0, 2024, 5, 6, height, width, len(records) if count is None else count)
    per_label = [0] * 128
    for label, _ in records:
        per_label[label % 128] += 1
    struct.pack_into("<128I", header, 10, *per_label)
    header[522] = image_type
    header[523:527] = b"test"
    body = bytearray()
    for label, img in records:
        h, w = img.shape
        payload = encode_runs(img) if image_type == 0 else np.asarray(img, np.uint8).T.tobytes()
        sizes = bytes([w, h]) if height == 0 or width == 0 else b""
        body += bytes([0xFF, label]) + sizes + struct.pack("<H", len(payload)) + payload
    return bytes(header + body)


def random_digit_like(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    img = rng.random((h, w)) < 0.4
    img[0, :] = True  # a row that starts with ink (background run of 0)
    img[-1, :] = False  # an all-background row
    return img


# ------------------------------------------------------------------------------------------
# the real files
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(README_FILES))
def test_header_counts_match_the_readme(hoda, name):
    header = data.read_cdb_header(hoda / name)
    expected = README_FILES[name]
    assert header.count == expected["records"]
    assert list(header.label_counts[:10]) == expected["per_class"]
    assert sum(header.label_counts[10:]) == 0
    assert header.per_record_size and header.height == 0 and header.width == 0
    assert header.image_type == 0  # binary, run-length coded
    assert header.year == 2005


@pytest.mark.parametrize("name", sorted(README_FILES))
def test_sha256_as_the_readme_gives(hoda, name):
    digest = hashlib.sha256((hoda / name).read_bytes()).hexdigest()
    assert digest == README_FILES[name]["sha256"]


@pytest.mark.parametrize("name", sorted(README_FILES))
def test_every_image_decodes_as_the_reference_decoder_does(hoda, name):
    raw = (hoda / name).read_bytes()
    ref_images, ref_labels = reference_decode(raw)  # every row of every record adds up to its width
    images, labels = data.read_cdb(hoda / name)
    assert labels.dtype == np.int64 and labels.tolist() == ref_labels
    assert np.bincount(labels).tolist() == README_FILES[name]["per_class"]
    assert len(images) == len(ref_images) == README_FILES[name]["records"]
    for i, (got, want) in enumerate(zip(images, ref_images)):
        assert got.dtype == np.uint8 and got.shape == want.shape, i
        assert np.array_equal(got, want), f"record {i} differs from the reference decoder"
    sides = np.array([img.shape for img in images])
    # README: "4 to 64 pixels a side"; RemainingSamples.cdb holds digits 3 pixels wide too
    assert sides.min() >= 3 and sides.max() <= 64
    assert 25 <= np.median(sides[:, 0]) <= 35 and 15 <= np.median(sides[:, 1]) <= 25  # ~30 high, ~20 wide
    assert all(img.any() for img in images[:500]), "decoded digits should hold ink"


@pytest.mark.parametrize("name", sorted(README_FILES))
def test_read_is_fast_and_cached(hoda, name):
    data.cdb._read_cdb_cached.cache_clear()
    start = time.perf_counter()
    images, labels = data.read_cdb(hoda / name)
    first = time.perf_counter() - start
    assert first < 2.0, f"parsing {name} took {first:.2f} s"
    start = time.perf_counter()
    again, labels_again = data.read_cdb(str(hoda / name))
    assert time.perf_counter() - start < 0.1
    assert all(a is b for a, b in zip(images, again))  # the same parsed arrays, not a second parse
    labels_again[0] = 99  # callers get their own labels ...
    assert data.read_cdb(hoda / name)[1][0] != 99
    with pytest.raises(ValueError):  # ... and cannot change the shared images
        images[0][0, 0] = 1


# ------------------------------------------------------------------------------------------
# files made here: round trips and bad input
# ------------------------------------------------------------------------------------------


def test_round_trip_of_made_files(tmp_path):
    rng = np.random.default_rng(5)
    records = [(i % 10, random_digit_like(rng, int(rng.integers(1, 40)), int(rng.integers(1, 40)))) for i in range(60)]
    records.append((3, np.ones((5, 7), bool)))  # all ink: every row is [0, 7]
    path = tmp_path / "made.cdb"
    path.write_bytes(make_cdb(records))
    images, labels = data.read_cdb(path)
    assert labels.tolist() == [label for label, _ in records]
    for got, (_, img) in zip(images, records):
        assert np.array_equal(got, np.where(img, 255, 0).astype(np.uint8))

    fixed = [(i % 10, random_digit_like(rng, 12, 9)) for i in range(20)]
    path.write_bytes(make_cdb(fixed, height=12, width=9))  # fixed size: no per-record width/height
    images, labels = data.read_cdb(path)  # the file changed: the cache key (mtime, size) changes too
    assert len(images) == 20 and all(img.shape == (12, 9) for img in images)
    assert np.array_equal(images[7] > 0, fixed[7][1])

    gray = [(1, rng.integers(0, 256, (6, 4)).astype(np.uint8)), (2, rng.integers(0, 256, (3, 8)).astype(np.uint8))]
    gray_path = tmp_path / "gray.cdb"
    gray_path.write_bytes(make_cdb(gray, image_type=1))  # stored column by column
    images, labels = data.read_cdb(gray_path)
    assert [img.shape for img in images] == [(6, 4), (3, 8)]
    assert np.array_equal(images[0], gray[0][1]) and np.array_equal(images[1], gray[1][1])


@pytest.fixture
def good_cdb() -> bytes:
    rng = np.random.default_rng(9)
    return make_cdb([(i % 10, random_digit_like(rng, 10, 8)) for i in range(12)])


def record_offsets(raw: bytes) -> list[int]:
    pos, out = 1024, []
    while pos < len(raw):
        out.append(pos)
        pos += 6 + struct.unpack_from("<H", raw, pos + 4)[0]
    return out


def read_error(tmp_path, raw: bytes, name: str = "bad.cdb") -> str:
    path = tmp_path / name
    path.write_bytes(raw)
    with pytest.raises(DataError) as info:
        data.read_cdb(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message, message  # one line, names the file
    return message


def test_truncated_file(tmp_path, good_cdb):
    last = record_offsets(good_cdb)[-1]
    message = read_error(tmp_path, good_cdb[: last + 9])
    assert "truncated" in message and "record 11" in message and "copy" in message
    message = read_error(tmp_path, good_cdb[: last + 3])  # inside the record's own header
    assert "truncated" in message and "record 11" in message
    message = read_error(tmp_path, good_cdb[:700])
    assert "truncated" in message and "1024-byte" in message


def test_wrong_start_byte(tmp_path, good_cdb):
    raw = bytearray(good_cdb)
    raw[record_offsets(good_cdb)[4]] = 0xFE
    message = read_error(tmp_path, bytes(raw))
    assert "record 4" in message and "start byte 0xFE" in message and "0xFF" in message


def test_label_above_nine(tmp_path, good_cdb):
    raw = bytearray(good_cdb)
    raw[record_offsets(good_cdb)[2] + 1] = 12
    message = read_error(tmp_path, bytes(raw))
    assert "record 2" in message and "label 12" in message


def test_runs_that_do_not_add_up_to_the_width(tmp_path):
    header = make_cdb([(0, np.zeros((2, 4), bool))])[:1024]
    # record 0 is fine (rows [1, 2, 1] and [4]); record 1's first row runs [1, 2, 2] add up to 5
    good = bytes([0xFF, 0, 4, 2]) + struct.pack("<H", 4) + bytes([1, 2, 1, 4])
    bad = bytes([0xFF, 1, 4, 2]) + struct.pack("<H", 4) + bytes([1, 2, 2, 4])
    raw = bytearray(header)
    struct.pack_into("<I", raw, 6, 2)
    struct.pack_into("<128I", raw, 10, *([1, 1] + [0] * 126))
    message = read_error(tmp_path, bytes(raw) + good + bad)
    assert "record 1" in message and "row 0" in message and "add up to 5" in message and "width 4" in message
    short = bytes([0xFF, 1, 4, 2]) + struct.pack("<H", 3) + bytes([1, 2, 1])  # the second row is missing
    message = read_error(tmp_path, bytes(raw) + good + short)
    assert "record 1" in message and "ends in row 1" in message


def test_extra_bytes_and_wrong_label_counts(tmp_path, good_cdb):
    message = read_error(tmp_path, good_cdb + b"\xff\x00")
    assert "2 bytes after the 12 records" in message
    raw = bytearray(good_cdb)
    struct.pack_into("<I", raw, 10 + 4 * 3, 5)  # the header claims five 3s, the file holds one
    message = read_error(tmp_path, bytes(raw))
    assert "label 3" in message


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        data.read_cdb(tmp_path / "absent.cdb")
    with pytest.raises(DataError, match="not a file"):
        data.read_cdb(tmp_path)


# ------------------------------------------------------------------------------------------
# normalize_digit
# ------------------------------------------------------------------------------------------


def ink_box(img: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(img.any(axis=1))
    cols = np.flatnonzero(img.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


@pytest.mark.parametrize(
    "box_h, box_w, size, want_h, want_w",
    [
        (20, 8, 32, 28, 11),  # tall: 28 high (32 - 2 * 2), 8 * 28 / 20 = 11.2 -> 11 wide
        (6, 21, 32, 8, 28),  # wide: 6 * 28 / 21 = 8
        (14, 14, 16, 14, 14),  # square at 16: margin 1
        (3, 2, 32, 28, 19),  # small: scaled up, 2 * 28 / 3 = 18.7 -> 19
        (40, 10, 5, 5, 1),  # at 5 there is no margin
    ],
)
def test_normalize_keeps_aspect_ratio_and_centres_the_box(box_h, box_w, size, want_h, want_w):
    canvas = np.zeros((70, 60), np.uint8)
    canvas[17 : 17 + box_h, 9 : 9 + box_w] = 255  # a solid block well off centre
    out = data.normalize_digit(canvas, size)
    assert out.dtype == np.float32 and out.shape == (size, size)
    assert out.min() >= 0.0 and out.max() <= 1.0
    top, left, h, w = ink_box(out > 0)
    assert (h, w) == (want_h, want_w)
    assert (top, left) == ((size - want_h) // 2, (size - want_w) // 2)  # bounding box centred
    assert np.allclose(out[top : top + h, left : left + w], 1.0)  # a solid block stays solid


def test_normalize_details():
    digit = np.zeros((30, 20), np.uint8)
    digit[5:25, 8:12] = 255
    digit[5:9, 4:16] = 255
    a = data.normalize_digit(digit, 32)
    b = data.normalize_digit(np.pad(digit, ((7, 0), (0, 11))), 32)  # where the digit sits does not matter
    assert np.array_equal(a, b)
    assert np.allclose(data.normalize_digit(digit > 0, 32), a)  # bool and 0/255 agree
    assert np.allclose(data.normalize_digit(digit / 255.0, 32), a)
    stretched = data.normalize_digit(digit, 32, keep_aspect=False)
    assert ink_box(stretched > 0) == (2, 2, 28, 28)
    assert ink_box(data.normalize_digit(digit, 32, margin=0) > 0)[2] == 32
    assert not data.normalize_digit(np.zeros((9, 9), np.uint8), 16).any()  # no ink: all zeros
    thin = np.zeros((9, 9), np.uint8)
    thin[1:8, 4] = 255
    assert ink_box(data.normalize_digit(thin, 32) > 0) == (2, 14, 28, 4)
    # area averaging keeps the ink's mass (scaled by the change of area): 16 pixels of 64 -> 4 of 16
    frame = np.zeros((8, 8), np.uint8)
    frame[:, [0, 7]] = 255
    small = data.normalize_digit(frame, 4, margin=0)
    assert small.sum() == pytest.approx(16 * 16 / 64) and np.allclose(small[:, [0, 3]], 0.5)


@pytest.mark.parametrize(
    "image, size, words",
    [
        (np.zeros((3, 3, 3), np.uint8), 32, "2-D"),
        (np.zeros((0, 5), np.uint8), 32, "non-empty"),
        (np.full((4, 4), -1, np.int16), 32, "0-255"),
        (np.full((4, 4), 2.0), 32, "[0, 1]"),
        (np.full((4, 4), np.nan), 32, "finite"),
        (np.ones((4, 4), np.uint8), 0, "size"),
        (np.ones((4, 4), np.uint8), 2.5, "size"),
    ],
)
def test_normalize_rejects_bad_input(image, size, words):
    with pytest.raises(DataError, match=re.escape(words)):
        data.normalize_digit(image, size)


# ------------------------------------------------------------------------------------------
# subsets, load_hoda, hoda_dir
# ------------------------------------------------------------------------------------------


def test_seeded_subsets_are_stable_and_stratified(hoda):
    _, y_test = data.read_cdb(hoda / "Test 20000.cdb")
    _, y_train = data.read_cdb(hoda / "RemainingSamples.cdb")
    a = data.subset_indices(y_test, 1000, seed=0)
    assert a.dtype == np.int64 and len(set(a.tolist())) == 1000
    assert np.array_equal(a, data.subset_indices(y_test, 1000, seed=0))
    assert np.bincount(y_test[a]).tolist() == [100] * 10
    # pinned: the same indices on every machine and numpy version (hash of seed and index)
    assert a[:8].tolist() == [17741, 8903, 3830, 14307, 8047, 11099, 13287, 2180]
    assert data.subset_indices(y_test, 1000, seed=1)[:3].tolist() == [13166, 15042, 6792]
    assert not np.array_equal(np.sort(a), np.sort(data.subset_indices(y_test, 1000, seed=1)))

    b = data.subset_indices(y_train, 2000, seed=0)
    counts = np.bincount(y_train[b])
    assert counts.sum() == 2000
    share = 2000 * np.bincount(y_train) / y_train.size
    assert np.all(np.abs(counts - share) < 1)  # each class its proportional share, rounded
    assert counts.tolist() == [185, 208, 172, 209, 209, 189, 202, 211, 203, 212]
    with pytest.raises(DataError, match="n must be"):
        data.subset_indices(y_test, 20001)
    with pytest.raises(DataError, match="seed"):
        data.subset_indices(y_test, 10, seed=-1)


def test_load_hoda_shapes(hoda):
    x, y = data.load_hoda("test", size=5, n=200, seed=0, flatten=True, root=hoda)
    assert x.shape == (200, 25) and x.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0 and np.bincount(y).tolist() == [20] * 10
    x32, y32 = data.load_hoda("train", size=32, n=50, seed=3, root=str(hoda))
    assert x32.shape == (50, 32, 32, 1) and x32.dtype == np.float32
    x32b, y32b = data.load_hoda("train", size=32, n=50, seed=3, root=hoda)
    assert np.array_equal(x32, x32b) and np.array_equal(y32, y32b)
    images, labels = data.read_cdb(hoda / "RemainingSamples.cdb")
    idx = data.subset_indices(labels, 50, 3)
    assert np.array_equal(x32[7, :, :, 0], data.normalize_digit(images[idx[7]], 32))
    with pytest.raises(DataError, match="'train' or 'test'"):
        data.load_hoda("validation", root=hoda)


def test_mlp_5x5_preset_gives_25_inputs(hoda):
    preset = data.load_definition("hoda")["presets"]["mlp-5x5"]
    x, y = data.load_hoda(
        "train", size=preset["size"], n=preset["train"], seed=preset["seed"], flatten=preset["flatten"],
        keep_aspect=preset["keep_aspect"], root=hoda,
    )
    assert x.shape == (1000, 25) and y.shape == (1000,)
    accepted = set(inspect.signature(data.load_hoda).parameters) | {"train", "test", "description", "source", "classes"}
    for name, p in data.load_definition("hoda")["presets"].items():
        assert set(p) <= accepted, f"preset {name} has keys load_hoda does not take: {set(p) - accepted}"


def test_hoda_dir(hoda, tmp_path, monkeypatch):
    monkeypatch.delenv("DLGRADE_HODA_DIR", raising=False)
    with pytest.raises(DataError) as info:
        data.hoda_dir()
    assert "DLGRADE_HODA_DIR" in str(info.value) and "--hoda-dir" in str(info.value)
    with pytest.raises(DataError) as info:
        data.load_hoda("test", n=10)
    assert "DLGRADE_HODA_DIR" in str(info.value)

    missing = tmp_path / "nowhere"
    with pytest.raises(DataError) as info:
        data.hoda_dir(missing)
    assert str(missing) in str(info.value) and "does not exist" in str(info.value)
    monkeypatch.setenv("DLGRADE_HODA_DIR", str(missing))
    with pytest.raises(DataError, match="DLGRADE_HODA_DIR"):
        data.hoda_dir()

    (tmp_path / "RemainingSamples.cdb").write_bytes(b"")
    with pytest.raises(DataError) as info:
        data.hoda_dir(tmp_path)
    assert "lacks 'Test 20000.cdb'" in str(info.value) and "--hoda-dir" in str(info.value)

    assert data.hoda_dir(hoda) == hoda
    monkeypatch.setenv("DLGRADE_HODA_DIR", str(hoda))
    assert data.hoda_dir() == hoda
    assert data.load_hoda("test", size=8, n=20)[0].shape == (20, 8, 8, 1)


@pytest.mark.filterwarnings("ignore:self.within_class_std_dev_")
def test_a_simple_classifier_learns_the_decoded_digits(hoda):
    """Decoding sanity: logistic regression on 2,000 / 1,000 digits at 16x16 must exceed 0.85."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import NearestCentroid

    x_train, y_train = data.load_hoda("train", size=16, n=2000, seed=0, flatten=True, root=hoda)
    x_test, y_test = data.load_hoda("test", size=16, n=1000, seed=0, flatten=True, root=hoda)
    model = LogisticRegression(C=0.1, solver="newton-cg", tol=1e-3).fit(x_train, y_train)
    accuracy = model.score(x_test, y_test)
    centroid = NearestCentroid().fit(x_train, y_train).score(x_test, y_test)
    print(f"Hoda 16x16, 2000/1000: logistic regression {accuracy:.3f}, nearest centroid {centroid:.3f}")
    assert accuracy > 0.85
    assert centroid > 0.6
    # a transposed or mirrored decoding would still learn; it would not match the README's
    # orientation check: most digits are taller than wide (median 30 x 20)
    images, _ = data.read_cdb(hoda / "Test 20000.cdb")
    assert np.mean([img.shape[0] > img.shape[1] for img in images]) > 0.6

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(10, 8, figsize=(6, 8))
    for digit in range(10):
        for col, i in enumerate(np.flatnonzero(y_test == digit)[:8]):
            axes[digit, col].imshow(x_test[i].reshape(16, 16), cmap="gray_r")
            axes[digit, col].set_axis_off()
            axes[digit, col].set_title(str(digit), fontsize=6)
    fig.savefig("/tmp/hoda_grid.png", dpi=80)
    plt.close(fig)


# ------------------------------------------------------------------------------------------
# synthetic sets
# ------------------------------------------------------------------------------------------

# Quoted from shared/seeds/003_*.txt, lines 300-308 (and again at 339-347).
SEED_X = """
-1	-1	-1	-1	-1	-1	-1	-1	-1
-1	1	-1	-1	-1	-1	-1	1	-1
-1	-1	1	-1	-1	-1	1	-1	-1
-1	-1	-1	1	-1	1	-1	-1	-1
-1	-1	-1	-1	1	-1	-1	-1	-1
-1	-1	-1	1	-1	1	-1	-1	-1
-1	-1	1	-1	-1	-1	1	-1	-1
-1	1	-1	-1	-1	-1	-1	1	-1
-1	-1	-1	-1	-1	-1	-1	-1	-1
"""
# Lines 351-359: the deformed X.
SEED_X_DEFORMED = """
-1	-1	-1	-1	-1	-1	-1	-1	-1
-1	-1	-1	-1	-1	-1	1	-1	-1
-1	1	-1	-1	-1	1	-1	-1	-1
-1	-1	1	1	-1	1	-1	-1	-1
-1	-1	-1	-1	1	-1	-1	-1	-1
-1	-1	-1	1	-1	1	1	-1	-1
-1	-1	-1	1	-1	-1	-1	1	-1
-1	-1	1	-1	-1	-1	-1	-1	-1
-1	-1	-1	-1	-1	-1	-1	-1	-1
"""
# Lines 386-396: the three features; lines 685-691, 766-772, 793-799: the maps the slides print.
SEED_FEATURES = ["1 -1 -1 -1 1 -1 -1 -1 1", "1 -1 1 -1 1 -1 1 -1 1", "-1 -1 1 -1 1 -1 1 -1 -1"]
SEED_MAPS = [
    """0.77 -0.11 0.11 0.33 0.55 -0.11 0.33
    -0.11 1.00 -0.11 0.33 -0.11 0.11 -0.11
    0.11 -0.11 1.00 -0.33 0.11 -0.11 0.55
    0.33 0.33 -0.33 0.55 -0.33 0.33 0.33
    0.55 -0.11 0.11 -0.33 1.00 -0.11 0.11
    -0.11 0.11 -0.11 0.33 -0.11 1.00 -0.11
    0.33 -0.11 0.55 0.33 0.11 -0.11 0.77""",
    """0.33 -0.55 0.11 -0.11 0.11 -0.55 0.33
    -0.55 0.55 -0.55 0.33 -0.55 0.55 -0.55
    0.11 -0.55 0.55 -0.77 0.55 -0.55 0.11
    -0.11 0.33 -0.77 1.00 -0.77 0.33 -0.11
    0.11 -0.55 0.55 -0.77 0.55 -0.55 0.11
    -0.55 0.55 -0.55 0.33 -0.55 0.55 -0.55
    0.33 -0.55 0.11 -0.11 0.11 -0.55 0.33""",
    """0.33 -0.11 0.55 0.33 0.11 -0.11 0.77
    -0.11 0.11 -0.11 0.33 -0.11 1.00 -0.11
    0.55 -0.11 0.11 -0.33 1.00 -0.11 0.11
    0.33 0.33 -0.33 0.55 -0.33 0.33 0.33
    0.11 -0.11 1.00 -0.33 0.11 -0.11 0.55
    -0.11 1.00 -0.11 0.33 -0.11 0.11 -0.11
    0.77 -0.11 0.11 0.33 0.55 -0.11 0.33""",
]


def parse_grid(text: str) -> np.ndarray:
    return np.array([[float(v) for v in line.split()] for line in text.strip().splitlines()])


def seed_grids() -> list[np.ndarray]:
    """Every 9x9 grid of -1/1 in the seed file, where the seeds are present."""
    files = sorted(SEEDS.glob("003_*.txt"))
    if not files:
        return []
    grids, rows = [], []
    for line in files[0].read_text(encoding="utf-8").splitlines() + [""]:
        cells = line.strip().split("\t")
        if len(cells) == 9 and all(c.strip() in ("-1", "1") for c in cells):
            rows.append([int(c) for c in cells])
        else:
            if len(rows) == 9:
                grids.append(np.array(rows))
            rows = []
    return grids


def test_x_vs_o_grids_are_the_seeds_numbers():
    assert np.array_equal(data.X_GRID, parse_grid(SEED_X))
    assert np.array_equal(data.X_DEFORMED_GRID, parse_grid(SEED_X_DEFORMED))
    in_seed = seed_grids()
    if SEEDS.is_dir():
        assert any(np.array_equal(g, data.X_GRID) for g in in_seed), "the X grid is not in seeds/003"
        assert any(np.array_equal(g, data.X_DEFORMED_GRID) for g in in_seed)
    # the slides' feature maps follow from the X: correlate, divide by 9, cut to two decimals
    from scipy.signal import correlate2d

    for feature, printed in zip(SEED_FEATURES, SEED_MAPS):
        kernel = np.array(feature.split(), float).reshape(3, 3)
        computed = np.trunc(correlate2d(data.X_GRID, kernel, mode="valid") / 9 * 100) / 100
        assert np.array_equal(computed, parse_grid(printed))
    # the O is the project's drawing: a closed ring, symmetric, on the same -1 background
    o = data.O_GRID
    assert set(np.unique(o)) == {-1, 1} and np.array_equal(o, o[::-1]) and np.array_equal(o, o[:, ::-1])
    assert (o[0] == -1).all() and (o[-1] == -1).all() and (o[:, 0] == -1).all() and (o[:, -1] == -1).all()
    assert o[4, 4] == -1 and (o == 1).sum() == 16
    synthetic = data.load_definition("synthetic")["x_vs_o"]
    assert np.array_equal(np.array(synthetic["X"]), data.X_GRID)
    assert np.array_equal(np.array(synthetic["X_deformed"]), data.X_DEFORMED_GRID)
    assert np.array_equal(np.array(synthetic["O"]), data.O_GRID)


def test_x_vs_o_images_labels_and_noise():
    images, labels = data.x_vs_o()
    assert images.shape == (2, 9, 9) and images.dtype == np.float32 and labels.tolist() == [0, 1]
    assert np.array_equal(images[0], data.X_GRID) and np.array_equal(images[1], data.O_GRID)
    noisy, labels = data.x_vs_o(noise=4, n=6, seed=7)
    assert labels.tolist() == [0, 1, 0, 1, 0, 1]
    clean = np.where(labels[:, None, None] == 0, data.X_GRID, data.O_GRID)
    assert ((noisy != clean).sum(axis=(1, 2)) == 4).all() and set(np.unique(noisy)) == {-1.0, 1.0}
    assert np.array_equal(noisy, data.x_vs_o(noise=4, n=6, seed=7)[0])
    assert not np.array_equal(noisy, data.x_vs_o(noise=4, n=6, seed=8)[0])
    assert not np.array_equal(noisy[0] != clean[0], noisy[2] != clean[2])  # each image its own pixels
    with pytest.raises(DataError, match="noise"):
        data.x_vs_o(noise=82)


def test_logic_gates():
    x, y = data.logic_gate_data("AND")
    assert x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and x.dtype == np.float32 and y.dtype == np.int64
    a, b = x[:, 0].astype(bool), x[:, 1].astype(bool)
    truth = {"AND": a & b, "OR": a | b, "NAND": ~(a & b), "NOR": ~(a | b), "XOR": a ^ b, "A_AND_NOT_B": a & ~b}
    for name, want in truth.items():
        assert data.logic_gate_data(name)[1].tolist() == want.astype(int).tolist(), name
    assert data.logic_gate_data("a and not b")[1].tolist() == [0, 0, 1, 0]
    assert data.logic_gate_data("xor")[1].tolist() == [0, 1, 1, 0]
    synthetic = data.load_definition("synthetic")["logic_gates"]
    for name in data.LOGIC_GATES:
        assert synthetic[name] == list(data.LOGIC_GATES[name])
    with pytest.raises(DataError, match="XOR"):
        data.logic_gate_data("XNOR")


def test_blobs():
    x, y = data.blobs(60, 3, 1)
    assert x.shape == (60, 2) and x.dtype == np.float32 and sorted(set(y.tolist())) == [0, 1, 2]
    assert np.array_equal(x, data.blobs(60, 3, 1)[0])
    assert not np.array_equal(x, data.blobs(60, 3, 2)[0])
    x, y = data.blobs(10, [[0, 0], [5, 5]], 0)
    assert x.shape == (10, 2) and set(y.tolist()) == {0, 1}


# ------------------------------------------------------------------------------------------
# scikit-learn's bundled data
# ------------------------------------------------------------------------------------------


def test_digits_split():
    x_train, x_test, y_train, y_test = data.load_digits_split()
    assert x_train.shape == (1257, 64) and x_test.shape == (540, 64)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 <= x_train.min() and x_train.max() == 1.0
    assert np.all(np.abs(np.bincount(y_test) / 540 - np.bincount(y_train) / 1257) < 0.01)  # stratified
    again = data.load_digits_split()
    assert all(np.array_equal(p, q) for p, q in zip((x_train, x_test, y_train, y_test), again))
    other = data.load_digits_split(seed=1)
    assert not np.array_equal(y_test, other[3])
    raw = data.load_digits_split(scale=False, as_images=True)[0]
    assert raw.shape == (1257, 8, 8, 1) and raw.max() == 16.0
    with pytest.raises(DataError, match="test_size"):
        data.load_digits_split(test_size=1.5)


def test_sample_images_without_pillow(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now raises ImportError
    with pytest.raises(DataError, match="pip install pillow"):
        data.load_sample_images()


def test_sample_images():
    pytest.importorskip("PIL", reason="scikit-learn needs Pillow to decode its sample photos")
    x = data.load_sample_images()
    assert x.shape == (2, 427, 640, 3) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    half = data.load_sample_images(factor=2)
    assert half.shape == (2, 213, 320, 3)
    assert np.allclose(half[1, 10, 20], x[1, 20:22, 40:42].mean(axis=(0, 1)), atol=1e-6)
    with pytest.raises(DataError, match="factor"):
        data.load_sample_images(factor=0)


# ------------------------------------------------------------------------------------------
# data definitions
# ------------------------------------------------------------------------------------------


def test_definitions():
    assert data.definitions() == ["digits", "hoda", "sample-images", "synthetic"]
    hoda = data.load_definition("hoda")
    assert {split: s["file"] for split, s in hoda["splits"].items()} == data.HODA_FILES
    for split in hoda["splits"].values():
        readme = README_FILES[split["file"]]
        assert split["sha256"] == readme["sha256"] and split["records"] == readme["records"]
        assert split["per_class"] == readme["per_class"]
    assert hoda["location"]["env"] == data.HODA_ENV
    assert data.load_definition("digits")["split"]["test_size"] == 0.3
    assert data.load_definition("sample-images")["shape"] == [2, 427, 640, 3]
    for bad in ("nope", "../hoda", "hoda.toml", ""):
        with pytest.raises(DataError, match="unknown data definition"):
            data.load_definition(bad)
    folder = REPO / "datasets"
    assert not list(folder.glob("*.py")) and not (folder / "__init__.py").exists()  # never a package


# ------------------------------------------------------------------------------------------
# the package's public names; the Hoda folder of a digit task is given, never read in a grading
# ------------------------------------------------------------------------------------------


def test_public_names_are_exported():
    assert "digit_task" in data.__all__ and "DigitTask" in data.__all__
    missing = [name for name in data.__all__ if not hasattr(data, name)]
    assert not missing, missing
    public = {name for name in vars(data) if not name.startswith("_") and not inspect.ismodule(getattr(data, name))}
    assert public <= set(data.__all__), public - set(data.__all__)


def test_digit_task_uses_the_folder_it_is_given_and_not_the_environment(hoda, tmp_path, monkeypatch):
    monkeypatch.setenv("DLGRADE_HODA_DIR", str(hoda))
    assert data.digit_task("mlp-5x5", None).dataset == "digits"  # None: no Hoda, whatever the environment says
    assert data.digit_task("mlp-5x5", hoda).dataset == "hoda"
    assert data.digit_task("mlp-5x5").dataset == "hoda"  # left out: the environment's folder
    monkeypatch.delenv("DLGRADE_HODA_DIR")
    assert data.digit_task("mlp-5x5").dataset == "digits"
    (tmp_path / "RemainingSamples.cdb").write_bytes(b"")
    with pytest.raises(DataError, match="lacks 'Test 20000.cdb'"):  # a given folder is never silently replaced
        data.digit_task("mlp-5x5", tmp_path)


def test_a_preset_with_classes_keeps_those_digits_labelled_by_their_place(hoda):
    for root in (hoda, None):
        task = data.digit_task("transfer-new-16", root, heldout_seed=7)
        assert task.classes == (5, 6, 7, 8, 9) and task.num_classes == 5
        assert set(np.unique(task.y_train)) == set(range(5)) == set(np.unique(task.y_test))
        assert task.y_train_onehot.shape == (len(task.x_train), 5)
        if root is None:  # a training image of label 0 is a 5 among scikit-learn's digits
            full = data.digit_task("functional-16", root, heldout_seed=7)
            pool = np.concatenate([full.x_train, full.x_test])
            labels = np.concatenate([full.y_train, full.y_test])
            five = task.x_train[task.y_train == 0][0]
            assert labels[np.all(np.isclose(pool, five), axis=(1, 2, 3))].tolist() == [5]
    if hoda is not None:
        x, y = data.load_hoda("test", size=16, n=None, root=hoda)
        task = data.digit_task("transfer-base-16", hoda, heldout_seed=7)
        digit = task.x_test[task.y_test == 3][0]
        assert set(y[np.all(np.isclose(x, digit), axis=(1, 2, 3))].tolist()) == {3}
    with pytest.raises(DataError, match="classes"):
        data.digits._preset_classes({"classes": [5, 5]}, "bad")


def test_digit_features_are_band_ink():
    from grader.data.digits import digit_features
    img = np.zeros((1, 16, 16, 1), np.float32)
    img[0, :4, :, 0] = 1.0  # the top band of rows is all ink
    f = digit_features(img)
    assert f.shape == (1, 8) and f.dtype == np.float32
    assert np.allclose(f[0], [1, 0, 0, 0, 0.25, 0.25, 0.25, 0.25])
    with pytest.raises(DataError, match="shape"):
        digit_features(np.zeros((2, 3)))
