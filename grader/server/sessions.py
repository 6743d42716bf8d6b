"""Web sessions of the server's pages: sign-in with a token, a signed session cookie, CSRF tokens.

* A person signs in once with their token (POST /login). The server answers with a cookie that
  holds the person's id, the id of the token row they signed in with, a per-session CSRF secret
  and the time; it is signed with HMAC-SHA256 under the course's session key
  (`<course>/server/session.key`, 0600, made on first use) and is HttpOnly, SameSite=Lax, Path=/,
  and Secure when the course's base URL is https. The token itself is never put in the cookie.
* Every request re-reads the token row: a session whose token was revoked or rotated since, or
  whose person is gone, is no session (the page asks to sign in again). Sessions last `MAX_AGE`;
  one signed out (POST /logout) is refused from then on, even from a copy of its cookie (the
  server remembers ended sessions in memory until they would have expired).
* Every form carries a CSRF token and every POST is checked: the session's secret for signed-in
  forms; the login form, which has no session yet, gets its own short-lived signed cookie whose
  value the form must echo (double submit). A POST whose Origin is another site is refused too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SESSION_COOKIE = "dlgrade_session"
LOGIN_COOKIE = "dlgrade_login"
LANG_COOKIE = "dlgrade_lang"
MAX_AGE = 8 * 3600          # a session's life, seconds
LOGIN_MAX_AGE = 3600        # how long a login form stays usable
CSRF_FIELD = "csrf"
KEY_FILE = "session.key"
_ENDED_LOCK = threading.Lock()  # the ended sessions are read and pruned from the server's threads


class CsrfError(Exception):
    """A POST without a valid CSRF token (`kind` "token") or from another site ("origin"); the
    message says what to do."""

    def __init__(self, message: str, kind: str = "token"):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class WebSession:
    """A signed-in person: who (`person`, an identity.Person), which token row, the CSRF secret."""

    person: object
    token_id: int
    csrf: str


# --- the key and the signature ----------------------------------------------------------------

def session_key(app) -> bytes:
    """The course's session key: read from `<course>/server/session.key`, made there (0600) once."""
    key = getattr(app.state, "session_key", None)
    if key:
        return key
    folder = Path(app.state.course.root) / "server"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    else:
        key = secrets.token_bytes(32)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key.hex() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    if len(key) < 32:
        raise RuntimeError(f"the session key {path} is too short; delete it and restart the server (everyone "
                           "signs in again)")
    app.state.session_key = key
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, purpose: str, payload: dict) -> str:
    """`payload` (JSON) and its HMAC-SHA256 under `key` for `purpose`, as cookie-safe text."""
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    mac = hmac.new(key, f"{purpose}.{body}".encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(key: bytes, purpose: str, text: str | None, max_age: float) -> dict | None:
    """The payload of a `sign`ed text when its signature is right and it is younger than `max_age`
    seconds (its field `t`), else None. Never raises on bad input."""
    if not text or len(text) > 4096 or text.count(".") != 1:
        return None
    body, mac = text.split(".")
    try:
        expected = hmac.new(key, f"{purpose}.{body}".encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, UnicodeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("t"), (int, float)):
        return None
    age = time.time() - payload["t"]
    return payload if -60 <= age <= max_age else None


# --- cookies ----------------------------------------------------------------------------------

def secure_cookies(app) -> bool:
    """Whether cookies get the Secure flag: when the course's base URL is https."""
    settings = getattr(app.state, "settings", None)
    return bool(getattr(settings, "https", False))


def set_cookie(response, app, name: str, value: str, max_age: int) -> None:
    """Set one of the pages' cookies with their flags (HttpOnly, SameSite=Lax, Path=/, Secure on https)."""
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=secure_cookies(app))


def clear_cookie(response, app, name: str) -> None:
    """Remove one of the pages' cookies."""
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=secure_cookies(app))


# --- sessions ---------------------------------------------------------------------------------

def _query(gradebook, query):
    from sqlalchemy.orm import Session
    with Session(gradebook.engine) as s:
        return s.execute(query).first()


def token_row(gradebook, token: str):
    """(Person, token row id) of an active token, or None (unknown, revoked, malformed)."""
    from sqlalchemy import select
    from grader.gradebook.models import TokenRecord
    from grader.server.identity import authenticate, hash_token
    person = authenticate(gradebook, token)
    if person is None:
        return None
    found = _query(gradebook, select(TokenRecord.id).where(TokenRecord.token_hash == hash_token(token),
                                                           TokenRecord.revoked_at.is_(None)))
    return None if found is None else (person, int(found[0]))


def person_of_token(gradebook, token_id: int):
    """The Person whose token row `token_id` is still active, else None."""
    from sqlalchemy import select
    from grader.gradebook.models import PersonRecord, TokenRecord
    from grader.server.identity import Person
    found = _query(gradebook, select(PersonRecord).join(TokenRecord, TokenRecord.person_id == PersonRecord.id)
                   .where(TokenRecord.id == token_id, TokenRecord.revoked_at.is_(None)))
    if found is None:
        return None
    row = found[0]
    return Person(row.id, row.name or "", row.email or "", row.section or "", row.role)


