"""The learner's `dlgrade` commands: list, start, check, submit, status, feedback, login and logout.

`submit`, `status` and `feedback` work on a course folder, or on a course server after `dlgrade
login` (a saved login and no `--course`: their bodies are in grader/cli/remote.py). Only click is
imported at the top; `list`, `start`, `submit`, `status` and `feedback` never import numpy, pytest
or Keras (tests/test_layout.py checks it), `check` loads the grading engine."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import click

from grader.cli.common import (LANGS, clean, course_exercise, course_option, device_option, fail, find_exercise,
                               hoda_option, json_option, learner_text, load_course, locale_lang, plain,
                               quiet_frameworks, resolve_work_path, safe)
from grader.cli.common import check_id as check_id_or_fail


@click.command("list")
@json_option
@click.option("--lang", type=click.Choice(LANGS), default=None,
              help="Language of the titles (default: your locale's, e.g. LANG=fa_IR.UTF-8 for Persian).")
def list_cmd(as_json, lang):
    """List the exercises."""
    from grader.course.paths import find_course_dir
    if find_course_dir() is not None:
        exercises = load_course(None).all_exercises()
    else:
        from grader.exercise.spec import all_exercises
        exercises = all_exercises(solutions=False)
    if as_json:
        click.echo(json.dumps([{"id": e.id, "title": e.title, "entry": e.entry, "functions": e.functions,
                                "points": e.points, "gpu": e.gpu} for e in exercises], ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Column, Table
    lang = lang or locale_lang()
    # one title column, in one language, so the table fits 80 columns; the id and file never wrap
    table = Table(Column("id", no_wrap=True), Column("عنوان" if lang == "fa" else "title", ratio=1),
                  Column("file to edit", no_wrap=True), Column("points", no_wrap=True, justify="right"),
                  caption="points: public/hidden tests")
    for e in exercises:
        title = e.title.get(lang) or e.title.get("en", "")
        table.add_row(e.id, title, e.entry, f"{e.points.get('public', '?')}/{e.points.get('hidden', '?')}")
    Console().print(table)


@click.command()
@click.argument("exercise")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to create the EXERCISE folder.")
@click.option("--force", is_flag=True, help="Overwrite files that are already there (your work is lost).")
@click.option("--notebook", is_flag=True, help="Start from the Jupyter notebook DIR/EXERCISE/EXERCISE.ipynb "
              "instead of the template.")
def start(exercise, directory, force, notebook):
    """Copy an exercise's template (or notebook), README and public tests into DIR/EXERCISE/."""
    ex = find_exercise(exercise)
    target = directory / ex.id
    if notebook:
        released = ex.directory / f"{ex.id}.ipynb"  # the course's own, when its release holds one
        work = target / f"{ex.id}.ipynb"
        copies = [(released if released.is_file() else None, work), (ex.public_tests, target / "test_public.py")]
    else:
        if not ex.template.is_file():
            fail(f"{ex.id} comes as a notebook in this course (there is no template.py); run: "
                 f"dlgrade start {ex.id} --notebook")
        work = target / ex.entry
        copies = [(ex.template, work), (ex.directory / "README.md", target / "README.md"),
                  (ex.public_tests, target / "test_public.py")]
    existing = [dst for _, dst in copies if dst.exists()]
    if existing and not force:
        fail(f"{', '.join(map(str, existing))} already exist(s); nothing was changed. Use --force to "
             "overwrite (your work in them is lost), or --dir to start elsewhere")
    made = None
    if notebook and copies[0][0] is None:  # made here from the exercise's README and template
        from grader.notebooks.build import NotebookBuildError, exercise_notebook, notebook_text
        try:
            made = notebook_text(exercise_notebook(ex))
        except NotebookBuildError as err:
            fail(str(err))
    target.mkdir(parents=True, exist_ok=True)
    for src, dst in copies:
        if src is None:
            dst.write_text(made, encoding="utf-8")
        else:
            shutil.copyfile(src, dst)
    if notebook:
        click.echo(f"Created {work}: open it in Jupyter (jupyter lab {work}), write the functions, save, and run "
                   f"its last cell to check your work (or run: dlgrade check {ex.id} {work}); "
                   f"submit it with: dlgrade submit {ex.id} {work}")
    else:
        click.echo(f"Created {target}/: edit {target / ex.entry}, read {target / 'README.md'}, "
                   f"then run: dlgrade check {ex.id}")


