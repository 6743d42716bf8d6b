"""The exchange: the shared folder learners submit to and the instructor collects from (as
nbgrader's exchange on a JupyterHub server). This module is its front door; each purpose has its
own module: submit.py (a learner hands in), status.py (what is there), collect.py (the instructor
takes the submission that counts), folders.py (the layout and who owns which folder),
records.py (submission.json), identity.py (who is asking), late.py (which submission counts).

```
<exchange>/                                   0755
  inbound/                                    0711: learners reach their own folder, cannot list or create
    <student>/                                0700, the learner's (made by `dlgrade roster add/import`)
      <exercise>/                             0700
        20261201T235900Z-<sha256[:12]>/       one submission (0700, files 0600), never changed after it is written
          perceptron.py ...                   the submitted files (exactly what a grading uses)
          submission.json                     student, exercise, submitted_at, sha256, files, sizes
        20261201T235900Z-<sha256[:12]>-2/     the same content again in the same second
        .incoming-XXXX/                       a submission being written (ignored by everyone)
  feedback/<student>/                         0711 / 0700 the learner's: released pages
  users/<os user>                             0711 / 0644: the learner-readable id of each OS user
```"""

from __future__ import annotations

from grader.course.collect import collect
from grader.course.errors import ExchangeError
from grader.course.folders import INBOUND, RECORD, ensure_exchange, owner_name
from grader.course.identity import default_student
from grader.course.status import status
from grader.course.submit import MAX_FILES, submit
from grader.grading.files import MAX_TOTAL_BYTES

__all__ = ["ExchangeError", "submit", "status", "collect", "ensure_exchange", "default_student",
           "owner_name", "INBOUND", "RECORD", "MAX_FILES", "MAX_TOTAL_BYTES"]
