"""`dlgrade demo`: the whole course loop on the bundled exercises, in a temporary course, told step
by step (init, release, simulated learners submit, collect, autograde, grades, reports)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import click

from grader.cli.common import fail, open_gradebook, quiet_frameworks
from grader.cli.instructor import run_with_progress

LEARNERS = {"ali": "correct", "sara": "partial", "reza": "broken", "nima": "template"}


@click.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to create the demo course (default: a new temporary folder).")
@click.option("--workers", type=int, default=None, help="Grading workers (default: the CPU count).")
def demo(directory, workers):
    """Walk the whole course loop on the bundled exercises: a temporary course, its learner bundle,
    simulated learners who submit, collect, autograde with a progress bar, and the grade table."""
    import tempfile

    from rich.console import Console

    from grader.exercise.spec import solutions_root
    quiet_frameworks()
    console = Console()
    if solutions_root() is None:
        fail("the demo needs the course checkout's solutions/ folder; run it from a clone of the project")
    t0 = time.monotonic()
    root = (directory or Path(tempfile.mkdtemp(prefix="dlgrade-demo-"))) / "course"
    course, bundle, gradebook = _set_up(console, root)
    console.print("[bold]5. autograde[/bold] every submission with the hidden tests, each in its own sandbox "
                  "(Keras exercises train and are scored on held-out data; the numpy ones are compared with "
                  "Keras and scikit-learn on the trusted side):")
    summary = run_with_progress(course, gradebook, workers=workers or os.cpu_count() or 1)
    console.print(f"   graded {summary.graded}, failed {summary.failed} in {summary.seconds:.0f} s")
    _print_grades(console, course, gradebook)
    _print_sandbox(console, gradebook)
    from grader.report.views import write_reports
    written = {lang: write_reports(course, gradebook, course.root / "reports" / lang, lang) for lang in ("fa", "en")}
    console.print(f"[bold]7. report[/bold]   feedback pages for every learner (Persian and English) and the class "
                  f"dashboard:\n   dashboard: {written['en']['dashboard']}\n   a learner's page: "
                  f"{next(p for p in written['fa']['learners'] if '/sara/' in str(p))}")
    console.print(f"done in {time.monotonic() - t0:.0f} s. Look around: dlgrade grades --course {course.root}; "
                  f"learners' view: {bundle}")


def _set_up(console, root: Path):
    """Steps 1-4: init, release, the simulated learners' submissions, collect. Returns
    (course, bundle folder, gradebook)."""
    from grader.batch.plan import record_collected
    from grader.course.bundle import build_bundle
    from grader.course.config import init_course
    from grader.course.exchange import collect as collect_work, submit as submit_work
    from grader.exercise.cohort import write_submission
    course = init_course(root, "demo")
    console.print(f"[bold]1. init[/bold]     a course with {len(course.exercise_ids)} exercises, their reference "
                  f"solutions and hidden tests: {course.root}")
    bundle = build_bundle(course, course.root / "release")
    console.print(f"[bold]2. release[/bold]  the learner bundle (READMEs, templates, public tests; no solution): "
                  f"{bundle}")
    count = 0
    for student, kind in LEARNERS.items():
        for ex in course.all_exercises():
            folder = bundle / student / ex.id
            if kind == "template":
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ex.template, folder / ex.entry)
            else:
                write_submission(ex, kind, folder)
            submit_work(course.exchange_path, ex, folder, student, course=course)
            count += 1
    console.print(f"[bold]3. submit[/bold]   {len(LEARNERS)} simulated learners ("
                  + ", ".join(f"{s}: {k}" for s, k in LEARNERS.items()) + f") submit {count} files to the exchange")
    gradebook = open_gradebook(course, None)
    record_collected(course, gradebook, collect_work(course))
    console.print(f"[bold]4. collect[/bold]  the submission that counts for each learner and exercise goes to "
                  f"submitted/ and the gradebook ({course.gradebook_url})")
    return course, bundle, gradebook


def _print_grades(console, course, gradebook) -> None:
    """Step 6: a learner x exercise table of scores with each learner's total."""
    from rich.table import Table
    table = Table("exercise", *[f"{s}\n({k})" for s, k in LEARNERS.items()], title="6. grades")
    matrix = {(r["student"], r["exercise"]): r for r in gradebook.grades()}
    totals = {s: [0.0, 0.0] for s in LEARNERS}
    for ex_id in course.deadlines:
        cells = []
        for student in LEARNERS:
            c = matrix.get((student, ex_id))
            if c is None or c["score"] is None:
                cells.append("-")
                continue
            totals[student][0] += c["score"]
            totals[student][1] += c["max_score"] or 0
            cells.append(f"{c['score']:g}/{c['max_score']:g}")
        table.add_row(ex_id, *cells)
    table.add_row("[bold]total[/bold]", *[f"[bold]{t:g}/{p:g}[/bold]" for t, p in totals.values()])
    console.print(table)


def _print_sandbox(console, gradebook) -> None:
    """The sandbox mode the gradings ran in, once, with its warnings."""
    sandbox = next((g["result_json"]["extra_data"]["sandbox"] for g in gradebook.gradings() if g.get("result_json")),
                   None)
    if sandbox:
        bound = (sandbox.get("memory_bound") or {}).get("text")
        console.print(f"sandbox: {sandbox['mode']} ({', '.join(sandbox['active'])})"
                      + (f"; {bound}" if bound else ""), markup=False)
        for w in sandbox["warnings"]:
            console.print(f"[yellow]warning:[/yellow] {w}")


COMMANDS = (demo,)
