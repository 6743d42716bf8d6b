"""The learner's commands against a course server (after `dlgrade login`): login, logout, and the
remote bodies of `submit`, `status` and `feedback` (grader/cli/learner.py decides which to run: a
saved login and no `--course`).

Light like the other learner commands: the HTTP client (httpx) and Rich are imported inside the
functions; nothing here loads numpy, pytest or Keras. Whatever the server sends is printed as data:
cleaned of control sequences, never read as Rich markup."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from grader.cli.common import check_id, clean, fail, learner_text, safe

WAIT_FIRST_S = 0.5  # `submit --wait` polls the receipt: first after this, then a little slower each time
WAIT_MAX_S = 5.0
DONE = ("graded", "failed")


NOT_LOGGED_IN = ("not logged in to a course server, and no course folder (course.toml) here or above: run "
                 "`dlgrade login URL --token TOKEN` with the address and token your instructor gave you, or work "
                 "in your course folder (or give --course DIR)")


def active_login(course_dir: Path | None):
    """The saved login when the command should talk to a server (a login and no --course), else None
    (the course folder's command runs); exits with NOT_LOGGED_IN when there is neither."""
    if course_dir is not None:
        return None
    from grader.course.paths import find_course_dir
    from grader.server.login import LoginError, load_login
    try:
        login = load_login()
    except LoginError as err:
        fail(str(err))
    if login is None and find_course_dir() is None:
        fail(NOT_LOGGED_IN)
    return login


def _client(login):
    from grader.server.client import ServerClient
    return ServerClient(login.url, login.token)


def _call(login, method: str, *args, **kwargs):
    """One API call; a refusal exits with the server's one-line reason."""
    from grader.server.client import ServerError
    try:
        with _client(login) as client:
            return getattr(client, method)(*args, **kwargs)
    except ServerError as err:
        fail(str(err))


# -- login / logout -------------------------------------------------------------------------------

def login(url: str, token: str, allow_http: bool) -> None:
    """Check the token with the server (/whoami), then keep {url, token, id} in the login file (0600)."""
    from grader.server.client import ServerClient, ServerError, one_line
    from grader.server.login import Login, LoginError, check_token, normalize_url, save_login
    try:
        url, token = normalize_url(url, allow_http), check_token(token)
    except LoginError as err:
        fail(str(err))
    try:
        with ServerClient(url, token) as client:
            me = client.whoami()
    except ServerError as err:
        fail(f"{err}; you are not logged in")
    who = one_line(me["id"], 200)
    path = save_login(Login(url=url, token=token, id=who))
    name = one_line(me.get("name") or "", 200)
    course = one_line(me.get("course") or "", 200)
    click.echo(f"Logged in to {url}{f' (course {course})' if course else ''} as {who}"
               f"{f' ({name})' if name else ''}, role {one_line(me['role'], 40)}; the token is kept in {path} "
               "(readable by you only). Next: dlgrade submit EXERCISE [PATH]")


def logout() -> None:
    """Forget the saved login (the token stays valid on the server until the instructor revokes it)."""
    from grader.server.login import remove_login
    path = remove_login()
    if path is None:
        click.echo("You were not logged in; nothing to do.")
    else:
        click.echo(f"Logged out: removed {path}. The learner commands work on a course folder again.")


# -- submit ---------------------------------------------------------------------------------------

def _local_exercise(exercise_id: str):
    """The exercise as this machine knows it (the course folder here, else the installed exercises),
    or None: it tells which files of a folder are the submission and the entry file's name."""
    from grader.course.config import CourseError, load_course
    from grader.course.paths import find_course_dir
    from grader.exercise.spec import SpecError, find_exercise
    try:
        if find_course_dir() is not None:
            return load_course(None).exercise(exercise_id)
        return find_exercise(exercise_id)
    except (CourseError, SpecError):
        return None


def gather_files(exercise_id: str, path: str | None) -> list:
    """The files to upload (`Upload`s). With the exercise known here, the same files and checks as a
    submission to a course folder (the entry renamed to its name, a notebook without its outputs);
    otherwise PATH (or ./EXERCISE/): a .py or .ipynb file, or the .py and .ipynb files of a folder."""
    from grader.server.client import Upload
    exercise = _local_exercise(exercise_id)
    if exercise is not None:
        from grader.cli.common import resolve_work_path
        from grader.course.errors import ExchangeError
        from grader.course.submit import _read_submission
        work = resolve_work_path(exercise, path)
        try:
            contents, left_out = _read_submission(exercise, work)
        except ExchangeError as err:
            fail(str(err))
        for line in left_out:
            click.echo(f"not submitted: {clean(line, 300)}", err=True)
        return [Upload(name, data) for name, data in sorted(contents.items())]
    target = Path(path) if path else Path(exercise_id)
    if not target.exists():
        fail(f"no {target} here; give the path of your work: dlgrade submit {exercise_id} PATH")
    if target.is_symlink():
        fail(f"{target} is a symbolic link; give the file itself")
    if target.is_file():
        found = [target]
    else:
        found = sorted(p for p in target.iterdir() if p.suffix in (".py", ".ipynb") and p.is_file()
                       and not p.is_symlink())
        if not found:
            fail(f"{target} holds no .py or .ipynb file; give the path of your work: dlgrade submit "
                 f"{exercise_id} PATH")
    if any(p.suffix not in (".py", ".ipynb") for p in found):
        fail(f"{target} is not a Python file (.py) or a notebook (.ipynb); submit your exercise's file")
    try:
        return [Upload(p.name, p.read_bytes()) for p in found]
    except OSError as err:
        fail(f"cannot read {target}: {err.strerror}; check the file")


def submit(login, exercise_id: str, path: str | None, student: str | None, wait: bool, wait_timeout: float) -> None:
    """Upload the learner's work and print the server's receipt; with `wait`, then wait for the
    grading on submit and print its public results."""
    check_id(exercise_id, "exercise id")
    if student and student != login.id:
        fail(f"on a server you submit as yourself ({login.id}); --student is for a course folder (--course)")
    uploads = gather_files(exercise_id, path)
    receipt = _call(login, "submit", exercise_id, uploads)
    print_receipt(receipt, login.url)
    if wait:
        wait_for_grading(login, receipt, wait_timeout)


def print_receipt(receipt: dict, url: str) -> None:
    """The receipt as a line a learner can keep."""
    late_days = receipt.get("late_days") or 0
    when = "LATE by {:.2f} day(s)".format(float(late_days)) if receipt.get("late") else "on time"
    files = ", ".join(str(f) for f in receipt.get("files") or [])
    again = (" The server already had this exact content: this is its receipt, no new submission was made."
             if receipt.get("duplicate") else "")
    click.echo(clean(f"Submitted {receipt.get('exercise', '?')} to {url} as {receipt.get('student', '?')}: submission "
                     f"{receipt['submission_id']}, received {receipt['received_at']} (server time, {when}); "
                     f"sha256 {receipt['sha256']}; files: {files or '?'}.{again} Keep this receipt.", 4000))


def wait_for_grading(login, receipt: dict, timeout: float) -> None:
    """Poll the receipt until its grading on submit is done (or `timeout` seconds), then show it."""
    from grader.server.client import ServerError
    deadline, pause = time.monotonic() + timeout, WAIT_FIRST_S
    grading = receipt.get("grading") if isinstance(receipt.get("grading"), dict) else {}
    with _client(login) as client:
        while True:
            if grading.get("on_submit") == "none":
                click.echo("This course grades submissions later (no tests run on submit); there is nothing to "
                           "wait for. See `dlgrade status` once your instructor releases the results.")
                return
            if grading.get("state") in DONE:
                break
            if time.monotonic() > deadline:
                click.echo(f"Still {safe(grading.get('state') or 'queued', 20)} after {timeout:g} s; the submission "
                           "is stored: see its results later with `dlgrade status`.")
                return
            time.sleep(pause)
            pause = min(WAIT_MAX_S, pause * 1.5)
            try:
                current = client.submission(receipt["submission_id"])
            except ServerError as err:
                fail(f"{err} (the submission itself is stored: see `dlgrade status`)")
            grading = current.get("grading") if isinstance(current.get("grading"), dict) else {}
    print_grading(grading)


def print_grading(grading: dict) -> None:
    """A finished grading on submit: the public tests' results, or that the grade waits for release."""
    from rich.console import Console
    console = Console()
    if grading.get("state") == "failed":
        problem = grading.get("problem") or ("the grader could not run your submission (a problem of the grader "
                                             "or the machine, not of your work); your instructor sees it")
        console.print("[yellow]not graded[/yellow]: ", learner_text(problem), sep="", highlight=False)
        return
    public = grading.get("public")
    if isinstance(public, dict):
        console.print(f"[bold]Public tests[/bold]: [bold]{_num(public.get('score'))} / "
                      f"{_num(public.get('max_score'))}[/bold] points")
        for t in public.get("tests") or []:
            if not isinstance(t, dict):
                continue
            passed = t.get("status") == "passed"
            mark = "[green]PASS[/green]" if passed else f"[red]{safe(str(t.get('status', '?')).upper(), 20)}[/red]"
            points = f"{_num(t.get('score'))}/{_num(t.get('max_score'))}"
            console.print(f"  {mark} {safe(t.get('name', '?'), 400)}  {points}")
            for line in str(t.get("output") or "").splitlines()[:40]:
                console.print(learner_text("       " + line), highlight=False)
    if "score" in grading:
        console.print(f"Grade: [bold]{_num(grading.get('score'))} / {_num(grading.get('max_score'))}[/bold]")
    elif grading.get("on_submit") == "hidden":
        console.print("Graded. Your score is shown once your instructor releases the results (`dlgrade status`).")


def _num(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "?"


# -- status ---------------------------------------------------------------------------------------

def status(login, exercise: str | None, student: str | None, as_json: bool) -> None:
    """The caller's receipts on the server, with each one's grading (grades once released)."""
    check_id(exercise, "exercise id")
    check_id(student, "student id")
    rows = _call(login, "submissions", exercise, student if student and student != login.id else None)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=True))
        return
    from rich import box
    from rich.console import Console
    from rich.table import Column, Table
    table = Table(Column("exercise", no_wrap=True), Column("id", no_wrap=True, justify="right"),
                  Column("received (UTC)", no_wrap=True), Column("sha256", no_wrap=True), "files",
                  Column("grading", ratio=1), box=box.SIMPLE_HEAD)
    for r in rows:
        grading = r.get("grading") if isinstance(r.get("grading"), dict) else {}
        shown = safe(grading.get("state") or "-", 20)
        if "score" in grading:
            shown = f"{_num(grading.get('score'))}/{_num(grading.get('max_score'))}"
        elif isinstance(grading.get("public"), dict):
            shown = f"public {_num(grading['public'].get('score'))}/{_num(grading['public'].get('max_score'))}"
        received = safe(str(r.get("received_at") or "")[:19].replace("T", " "), 40)
        if r.get("late"):
            received += " late {:.1f} d".format(float(r.get("late_days") or 0))
        table.add_row(safe(r.get("exercise"), 200), safe(r.get("submission_id"), 20), received,
                      safe(str(r.get("sha256", ""))[:8], 8),
                      safe(", ".join(str(f) for f in r.get("files") or []), 2000), shown)
    Console().print(table)
    click.echo(f"{len(rows)} submission(s) on {login.url} as {login.id}" if rows else
               f"no submissions yet on {login.url} as {login.id}")


# -- feedback -------------------------------------------------------------------------------------

def feedback(login, exercise: str, student: str | None, lang: str | None, raw: bool, out_dir: Path) -> None:
    """The released feedback: rendered in the terminal, the HTML page saved as OUT/EXERCISE.html."""
    check_id(exercise, "exercise id")
    if student and student != login.id:
        fail(f"on a server you read your own feedback ({login.id}); --student is for a course folder (--course)")
    page = _call(login, "feedback", exercise, lang)
    from grader.atomic import write_text
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        html_path = out_dir / f"{exercise}.html"
        write_text(html_path, page["html"], 0o600)  # the page holds the learner's results: theirs only
    except OSError as err:
        fail(f"cannot save the feedback page in {out_dir}: {err.strerror}; give another folder with --out")
    text = clean(page["markdown"], 1 << 22)
    if raw:
        click.echo(text)
    else:
        from rich.console import Console
        from rich.markdown import Markdown
        Console().print(Markdown(text))
    click.echo(f"The page with plots: {html_path}")
    sys.stdout.flush()
