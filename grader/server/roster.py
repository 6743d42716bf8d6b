"""The server's roster: a CSV of people (id, name, email, section, optional role) imported into the
gradebook's `people` table. A CSV with a `user` column is the shared-machine roster instead
(grader/course/roster.py: learner ids mapped to OS users); `dlgrade roster import` tells them apart
by that column. Every row is checked before anything is stored: one bad row and nothing is
imported."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.course.ids import check_id
from grader.server.identity import ROLES, IdentityError, Person, save_people

FIELDS = ("id", "name", "email", "section", "role")
MAX_ROSTER_BYTES = 4 * 1024 * 1024
MAX_FIELD = 200


def is_server_roster(csv_path: Path | str) -> bool:
    """Whether a roster CSV is the server's (its header has no `user` column). Unreadable files
    count as the server's: its import says what is wrong."""
    try:
        with open(csv_path, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return True
    return "user" not in [h.strip().lower() for h in header]


def check_person(fields: dict, where: str) -> tuple[Person | None, str | None]:
    """(the Person of one row, None) or (None, a one-line error naming `where`)."""
    try:
        person_id = check_id(fields.get("id", ""), "id")
    except ValueError as err:
        return None, f"{where}: {err}"
    role = (fields.get("role") or "learner").lower()
    if role not in ROLES:
        return None, f"{where}: role {role!r} of {person_id} is not one of {', '.join(ROLES)}"
    for key in ("name", "email", "section"):
        value = fields.get(key, "")
        if len(value) > MAX_FIELD or any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in value):
            return None, f"{where}: {key} is longer than {MAX_FIELD} characters or holds control characters"
    email = fields.get("email", "")
    if email and ("@" not in email or " " in email):
        return None, f"{where}: email {email!r} of {person_id} is not an e-mail address; fix it or leave it empty"
    return Person(person_id, fields.get("name", ""), email, fields.get("section", ""), role), None


def parse_roster(text: str, source: str) -> list[Person]:
    """The people of a server roster CSV's text; IdentityError listing every bad row (row numbers as
    a spreadsheet shows them, the header is row 1)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise IdentityError(f"{source}: empty file; the first row must be a header: id,name,email,section[,role]; "
                            "nothing was imported")
    unknown = [h for h in header if h not in FIELDS]
    if "id" not in header or unknown or len(set(header)) != len(header):
        what = f"unknown column {unknown[0]!r}" if unknown else ("no column id" if "id" not in header
                                                                  else "a column is named twice")
        raise IdentityError(f"{source} row 1 (header): {what}; the columns are id,name,email,section and optionally "
                            "role (learner, ta, instructor); nothing was imported")
    reader.fieldnames = header
    errors: list[str] = []
    found: list[Person] = []
    seen: dict[str, int] = {}
    try:
        for raw in reader:
            line = reader.line_num
            extra = raw.pop(None, None)
            fields = {k: (v or "").strip() for k, v in raw.items()}
            if not any(fields.values()) and not extra:
                continue
            if extra:
                errors.append(f"{source} row {line}: more values than columns in the header")
                continue
            person, why = check_person(fields, f"{source} row {line}")
            if why:
                errors.append(why)
            elif person.id in seen:
                errors.append(f"{source} row {line}: duplicate id {person.id} (also in row {seen[person.id]})")
            else:
                seen[person.id] = line
                found.append(person)
    except csv.Error as err:
        errors.append(f"{source} row {reader.line_num}: not valid CSV ({err})")
    if not errors and not found:
        errors.append(f"{source}: no people under the header")
    if errors:
        raise IdentityError("\n".join(errors[:50]) + "\nnothing was imported")
    return found


def import_roster(gradebook, csv_path: Path | str) -> list[Person]:
    """Import (or update) every person of a server roster CSV; all rows or none."""
    path = Path(csv_path).expanduser()
    try:
        if path.stat().st_size > MAX_ROSTER_BYTES:
            raise IdentityError(f"{path} is over {MAX_ROSTER_BYTES // (1024 * 1024)} MiB; a roster is a small CSV")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise IdentityError(f"{path} is not UTF-8 text; save the CSV as UTF-8") from None
    except OSError as err:
        raise IdentityError(f"cannot read {path}: {err.strerror}") from None
    return save_people(gradebook, parse_roster(text, path.name))


__all__ = ["FIELDS", "is_server_roster", "check_person", "parse_roster", "import_roster"]
