"""`dlgrade roster add|import|list` (instructors): which OS user each learner id is. Only click is
imported at the top."""

from __future__ import annotations

import json
from pathlib import Path

import click

from grader.cli.common import course_option, db_option, fail, json_option
from grader.cli.common import load_course as _course


@click.group("roster")
def roster():
    """Instructors: which OS user each learner id is (a multi-user course on a shared server).
    The first learner added makes the course multi-user: each learner gets inbound/<id>/ and
    feedback/<id>/ in the exchange, theirs only, and can act only as themselves. Needs root (sudo)
    to give folders to other users."""


@roster.command("add")
@click.argument("learner_id", metavar="ID")
@click.option("--user", required=True, help="The learner's OS user name on this machine.")
@click.option("--name", default="", help="The learner's name (for reports).")
@click.option("--email", default="")
@click.option("--section", default="")
@course_option
def add(learner_id, user, name, email, section, course_dir):
    """Put learner ID (OS user --user) on the roster and give them their exchange folders."""
    from grader.course.roster import RosterError, add as add_learner
    course = _course(course_dir)
    try:
        learner = add_learner(course, learner_id, user, name, email, section)
    except RosterError as err:
        fail(str(err))
    click.echo(f"{learner.id} is OS user {learner.user}: inbound/{learner.id}/ and feedback/{learner.id}/ in "
               f"{course.exchange_path} are theirs only (0700).")


@roster.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@course_option
@db_option
def import_cmd(csv_file, course_dir, db):
    """Add the people of a CSV file (header row). With a `user` column (id,user[,name,email,section]):
    learners and their OS users on this shared machine. Without one (id,name,email,section[,role]):
    the people of a course served over HTTP (`dlgrade serve`), kept in the gradebook; importing again
    updates them. Every row is checked first: one bad row and nothing is imported."""
    from grader.server.roster import is_server_roster
    course = _course(course_dir)
    if is_server_roster(csv_file):
        from grader.cli.common import open_gradebook
        from grader.server.identity import IdentityError
        from grader.server.roster import import_roster
        gradebook = open_gradebook(course, db)
        try:
            people = import_roster(gradebook, csv_file)
        except IdentityError as err:
            fail(str(err))
        finally:
            gradebook.close()
        staff = sum(1 for p in people if p.role != "learner")
        click.echo(f"Imported {len(people)} person(s) from {csv_file} into the server's roster ({staff} staff); "
                   "`dlgrade tokens --out tokens.csv` gives each a token.")
        return
    from grader.course.roster import RosterError, import_csv
    try:
        learners = import_csv(course, csv_file)
    except RosterError as err:
        fail(str(err))
    click.echo(f"Imported {len(learners)} learner(s) from {csv_file}; each has inbound/<id>/ and feedback/<id>/ "
               f"in {course.exchange_path}, theirs only.")


@roster.command("add-staff")
@click.argument("person_id", metavar="ID")
@click.option("--role", type=click.Choice(["ta", "instructor"]), required=True)
@click.option("--name", default="", help="Their name.")
@click.option("--email", default="")
@course_option
@db_option
def add_staff(person_id, role, name, email, course_dir, db):
    """Put a TA or an instructor on the server's roster (then `dlgrade tokens --id ID`)."""
    from grader.cli.common import open_gradebook
    from grader.server.identity import IdentityError, save_people
    from grader.server.roster import check_person
    person, why = check_person({"id": person_id, "name": name, "email": email, "role": role}, "roster add-staff")
    if why:
        fail(why + "; nothing was changed")
    course = _course(course_dir)
    gradebook = open_gradebook(course, db)
    try:
        save_people(gradebook, [person])
    except IdentityError as err:
        fail(str(err))
    finally:
        gradebook.close()
    click.echo(f"{person.id} is a{'n' if role == 'instructor' else ''} {role} of the course; "
               f"`dlgrade tokens --id {person.id}` gives them a token.")


def _list_server(course, db, as_json) -> None:
    """The server's roster: people, roles and whether each holds an active token."""
    from grader.cli.common import open_gradebook
    from grader.server.identity import has_active_token, people
    gradebook = open_gradebook(course, db)
    try:
        holders = has_active_token(gradebook)
        rows = [{**p.row(), "token": p.id in holders} for p in people(gradebook)]
    finally:
        gradebook.close()
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=True))
        return
    if not rows:
        click.echo("no one on the server's roster; import people with `dlgrade roster import roster.csv` "
                   "(columns id,name,email,section[,role])")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    table = Table("id", "name", "email", "section", "role", "token")
    for r in rows:
        table.add_row(*(escape(str(r[k])) for k in ("id", "name", "email", "section", "role")),
                      "active" if r["token"] else "none")
    Console().print(table)


@roster.command("list")
@json_option
@click.option("--server", "server_roster", is_flag=True, help="The server's roster (dlgrade serve): people, roles, "
              "tokens.")
@course_option
@db_option
def list_cmd(as_json, server_roster, course_dir, db):
    """The roster, with the state of each learner's inbound folder (--server: the people of the
    course served over HTTP)."""
    from grader.course.roster import RosterError, folder_state, load_roster
    course = _course(course_dir)
    if server_roster:
        _list_server(course, db, as_json)
        return
    try:
        learners = load_roster(course)
    except RosterError as err:
        fail(str(err))
    rows = [{**l.row(), "inbound": folder_state(course, l)} for l in learners.values()]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=True))
        return
    if not rows:
        click.echo("no roster: a single-user course (learner ids are taken as given and whoever runs dlgrade "
                   "owns everything); add learners with `dlgrade roster add ID --user NAME`")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    table = Table("id", "user", "name", "email", "section", "inbound folder")
    for r in rows:
        table.add_row(*(escape(str(r[k])) for k in ("id", "user", "name", "email", "section", "inbound")))
    Console().print(table)


COMMANDS = (roster,)

__all__ = ["roster", "COMMANDS"]
