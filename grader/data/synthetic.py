"""Synthetic sets made in code: logic gates, Gaussian blobs and the 9x9 X-vs-O images of the
lecture notes."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from grader.data.errors import DataError, check_seed, check_size
from grader.data.seeded import seeded_keys

__all__ = ["LOGIC_GATES", "X_GRID", "X_DEFORMED_GRID", "O_GRID", "logic_gate_data", "blobs", "x_vs_o"]

#: truth tables over inputs (0,0), (0,1), (1,0), (1,1) (A is the first column, B the second)
LOGIC_GATES = {
    "AND": (0, 0, 0, 1),
    "OR": (0, 1, 1, 1),
    "NAND": (1, 1, 1, 0),
    "NOR": (1, 0, 0, 0),
    "XOR": (0, 1, 1, 0),
    "A_AND_NOT_B": (0, 0, 1, 0),
}


def logic_gate_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A two-input logic gate's truth table: X float32 (4, 2) over {0,1}^2, y int64 (4,).

    Names: AND, OR, NAND, NOR, XOR, A_AND_NOT_B (case and '-'/' ' for '_' do not matter).
    """
    key = re.sub(r"[\s-]+", "_", str(name).strip()).upper()
    if key not in LOGIC_GATES:
        raise DataError(f"unknown logic gate {name!r}: use one of {', '.join(LOGIC_GATES)}")
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    return x, np.array(LOGIC_GATES[key], dtype=np.int64)


def blobs(n: int = 100, centers: Any = 2, seed: int = 0, *, cluster_std: float = 1.0, n_features: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs from scikit-learn's ``make_blobs``: X float32 (n, n_features), y int64 (n,)."""
    from sklearn.datasets import make_blobs

    n = check_size(n, "n", 1, 10_000_000)
    seed = check_seed(seed)
    try:
        x, y = make_blobs(n_samples=n, centers=centers, n_features=n_features, cluster_std=cluster_std, random_state=seed)
    except (TypeError, ValueError) as exc:
        raise DataError(f"blobs: bad arguments ({exc}); pass centers as a count or a list of points") from None
    return x.astype(np.float32), y.astype(np.int64)


def _grid(text: str) -> np.ndarray:
    g = np.array([[int(v) for v in row.split()] for row in text.strip().splitlines()], dtype=np.int8)
    g.flags.writeable = False
    return g


#: The 9x9 X of the lecture notes (seed 003, "در واقع کامپیوتر چه میبیند!؟"): 1 ink, -1 background.
X_GRID = _grid(
    """
    -1 -1 -1 -1 -1 -1 -1 -1 -1
    -1  1 -1 -1 -1 -1 -1  1 -1
    -1 -1  1 -1 -1 -1  1 -1 -1
    -1 -1 -1  1 -1  1 -1 -1 -1
    -1 -1 -1 -1  1 -1 -1 -1 -1
    -1 -1 -1  1 -1  1 -1 -1 -1
    -1 -1  1 -1 -1 -1  1 -1 -1
    -1  1 -1 -1 -1 -1 -1  1 -1
    -1 -1 -1 -1 -1 -1 -1 -1 -1
    """
)

#: The deformed X the same slides compare with it ("computers are literal"): seed 003, second grid.
X_DEFORMED_GRID = _grid(
    """
    -1 -1 -1 -1 -1 -1 -1 -1 -1
    -1 -1 -1 -1 -1 -1  1 -1 -1
    -1  1 -1 -1 -1  1 -1 -1 -1
    -1 -1  1  1 -1  1 -1 -1 -1
    -1 -1 -1 -1  1 -1 -1 -1 -1
    -1 -1 -1  1 -1  1  1 -1 -1
    -1 -1 -1  1 -1 -1 -1  1 -1
    -1 -1  1 -1 -1 -1 -1 -1 -1
    -1 -1 -1 -1 -1 -1 -1 -1 -1
    """
)

#: A 9x9 O in the same style. The seeds show only X grids (the O appears in pictures only), so
#: this ring is the project's own drawing, not a quotation.
O_GRID = _grid(
    """
    -1 -1 -1 -1 -1 -1 -1 -1 -1
    -1 -1 -1  1  1  1 -1 -1 -1
    -1 -1  1 -1 -1 -1  1 -1 -1
    -1  1 -1 -1 -1 -1 -1  1 -1
    -1  1 -1 -1 -1 -1 -1  1 -1
    -1  1 -1 -1 -1 -1 -1  1 -1
    -1 -1  1 -1 -1 -1  1 -1 -1
    -1 -1 -1  1  1  1 -1 -1 -1
    -1 -1 -1 -1 -1 -1 -1 -1 -1
    """
)


def x_vs_o(noise: int = 0, n: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The 9x9 X-vs-O images of the lecture notes: images float32 (n, 9, 9) of -1/1, labels int64.

    Labels alternate 0 = X (:data:`X_GRID`), 1 = O (:data:`O_GRID`), starting with X. ``noise``
    is the number of pixels flipped (-1 <-> 1) in each image, at positions fixed by ``seed``
    and the image's index; ``noise=0`` gives the clean grids.
    """
    n = check_size(n, "n", 1, 1_000_000)
    if isinstance(noise, bool) or not isinstance(noise, (int, np.integer)) or not 0 <= noise <= 81:
        raise DataError(f"noise is the number of pixels to flip per image, an integer from 0 to 81, got {noise!r}")
    seed = check_seed(seed)
    labels = (np.arange(n) % 2).astype(np.int64)
    images = np.where(labels[:, None, None] == 0, X_GRID, O_GRID).astype(np.float32)
    if noise:
        keys = seeded_keys(seed, n * 81, stream=1).reshape(n, 81)
        flip = np.argsort(keys, axis=1, kind="stable")[:, :noise]
        flat = images.reshape(n, 81)
        rows = np.repeat(np.arange(n), noise)
        flat[rows, flip.ravel()] *= -1
    return images, labels
