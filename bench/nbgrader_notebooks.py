"""The notebook mode of bench/nbgrader.py (`--notebooks`, `--both`): dlgrade grades the very
notebooks that nbgrader grades.

The assignment is the nbgrader-style source notebook that tests/nbgrader_course.py makes (`squares`:
three numpy functions and a top-level value, visible and hidden autograder cells, 11 points, an
instructor's read-only checker), not one built from a dlgrade exercise's reference: it is written
as an nbgrader instructor writes one, it goes through `nbgrader generate_assignment` and
`dlgrade import-nbgrader` unchanged, and the suite already checks that both sides score its honest
notebooks alike. Its tests are small (lists and 3-element arrays), so this mode measures what each
side spends around a grading (a kernel per notebook in nbgrader; a sandbox, the notebook made a
module, the translated tests on the trusted side in dlgrade) more than the tests' compute.

Both courses are made once, then copied afresh for every timed run:
- nbgrader: tests/nbgrader_course.py's course (`nbgrader generate_assignment`), one notebook per
  learner in submitted/<learner>/squares/, made from the released notebook;
- dlgrade: `dlgrade init`, `dlgrade import-nbgrader` of the same source notebook, and the same
  learner notebook files handed in with `submit` and collected (as bench/cohort.py does with .py files).

The learners cycle through bench/cohort.py's kinds, in notebook form: correct (every answer right),
partial (tests/nbgrader_course.py's partial learner: squares and total right, normalize wrong,
safe_divide left as the stub), broken (a syntax error in the first answer cell: the notebook's module
does not import in dlgrade; in nbgrader that cell fails and every test fails for want of a working
function) and slow (the correct answers after a 1 s sleep at the top of the first answer cell). The
last answer cell ends with a comment naming the learner, so every notebook is distinct. All four
kinds are honest: their scores must agree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests") not in sys.path:
    sys.path.append(str(REPO / "tests"))  # last: tests/ lends its nbgrader course, shadows nothing
import nbgrader_course as nbc  # noqa: E402

from grader.batch.plan import record_collected  # noqa: E402
from grader.course.config import init_course, load_course  # noqa: E402
from grader.course.exchange import collect, submit  # noqa: E402
from grader.gradebook.store import Gradebook  # noqa: E402

ASSIGNMENT = nbc.ASSIGNMENT  # the nbgrader assignment and the dlgrade exercise id
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SLEEP = "import time\ntime.sleep(1)  # a slow import: the learner's notebook does work at the top of a cell\n"
# kind (bench/cohort.py's) -> the answers written into the released notebook (tests/nbgrader_course.py's)
ANSWERS = {
    "correct": nbc.ANSWERS["correct"],
    "partial": nbc.ANSWERS["partial"],
    "broken": dict(nbc.ANSWERS["broken"], squares="def oops(:\n    return n"),
    "slow": nbc.ANSWERS["correct"],
}
FIRST_ANSWER, LAST_ANSWER = "squares", "total"  # grade ids of the first and last answer cells


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _answered(released, answers: dict[str, str]):
    """`released` with `answers` (grade id -> code) in place of nbgrader's stubs."""
    return nbc.answered_notebook(released, answers)


def learner_notebook(released, student: str, kind: str):
    """The notebook `student` hands in: `released` answered as `kind`, named for the learner."""
    if kind not in ANSWERS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(ANSWERS)}")
    nb = _answered(released, ANSWERS[kind])
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == FIRST_ANSWER and kind == "slow":
            cell.source = SLEEP + cell.source
        if grade_id == LAST_ANSWER:
            cell.source = cell.source.rstrip("\n") + f"\n# simulated learner: {student}"
    return nb


def make_courses(out: Path, cohort) -> tuple[Path, Path]:
    """(the nbgrader course, the dlgrade course) under `out`, every learner's notebook submitted
    to both (the same files); made afresh."""
    import nbformat
    if out.exists():
        shutil.rmtree(out)
    nb_root = out / "nbgrader-template"
    source = nbc.make_course(nb_root)
    released = nbc.released_notebook(nb_root)
    course = init_course(out / "dlgrade-template" / "course", "bench-notebooks")
    done = subprocess.run([sys.executable, "-c", "from grader.cli import main; main()", "import-nbgrader",
                           str(source), "--id", ASSIGNMENT, "--course", str(course.root)],
                          capture_output=True, text=True, env=_environment())
    if done.returncode != 0:
        raise SystemExit(f"`dlgrade import-nbgrader {source} --id {ASSIGNMENT}` failed ({done.returncode}):\n"
                         f"{(done.stdout + done.stderr)[-3000:]}")
    course = load_course(course.root)  # course.toml now lists the imported exercise
    exercise = course.exercise(ASSIGNMENT)
    for learner in cohort:
        folder = nb_root / "submitted" / learner.student / ASSIGNMENT
        folder.mkdir(parents=True)
        path = folder / NOTEBOOK
        nbformat.write(learner_notebook(released, learner.student, learner.kind), str(path))
        submit(course.exchange_path, exercise, path, learner.student, course=course)
    with Gradebook.open(course.gradebook_url) as gb:
        record_collected(course, gb, collect(course))
    return nb_root, course.root


def nbgrader_autograde(root: Path) -> None:
    """`nbgrader autograde` of every submitted notebook (serial, as nbgrader grades)."""
    done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--log-level=WARN"], cwd=root,
                          capture_output=True, text=True, env=_environment())
    if done.returncode != 0:
        raise SystemExit(f"`nbgrader autograde {ASSIGNMENT}` in {root} failed ({done.returncode}):\n"
                         f"{done.stderr[-3000:]}")


def nbgrader_scores(root: Path, cohort) -> dict[tuple[str, str], float]:
    """(learner, assignment) -> the score nbgrader's gradebook holds."""
    from nbgrader.api import Gradebook as NbGradebook
    with NbGradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {(l.student, ASSIGNMENT): float(gb.find_submission(ASSIGNMENT, l.student).score) for l in cohort}
