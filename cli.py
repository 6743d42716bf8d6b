"""The `dlgrade` command. Heavy libraries (pytest, numpy, Keras) load only inside the commands
that need them, so `dlgrade --help` and `dlgrade list` start fast."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import click


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def _exercise(ex_id: str):
    from grader.spec import SpecError, find_exercise
    try:
        return find_exercise(ex_id)
    except SpecError as err:
        _fail(str(err))


def _warn_protections(result) -> None:
    for w in result.extra_data.get("sandbox", {}).get("warnings", []):
        click.echo(f"warning: {w}", err=True)


def _grade(exercise, path: Path, suite: str, device: str = "auto"):
    from grader.engine import SubmissionError, grade
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


def _print_result(result, console=None) -> None:
    from rich.console import Console
    from rich.markup import escape
    console = console or Console()
    versions = result.extra_data.get("versions", {})
    backend = f", Keras {versions['keras']} on {versions['backend']}" if "keras" in versions else ""
    console.print(f"[bold]{result.exercise}[/bold] ({result.suite} tests): "
                  f"[bold]{result.score:g} / {result.max_score:g}[/bold] points "
                  f"in {result.execution_time:.1f} s on {result.extra_data.get('device', 'cpu').upper()}{backend}")
    for t in result.tests:
        mark = "[green]PASS[/green]" if t.status == "passed" else f"[red]{t.status.upper()}[/red]"
        console.print(f"  {mark} {escape(t.name)}  {t.score:g}/{t.max_score:g}")
        if t.output:
            for line in t.output.splitlines():
                console.print(f"       {escape(line)}", highlight=False)
    if result.output.strip():
        console.print("  [dim]your program printed:[/dim]")
        for line in result.output.rstrip().splitlines()[:40]:
            console.print(f"       {escape(line)}", highlight=False, style="dim")


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
    from grader.spec import all_exercises
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
    sys.exit(0 if result.full_marks else 1)


def _validate_rows(exercises):
    """Grade every reference (must get full marks) and every template (must not)."""
    from grader.engine import grade as run_grading
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
    from grader.release import TemplateError, write_templates
    from grader.spec import all_exercises
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
    from grader.release import TemplateError, write_templates
    from grader.spec import all_exercises
    try:
        stale = write_templates(all_exercises(), check_only=check_only)
    except TemplateError as err:
        _fail(str(err))
    verb = "stale" if check_only else "rewritten"
    click.echo(f"{verb}: {', '.join(stale)}" if stale else "all templates are up to date")
    sys.exit(1 if (check_only and stale) else 0)


@main.command()
def demo():
    """Grade every exercise's reference solution and untouched template, and print a score table."""
    import time

    from rich.console import Console
    from rich.table import Table

    from grader.engine import grade as run_grading
    from grader.spec import all_exercises, solutions_root
    console = Console()
    if solutions_root() is None:
        _fail("the demo needs the course checkout's solutions/ folder; run it from a clone of the project")
    exercises = all_exercises()
    console.print(f"Grading the reference solution and the untouched template of {len(exercises)} exercises "
                  "with their hidden tests, each in its own sandbox...")
    table = Table("exercise", "submission", "score", "time", "first hint for the learner")
    t0 = time.monotonic()
    sandbox = None
    for ex in exercises:
        for label, path in (("reference", ex.solution), ("template", ex.template)):
            res = run_grading(ex, path, "hidden")
            sandbox = res.extra_data.get("sandbox")
            hint = next((t.output.splitlines()[0] for t in res.tests if t.status != "passed" and t.output), "")
            colour = "green" if res.full_marks else "yellow"
            table.add_row(ex.id, label, f"[{colour}]{res.score:g} / {res.max_score:g}[/{colour}]",
                          f"{res.execution_time:.2f} s", hint[:70])
    console.print(table)
    if sandbox:
        console.print(f"sandbox: {sandbox['mode']} ({', '.join(sandbox['active'])})")
        for w in sandbox["warnings"]:
            console.print(f"[yellow]warning:[/yellow] {w}")
    console.print(f"done in {time.monotonic() - t0:.1f} s. Next: `dlgrade list`, `dlgrade start perceptron`, "
                  "`dlgrade check perceptron`.")


if __name__ == "__main__":
    main()
