"""A learner's notebook as the module the sandbox imports: the notebook package's name for it.

The code lives in `grader.grading.notebook` (the grading's files and engine use it, and this
package also holds code that runs a grading: a module here would make the packages import each
other). See that module for the rules: which cells, what is left out, the limits."""

from __future__ import annotations

from grader.grading.notebook import (MAX_MODULE_BYTES, MAX_NOTEBOOK_BYTES, CellLine, ConvertedNotebook, NotebookError,
                                     is_check_cell, notebook_to_module, read_notebook, strip_outputs)

__all__ = ["CellLine", "ConvertedNotebook", "NotebookError", "read_notebook", "notebook_to_module", "strip_outputs",
           "is_check_cell", "MAX_NOTEBOOK_BYTES", "MAX_MODULE_BYTES"]
