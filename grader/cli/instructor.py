"""The instructor's `dlgrade` commands: grade, validate, templates, and the course loop (init,
release, collect, autograde, grades, override, export). The work itself is done by the packages
(grading, exercise, course, batch, gradebook, report); these commands parse, call and print."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from grader.cli.common import (course_exercise, course_option, db_option, device_option, fail, find_exercise,
                               hoda_option, json_option, load_course, open_gradebook, plain, plain_lines,
                               quiet_frameworks, safe)
from grader.cli.learner import grade_or_fail, report_result


@click.command()
@click.argument("exercise")
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON result on stdout.")
@device_option
@hoda_option
def grade(exercise, path, as_json, device, hoda_dir):
    """Instructors: grade PATH (a .py file or a notebook (.ipynb) of any name, or a folder) with the
    hidden tests."""
    ex = find_exercise(exercise)
    if ex.hidden_tests is None:
        fail(f"the hidden tests of {ex.id} are not here; run dlgrade from the course checkout that has "
             "solutions/, or set DLGRADE_SOLUTIONS")
    report_result(grade_or_fail(ex, Path(path), "hidden", device, hoda_dir), as_json)


@click.command()
@click.argument("exercise_ids", nargs=-1, metavar="[EXERCISE]...")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Grading workers (default: the CPU count; 1 grades in this process).")
@json_option
def validate(exercise_ids, workers, as_json):
    """Instructors: prove every exercise's tests work (reference: full marks; template: less);
    with EXERCISE ids, only those."""
    quiet_frameworks()
    from grader.exercise.spec import SpecError, all_exercises, find_exercise as bundled
    from grader.exercise.templates import TemplateError, write_templates
    from grader.exercise.validate import validate_exercises
    from grader.grading.engine import grade as run_grading
    try:
        exercises = [bundled(ex_id) for ex_id in dict.fromkeys(exercise_ids)] or all_exercises()
    except SpecError as err:
        fail(str(err))
    try:
        stale = write_templates(exercises, check_only=True)
    except TemplateError as err:
        fail(str(err))
    workers = min(workers or os.cpu_count() or 1, 3 * len(exercises))
    grade_all = None
    if workers > 1:  # three gradings per exercise, on a pool whose workers fork them from zygotes
        from grader.batch.run import grade_on_pool

        def grade_all(jobs):
            return grade_on_pool(jobs, workers)
    rows = validate_exercises(exercises, run_grading, grade_all)
    ok = not stale and all(r.ok for r in rows)
    if as_json:
        click.echo(json.dumps({"ok": ok, "stale_templates": stale, "exercises": [r.as_dict() for r in rows]},
                              indent=2))
    else:
        from rich.console import Console
        from rich.table import Table
        table = Table("exercise", "reference", "template", "max", "problems")
        for r in rows:
            ref, tpl = r.reference, r.template
            table.add_row(r.exercise.id, f"{ref.score:g}" if ref else "-", f"{tpl.score:g}" if tpl else "-",
                          f"{ref.max_score:g}" if ref else "-", "; ".join(r.problems) or "[green]ok[/green]")
        Console().print(table)
        if stale:
            click.echo(f"stale templates (run `dlgrade templates`): {', '.join(stale)}")
    sys.exit(0 if ok else 1)


@click.command()
@click.option("--check", "check_only", is_flag=True, help="Only report stale templates; write nothing.")
def templates(check_only):
    """Instructors: regenerate each exercises/<id>/template.py from its reference solution."""
    from grader.exercise.spec import all_exercises
    from grader.exercise.templates import TemplateError, write_templates
    try:
        stale = write_templates(all_exercises(), check_only=check_only)
    except TemplateError as err:
        fail(str(err))
    verb = "stale" if check_only else "rewritten"
    click.echo(f"{verb}: {', '.join(stale)}" if stale else "all templates are up to date")
    sys.exit(1 if (check_only and stale) else 0)


# --- the course loop --------------------------------------------------------------------------

@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--id", "course_id", default=None, help="The course id (default: the folder's name).")
def init(directory, course_id):
    """Instructors: create a course in DIRECTORY from the bundled exercises and solutions."""
    from grader.course.config import CourseError, init_course
    try:
        course = init_course(directory, course_id)
    except CourseError as err:
        fail(str(err))
    click.echo(f"Created course {course.id} in {course.root} with {len(course.exercise_ids)} exercises; "
               f"edit {course.toml_path} for deadlines and the late policy, then: dlgrade release")


@click.command()
@course_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the learner bundle (default: <course>/release).")
@click.option("--force", is_flag=True, help="Replace a previous bundle in --out.")
@click.option("--format", "fmt", type=click.Choice(["py", "ipynb", "both"]), default="both", show_default=True,
              help="Each exercise as a template to edit (py), as a Jupyter notebook EXERCISE.ipynb (ipynb), or both.")
def release(course_dir, out, force, fmt):
    """Instructors: build the learner bundle (READMEs, templates and/or notebooks, public tests, course.toml)."""
    from grader.course.bundle import BundleError, build_bundle
    from grader.exercise.templates import TemplateError
    notebook = None
    if fmt in ("ipynb", "both"):
        from grader.notebooks.build import exercise_notebook, notebook_text

        def notebook(ex, template):
            own = ex.directory / f"{ex.id}.ipynb"  # an exercise's own (an imported nbgrader assignment's)
            if own.is_file():
                return own.read_text(encoding="utf-8")
            return notebook_text(exercise_notebook(ex, template))
    course = load_course(course_dir)
    try:
        path = build_bundle(course, out or course.root / "release", force=force, templates=fmt != "ipynb",
                            notebook=notebook)
    except (BundleError, TemplateError) as err:
        fail(str(err))
    start = {"py": "`dlgrade start`", "ipynb": "`dlgrade start EXERCISE --notebook`",
             "both": "`dlgrade start`, or `dlgrade start EXERCISE --notebook` for the notebook"}[fmt]
    click.echo(f"Learner bundle written to {path}; it holds no solution and no hidden test. "
               f"Give it to learners (they run {start}, then `check` / `submit` inside it).")


@click.command()
@course_option
@db_option
def collect(course_dir, db):
    """Instructors: bring submissions from the exchange into the course and the gradebook
    (the latest on-time submission counts; late ones per the late policy)."""
    from grader.batch.plan import record_collected
    from grader.course.exchange import ExchangeError, collect as collect_work
    course = load_course(course_dir)
    gradebook = open_gradebook(course, db)
    try:
        collected = collect_work(course)
    except ExchangeError as err:
        fail(str(err))
    count = record_collected(course, gradebook, collected)
    late = sum(1 for r in collected if r.get("late") and not r.get("skipped"))
    skipped = [r for r in collected if r.get("skipped")]
    click.echo(f"Collected {count} submission(s) into {course.submitted_dir} ({late} late); "
               f"{len(skipped)} skipped.")
    for r in skipped:
        click.echo(f"  skipped {plain(r['student'], 200)}/{plain(r['exercise'], 200)}: "
                   f"{plain(r.get('reason', r.get('skipped')), 2000)}")
    for r in collected:  # refused submissions (wrong owner, over the limits) stay in the exchange
        for i in r.get("ignored") or []:
            if i.get("refused"):
                click.echo(f"  refused {plain(r['student'], 200)}/{plain(r['exercise'], 200)}/"
                           f"{plain(i['submission'], 200)}: {plain(i['reason'].removeprefix('refused: '), 2000)}")


def print_sandbox_mode() -> None:
    """Once per batch, on stderr: the sandbox mode of this machine, what is active, its warnings."""
    from grader.sandbox.probe import probe
    prot = probe().as_dict()
    click.echo(f"sandbox: {prot['mode']} ({', '.join(prot['active'])}); {prot['memory_bound']['text']}", err=True)
    for w in prot["warnings"]:
        click.echo(f"warning: {w}", err=True)


@click.command()
@course_option
@db_option
@click.option("--exercise", default=None, help="Only this exercise.")
@click.option("--student", default=None, help="Only this learner.")
@click.option("--workers", type=int, default=None, help="Local grading workers (default: the CPU count).")
@click.option("--scheduler", default=None, help="A Dask scheduler, e.g. tcp://host:8786 (workers: `dask worker "
              "--nthreads 1`, one grading per worker process).")
@device_option
@hoda_option
@click.option("--force", is_flag=True, help="Grade again even what is already graded.")
def autograde(course_dir, db, exercise, student, workers, scheduler, device, hoda_dir, force):
    """Instructors: grade every collected submission with the hidden tests, in parallel."""
    quiet_frameworks()  # before the workers start: they inherit it
    workers = workers or os.cpu_count() or 1
    pool = None
    if scheduler is None:  # the local workers import while this process reads the course and plans
        from grader.batch.local import LocalPool
        pool = LocalPool(workers).start()
    try:
        from grader.course.config import CourseError
        course = load_course(course_dir)
        if exercise is not None:
            course_exercise(course, exercise)  # an unknown id fails here, naming the course's exercises
        gradebook = open_gradebook(course, db)
        if student is not None and student not in {s["id"] for s in gradebook.students()}:
            fail(f"unknown student {student!r}; `dlgrade grades` lists the learners with collected work")
        from grader.batch.plan import hoda_folder
        from grader.data import DataError
        try:
            hoda = hoda_folder(hoda_dir, course)
        except DataError as err:
            fail(str(err))
        if scheduler is None:  # a Dask cluster's machines say their own
            print_sandbox_mode()
    except BaseException:
        if pool is not None:
            pool.close()
        raise
    try:
        summary = run_with_progress(course, gradebook, exercise=exercise, student=student,
                                    workers=workers, scheduler=scheduler, device=device,
                                    hoda_dir=hoda, force=force, pool=pool)
    except CourseError as err:
        fail(str(err))
    print_summary(summary)


def run_with_progress(course, gradebook, **options):
    """run_batch with a progress display on stderr (grader.cli.progress)."""
    from grader.batch.run import run_batch
    from grader.cli.progress import BatchProgress
    with BatchProgress() as progress:
        return run_batch(course, gradebook, on_plan=progress.on_plan, on_result=progress.on_result, **options)


def print_summary(summary) -> None:
    """The batch's gradings as a table, every failure with its cause, and the counts."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    table = Table("student", "exercise", "status", "score", "time (s)")
    for r in summary.rows:
        score = "-" if r["score"] is None else f"{r['score']:g} / {r['max_score']:g}"
        table.add_row(safe(r["student"], 200), safe(r["exercise"], 200),
                      safe(r["status"] if not r.get("fault") else f"{r['status']} ({r['fault']})", 80),
                      score, "-" if r["seconds"] is None else f"{r['seconds']:.1f}")
    console = Console()
    if summary.rows:
        console.print(table)
    for r in summary.rows:  # every failure with its cause, in full: the instructor is told here
        if r["status"] != "graded" and r.get("error"):
            first, *more = plain_lines(r["error"], 500) or [""]
            console.print(f"[red]{r['status']}[/red] {escape(r['student'])} / {escape(r['exercise'])}: "
                          f"{escape(first)} (not a grade; the next autograde grades it again)", highlight=False)
            for line in more:  # a dead worker's last lines on stderr
                console.print(f"    {escape(line)}", highlight=False)
    console.print(f"graded {summary.graded}, failed {summary.failed}, cached {summary.cached} "
                  f"(retried {summary.retried}) in {summary.seconds:.1f} s")


