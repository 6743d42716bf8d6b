"""The course's data: the Hoda Persian digits, scikit-learn's bundled sets and synthetic sets.

Everything here is offline and deterministic: nothing is downloaded, every split and subset is
fixed by a seed, and the same seed gives the same indices on every run and every machine (the
subset and noise choices use a hash of (seed, index), not a random-number stream whose
algorithm a numpy release could change). Every bad input raises :class:`DataError` with a
one-line message that names the problem and what to do about it.

One module, one purpose (the lower ones first; each imports only those above it in this list):
  errors       DataError and the shared argument checks
  seeded       keys from a hash of (seed, index); class-stratified subsets
  normalize    a digit fitted into a size x size square
  cdb          the Hoda .cdb format (``shared/datasets/hoda/README.md``), parsed and cached
  definitions  the data definitions, ``datasets/*.toml``
  hoda         the Hoda folder (given, else ``$DLGRADE_HODA_DIR``) and ``load_hoda``
  bundled      scikit-learn's 8x8 digits and sample photos
  synthetic    logic gates, blobs, the 9x9 X-vs-O grids of the lecture notes
  digits       ``digit_task``: the split an exercise trains and is graded on
  tabular      ``tabular_task``: scikit-learn's diabetes, iris and breast-cancer sets split with a
               held-out seed, standardised from the training split; ``imbalanced_task``

This package re-exports the public names; import from ``grader.data``.
"""

from grader.data.bundled import load_digits_split, load_sample_images
from grader.data.cdb import CdbHeader, read_cdb, read_cdb_header
from grader.data.definitions import definitions, load_definition
from grader.data.digits import DigitTask, digit_task
from grader.data.errors import DataError
from grader.data.hoda import FROM_ENV, HODA_ENV, HODA_FILES, EnvFolder, hoda_available, hoda_dir, load_hoda
from grader.data.normalize import normalize_digit, normalize_digits
from grader.data.seeded import seeded_keys, subset_indices
from grader.data.synthetic import LOGIC_GATES, O_GRID, X_DEFORMED_GRID, X_GRID, blobs, logic_gate_data, x_vs_o
from grader.data.tabular import TabularTask, imbalanced_task, tabular_task

__all__ = [
    "DataError",
    "CdbHeader",
    "HODA_FILES",
    "HODA_ENV",
    "FROM_ENV",
    "EnvFolder",
    "LOGIC_GATES",
    "X_GRID",
    "X_DEFORMED_GRID",
    "O_GRID",
    "read_cdb_header",
    "read_cdb",
    "normalize_digit",
    "normalize_digits",
    "seeded_keys",
    "subset_indices",
    "hoda_dir",
    "hoda_available",
    "load_hoda",
    "load_digits_split",
    "load_sample_images",
    "logic_gate_data",
    "blobs",
    "x_vs_o",
    "definitions",
    "load_definition",
    "DigitTask",
    "digit_task",
    "TabularTask",
    "tabular_task",
    "imbalanced_task",
]