def start_session(request, response, token: str) -> WebSession | None:
    """Sign in with `token`: set the session cookie on `response` and return the session, or None
    when the token is not an active one (nothing is set)."""
    app = request.app
    found = token_row(app.state.gradebook, token)
    if found is None:
        return None
    person, token_id = found
    session = WebSession(person=person, token_id=token_id, csrf=secrets.token_urlsafe(24))
    value = sign(session_key(app), "session", {"p": person.id, "k": token_id, "c": session.csrf,
                                               "t": int(time.time())})
    set_cookie(response, app, SESSION_COOKIE, value, MAX_AGE)
    clear_cookie(response, app, LOGIN_COOKIE)
    return session


def current_session(request) -> WebSession | None:
    """The request's session: its cookie is signed, not expired, and its token row is still active
    and still the person's; else None."""
    app = request.app
    payload = unsign(session_key(app), "session", request.cookies.get(SESSION_COOKIE), MAX_AGE)
    if payload is None:
        return None
    person_id, token_id, csrf = payload.get("p"), payload.get("k"), payload.get("c")
    if not isinstance(person_id, str) or not isinstance(token_id, int) or not isinstance(csrf, str):
        return None
    with _ENDED_LOCK:
        if csrf in _ended(app):
            return None
    person = person_of_token(app.state.gradebook, token_id)
    if person is None or person.id != person_id:
        return None
    return WebSession(person=person, token_id=token_id, csrf=csrf)


def _ended(app) -> dict:
    ended = getattr(app.state, "ended_sessions", None)
    if ended is None:
        ended = app.state.ended_sessions = {}
    return ended


def end_session(request, response) -> None:
    """Sign out: the session cookie is removed, and the session (its CSRF secret) is remembered as
    ended until it would have expired, so a copy of the cookie is refused too (in this process)."""
    payload = unsign(session_key(request.app), "session", request.cookies.get(SESSION_COOKIE), MAX_AGE)
    if payload is not None and isinstance(payload.get("c"), str):
        with _ENDED_LOCK:
            ended, now = _ended(request.app), time.time()
            for secret in [k for k, until in ended.items() if until < now]:
                del ended[secret]
            ended[payload["c"]] = payload["t"] + MAX_AGE
    clear_cookie(response, request.app, SESSION_COOKIE)


# --- CSRF -------------------------------------------------------------------------------------

def login_nonce() -> str:
    """A fresh CSRF value for a login form (`set_login_cookie` puts it in the form's cookie)."""
    return secrets.token_urlsafe(24)


def set_login_cookie(request, response, nonce: str) -> None:
    """The login form's short-lived signed cookie, holding `nonce`; the form echoes the nonce."""
    set_cookie(response, request.app, LOGIN_COOKIE,
               sign(session_key(request.app), "login", {"n": nonce, "t": int(time.time())}), LOGIN_MAX_AGE)


def check_origin(request) -> None:
    """Refuse a POST whose Origin header names another site than this server (its Host, or the
    course's base URL behind a proxy). Browsers send Origin with every form POST; a client that
    sends none still needs the CSRF token."""
    from urllib.parse import urlsplit
    origin = request.headers.get("origin")
    if origin is None:
        return
    allowed = {request.headers.get("host", "").lower()}
    base = str(getattr(getattr(request.app.state, "settings", None), "base_url", "") or "")
    if base:
        allowed.add(urlsplit(base).netloc.lower())
    if origin == "null" or urlsplit(origin).netloc.lower() not in allowed:
        raise CsrfError("this form was sent from another site; open the page on this server and send it again",
                        "origin")


def check_login_csrf(request, sent: object) -> None:
    """Check the login form's CSRF token against its cookie (CsrfError when wrong or missing)."""
    check_origin(request)
    payload = unsign(session_key(request.app), "login", request.cookies.get(LOGIN_COOKIE), LOGIN_MAX_AGE)
    if payload is None or not isinstance(sent, str) or not isinstance(payload.get("n"), str) \
            or not hmac.compare_digest(payload["n"].encode(), sent.encode("utf-8", "replace")):
        raise CsrfError("the sign-in form has expired or was not sent by this site; reload the page and sign in again")


def check_csrf(request, session: WebSession, sent: object) -> None:
    """Check a signed-in form's CSRF token against the session's (CsrfError when wrong or missing)."""
    check_origin(request)
    if not isinstance(sent, str) or not hmac.compare_digest(session.csrf.encode(), sent.encode("utf-8", "replace")):
        raise CsrfError("the form's security token is missing or wrong; reload the page and try again")


__all__ = ["SESSION_COOKIE", "LOGIN_COOKIE", "LANG_COOKIE", "CSRF_FIELD", "MAX_AGE", "CsrfError", "WebSession",
           "session_key", "sign", "unsign", "secure_cookies", "set_cookie", "clear_cookie", "token_row", "person_of_token",
           "start_session", "current_session", "end_session", "login_nonce", "set_login_cookie", "check_origin", "check_login_csrf",
           "check_csrf"]
