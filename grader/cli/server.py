"""`dlgrade serve` (the course over HTTP) and `dlgrade tokens` (each person's secret, shown once).
Only click is imported at the top."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from pathlib import Path

import click

from grader.cli.common import course_option, db_option, fail
from grader.cli.common import load_course as _course


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--public", is_flag=True, help="Allow a non-loopback --host (with a base URL; put the server behind "
              "a TLS reverse proxy, see the README).")
@click.option("--base-url", default=None, help="The address learners use, e.g. https://grader.example.org "
              "(default: [server] base_url in course.toml).")
@course_option
@db_option
def serve(host, port, public, base_url, course_dir, db):
    """Instructors: serve the course over HTTP (learners submit with `dlgrade login` and `dlgrade submit`;
    the web pages are at the same address). Listens on loopback unless --public."""
    from grader.course.errors import CourseError
    from grader.gradebook.database import GradebookError
    from grader.server.limits import check_bind
    from grader.server.settings import load_settings
    course = _course(course_dir)
    if db:
        course = dataclasses.replace(course, gradebook_url=db)
    try:
        settings = load_settings(course)
        if base_url is not None:
            settings = settings.with_values(base_url=base_url)
    except CourseError as err:
        fail(str(err))
    why = check_bind(host, public, settings.base_url)
    if why:
        fail(why)
    import logging
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from grader.server.app import create_app, serve as run
    try:
        app = create_app(course, settings=settings)
    except (CourseError, GradebookError) as err:
        fail(str(err))
    where = settings.base_url or f"http://{host}:{port}"
    click.echo(f"Serving course {course.id} at {where} (gradebook {app.state.gradebook.where}); Ctrl-C stops it.",
               err=True)
    run(app, host, port)


def _csv_text(rows: list[dict]) -> str:
    """The tokens as CSV text: id,name,email,role,token."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["id", "name", "email", "role", "token"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def _write_tokens(out: Path, rows: list[dict]) -> None:
    """Write the tokens CSV, 0600, never over an existing file."""
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        fail(f"{out} exists; give another --out (the tokens it holds were shown once: keep or delete it)")
    except OSError as err:
        fail(f"cannot write {out}: {err.strerror}")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(_csv_text(rows))


@click.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write id,name,email,role,token to this CSV (mode 0600, a new file) instead of the terminal.")
@click.option("--id", "ids", multiple=True, help="Only this person (repeat for more).")
@click.option("--rotate", is_flag=True, help="Replace active tokens (the old ones stop working).")
@click.option("--revoke", "revoke_id", default=None, metavar="ID", help="Revoke ID's tokens; issue nothing.")
@course_option
@db_option
def tokens(out, ids, rotate, revoke_id, course_dir, db):
    """Instructors: give each person on the server's roster (or each --id) a secret token for
    `dlgrade login`. A token is shown once; the gradebook keeps only its hash. People who already
    hold one are skipped unless --rotate."""
    from grader.cli.common import open_gradebook
    from grader.server.identity import IdentityError, issue_tokens, revoke_tokens
    course = _course(course_dir)
    gradebook = open_gradebook(course, db)
    try:
        if revoke_id is not None:
            if ids or rotate or out:
                fail("--revoke ID stands alone; revoke first, then issue a new token with --id ID")
            count = revoke_tokens(gradebook, revoke_id)
            click.echo(f"Revoked {count} token(s) of {revoke_id}; `dlgrade tokens --id {revoke_id}` issues a new one.")
            return
        issued = issue_tokens(gradebook, list(ids) or None, rotate=rotate)
    except IdentityError as err:
        fail(str(err))
    finally:
        gradebook.close()
    rows = [{"id": p.id, "name": p.name, "email": p.email, "role": p.role, "token": t} for p, t in issued]
    if not rows:
        click.echo("No token issued: everyone asked for holds an active token (--rotate replaces them; people come "
                   "from `dlgrade roster import roster.csv`).", err=True)
        return
    if out is not None:
        _write_tokens(out, rows)
        click.echo(f"Issued {len(rows)} token(s) into {out} (0600). They are shown only there: hand each person "
                   "theirs and delete the file.", err=True)
        return
    click.echo(_csv_text(rows), nl=False)
    click.echo(f"Issued {len(rows)} token(s); they are not shown again.", err=True)


COMMANDS = (serve, tokens)

__all__ = ["serve", "tokens", "COMMANDS"]