@click.command()
@course_option
@db_option
@json_option
def grades(course_dir, db, as_json):
    """Instructors: the grade table, one row per learner and exercise (late flags, overrides)."""
    course = load_course(course_dir)
    rows = _grade_rows(open_gradebook(course, db))
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    table = Table("student", "exercise", "score", "late", "override", "status")
    for r in rows:
        score = "-" if r["score"] is None else f"{r['score']:g} / {r['max_score'] or 0:g}"
        table.add_row(safe(r["student"], 200), safe(r["exercise"], 200), score,
                      f"{r['late_days']:.1f} d" if r["late"] else "",
                      safe(r["override_reason"] or "", 200) if r["overridden"] else "",
                      r["status"] if not r.get("fault")
                      else f"{r['status']} ({r['fault']}): {escape(plain(r.get('error'), 80))}")
    Console().print(table)


GRADE_KEYS = ("student", "exercise", "score", "max_score", "late", "late_days", "late_factor", "overridden",
              "override_reason", "status", "graded_at", "submission_id", "sha256", "auto_score", "fault", "error")


def _grade_rows(gradebook) -> list[dict]:
    """The grade rows as `grades --json` prints them (the gradebook applied the late factor once;
    nothing here applies it again)."""
    return [{k: getattr(row, k) for k in GRADE_KEYS} for row in gradebook.grade_rows()]


