"""The `dlgrade` command. Heavy libraries (pytest, numpy, Keras) load only inside the commands
that need them, so `dlgrade --help` and `dlgrade list` start fast."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import click


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def _exercise(ex_id: str):
    """The exercise: the course's own when run inside a course folder, else the bundled one."""
    from grader.course.config import find_course_dir
    if find_course_dir() is not None:
        return _course_exercise(_course(None), ex_id)
    from grader.exercise.spec import SpecError, find_exercise
    try:
        return find_exercise(ex_id)
    except SpecError as err:
        _fail(str(err))


def _print_sandbox_mode() -> None:
    """Once per batch, on stderr: the sandbox mode of this machine, what is active, its warnings."""
    from grader.sandbox.process import probe
    prot = probe().as_dict()
    click.echo(f"sandbox: {prot['mode']} ({', '.join(prot['active'])}); {prot['memory_bound']['text']}", err=True)
    for w in prot["warnings"]:
        click.echo(f"warning: {w}", err=True)


def _warn_protections(result) -> None:
    for w in result.extra_data.get("sandbox", {}).get("warnings", []):
        click.echo(f"warning: {w}", err=True)


def _grade(exercise, path: Path, suite: str, device: str = "auto"):
    from grader.grading.engine import SubmissionError, grade
    try:
        return grade(exercise, path, suite, device=device)
    except SubmissionError as err:
        _fail(str(err))


def _use_hoda_dir(hoda_dir: Path | None) -> None:
    """Point the data loaders at a Hoda folder (else $DLGRADE_HODA_DIR, else the bundled digits)."""
    if hoda_dir is not None:
        from grader.data import DataError, hoda_dir as check_hoda
        try:
            check_hoda(hoda_dir)
        except DataError as err:
            _fail(str(err))
        os.environ["DLGRADE_HODA_DIR"] = str(hoda_dir.resolve())


device_option = click.option("--device", type=click.Choice(["auto", "cpu", "gpu"]), default="auto",
                             show_default=True, help="Where Keras runs in the sandbox: a visible GPU (auto), "
                             "or force one.")
