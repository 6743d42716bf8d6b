"""The server's people and tokens through the real `dlgrade` command: a server roster imported all
or nothing (bad rows named), tokens shown once and stored hashed, rotated and revoked; the
[server] settings; the refusal of a non-loopback bind; and a served course whose log holds no
token and no file content."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import time

import itertools

import httpx
import pytest
from pg import fresh_database
from pg import postgres_url  # noqa: F401
from server_api_kit import STEP, free_port, multipart
from sqlalchemy import text

from grader.course.config import init_course, load_course
from grader.course.errors import CourseError
from grader.gradebook.store import Gradebook
from grader.server.identity import lookup, people
from grader.server.limits import check_bind, is_loopback
from grader.server.settings import load_settings


def dlgrade(*args, cwd, check=True):
    proc = subprocess.run(["dlgrade", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


_names = itertools.count()


@pytest.fixture
def course(tmp_path):
    init_course(tmp_path / "course")
    return tmp_path / "course"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request):
    """`--db` for the commands: none (the course's SQLite file) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return fresh_database(request.getfixturevalue("postgres_url"), f"ident{next(_names)}")


def _gradebook(course_dir, db=None):
    return Gradebook(db or load_course(course_dir).gradebook_url)


def _db(db) -> list[str]:
    return ["--db", db] if db else []


ROSTER = "id,name,email,section,role\nalice,Alice,alice@example.org,1,\nbob,Bob,bob@example.org,2,learner\n" \
         "prof,Prof,prof@example.org,,instructor\n"


def test_roster_import_bad_rows_are_named_and_nothing_is_imported(course, db):
    bad = course / "bad.csv"
    bad.write_text("id,name,email,section,role\nalice,Alice,alice@example.org,1,\n../x,Evil,e@example.org,1,\n"
                   "bob,Bob,not-an-address,1,\ncarol,Carol,c@example.org,1,dean\nalice,Again,a@example.org,1,\n",
                   encoding="utf-8")
    proc = dlgrade("roster", "import", bad, *_db(db), cwd=course, check=False)
    assert proc.returncode == 2
    err = proc.stderr
    for row, words in ((3, "is not a valid id"), (4, "is not an e-mail address"), (5, "role 'dean'"),
                       (6, "duplicate id alice (also in row 2)")):
        assert f"bad.csv row {row}: " in err and words in err, err
    assert "nothing was imported" in err
    with _gradebook(course, db) as gb:
        assert people(gb) == [] and gb.students() == []
    unknown = course / "cols.csv"
    unknown.write_text("id,name,phone\nalice,Alice,123\n", encoding="utf-8")
    proc = dlgrade("roster", "import", unknown, cwd=course, check=False)
    assert proc.returncode == 2 and "row 1 (header): unknown column 'phone'" in proc.stderr


def test_roster_import_and_update(course, db):
    roster = course / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    out = dlgrade("roster", "import", roster, *_db(db), cwd=course).stdout
    assert "Imported 3 person(s)" in out and "(1 staff)" in out
    roster.write_text(ROSTER.replace("Alice,alice@", "Alice Liddell,alice@"), encoding="utf-8")
    dlgrade("roster", "import", roster, *_db(db), cwd=course)
    dlgrade("roster", "add-staff", "ta1", "--role", "ta", "--name", "Tess", *_db(db), cwd=course)
    with _gradebook(course, db) as gb:
        found = {p.id: p for p in people(gb)}
        students = {s["id"]: s["name"] for s in gb.students()}
    assert sorted(found) == ["alice", "bob", "prof", "ta1"]
    assert found["alice"].name == "Alice Liddell" and found["prof"].role == "instructor" and found["ta1"].role == "ta"
    assert students == {"alice": "Alice Liddell", "bob": "Bob"}  # learners only get a students row
    listed = dlgrade("roster", "list", "--server", "--json", *_db(db), cwd=course).stdout
    assert [(r["id"], r["role"], r["token"]) for r in json.loads(listed)] == \
        [("alice", "learner", False), ("bob", "learner", False), ("prof", "instructor", False), ("ta1", "ta", False)]


def test_tokens_shown_once_stored_hashed_rotated_and_revoked(course, tmp_path, db):
    (course / "roster.csv").write_text(ROSTER, encoding="utf-8")
    dlgrade("roster", "import", "roster.csv", *_db(db), cwd=course)
    out = tmp_path / "tokens.csv"
    proc = dlgrade("tokens", "--out", out, *_db(db), cwd=course)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,name,email,role,token" and len(lines) == 4
    tokens = {line.split(",")[0]: line.split(",")[-1] for line in lines[1:]}
    assert all(t.startswith("dlg_") and len(t) >= 40 for t in tokens.values())
    assert not any(t in proc.stdout + proc.stderr for t in tokens.values())  # only in the file
    with _gradebook(course, db) as gb:
        with gb.engine.connect() as conn:
            stored = [tuple(map(str, row)) for row in conn.execute(text("SELECT * FROM tokens"))]
        assert not any(t in cell for row in stored for cell in row for t in tokens.values())
        hashes = {row[2] for row in stored}
        assert hashes == {hashlib.sha256(t.encode()).hexdigest() for t in tokens.values()}
        assert lookup(gb, tokens["alice"])[0].id == "alice"
    again = dlgrade("tokens", *_db(db), cwd=course)
    assert "No token issued" in again.stderr and "dlg_" not in again.stdout  # shown once: never again
    refused = dlgrade("tokens", "--out", out, "--rotate", *_db(db), cwd=course, check=False)
    assert refused.returncode == 2 and "exists" in refused.stderr
    rotated = dlgrade("tokens", "--id", "alice", "--rotate", *_db(db), cwd=course).stdout.splitlines()
    assert rotated[0] == "id,name,email,role,token" and len(rotated) == 2
    new = rotated[1].split(",")[-1]
    assert dlgrade("tokens", "--revoke", "bob", *_db(db), cwd=course).stdout.startswith("Revoked 1 token(s) of bob")
    with _gradebook(course, db) as gb:
        assert lookup(gb, tokens["alice"]) == (None, "revoked")
        assert lookup(gb, new)[0].id == "alice"
        assert lookup(gb, tokens["bob"]) == (None, "revoked")
        assert lookup(gb, "dlg_not-a-token") == (None, "unknown")
    missing = dlgrade("tokens", "--id", "nobody", *_db(db), cwd=course, check=False)
    assert missing.returncode == 2 and "no person 'nobody'" in missing.stderr


def test_server_settings_in_course_toml(course):
    toml = course / "course.toml"
    base = toml.read_text(encoding="utf-8")
    toml.write_text(base + '\n[server]\nbase_url = "https://grader.example.org/"\nmax_upload_mb = 5\n'
                    'rate_per_hour = 10\ngrade_on_submit = "hidden"\n', encoding="utf-8")
    settings = load_settings(load_course(course))
    assert (settings.base_url, settings.max_upload_bytes, settings.rate_per_hour, settings.grade_on_submit) == \
        ("https://grader.example.org", 5 * 1024 * 1024, 10, "hidden")
    for bad, words in (('grade_on_submit = "always"', "`grade_on_submit` must be one of"),
                       ("max_files = 0", "`max_files` must be a whole number from 1"),
                       ('base_url = "grader.example.org"', "is not a base URL"),
                       ("colour = 1", "unknown key `colour` in [server]")):
        toml.write_text(base + f"\n[server]\n{bad}\n", encoding="utf-8")
        with pytest.raises(CourseError, match=r"course\.toml: .*" + words.replace("[", r"\[").replace("]", r"\]")
                           .replace("(", r"\(")):
            load_settings(load_course(course))


def test_a_non_loopback_bind_is_refused(course):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.org")
    assert check_bind("127.0.0.1", False, "") is None
    assert check_bind("0.0.0.0", True, "https://grader.example.org") is None
    proc = dlgrade("serve", "--host", "0.0.0.0", "--port", free_port(), cwd=course, check=False)
    assert proc.returncode == 2 and "0.0.0.0 is not a loopback address" in proc.stderr and "--public" in proc.stderr
    proc = dlgrade("serve", "--host", "0.0.0.0", "--public", "--port", free_port(), cwd=course, check=False)
    assert proc.returncode == 2 and "needs the address learners use" in proc.stderr


def test_the_servers_log_holds_no_token_and_no_file_content(course, tmp_path):
    (course / "roster.csv").write_text(ROSTER, encoding="utf-8")
    dlgrade("roster", "import", "roster.csv", cwd=course)
    tokens = {line.split(",")[0]: line.split(",")[-1]
              for line in dlgrade("tokens", cwd=course).stdout.splitlines()[1:]}
    dlgrade("tokens", "--revoke", "bob", cwd=course)
    port, log = free_port(), tmp_path / "serve.log"
    # the incoming leftover of a crashed upload is removed at start-up
    leftover = course / "server" / "uploads" / ".incoming-crashed"
    leftover.mkdir(parents=True)
    (leftover / "perceptron.py").write_bytes(b"half")
    with log.open("wb") as fh:
        server = subprocess.Popen(["dlgrade", "serve", "--port", str(port)], cwd=course, stdout=fh, stderr=fh,
                                  start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        end = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/api/v1/whoami", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < end, log.read_text(errors="replace")
                time.sleep(0.2)
        secret = b"SECRET_CONTENT_7f3a = 42\n"
        body, headers = multipart([(b"perceptron.py", STEP + secret)])
        for token in (tokens["alice"], tokens["bob"], tokens["prof"], "dlg_wrong_" + tokens["alice"][10:]):
            h = {"authorization": f"Bearer {token}"}
            httpx.get(base + "/api/v1/whoami", headers=h)
            httpx.post(base + "/api/v1/exercises/perceptron/submissions", content=body, headers={**h, **headers})
            httpx.get(base + "/api/v1/submissions", headers=h)
        bad, bad_headers = multipart([(b"../evil.py", secret)])
        r = httpx.post(base + "/api/v1/exercises/perceptron/submissions", content=bad,
                       headers={"authorization": f"Bearer {tokens['alice']}", **bad_headers})
        assert r.status_code == 422
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)
    written = log.read_text(errors="replace")
    assert "submission 1: alice for perceptron" in written and "refused a revoked token" in written
    assert not any(t in written for t in tokens.values()) and "dlg_" not in written
    assert "SECRET_CONTENT" not in written and "Bearer" not in written
    assert not leftover.exists()