@click.command()
@click.argument("exercise")
@click.argument("path", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON result on stdout.")
@device_option
@hoda_option
def check(exercise, path, as_json, device, hoda_dir):
    """Run the public tests on your work (PATH: your .py file, notebook (.ipynb) or folder; default
    ./EXERCISE/)."""
    ex = find_exercise(exercise)
    report_result(grade_or_fail(ex, resolve_work_path(ex, path), "public", device, hoda_dir), as_json)


def grade_or_fail(exercise, path: Path, suite: str, device: str, hoda_dir: Path | None):
    """One grading at the terminal (`check`, `grade`): framework logs kept off the terminal, the Hoda
    folder chosen once (--hoda-dir, else $DLGRADE_HODA_DIR) and passed as an argument."""
    quiet_frameworks()
    from grader.batch.plan import hoda_folder
    from grader.data import DataError
    from grader.grading.engine import SubmissionError, grade
    try:
        hoda = hoda_folder(hoda_dir)
    except DataError as err:
        fail(str(err))
    try:
        return grade(exercise, path, suite, device=device, hoda_dir=hoda)
    except SubmissionError as err:
        fail(str(err))


def report_result(result, as_json: bool) -> None:
    """Print a grading (or its JSON) and exit: 0 full marks, 1 points lost, 3 not graded (grader fault)."""
    for w in result.extra_data.get("sandbox", {}).get("warnings", []):
        click.echo(f"warning: {w}", err=True)
    if as_json:
        click.echo(result.dumps())
    else:
        print_result(result)
    if result.grader_fault:  # retried once already: not a grade, say so and why (exit 3)
        click.echo(f"not graded: {plain(result.grader_fault)}; this is a problem of the grader or the machine, "
                   "not of the submission: fix it and grade again", err=True)
        sys.exit(3)
    sys.exit(0 if result.full_marks else 1)


def print_result(result, console=None) -> None:
    """A grading for a person: the score, each test with its points and feedback, what the code printed."""
    from rich.console import Console

    from grader.exercise.outcome import Status
    console = console or Console()
    versions = result.extra_data.get("versions", {})
    versions = versions if isinstance(versions, dict) else {}
    backend = (f", Keras {safe(versions['keras'], 40)} on {safe(versions.get('backend', '?'), 40)}"
               if "keras" in versions else "")
    device = safe(str(result.extra_data.get("device", "cpu")).upper(), 10)
    console.print(f"[bold]{safe(result.exercise, 200)}[/bold] ({safe(result.suite, 20)} tests): "
                  f"[bold]{result.score:g} / {result.max_score:g}[/bold] points "
                  f"in {result.execution_time:.1f} s on {device}{backend}")
    print_notebook_notes(result, console)
    for t in result.tests:
        mark = "[green]PASS[/green]" if t.status == Status.PASSED else f"[red]{safe(str(t.status).upper(), 20)}[/red]"
        console.print(f"  {mark} {safe(t.name, 400)}  {t.score:g}/{t.max_score:g}")
        if t.output:
            for line in t.output.splitlines():
                console.print(learner_text("       " + line), highlight=False)
    if result.output.strip():
        console.print("  [dim]your program printed:[/dim]")
        for line in result.output.rstrip().splitlines()[:40]:
            console.print(learner_text("       " + line, "dim"), highlight=False)


def print_notebook_notes(result, console) -> None:
    """What was left out of a graded notebook (IPython magics, shell escapes), from the result."""
    notebook = result.extra_data.get("notebook")
    notes = notebook.get("notes") if isinstance(notebook, dict) else None
    if not isinstance(notes, list) or not notes:
        return
    console.print(f"  [dim]left out of {safe(notebook.get('file', 'the notebook'), 200)} (the grader runs its "
                  "Python code only):[/dim]")
    for note in notes[:25]:
        console.print(learner_text("       " + str(note)[:300], "dim"), highlight=False)


@click.command()
@click.argument("exercise")
@click.argument("path", required=False)
@click.option("--student", default=None, help="Your student id (default: $DLGRADE_STUDENT, else your user name).")
@click.option("--wait", is_flag=True, help="On a server: wait for the tests that run on submit and show the "
              "public ones' results.")
@click.option("--wait-timeout", type=click.FloatRange(1, 24 * 3600), default=600, show_default=True,
              help="Seconds --wait waits at most.")
@course_option
def submit(exercise, path, student, wait, wait_timeout, course_dir):
    """Submit your work on EXERCISE (PATH: your .py file, notebook (.ipynb) or folder; default
    ./EXERCISE/). A notebook is stored without its outputs. After `dlgrade login` (and without
    --course) the work goes to the course server, which answers with a receipt."""
    from grader.cli import remote
    login = remote.active_login(course_dir)
    if login is not None:
        return remote.submit(login, exercise, path, student, wait, wait_timeout)
    if wait:
        fail("--wait is for a course server (after `dlgrade login`); a course folder grades at collect time")
    from grader.course.exchange import ExchangeError, submit as submit_work
    from grader.course.identity import resolve_student
    course = load_course(course_dir)
    ex = course_exercise(course, exercise)
    try:
        student = resolve_student(course.exchange_path, student)  # with a roster: yourself, unless instructor
        record = submit_work(course.exchange_path, ex, resolve_work_path(ex, path), student, course=course)
    except ExchangeError as err:
        fail(str(err))
    deadline = course.deadlines.get(ex.id)
    note = f" (deadline {deadline:%Y-%m-%d %H:%M} UTC)" if deadline else ""
    click.echo(f"Submitted {ex.id} for {record['student']} at {record['submitted_at']}{note}; "
               f"sha256 {record['sha256'][:12]}. Earlier submissions are kept.")


@click.command()
@click.option("--student", default=None, help="Whose submissions (default: yours).")
@click.option("--exercise", default=None)
@click.option("--all", "everyone", is_flag=True, help="Instructors: every learner's submissions.")
@json_option
@course_option
def status(student, exercise, everyone, as_json, course_dir):
    """Show what was submitted, and when (on a course server after `dlgrade login`: your receipts,
    their gradings, and grades once released)."""
    from grader.cli import remote
    login = remote.active_login(course_dir)
    if login is not None:
        if everyone:
            fail("--all is for a course folder; on a server the staff pages list every learner's submissions")
        return remote.status(login, exercise, student, as_json)
    from grader.course.exchange import ExchangeError, status as list_status
    from grader.course.identity import is_instructor, resolve_student, roster_mode
    course = load_course(course_dir)
    multi = roster_mode(course.exchange_path)
    try:
        if everyone and multi and not is_instructor(course.exchange_path):
            raise ExchangeError("--all is for instructors: you can see only your own submissions")
        records = list_status(course.exchange_path, None if everyone else resolve_student(course.exchange_path,
                                                                                          student), exercise)
    except ExchangeError as err:
        fail(str(err))
    if as_json:
        click.echo(json.dumps(records, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table
    table = Table("student", "exercise", "submitted at (UTC)", "sha256", "files")
    for r in records:
        table.add_row(safe(r["student"], 200), safe(r["exercise"], 200), safe(r["submitted_at"], 60),
                      safe(str(r["sha256"])[:12]), safe(", ".join(  # a learner's record: names are theirs
                          str(f["name"]) if isinstance(f, dict) else str(f) for f in r.get("files", [])), 2000))
    Console().print(table)
    if not records:
        click.echo("no submissions yet")
    click.echo(("course with a roster: learners act only as themselves; the instructor may name any --student"
                if is_instructor(course.exchange_path) else
                "course with a roster: you act only as yourself (your OS user's id)") if multi else
               "single-user course (no roster): student ids are taken as given and whoever runs dlgrade owns "
               "everything; a shared server needs a roster (dlgrade roster add ID --user NAME)")


@click.command("feedback")
@click.argument("exercise")
@click.option("--student", default=None, help="Your student id (default: $DLGRADE_STUDENT, else your user name).")
@click.option("--raw", is_flag=True, help="Print the Markdown as it is (no terminal rendering).")
@click.option("--lang", type=click.Choice(LANGS), default=None,
              help="On a server: the page's language (default: your locale's).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("feedback"),
              show_default=True, help="On a server: where the HTML page is saved (as EXERCISE.html).")
@course_option
def feedback(exercise, student, raw, lang, out_dir, course_dir):
    """Read your feedback on EXERCISE (after your instructor released it)."""
    from grader.cli import remote
    login = remote.active_login(course_dir)
    if login is not None:
        return remote.feedback(login, exercise, student, lang or locale_lang(), raw, out_dir)
    from grader.course.exchange import ExchangeError
    from grader.course.identity import resolve_student
    from grader.report.errors import ReportError
    from grader.report.feedback import read_feedback
    check_id_or_fail(exercise, "exercise id")
    check_id_or_fail(student, "student id")
    course = load_course(course_dir)
    try:
        who = resolve_student(course.exchange_path, student)  # with a roster: yourself only (or the instructor)
        text, html_path = read_feedback(course, exercise, who)
    except (ReportError, ExchangeError) as err:
        fail(str(err))
    text = clean(text, 1 << 22)  # a page holds learner text: no control sequence reaches the terminal
    if raw:
        click.echo(text)
    else:
        from rich.console import Console
        from rich.markdown import Markdown
        Console().print(Markdown(text))
    click.echo(f"The page with plots: {html_path}")


@click.command("login")
@click.argument("url")
@click.option("--token", prompt="Token", hide_input=True, envvar="DLGRADE_TOKEN",
              help="The token your instructor gave you (default: asked, or $DLGRADE_TOKEN).")
@click.option("--allow-http", is_flag=True, help="Allow a plain http:// URL to another machine (the token "
              "then crosses the network unencrypted).")
def login(url, token, allow_http):
    """Log in to a course server at URL: submit, status and feedback then talk to it."""
    from grader.cli import remote
    remote.login(url, token, allow_http)


@click.command("logout")
def logout():
    """Forget the saved login: submit, status and feedback work on a course folder again."""
    from grader.cli import remote
    remote.logout()


COMMANDS = (list_cmd, start, check, submit, status, feedback, login, logout)
