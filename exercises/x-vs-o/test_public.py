"""Public tests for x-vs-o: every table of lecture 003 (the X-vs-O walk-through).

Run them with `dlgrade check`. The notes print k/9 cut to two decimals (7/9 = 0.777... is printed
0.77), so the values are compared to 0.01: an exact answer and one rounded to two decimals both pass.
"""

import numpy as np

from grader.data import X_GRID
from grader.testing import Feedback, expect_array, points

DIAGONAL = np.array([[1, -1, -1], [-1, 1, -1], [-1, -1, 1]])   # the notes' three 3x3 features
CROSS = np.array([[1, -1, 1], [-1, 1, -1], [1, -1, 1]])
ANTI_DIAGONAL = np.array([[-1, -1, 1], [-1, 1, -1], [1, -1, -1]])
FEATURES = np.stack([DIAGONAL, CROSS, ANTI_DIAGONAL])

# the three filtered images of the X
# (003, "کانولوشن: در واقع همه حالات ممکن تطبیق داشتن را بررسی می کند")
MAP_DIAGONAL = [[0.77, -0.11, 0.11, 0.33, 0.55, -0.11, 0.33],
                [-0.11, 1.00, -0.11, 0.33, -0.11, 0.11, -0.11],
                [0.11, -0.11, 1.00, -0.33, 0.11, -0.11, 0.55],
                [0.33, 0.33, -0.33, 0.55, -0.33, 0.33, 0.33],
                [0.55, -0.11, 0.11, -0.33, 1.00, -0.11, 0.11],
                [-0.11, 0.11, -0.11, 0.33, -0.11, 1.00, -0.11],
                [0.33, -0.11, 0.55, 0.33, 0.11, -0.11, 0.77]]
MAP_CROSS = [[0.33, -0.55, 0.11, -0.11, 0.11, -0.55, 0.33],
             [-0.55, 0.55, -0.55, 0.33, -0.55, 0.55, -0.55],
             [0.11, -0.55, 0.55, -0.77, 0.55, -0.55, 0.11],
             [-0.11, 0.33, -0.77, 1.00, -0.77, 0.33, -0.11],
             [0.11, -0.55, 0.55, -0.77, 0.55, -0.55, 0.11],
             [-0.55, 0.55, -0.55, 0.33, -0.55, 0.55, -0.55],
             [0.33, -0.55, 0.11, -0.11, 0.11, -0.55, 0.33]]
MAP_ANTI_DIAGONAL = [[0.33, -0.11, 0.55, 0.33, 0.11, -0.11, 0.77],
                     [-0.11, 0.11, -0.11, 0.33, -0.11, 1.00, -0.11],
                     [0.55, -0.11, 0.11, -0.33, 1.00, -0.11, 0.11],
                     [0.33, 0.33, -0.33, 0.55, -0.33, 0.33, 0.33],
                     [0.11, -0.11, 1.00, -0.33, 0.11, -0.11, 0.55],
                     [-0.11, 1.00, -0.11, 0.33, -0.11, 0.11, -0.11],
                     [0.77, -0.11, 0.11, 0.33, 0.55, -0.11, 0.33]]
# max pooling, window 2, stride 2 (003, "ادغام (پولینگ؛ Pooling)")
POOL_DIAGONAL = [[1.00, 0.33, 0.55, 0.33], [0.33, 1.00, 0.33, 0.55], [0.55, 0.33, 1.00, 0.11],
                 [0.33, 0.55, 0.11, 0.77]]
POOL_CROSS = [[0.55, 0.33, 0.55, 0.33], [0.33, 1.00, 0.55, 0.11], [0.55, 0.55, 0.55, 0.11],
              [0.33, 0.11, 0.11, 0.33]]
POOL_ANTI_DIAGONAL = [[0.33, 0.55, 1.00, 0.77], [0.55, 0.55, 1.00, 0.33], [1.00, 1.00, 0.11, 0.55],
                      [0.77, 0.33, 0.55, 0.33]]


