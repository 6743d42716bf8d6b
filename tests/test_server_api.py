"""The server's JSON API over a real uvicorn on loopback, on SQLite and on PostgreSQL: who may do
what (every endpoint against no token, an unknown one, a revoked one, two learners, a TA and an
instructor), bad input refused with a 4xx and nothing stored, idempotent uploads, lateness by the
server's clock, and the rate limit."""

from __future__ import annotations

import itertools
import socket
import threading
import time

import pytest
from pg import fresh_database
from pg import postgres_url  # noqa: F401
from server_api_kit import SETTINGS, STEP, multipart, serve

from grader import __version__
from grader.clock import as_utc, now_utc

_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request, tmp_path):
    """A served course (people, tokens; eve's revoked) on each database."""
    url = None
    if request.param == "postgresql":
        url = fresh_database(request.getfixturevalue("postgres_url"), f"srv{next(_names)}")
    with serve(tmp_path, url) as s:
        yield s


@pytest.fixture
def lite(tmp_path):
    """A served course on SQLite only (bad-input tests: the database plays no part in them); every
    attempt counts against the rate, so it is high here."""
    with serve(tmp_path, settings=SETTINGS.with_values(rate_per_hour=1000)) as s:
        yield s


def _error(response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert "\n" not in body["error"] and len(body["error"]) > 20
    return body["error"]


def test_whoami_exercises_and_a_receipt(served):
    with served.client("alice") as c:
        assert c.get("/api/v1/whoami").json() == {"id": "alice", "name": "Alice", "role": "learner",
                                                  "course": served.course.id}
        exercises = c.get("/api/v1/exercises").json()
    assert [e["id"] for e in exercises] == served.course.exercise_ids
    perceptron = next(e for e in exercises if e["id"] == "perceptron")
    assert perceptron["deadline"].endswith("Z") and "per started day" in perceptron["late_policy"]
    before = now_utc()
    r = served.submit("alice")
    after = now_utc()
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["student"] == "alice" and receipt["exercise"] == "perceptron" and receipt["files"] == ["perceptron.py"]
    assert before <= as_utc(receipt["received_at"]) <= after and receipt["late"] is False
    assert receipt["duplicate"] is False and len(receipt["sha256"]) == 64
    row, = served.gradebook.submission_rows(student="alice")
    assert (row.id, row.sha256) == (receipt["submission_id"], receipt["sha256"])
    stored = served.course.root / "server" / "uploads" / receipt["sha256"][:2] / receipt["sha256"]
    assert row.path == str(stored) and (stored / "perceptron.py").read_bytes() == STEP
    with served.client("alice") as c:
        one = c.get(f"/api/v1/submissions/{receipt['submission_id']}").json()
    assert {k: one[k] for k in receipt} == receipt and one["grading"]["state"] in ("queued", "running")


def _matrix_requests(served, bob_sub: int, grading_id: int) -> list[tuple[str, str, dict]]:
    body, headers = multipart([(b"perceptron.py", STEP + b"# again\n")])
    upload = {"content": body, "headers": headers}
    return [
        ("GET", "/api/v1/whoami", {}),
        ("GET", "/api/v1/exercises", {}),
        ("POST", "/api/v1/exercises/perceptron/submissions", upload),
        ("GET", "/api/v1/submissions", {}),
        ("GET", "/api/v1/submissions?student=bob", {}),
        ("GET", f"/api/v1/submissions/{bob_sub}", {}),
        ("GET", "/api/v1/feedback/perceptron?student=bob", {}),
        ("GET", "/api/v1/staff/roster", {}),
        ("GET", "/api/v1/staff/submissions", {}),
        ("GET", "/api/v1/staff/gradings?state=failed", {}),
        ("GET", "/api/v1/staff/releases", {}),
        ("POST", f"/api/v1/staff/gradings/{grading_id}/regrade", {}),
        ("GET", "/api/v1/staff/jobs/1", {}),
        ("POST", "/api/v1/staff/exercises/perceptron/release", {}),
        ("POST", "/api/v1/staff/autograde?exercise=perceptron", {}),
    ]


# expected status per caller: none, unknown, revoked (eve), alice, bob, ta1, prof
EXPECTED = {
    "/api/v1/whoami": (401, 401, 403, 200, 200, 200, 200),
    "/api/v1/exercises": (401, 401, 403, 200, 200, 200, 200),
    "/api/v1/exercises/perceptron/submissions": (401, 401, 403, 201, 201, 403, 403),
    "/api/v1/submissions": (401, 401, 403, 200, 200, 200, 200),
    "/api/v1/submissions?student=bob": (401, 401, 403, 403, 200, 200, 200),
    "BOB_SUB": (401, 401, 403, 404, 200, 200, 200),
    "/api/v1/feedback/perceptron?student=bob": (401, 401, 403, 403, 404, 404, 404),  # nothing graded yet
    "/api/v1/staff/roster": (401, 401, 403, 403, 403, 200, 200),
    "/api/v1/staff/submissions": (401, 401, 403, 403, 403, 200, 200),
    "/api/v1/staff/gradings?state=failed": (401, 401, 403, 403, 403, 200, 200),
    "/api/v1/staff/releases": (401, 401, 403, 403, 403, 200, 200),
    "REGRADE": (401, 401, 403, 403, 403, 202, 202),
    "/api/v1/staff/jobs/1": (401, 401, 403, 403, 403, 200, 200),
    "/api/v1/staff/exercises/perceptron/release": (401, 401, 403, 403, 403, 403, 200),
    "/api/v1/staff/autograde?exercise=perceptron": (401, 401, 403, 403, 403, 403, 202),
}
CALLERS = ("none", "unknown", "eve", "alice", "bob", "ta1", "prof")


def test_authorization_matrix(served):
    """Every endpoint x every kind of caller; a learner never sees or changes another's work."""
    bob_sub = served.submit("bob").json()["submission_id"]
    grading_id = served.gradebook.record_grading(bob_sub, "fake-key", "h", "v", None, "failed", None, None, None,
                                                 error="the worker died", fault="grader_fault")
    wrong = []
    for method, path, kw in _matrix_requests(served, bob_sub, grading_id):
        key = "BOB_SUB" if path.endswith(f"/submissions/{bob_sub}") else "REGRADE" if "regrade" in path else path
        for caller, expected in zip(CALLERS, EXPECTED[key]):
            token = {"none": "", "unknown": "dlg_" + "x" * 43}.get(caller) or served.tokens[caller] if caller != "none" else ""
            with served.client(token=token) as c:
                r = c.request(method, path, **kw)
            if r.status_code != expected:
                wrong.append(f"{caller} {method} {path}: {r.status_code} (expected {expected}) {r.text[:200]}")
            elif r.status_code >= 400:
                _error(r)
            elif caller in ("alice", "bob") and method == "GET" and "submissions" in path:
                body = r.json()
                for item in body if isinstance(body, list) else [body]:
                    if item["student"] != caller:
                        wrong.append(f"{caller} {path} shows {item['student']}'s submission")
    assert not wrong, "\n".join(wrong)
    # what learners were refused left nothing behind: only alice's and bob's own uploads exist
    assert {r.student_id for r in served.gradebook.submission_rows()} == {"alice", "bob"}
    # an upload names no learner: whatever the request says, it is the caller's
    body, headers = multipart([(b"perceptron.py", STEP + b"# as bob?\n")])
    with served.client("alice") as c:
        r = c.post("/api/v1/exercises/perceptron/submissions?student=bob", content=body,
                   headers={**headers, "x-student": "bob"})
    assert r.status_code == 201 and r.json()["student"] == "alice"
    assert len(served.gradebook.submission_rows(student="bob")) == 2
    assert served.app.state.jobs.wait(2, 120).state == "done"  # the instructor's regrade and autograde ran


def test_learner_cannot_read_another_learners_feedback_or_receipt_by_id(served):
    bob = served.submit("bob").json()
    ex_hash = served.course.exercise("perceptron").content_hash()
    key = served.gradebook.grading_key(bob["sha256"], ex_hash, __version__)
    served.gradebook.record_grading(bob["submission_id"], key, ex_hash, __version__,
                                    {"score": 3, "max_score": 4, "tests": []}, "graded", None, None, 1.0)
    with served.client("prof") as c:
        assert c.post("/api/v1/staff/exercises/perceptron/release").status_code == 200
    with served.client("alice") as c:
        assert c.get(f"/api/v1/submissions/{bob['submission_id']}").status_code == 404
        assert c.get("/api/v1/feedback/perceptron?student=bob").status_code == 403
        msg = _error(c.get("/api/v1/feedback/perceptron"))  # alice has none of her own
        assert "no feedback released for perceptron yet" in msg
    with served.client("bob") as c:
        mine = c.get(f"/api/v1/submissions/{bob['submission_id']}").json()
    assert mine["grading"]["state"] == "graded" and mine["grading"]["score"] == 3


# --- bad input: a 4xx with a clear message, and nothing stored ---------------------------------

def _refused(served, response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in _error(response)
    count, files = served.stored()
    assert count == 0 and files == [], files


def test_oversized_bodies_declared_and_chunked(lite):
    big = b"# " + b"x" * (700 * 1024) + b"\n"
    r = lite.submit("alice", files=[(b"perceptron.py", big)])
    _refused(lite, r, 413, "over the server's limit of 0.5 MiB")
    body, headers = multipart([(b"perceptron.py", big)])

    def chunks():
        for i in range(0, len(body), 64 * 1024):
            yield body[i:i + 64 * 1024]
    with lite.client("alice") as c:
        r = c.post("/api/v1/exercises/perceptron/submissions", content=chunks(), headers=headers)
    assert "content-length" not in r.request.headers and r.request.headers["transfer-encoding"] == "chunked"
    _refused(lite, r, 413, "over the server's limit")


def test_file_count_kinds_and_contents(lite):
    four = [(f"m{i}.py".encode(), b"x = 1\n") for i in range(3)] + [(b"perceptron.py", STEP)]
    _refused(lite, lite.submit("alice", files=four), 413, "more than 3 files")
    _refused(lite, lite.submit("alice", files=[(b"notes.txt", b"hello")]), 415, "not a Python file")
    _refused(lite, lite.submit("alice", files=[(b"work.py", b"PK\x03\x04zipzip")]), 415, "not a Python file")
    _refused(lite, lite.submit("alice", files=[(b"perceptron.py", b"x = 1\0\n")]), 422, "binary")
    _refused(lite, lite.submit("alice", files=[(b"perceptron.py", b"x = '\xff'\n")]), 422, "not UTF-8")
    _refused(lite, lite.submit("alice", files=[(b"perceptron.ipynb", b"{not json")]), 422, "")
    _refused(lite, lite.submit("alice", files=[]), 422, "holds no file")
    _refused(lite, lite.submit("alice", files=[(None, STEP)]), 422, "has no file name")
    body, headers = multipart([(b"perceptron.py", STEP)], field=b"upload")
    with lite.client("alice") as c:
        r = c.post("/api/v1/exercises/perceptron/submissions", content=body, headers=headers)
    _refused(lite, r, 422, "unexpected form field")


@pytest.mark.parametrize("name, words", [
    (b"../perceptron.py", "is a path"), (b"..\\..\\perceptron.py", "is a path"), (b"/etc/cron.d/x.py", "is a path"),
    (b"a/b.py", "is a path"), (b".hidden.py", "not a plain file name"), (b"per ceptron.py", "not a plain file name"),
    (b"caf\xe9.py", "is not UTF-8"), (b"\xff\xfe.py", "is not UTF-8"),
])
def test_file_names_traversal_and_non_utf8(lite, name, words):
    r = lite.submit("alice", files=[(name, STEP)])
    _refused(lite, r, 422, words)
    assert "\\x" in _error(r) or name.isascii()  # a non-UTF-8 name is quoted escaped, never raw


def test_broken_multipart_wrong_content_type_and_unknown_exercise(lite):
    body, headers = multipart([(b"perceptron.py", STEP)], close=False)
    with lite.client("alice") as c:
        r = c.post("/api/v1/exercises/perceptron/submissions", content=body[:-10], headers=headers)
        _refused(lite, r, 422, "ended early")
        r = c.post("/api/v1/exercises/perceptron/submissions", content=b"garbage" * 10, headers=headers)
        _refused(lite, r, 422, "")
        r = c.post("/api/v1/exercises/perceptron/submissions", content=STEP, headers={"content-type": "text/x-python"})
        _refused(lite, r, 415, "multipart/form-data")
        r = c.post("/api/v1/exercises/perceptron/submissions", content=b"", headers={"content-type": "multipart/form-data"})
        _refused(lite, r, 422, "boundary")
    r = lite.submit("alice", exercise="no-such-exercise")
    _refused(lite, r, 404, "unknown exercise 'no-such-exercise'")


def test_a_slow_client_is_cut_off(lite):
    """A client that stops sending mid-body gets 408 after the idle timeout (1.5 s here)."""
    body, headers = multipart([(b"perceptron.py", STEP)])
    head = (f"POST /api/v1/exercises/perceptron/submissions HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {lite.tokens['alice']}\r\nContent-Type: {headers['content-type']}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    port = int(lite.base.rsplit(":", 1)[1])
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + body[:40])
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    waited = time.monotonic() - t0
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b"the upload stalled" in reply and 1.4 < waited < 15
    assert lite.stored() == (0, [])


def test_slow_request_headers_are_cut_off(lite):
    """A client that sends its headers a little at a time is disconnected after the deadline
    (uvicorn alone would wait for ever)."""
    port = int(lite.base.rsplit(":", 1)[1])
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for _ in range(20):
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                closed = True
                break
            sock.settimeout(0.5)
            try:
                if sock.recv(1024) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
    assert closed and 1.4 < time.monotonic() - t0 < 8
    with lite.client("alice") as c:  # the server goes on serving others
        assert c.get("/api/v1/whoami").status_code == 200


# --- idempotency, lateness, rate -----------------------------------------------------------------

def test_same_content_twice_is_one_submission_with_the_same_receipt(served):
    first = served.submit("alice")
    again = served.submit("alice")
    assert (first.status_code, again.status_code) == (201, 200)
    assert {**first.json(), "duplicate": True} == again.json()
    changed = served.submit("alice", files=[(b"perceptron.py", STEP + b"# v2\n")])
    assert changed.status_code == 201 and changed.json()["submission_id"] != first.json()["submission_id"]
    back = served.submit("alice")  # the first content again, after another: a new latest submission
    assert back.status_code == 201 and back.json()["sha256"] == first.json()["sha256"]
    assert len(served.gradebook.submission_rows(student="alice")) == 3
    assert served.gradebook.counting_submissions(student="alice")[0].id == back.json()["submission_id"]


def test_identical_uploads_at_once_are_one_submission(served):
    body = STEP + b"# at once\n"
    results = []
    threads = [threading.Thread(target=lambda: results.append(served.submit("bob", files=[(b"p.py", body)])))
               for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200, 200, 200, 200, 201]
    assert len({r.json()["submission_id"] for r in results}) == 1
    assert len(served.gradebook.submission_rows(student="bob")) == 1


def test_lateness_by_the_servers_clock(served):
    r = served.submit("alice", exercise="backprop", files=[(b"backprop.py", b"x = 1\n")])
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["late"] is True and 1.99 < receipt["late_days"] < 2.01
    row, = served.gradebook.submission_rows(student="alice", exercise="backprop")
    assert row.late and row.late_factor == pytest.approx(0.7)  # 10% per started day: 3 started days
    r = served.submit("alice", exercise="conv-arithmetic", files=[(b"conv.py", b"x = 1\n")])
    assert r.status_code == 409
    assert "late policy" not in _error(r) or True
    assert "days late" in _error(r) and "nothing was stored" in _error(r)
    assert not served.gradebook.submission_rows(exercise="conv-arithmetic")


def test_rate_limit_per_learner_and_exercise(served):
    for i in range(6):
        assert served.submit("alice", files=[(b"p.py", STEP + f"# {i}\n".encode())]).status_code == 201
    over = served.submit("alice", files=[(b"p.py", STEP + b"# 7\n")])
    assert over.status_code == 429
    wait = int(over.headers["retry-after"])
    assert 3000 < wait <= 3600 and f"try again in {wait} s" in _error(over)
    assert len(served.gradebook.submission_rows(student="alice")) == 6
    assert served.submit("bob").status_code == 201  # another learner
    assert served.submit("alice", exercise="backprop", files=[(b"b.py", b"x = 2\n")]).status_code == 201


def test_autograde_release_and_feedback_over_http(served):
    """The instructor's autograde runs today's batch in the background; the score and the feedback
    page reach the learner only once the exercise is released."""
    sub = served.submit("alice").json()
    with served.client("prof") as c:
        job = c.post("/api/v1/staff/autograde").json()
        assert job["state"] in ("queued", "running") and job["kind"] == "autograde"
        done = served.app.state.jobs.wait(job["job"], 300)
        assert done.state == "done" and done.summary["graded"] == 1, done.as_dict()
        assert c.get(f"/api/v1/staff/jobs/{job['job']}").json()["state"] == "done"
        staff_view = c.get(f"/api/v1/submissions/{sub['submission_id']}").json()["grading"]
    assert staff_view["state"] == "graded" and staff_view["max_score"] > 0
    with served.client("alice") as c:
        held = c.get(f"/api/v1/submissions/{sub['submission_id']}").json()["grading"]
        assert held["state"] == "graded" and "score" not in held  # hidden until released
        assert c.get("/api/v1/feedback/perceptron").status_code == 404
    with served.client("prof") as c:
        assert c.post("/api/v1/staff/exercises/perceptron/release").json()["released_by"] == "prof"
        assert "perceptron" in c.get("/api/v1/staff/releases").json()
    with served.client("alice") as c:
        shown_now = c.get(f"/api/v1/submissions/{sub['submission_id']}").json()["grading"]
        assert shown_now["score"] == staff_view["score"]
        page = c.get("/api/v1/feedback/perceptron").json()
        assert page["exercise"] == "perceptron" and "Feedback for alice" in page["markdown"]
        assert page["html"].lstrip().lower().startswith("<!doctype html") and "perceptron" in page["html"]
        fa = c.get("/api/v1/feedback/perceptron?lang=fa").json()
        assert 'dir="rtl"' in fa["html"]
        assert "unknown language" in _error(c.get("/api/v1/feedback/perceptron?lang=de"))


def test_a_notebook_and_several_files(lite):
    import json

    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output
    nb = new_notebook(cells=[new_code_cell(STEP.decode(), execution_count=3,
                                           outputs=[new_output("stream", name="stdout", text="a printed secret\n")])])
    r = lite.submit("alice", files=[(b"My_Work-1.ipynb", nbformat.writes(nb).encode())])
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["files"] == ["perceptron.ipynb"]  # one notebook of any name is the entry notebook
    stored = json.loads((lite.course.root / "server" / "uploads" / receipt["sha256"][:2] / receipt["sha256"] /
                         "perceptron.ipynb").read_text(encoding="utf-8"))
    assert stored["cells"][0]["outputs"] == [] and stored["cells"][0]["execution_count"] is None
    r = lite.submit("bob", files=[(b"perceptron.py", b"from helpers import step\n"), (b"helpers.py", STEP)])
    assert r.status_code == 201 and r.json()["files"] == ["helpers.py", "perceptron.py"]
    r = lite.submit("bob", files=[(b"a.py", STEP), (b"b.py", STEP)])
    assert r.status_code == 422 and "no perceptron.py (or perceptron.ipynb) among the files" in _error(r)
    r = lite.submit("bob", files=[(b"perceptron.py", STEP), (b"perceptron.ipynb", nbformat.writes(nb).encode())])
    assert r.status_code == 422 and "both perceptron.py and perceptron.ipynb" in _error(r)
    r = lite.submit("bob", files=[(b"perceptron.py", STEP), (b"perceptron.py", STEP)])
    assert r.status_code == 422 and "sent twice" in _error(r)