@click.command()
@click.argument("student")
@click.argument("exercise")
@click.option("--score", type=float, required=True)
@click.option("--reason", required=True, help="Why (kept with who and when).")
@click.option("--who", default=None, help="Who overrides (default: your user name).")
@course_option
@db_option
def override(student, exercise, score, reason, who, course_dir, db):
    """Instructors: set a learner's score on an exercise by hand (the autograde stays in history)."""
    import getpass

    from grader.gradebook.database import GradebookError
    course = load_course(course_dir)
    try:
        open_gradebook(course, db).override(student, exercise, score, reason, who or getpass.getuser())
    except GradebookError as err:
        fail(str(err))
    click.echo(f"{student} / {exercise}: score set to {score:g} ({reason})")


@click.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "canvas", "gradescope"]), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="A file (csv, canvas) or a folder (gradescope: one results.json per grading).")
@course_option
@db_option
def export(fmt, out, course_dir, db):
    """Instructors: export grades as CSV, a Canvas gradebook import, or Gradescope results.json files."""
    from grader.report.export import ExportError, export_gradebook
    course = load_course(course_dir)
    gradebook = open_gradebook(course, db)
    try:
        path = export_gradebook(fmt, gradebook, out, course.id)
    except ExportError as err:
        fail(str(err))
    click.echo(f"wrote {path}")