hoda_option = click.option("--hoda-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                           help="Folder with the Hoda .cdb files (default: $DLGRADE_HODA_DIR; without it the "
                           "Keras exercises use scikit-learn's bundled digits).")


def _safe(text, limit: int = 1 << 20) -> str:
    """Learner-derived text for a Rich markup string: no control sequence (grader.sandbox.inside.wire.clean_text)
    and no markup (escaped). Lines a learner wrote are printed as `_learner_text` Text objects instead."""
    from rich.markup import escape

    from grader.sandbox.inside.wire import clean_text
    return escape(clean_text(str(text), limit))


def _learner_text(text, style: str = ""):
    """A Rich Text of learner-derived text: never read as markup or emoji codes, no control sequence."""
    from rich.text import Text

    from grader.sandbox.inside.wire import clean_text
    return Text(clean_text(str(text), 1 << 20), style=style)


def _print_result(result, console=None) -> None:
    from rich.console import Console
    console = console or Console()
    versions = result.extra_data.get("versions", {})
    versions = versions if isinstance(versions, dict) else {}
    backend = (f", Keras {_safe(versions['keras'], 40)} on {_safe(versions.get('backend', '?'), 40)}"
               if "keras" in versions else "")
    device = _safe(str(result.extra_data.get("device", "cpu")).upper(), 10)
    console.print(f"[bold]{_safe(result.exercise, 200)}[/bold] ({_safe(result.suite, 20)} tests): "
                  f"[bold]{result.score:g} / {result.max_score:g}[/bold] points "
                  f"in {result.execution_time:.1f} s on {device}{backend}")
    for t in result.tests:
        mark = "[green]PASS[/green]" if t.status == "passed" else f"[red]{_safe(t.status.upper(), 20)}[/red]"
        console.print(f"  {mark} {_safe(t.name, 400)}  {t.score:g}/{t.max_score:g}")
        if t.output:
            for line in t.output.splitlines():
                console.print(_learner_text("       " + line), highlight=False)
    if result.output.strip():
        console.print("  [dim]your program printed:[/dim]")
        for line in result.output.rstrip().splitlines()[:40]:
            console.print(_learner_text("       " + line, "dim"), highlight=False)


def _resolve_check_path(exercise, path: str | None) -> Path:
    if path:
        return Path(path)
    for candidate in (Path(exercise.id) / exercise.entry, Path(exercise.entry)):
        if candidate.is_file():
            return candidate
    _fail(f"no {exercise.entry} here or in ./{exercise.id}/; give the path: dlgrade check {exercise.id} PATH "
          f"(or run `dlgrade start {exercise.id}` first)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dlgrade")
def main():
    """dlgrade: exercises and autograding for a first course in neural networks and CNNs."""


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
def list_cmd(as_json):
    """List the exercises."""
    from grader.course.config import find_course_dir
    if find_course_dir() is not None:
        exercises = _course(None).all_exercises()
    else:
        from grader.exercise.spec import all_exercises
        exercises = all_exercises(solutions=False)
    if as_json:
        click.echo(json.dumps([{"id": e.id, "title": e.title, "entry": e.entry, "functions": e.functions,
                                "points": e.points, "gpu": e.gpu} for e in exercises], ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Column, Table
    table = Table("title", "عنوان", "file to edit", "points (public/hidden)")
    table.columns.insert(0, Column("id", no_wrap=True))
    for e in exercises:
        table.add_row(e.id, e.title.get("en", ""), e.title.get("fa", ""), e.entry,
                      f"{e.points.get('public', '?')}/{e.points.get('hidden', '?')}")
    Console().print(table)


@main.command()
@click.argument("exercise")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to create the EXERCISE folder.")
@click.option("--force", is_flag=True, help="Overwrite files that are already there (your work is lost).")
def start(exercise, directory, force):
    """Copy an exercise's template, README and public tests into DIR/EXERCISE/."""
    ex = _exercise(exercise)
    target = directory / ex.id
    copies = [(ex.template, target / ex.entry), (ex.directory / "README.md", target / "README.md"),
              (ex.public_tests, target / "test_public.py")]
    existing = [dst for _, dst in copies if dst.exists()]
    if existing and not force:
        _fail(f"{', '.join(map(str, existing))} already exist(s); nothing was changed. Use --force to "
              "overwrite (your work in them is lost), or --dir to start elsewhere")
    target.mkdir(parents=True, exist_ok=True)
    for src, dst in copies:
        shutil.copyfile(src, dst)
    click.echo(f"Created {target}/: edit {target / ex.entry}, read {target / 'README.md'}, "
               f"then run: dlgrade check {ex.id}")


@main.command()
@click.argument("exercise")
@click.argument("path", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON result on stdout.")
@device_option
@hoda_option
def check(exercise, path, as_json, device, hoda_dir):
    """Run the public tests on your work (PATH: your file or folder; default ./EXERCISE/)."""
    ex = _exercise(exercise)
    _use_hoda_dir(hoda_dir)
    result = _grade(ex, _resolve_check_path(ex, path), "public", device)
    _report(result, as_json)


@main.command()
@click.argument("exercise")
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON result on stdout.")
@device_option
@hoda_option
def grade(exercise, path, as_json, device, hoda_dir):
    """Instructors: grade PATH (a .py file of any name, or a folder) with the hidden tests."""
    ex = _exercise(exercise)
    if ex.hidden_tests is None:
        _fail(f"the hidden tests of {ex.id} are not here; run dlgrade from the course checkout that has "
              "solutions/, or set DLGRADE_SOLUTIONS")
    _use_hoda_dir(hoda_dir)
    result = _grade(ex, Path(path), "hidden", device)
    _report(result, as_json)


def _report(result, as_json: bool) -> None:
    _warn_protections(result)
    if as_json:
        click.echo(result.dumps())
    else:
        _print_result(result)
    if result.grader_fault:  # retried once already: not a grade, say so and why (exit 3)
        click.echo(f"not graded: {_plain(result.grader_fault)}; this is a problem of the grader or the machine, "
                   "not of the submission: fix it and grade again", err=True)
        sys.exit(3)
    sys.exit(0 if result.full_marks else 1)


def _plain(text: object, limit: int = 300) -> str:
    """One line of text that is safe on a terminal: no control sequences, at most `limit` characters."""
    import re
    line = (str(text).strip().splitlines() or [""])[0]
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", line)[:limit]


def _validate_rows(exercises):
    """Grade every reference (must get full marks) and every template (must not)."""
    from grader.grading.engine import grade as run_grading
    rows = []
    for ex in exercises:
        if ex.solution is None or ex.hidden_tests is None:
            rows.append((ex, None, None, ["no solutions/ for this exercise"]))
            continue
        problems = []
        ref = run_grading(ex, ex.solution, "hidden")
        ref_public = run_grading(ex, ex.solution, "public")
        tpl = run_grading(ex, ex.template, "hidden")
        for res, what in ((ref, "reference (hidden)"), (ref_public, "reference (public)")):
            if not res.full_marks:
                failed = [t.name for t in res.tests if t.status != "passed"]
                problems.append(f"{what} lost points in: {', '.join(failed)}")
        if tpl.full_marks:
            problems.append("the untouched template gets full marks: the tests cannot fail")
        for res, suite in ((ref, "hidden"), (ref_public, "public")):
            declared = ex.points.get(suite)
            if declared is not None and declared != res.max_score:
                problems.append(f"exercise.toml says {suite} = {declared} points, the tests add up to "
                                f"{res.max_score:g}")
        if ref.extra_data.get("internal_errors"):
            problems.append("internal errors: " + "; ".join(ref.extra_data["internal_errors"])[:500])
        rows.append((ex, ref, tpl, problems))
    return rows


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
def validate(as_json):
    """Instructors: prove every exercise's tests work (reference: full marks; template: less)."""
    from grader.exercise.templates import TemplateError, write_templates
    from grader.exercise.spec import all_exercises
    exercises = all_exercises()
    try:
        stale = write_templates(exercises, check_only=True)
    except TemplateError as err:
        _fail(str(err))
    rows = _validate_rows(exercises)
    ok = not stale and all(not r[3] for r in rows)
    if as_json:
        click.echo(json.dumps({"ok": ok, "stale_templates": stale, "exercises": [
            {"id": ex.id, "reference": ref.score if ref else None, "template": tpl.score if tpl else None,
             "max_score": ref.max_score if ref else None, "problems": problems}
            for ex, ref, tpl, problems in rows]}, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table
        table = Table("exercise", "reference", "template", "max", "problems")
        for ex, ref, tpl, problems in rows:
            table.add_row(ex.id, f"{ref.score:g}" if ref else "-", f"{tpl.score:g}" if tpl else "-",
                          f"{ref.max_score:g}" if ref else "-", "; ".join(problems) or "[green]ok[/green]")
        Console().print(table)
        if stale:
            click.echo(f"stale templates (run `dlgrade templates`): {', '.join(stale)}")
    sys.exit(0 if ok else 1)


@main.command()
@click.option("--check", "check_only", is_flag=True, help="Only report stale templates; write nothing.")
def templates(check_only):
    """Instructors: regenerate each exercises/<id>/template.py from its reference solution."""
    from grader.exercise.templates import TemplateError, write_templates
    from grader.exercise.spec import all_exercises
    try:
        stale = write_templates(all_exercises(), check_only=check_only)
    except TemplateError as err:
        _fail(str(err))
    verb = "stale" if check_only else "rewritten"
    click.echo(f"{verb}: {', '.join(stale)}" if stale else "all templates are up to date")
    sys.exit(1 if (check_only and stale) else 0)


# --- the course loop --------------------------------------------------------------------------

course_option = click.option("--course", "course_dir", type=click.Path(file_okay=False, path_type=Path),
                             default=None, help="The course folder (default: the nearest one holding "
                             "course.toml, from the current folder up).")
db_option = click.option("--db", default=None, help="Gradebook: a SQLite file or any SQLAlchemy URL such as "
                         "postgresql+psycopg://user@host/db (default: course.toml's [gradebook] url).")


def _course(course_dir: Path | None):
    from grader.course.config import CourseError, load_course, secure_course_dir
    try:
        course = load_course(course_dir)
    except CourseError as err:
        _fail(str(err))
    secure_course_dir(course)  # the instructor's folder stays theirs only (a no-op for learners)
    return course


def _course_exercise(course, ex_id: str):
    from grader.course.config import CourseError
    try:
        return course.exercise(ex_id)
    except CourseError as err:
        _fail(str(err))


def _gradebook(course, db: str | None):
    from grader.gradebook.store import Gradebook, GradebookError
    try:
        gradebook = Gradebook.open(db or course.gradebook_url)
    except GradebookError as err:
        _fail(str(err))
    from grader.course.config import secure_course_dir
    secure_course_dir(course)  # a gradebook file made just now is the instructor's only (0600)
    return gradebook


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--id", "course_id", default=None, help="The course id (default: the folder's name).")
def init(directory, course_id):
    """Instructors: create a course in DIRECTORY from the bundled exercises and solutions."""
    from grader.course.config import CourseError, init_course
    try:
        course = init_course(directory, course_id)
    except CourseError as err:
        _fail(str(err))
    click.echo(f"Created course {course.id} in {course.root} with {len(course.exercises)} exercises; "
               f"edit {course.toml_path} for deadlines and the late policy, then: dlgrade release")


@main.command()
@course_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the learner bundle (default: <course>/release).")
@click.option("--force", is_flag=True, help="Replace a previous bundle in --out.")
def release(course_dir, out, force):
    """Instructors: build the learner bundle (READMEs, templates, public tests, course.toml)."""
    from grader.exercise.templates import BundleError, TemplateError, build_bundle
    course = _course(course_dir)
    try:
        path = build_bundle(course, out or course.root / "release", force=force)
    except (BundleError, TemplateError) as err:
        _fail(str(err))
    click.echo(f"Learner bundle written to {path}; it holds no solution and no hidden test. "
               "Give it to learners (they run `dlgrade start` / `check` / `submit` inside it).")


@main.command()
@click.argument("exercise")
@click.argument("path", required=False)
@click.option("--student", default=None, help="Your student id (default: $DLGRADE_STUDENT, else your user name).")
@course_option
def submit(exercise, path, student, course_dir):
    """Submit your work on EXERCISE (PATH: your file or folder; default ./EXERCISE/)."""
    from grader.course.exchange import ExchangeError, submit as submit_work
    from grader.course.roster import resolve_student
    course = _course(course_dir)
    ex = _course_exercise(course, exercise)
    try:
        student = resolve_student(course.exchange_path, student)  # with a roster: yourself, unless instructor
        record = submit_work(course.exchange_path, ex, _resolve_check_path(ex, path), student, course=course)
    except ExchangeError as err:
        _fail(str(err))
    deadline = course.exercises.get(ex.id)
    note = f" (deadline {deadline:%Y-%m-%d %H:%M} UTC)" if deadline else ""
    click.echo(f"Submitted {ex.id} for {record['student']} at {record['submitted_at']}{note}; "
               f"sha256 {record['sha256'][:12]}. Earlier submissions are kept.")


@main.command()
@click.option("--student", default=None, help="Whose submissions (default: yours).")
@click.option("--exercise", default=None)
@click.option("--all", "everyone", is_flag=True, help="Instructors: every learner's submissions.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
@course_option
def status(student, exercise, everyone, as_json, course_dir):
    """Show what was submitted, and when."""
    from grader.course.exchange import ExchangeError, status as list_status
    from grader.course.roster import is_instructor, resolve_student, roster_mode
    course = _course(course_dir)
    multi = roster_mode(course.exchange_path)
    try:
        if everyone and multi and not is_instructor(course.exchange_path):
            raise ExchangeError("--all is for instructors: you can see only your own submissions")
        records = list_status(course.exchange_path, None if everyone else resolve_student(course.exchange_path,
                                                                                          student), exercise)
    except ExchangeError as err:
        _fail(str(err))
    if as_json:
        click.echo(json.dumps(records, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table
    table = Table("student", "exercise", "submitted at (UTC)", "sha256", "files")
    for r in records:
        table.add_row(_safe(r["student"], 200), _safe(r["exercise"], 200), _safe(r["submitted_at"], 60),
                      _safe(str(r["sha256"])[:12]), _safe(", ".join(  # a learner's record: names are theirs
                          str(f["name"]) if isinstance(f, dict) else str(f) for f in r.get("files", [])), 2000))
    Console().print(table)
    if not records:
        click.echo("no submissions yet")
    click.echo(("course with a roster: learners act only as themselves; the instructor may name any --student"
                if is_instructor(course.exchange_path) else
                "course with a roster: you act only as yourself (your OS user's id)") if multi else
               "single-user course (no roster): student ids are taken as given and whoever runs dlgrade owns "
               "everything; a shared server needs a roster (dlgrade roster add ID --user NAME)")


@main.command()
@course_option
@db_option
def collect(course_dir, db):
    """Instructors: bring submissions from the exchange into the course and the gradebook
    (the latest on-time submission counts; late ones per the late policy)."""
    from grader.batch.plan import record_collected
    from grader.course.exchange import ExchangeError, collect as collect_work
    course = _course(course_dir)
    gradebook = _gradebook(course, db)
    try:
        collected = collect_work(course)
    except ExchangeError as err:
        _fail(str(err))
    count = record_collected(course, gradebook, collected)
    late = sum(1 for r in collected if r.get("late") and not r.get("skipped"))
    skipped = [r for r in collected if r.get("skipped")]
    click.echo(f"Collected {count} submission(s) into {course.submitted_dir} ({late} late); "
               f"{len(skipped)} skipped.")
    for r in skipped:
        click.echo(f"  skipped {_plain(r['student'], 200)}/{_plain(r['exercise'], 200)}: "
                   f"{_plain(r.get('reason', r.get('skipped')), 2000)}")
    for r in collected:  # refused submissions (wrong owner, over the limits) stay in the exchange
        for i in r.get("ignored") or []:
            if i.get("refused"):
                click.echo(f"  refused {_plain(r['student'], 200)}/{_plain(r['exercise'], 200)}/"
                           f"{_plain(i['submission'], 200)}: {_plain(i['reason'].removeprefix('refused: '), 2000)}")


@main.command()
@course_option
@db_option
@click.option("--exercise", default=None, help="Only this exercise.")
@click.option("--student", default=None, help="Only this learner.")
@click.option("--workers", type=int, default=None, help="Local grading workers (default: the CPU count).")
@click.option("--scheduler", default=None, help="A Dask scheduler, e.g. tcp://host:8786 (workers: `dask worker`).")
@device_option
@click.option("--force", is_flag=True, help="Grade again even what is already graded.")
def autograde(course_dir, db, exercise, student, workers, scheduler, device, force):
    """Instructors: grade every collected submission with the hidden tests, in parallel."""
    from grader.course.config import CourseError
    course = _course(course_dir)
    if course.hoda_dir:
        os.environ.setdefault("DLGRADE_HODA_DIR", str(course.hoda_dir))
    if exercise is not None:
        _course_exercise(course, exercise)  # an unknown id fails here, naming the course's exercises
    gradebook = _gradebook(course, db)
    if student is not None and student not in {s["id"] for s in gradebook.students()}:
        _fail(f"unknown student {student!r}; `dlgrade grades` lists the learners with collected work")
    if scheduler is None:  # a Dask cluster's machines say their own
        _print_sandbox_mode()
    try:
        summary = _run_with_progress(course, gradebook, exercise=exercise, student=student,
                                     workers=workers or os.cpu_count() or 1, scheduler=scheduler, device=device,
                                     force=force)
    except CourseError as err:
        _fail(str(err))
    _print_summary(summary)


def _run_with_progress(course, gradebook, **options):
    """run_batch with a progress bar: done / failed / cached / left, rate and ETA."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    from grader.batch.run import run_batch
    console = Console(stderr=True)
    counts = {"done": 0, "failed": 0}
    progress = Progress(TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("done {task.fields[done]} · failed {task.fields[failed]} · cached "
                                   "{task.fields[cached]} · left {task.fields[left]} · {task.fields[rate]}/min"),
                        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console)
    state = {"t0": time.monotonic()}

    def on_plan(n_tasks, n_cached):
        state["task"] = progress.add_task("grading", total=n_tasks, done=0, failed=0, cached=n_cached,
                                          left=n_tasks, rate="-")

    def on_result(status_, task, result):
        counts["done" if status_ == "graded" else "failed"] += 1
        finished = counts["done"] + counts["failed"]
        rate = 60 * finished / max(time.monotonic() - state["t0"], 1e-6)
        progress.update(state["task"], advance=1, done=counts["done"], failed=counts["failed"],
                        left=progress.tasks[0].total - finished, rate=f"{rate:.1f}")

    with progress:
        return run_batch(course, gradebook, on_plan=on_plan, on_result=on_result, **options)


def _print_summary(summary) -> None:
    from rich.console import Console
    from rich.table import Table
    table = Table("student", "exercise", "status", "score", "time (s)")
    for r in summary.rows:
        score = "-" if r["score"] is None else f"{r['score']:g} / {r['max_score']:g}"
        table.add_row(_safe(r["student"], 200), _safe(r["exercise"], 200),
                      _safe(r["status"] if not r.get("fault") else f"{r['status']} ({r['fault']})", 80),
                      score, "-" if r["seconds"] is None else f"{r['seconds']:.1f}")
    console = Console()
    if summary.rows:
        console.print(table)
    from rich.markup import escape
    for r in summary.rows:  # every failure with its cause, in full: the instructor is told here
        if r["status"] != "graded" and r.get("error"):
            console.print(f"[red]{r['status']}[/red] {escape(r['student'])} / {escape(r['exercise'])}: "
                          f"{escape(_plain(r['error'], 500))} (not a grade; the next autograde grades it again)",
                          highlight=False)
    console.print(f"graded {summary.graded}, failed {summary.failed}, cached {summary.cached} "
                  f"(retried {summary.retried}) in {summary.seconds:.1f} s")


@main.command()
@course_option
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
def grades(course_dir, db, as_json):
    """Instructors: the grade table, one row per learner and exercise (late flags, overrides)."""
    from grader.course.config import apply_late_policy
    course = _course(course_dir)
    rows = apply_late_policy(course, _gradebook(course, db).grades())
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.markup import escape
    table = Table("student", "exercise", "score", "late", "override", "status")
    for r in rows:
        score = "-" if r["score"] is None else f"{r['score']:g} / {r['max_score'] or 0:g}"
        table.add_row(_safe(r["student"], 200), _safe(r["exercise"], 200), score,
                      f"{r['late_days']:.1f} d" if r["late"] else "",
                      _safe(r["override_reason"] or "", 200) if r["overridden"] else "",
                      r["status"] if not r.get("fault")
                      else f"{r['status']} ({r['fault']}): {escape(_plain(r.get('error'), 80))}")
    Console().print(table)


@main.command()
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

    from grader.gradebook.store import GradebookError
    course = _course(course_dir)
    try:
        _gradebook(course, db).override(student, exercise, score, reason, who or getpass.getuser())
    except GradebookError as err:
        _fail(str(err))
    click.echo(f"{student} / {exercise}: score set to {score:g} ({reason})")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "canvas", "gradescope"]), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="A file (csv, canvas) or a folder (gradescope: one results.json per grading).")
@course_option
@db_option
def export(fmt, out, course_dir, db):
    """Instructors: export grades as CSV, a Canvas gradebook import, or Gradescope results.json files."""
    from grader.report.export import ExportError, export as write_export
    course = _course(course_dir)
    from grader.course.config import apply_late_policy
    gradebook = _gradebook(course, db)
    rows = apply_late_policy(course, gradebook.grades())
    gradings = [{"student": g["student_id"], "exercise": g["exercise_id"], "result": g.get("result_json"),
                 "status": g.get("status")} for g in gradebook.gradings()]
    try:
        path = write_export(fmt, rows, gradings, out, course.id)
    except ExportError as err:
        _fail(str(err))
    click.echo(f"wrote {path}")


@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to create the demo course (default: a new temporary folder).")
@click.option("--workers", type=int, default=None, help="Grading workers (default: the CPU count).")
def demo(directory, workers):
    """Walk the whole course loop on the bundled exercises: a temporary course, its learner bundle,
    simulated learners who submit, collect, autograde with a progress bar, and the grade table."""
    import tempfile

    from rich.console import Console
    from rich.table import Table

    from grader.batch.plan import record_collected
    from grader.exercise.cohort import write_submission
    from grader.course.config import init_course
    from grader.course.exchange import collect as collect_work, submit as submit_work
    from grader.exercise.templates import build_bundle
    from grader.exercise.spec import solutions_root
    console = Console()
    if solutions_root() is None:
        _fail("the demo needs the course checkout's solutions/ folder; run it from a clone of the project")
    t0 = time.monotonic()
    root = (directory or Path(tempfile.mkdtemp(prefix="dlgrade-demo-"))) / "course"
    course = init_course(root, "demo")
    console.print(f"[bold]1. init[/bold]     a course with {len(course.exercises)} exercises, their reference "
                  f"solutions and hidden tests: {course.root}")
    bundle = build_bundle(course, course.root / "release")
    console.print(f"[bold]2. release[/bold]  the learner bundle (READMEs, templates, public tests; no solution): {bundle}")
    learners = {"ali": "correct", "sara": "partial", "reza": "broken", "nima": "template"}
    count = 0
    for student, kind in learners.items():
        for ex in course.all_exercises():
            folder = bundle / student / ex.id
            if kind == "template":
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ex.template, folder / ex.entry)
            else:
                write_submission(ex, kind, folder)
            submit_work(course.exchange_path, ex, folder, student, course=course)
            count += 1
    console.print(f"[bold]3. submit[/bold]   {len(learners)} simulated learners ("
                  + ", ".join(f"{s}: {k}" for s, k in learners.items()) + f") submit {count} files to the exchange")
    gradebook = _gradebook(course, None)
    collected = collect_work(course)
    record_collected(course, gradebook, collected)
    console.print(f"[bold]4. collect[/bold]  the submission that counts for each learner and exercise goes to "
                  f"submitted/ and the gradebook ({course.gradebook_url})")
    console.print("[bold]5. autograde[/bold] every submission with the hidden tests, each in its own sandbox "
                  "(Keras exercises train and are scored on held-out data):")
    summary = _run_with_progress(course, gradebook, workers=workers or os.cpu_count() or 1)
    console.print(f"   graded {summary.graded}, failed {summary.failed} in {summary.seconds:.0f} s")
    table = Table("exercise", *[f"{s}\n({k})" for s, k in learners.items()], title="6. grades")
    matrix = {(r["student"], r["exercise"]): r for r in gradebook.grades()}
    totals = {s: [0.0, 0.0] for s in learners}
    for ex_id in course.exercises:
        cells = []
        for student in learners:
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
    sandbox = next((g["result_json"]["extra_data"]["sandbox"] for g in gradebook.gradings() if g.get("result_json")), None)
    if sandbox:
        bound = (sandbox.get("memory_bound") or {}).get("text")
        console.print(f"sandbox: {sandbox['mode']} ({', '.join(sandbox['active'])})"
                      + (f"; {bound}" if bound else ""), markup=False)
        for w in sandbox["warnings"]:
            console.print(f"[yellow]warning:[/yellow] {w}")
    from grader.report.views import write_reports
    written = {lang: write_reports(course, gradebook, course.root / "reports" / lang, lang) for lang in ("fa", "en")}
    console.print(f"[bold]7. report[/bold]   feedback pages for every learner (Persian and English) and the class "
                  f"dashboard:\n   dashboard: {written['en']['dashboard']}\n   a learner's page: "
                  f"{next(p for p in written['fa']['learners'] if '/sara/' in str(p))}")
    console.print(f"done in {time.monotonic() - t0:.0f} s. Look around: dlgrade grades --course {course.root}; "
                  f"learners' view: {bundle}")


from grader.cli.reports import COMMANDS as _REPORT_COMMANDS  # noqa: E402  (report, release-feedback, feedback)
from grader.cli.roster import COMMANDS as _ROSTER_COMMANDS  # noqa: E402  (roster add, import, list)

for _command in (*_REPORT_COMMANDS, *_ROSTER_COMMANDS):
    main.add_command(_command)


def __getattr__(name: str):
    """TRANSITION: `_record_collected` moved to grader.batch.plan.record_collected (K9)."""
    if name == "_record_collected":
        from grader.batch.plan import record_collected
        return record_collected
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    main()