def _exact(table):
    """The notes' table as the exact multiples of 1/9 it was cut from (0.77 -> 7/9, -0.11 -> -1/9)."""
    t = np.asarray(table, dtype=float)
    return np.sign(t) * np.floor(np.abs(t) * 9 + 0.5) / 9


def _check(value, call, table, why):
    want = np.asarray(table, dtype=float)
    got = expect_array(value, call, shape=want.shape, dtype_kind="n")
    bad = np.abs(got - _exact(want)) >= 0.01
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise Feedback(f"{call} at index {i} should be about {want[i]:.2f} ({why}), got {float(got[i]):.4f}; "
                             f"the notes' table is\n{want.tolist()}")


@points(1)
def test_top_left_patch_of_the_x_gives_0_77(submission):
    # 003, "فیلترینگ": multiply pixel by pixel, add up, divide by the number of pixels; 8 of the
    # 9 products are 1, one is -1: (8 - 1) / 9 = 0.77
    _check(submission.feature_map(X_GRID[:3, :3], DIAGONAL), "feature_map(X[:3, :3], diagonal)", [[0.77]],
           "(8 - 1) / 9")
    # the patch centred on the X's stroke matches the feature everywhere: 9 / 9 = 1.00
    _check(submission.feature_map(X_GRID[1:4, 1:4], DIAGONAL), "feature_map(X[1:4, 1:4], diagonal)", [[1.00]],
           "all 9 pixels match: 9 / 9")


@points(2)
def test_feature_map_of_the_diagonal_feature(submission):
    _check(submission.feature_map(X_GRID, DIAGONAL), "feature_map(X, diagonal)", MAP_DIAGONAL,
           "a 9x9 image and a 3x3 feature give 7x7")


@points(1)
def test_feature_map_of_the_cross_feature(submission):
    _check(submission.feature_map(X_GRID, CROSS), "feature_map(X, cross)", MAP_CROSS, "the notes' second table")


@points(1)
def test_feature_map_of_the_anti_diagonal_feature(submission):
    _check(submission.feature_map(X_GRID, ANTI_DIAGONAL), "feature_map(X, anti_diagonal)", MAP_ANTI_DIAGONAL,
           "the notes' third table")


@points(1)
def test_relu_tables(submission):
    # 003, "لایه Relu": every negative value becomes 0
    for name, table in (("diagonal", MAP_DIAGONAL), ("cross", MAP_CROSS), ("anti_diagonal", MAP_ANTI_DIAGONAL)):
        _check(submission.relu(_exact(table)), f"relu(the {name} map)", np.maximum(table, 0),
               "negatives become 0, the rest stays")


@points(2)
def test_max_pool_cover_tables(submission):
    # 003: window 2, stride 2 on a 7x7 map gives 4x4: the last windows cover the 7th row and column only
    for name, table, pooled in (("diagonal", MAP_DIAGONAL, POOL_DIAGONAL), ("cross", MAP_CROSS, POOL_CROSS),
                                ("anti_diagonal", MAP_ANTI_DIAGONAL, POOL_ANTI_DIAGONAL)):
        _check(submission.max_pool_cover(_exact(table), 2, 2), f"max_pool_cover(the {name} map, 2, 2)", pooled,
               "the largest value of each window; the last window runs past the edge")
    _check(submission.max_pool_cover(_exact(MAP_DIAGONAL)), "max_pool_cover(the diagonal map)", POOL_DIAGONAL,
           "size 2 and stride 2 are the defaults")


@points(2)
def test_conv_relu_pool_gives_the_three_pooled_maps(submission):
    # 003, "لایه ادغام": one convolutional layer turns the X into a stack of three 4x4 maps
    value = submission.conv_relu_pool(X_GRID, FEATURES)
    got = expect_array(value, "conv_relu_pool(X, features)", shape=(3, 4, 4), dtype_kind="n")
    for k, (name, pooled) in enumerate((("diagonal", POOL_DIAGONAL), ("cross", POOL_CROSS),
                                        ("anti_diagonal", POOL_ANTI_DIAGONAL))):
        _check(got[k], f"conv_relu_pool(X, features)[{k}] (the {name} feature)", pooled,
               "feature_map, then relu, then max_pool_cover(2, 2)")
