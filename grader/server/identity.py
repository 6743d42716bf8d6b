"""Who is asking, on a course served over HTTP: people (learners, TAs, instructors) and their access
tokens, kept in the course's gradebook (tables `people` and `tokens`, revision 0004).

A token is `dlg_` + `secrets.token_urlsafe(32)`; it is shown once (by `dlgrade tokens`) and only its
sha256 is stored. A learner person also has a `students` row, so their submissions and grades live
where the rest of the course's do. A token is looked up by its hash; a revoked token is told apart
from an unknown one (the learner is told to ask for a new one)."""

from __future__ import annotations

import hashlib
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from grader.clock import now_utc
from grader.gradebook.database import first_line
from grader.gradebook.models import PersonRecord, Student, TokenRecord

ROLES = ("learner", "ta", "instructor")
STAFF = ("ta", "instructor")
TOKEN_PREFIX = "dlg_"
MAX_TOKEN_CHARS = 200


class IdentityError(Exception):
    """A problem with people or tokens; the message is one line that says what to do."""


@dataclass(frozen=True)
class Person:
    """Someone the server knows: id (the learner or staff id), name, email, section, role."""

    id: str
    name: str = ""
    email: str = ""
    section: str = ""
    role: str = "learner"

    @property
    def is_staff(self) -> bool:
        """A TA or an instructor."""
        return self.role in STAFF

    @property
    def is_instructor(self) -> bool:
        return self.role == "instructor"

    def row(self) -> dict:
        """The person as a plain dict (id, name, email, section, role)."""
        return {"id": self.id, "name": self.name, "email": self.email, "section": self.section, "role": self.role}


def hash_token(token: str) -> str:
    """The sha256 hex of a token: all the gradebook keeps of it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh secret token (`dlg_` + 32 random bytes, URL-safe)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _person(row: PersonRecord) -> Person:
    return Person(row.id, row.name or "", row.email or "", row.section or "", row.role)


@contextmanager
def _session(gradebook) -> Iterator[Session]:
    """One transaction on the gradebook's engine; a database error becomes IdentityError."""
    try:
        with Session(gradebook.engine, expire_on_commit=False) as s, s.begin():
            yield s
    except SQLAlchemyError as err:
        raise IdentityError(f"the gradebook {gradebook.where} failed: {first_line(err)}; nothing was changed") from err


def lookup(gradebook, token: object) -> tuple[Person | None, str]:
    """(the person, "ok") for an active token; (None, "revoked") for a revoked one; (None, "unknown")
    for anything else (not a string, too long, not ours)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        return None, "unknown"
    with _session(gradebook) as s:
        found = s.execute(select(TokenRecord, PersonRecord).join(PersonRecord, PersonRecord.id == TokenRecord.person_id)
                          .where(TokenRecord.token_hash == hash_token(token))).first()
        if found is None:
            return None, "unknown"
        tok, person = found
        if tok.revoked_at is not None:
            return None, "revoked"
        return _person(person), "ok"


def authenticate(gradebook, token: str) -> Person | None:
    """The person an active token belongs to; None for a revoked or unknown token."""
    return lookup(gradebook, token)[0]


def people(gradebook, role: str | None = None) -> list[Person]:
    """Everyone the server knows (or one role's), by id."""
    query = select(PersonRecord).order_by(PersonRecord.id)
    if role is not None:
        query = query.where(PersonRecord.role == role)
    with _session(gradebook) as s:
        return [_person(r) for r in s.scalars(query)]


def get_person(gradebook, person_id: str) -> Person | None:
    """One person by id, or None."""
    with _session(gradebook) as s:
        row = s.get(PersonRecord, person_id)
        return _person(row) if row is not None else None


def save_people(gradebook, new: Iterable[Person]) -> list[Person]:
    """Add people or update their name, email, section and role, all in one transaction; a learner
    also gets a `students` row (its name kept up to date). Returns the people saved."""
    new = list(new)
    for p in new:
        if p.role not in ROLES:
            raise IdentityError(f"role {p.role!r} of {p.id} is not one of {', '.join(ROLES)}")
    with _session(gradebook) as s:
        for p in new:
            row = s.get(PersonRecord, p.id)
            if row is None:
                s.add(PersonRecord(id=p.id, name=p.name, email=p.email, section=p.section, role=p.role,
                                   created_at=now_utc()))
            else:
                row.name, row.email, row.section, row.role = p.name, p.email, p.section, p.role
            if p.role == "learner":
                student = s.get(Student, p.id)
                if student is None:
                    s.add(Student(id=p.id, name=p.name or None, created_at=now_utc()))
                elif p.name and student.name != p.name:
                    student.name = p.name
            s.flush()
    return new


def issue_tokens(gradebook, ids: Iterable[str] | None = None, rotate: bool = False) -> list[tuple[Person, str]]:
    """A new token for every person (or the people `ids`) that has no active one; with `rotate`,
    for each of them, their active tokens revoked. Returns (person, token) pairs: the only time a
    token exists in the clear. IdentityError names an unknown id (nothing issued then)."""
    wanted = None if ids is None else list(dict.fromkeys(ids))
    issued: list[tuple[Person, str]] = []
    with _session(gradebook) as s:
        rows = list(s.scalars(select(PersonRecord).order_by(PersonRecord.id)))
        if wanted is not None:
            by_id = {r.id: r for r in rows}
            unknown = [i for i in wanted if i not in by_id]
            if unknown:
                raise IdentityError(f"no person {unknown[0]!r} on the server's roster; import them first "
                                    "(`dlgrade roster import roster.csv` or `dlgrade roster add-staff`); "
                                    "no token was issued")
            rows = [by_id[i] for i in wanted]
        active = {t.person_id: t for t in s.scalars(select(TokenRecord).where(TokenRecord.revoked_at.is_(None)))}
        now = now_utc()
        for row in rows:
            if row.id in active and not rotate:
                continue
            if rotate:
                for tok in s.scalars(select(TokenRecord).where(TokenRecord.person_id == row.id,
                                                               TokenRecord.revoked_at.is_(None))):
                    tok.revoked_at = now
            token = new_token()
            s.add(TokenRecord(person_id=row.id, token_hash=hash_token(token), created_at=now))
            issued.append((_person(row), token))
    return issued


def revoke_tokens(gradebook, person_id: str) -> int:
    """Revoke every active token of a person; returns how many were revoked. IdentityError for an
    unknown id."""
    with _session(gradebook) as s:
        if s.get(PersonRecord, person_id) is None:
            raise IdentityError(f"no person {person_id!r} on the server's roster; `dlgrade roster list --server` shows it")
        now, count = now_utc(), 0
        for tok in s.scalars(select(TokenRecord).where(TokenRecord.person_id == person_id,
                                                       TokenRecord.revoked_at.is_(None))):
            tok.revoked_at = now
            count += 1
        return count


def has_active_token(gradebook) -> set[str]:
    """The ids of the people who hold an active token."""
    with _session(gradebook) as s:
        return set(s.scalars(select(TokenRecord.person_id).where(TokenRecord.revoked_at.is_(None))))


__all__ = ["Person", "IdentityError", "ROLES", "STAFF", "TOKEN_PREFIX", "hash_token", "new_token", "lookup",
           "authenticate", "people", "get_person", "save_people", "issue_tokens", "revoke_tokens", "has_active_token"]