@click.command("import-nbgrader")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--id", "ex_id", required=True, help="The new exercise's id in the course.")
@click.option("--skip-untranslatable", is_flag=True, help="Import without the test cells that cannot be graded "
              "outside the learner's kernel (each is listed); by default such a cell stops the import.")
@click.option("--force", is_flag=True, help="Replace an exercise of the course with this id.")
@course_option
def import_nbgrader(source, ex_id, skip_untranslatable, force, course_dir):
    """Instructors: make an nbgrader source notebook (SOURCE.ipynb) an exercise of the course: its
    solution cells the reference, its autograder test cells the public and hidden tests (one test per
    cell, with the cell's points), its Markdown the README, and the learner notebook nbgrader would
    release."""
    quiet_frameworks()
    from grader.notebooks.nbgrader_import import NbgraderImportError, import_nbgrader as run_import
    course = load_course(course_dir)
    try:
        done = run_import(course, source, ex_id, skip_untranslatable=skip_untranslatable, force=force)
    except NbgraderImportError as err:
        fail(str(err))
    for note in done.notes:
        click.echo(f"note: {plain(note, 500)}")
    for cell in done.skipped:
        click.echo(f"skipped {plain(cell, 500)}")
    click.echo(f"Imported {source} as exercise {ex_id}: {len(done.hidden)} hidden test(s) worth {done.total:g} "
               f"point(s), {len(done.public)} public; the notebook's own solution gets them all. Set its deadline "
               f"under [exercises.{ex_id}] in {course.toml_path.name}, then: dlgrade release")


COMMANDS = (grade, validate, templates, init, release, collect, autograde, grades, override, export,
            import_nbgrader)
