"""The learner's CLI against a real course server on loopback (`dlgrade serve` in a subprocess):
login (the token file 0600), submit with --wait and the public tests' results, status, feedback
after release, and a clear one-line error for every refusal (not logged in, a wrong or revoked
token, over the rate, after the deadline under "reject", the server unreachable: nothing lost
locally). Grading on submit in "hidden" mode (held until release) and a grader fault (failed,
never a grade, graded again) are checked on grader/server/grading.py directly."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
import types
from pathlib import Path

import httpx
import pytest

from grader.exercise.cohort import submission_source
from grader.exercise.spec import find_exercise
from pg import fresh_database
from pg import postgres_url  # noqa: F401
from server_course import Server, dlgrade, free_port, make_course
from test_layout import PROBE

LEARNERS = ["ali", "sara", "reza", "mina", "omid"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A course with grade_on_submit = "public", a rate of 4 uploads per learner and exercise an
    hour, late work rejected and backprop's deadline past; served on loopback."""
    root = tmp_path_factory.mktemp("served")
    course, tokens = make_course(root, LEARNERS, staff=(("prof", "instructor"),),
                                 server={"grade_on_submit": "public", "rate_per_hour": 4},
                                 late_policy="reject", deadlines={"backprop": "2020-01-01T00:00:00Z"})
    server = Server(course, root / "serve.log").start()
    yield types.SimpleNamespace(root=root, course=course, tokens=tokens, server=server, url=server.url)
    server.stop()


def learner(served, who: str) -> types.SimpleNamespace:
    """A learner's home folder and config folder (their own XDG_CONFIG_HOME)."""
    home = served.root / "home" / who
    (home / "config").mkdir(parents=True, exist_ok=True)
    return types.SimpleNamespace(home=home, env={"XDG_CONFIG_HOME": str(home / "config")}, id=who,
                                 login_file=home / "config" / "dlgrade" / "login.json")


def run(person, *args, check=False, timeout=300):
    """`dlgrade ARGS` as the learner (their home, their config folder)."""
    return dlgrade(*args, cwd=person.home, env=person.env, check=check, timeout=timeout)


def heavy_modules(person, *args) -> tuple[int, list[str]]:
    """(exit code, heavy modules loaded) of `dlgrade ARGS` run as the learner in a fresh interpreter."""
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True,
                          cwd=person.home, timeout=300, env=dict(os.environ, **person.env))
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["code"], report["heavy"]


def login(served, who: str):
    person = learner(served, who)
    proc = run(person, "login", served.url, "--token", served.tokens[who])
    assert proc.returncode == 0, proc.stderr
    return person


def write_work(person, exercise_id: str, kind: str, extra: str = "") -> Path:
    ex = find_exercise(exercise_id)
    folder = person.home / exercise_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ex.entry
    path.write_text(submission_source(ex, kind) + extra, encoding="utf-8")
    return path


def one_error_line(proc) -> str:
    """The command failed with exactly one `Error:` line on stderr, which is returned."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    return lines[0]


def staff_call(served, method: str, path: str) -> httpx.Response:
    return httpx.request(method, served.url + "/api/v1" + path, timeout=60,
                         headers={"Authorization": f"Bearer {served.tokens['prof']}"})


# -- login -------------------------------------------------------------------------------------------

def test_login_keeps_the_token_in_a_private_file_and_logout_removes_it(served):
    person = learner(served, "omid")
    proc = run(person, "login", served.url, "--token", served.tokens["omid"])
    assert proc.returncode == 0, proc.stderr
    assert "as omid" in proc.stdout and served.tokens["omid"] not in proc.stdout + proc.stderr
    data = json.loads(person.login_file.read_text())
    assert data == {"url": served.url, "token": served.tokens["omid"], "id": "omid"}
    assert stat.S_IMODE(person.login_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(person.login_file.parent.stat().st_mode) == 0o700
    whoami = json.loads(run(person, "status", "--json", check=True).stdout)
    assert whoami == []  # talks to the server: omid has no submission yet
    proc = run(person, "logout", check=True)
    assert not person.login_file.exists() and "Logged out" in proc.stdout
    proc = dlgrade("login", served.url, cwd=person.home, env={**person.env, "DLGRADE_TOKEN": served.tokens["omid"]})
    assert json.loads(person.login_file.read_text())["id"] == "omid"  # the token from the environment
    run(person, "logout", check=True)


def test_a_wrong_token_is_refused_and_nothing_is_saved(served):
    person = learner(served, "mina")
    line = one_error_line(run(person, "login", served.url, "--token", "dlg_" + "x" * 43))
    assert "token" in line and "not logged in" in line
    assert not person.login_file.exists()


def test_plain_http_to_another_machine_is_refused_before_anything_is_sent(served):
    person = learner(served, "mina")
    line = one_error_line(run(person, "login", "http://grader.example.org", "--token", served.tokens["mina"]))
    assert "https" in line and not person.login_file.exists()


def test_not_logged_in_and_no_course_folder_says_how_to_log_in(served):
    person = learner(served, "sara")
    for args in (("submit", "perceptron"), ("status",), ("feedback", "perceptron")):
        line = one_error_line(run(person, *args))
        assert "not logged in" in line and "dlgrade login URL --token TOKEN" in line


# -- submit, --wait, status, feedback ---------------------------------------------------------------

def test_submit_wait_shows_the_public_results_and_status_lists_the_receipt(served):
    person = login(served, "ali")
    write_work(person, "perceptron", "partial")
    proc = run(person, "submit", "perceptron", "--wait", timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"Submitted perceptron to {served.url} as ali: submission" in out and "on time" in out
    assert "Public tests: 7 / 12 points" in out and "PASS" in out and "NotImplementedError" in out
    rows = json.loads(run(person, "status", "--json", check=True).stdout)
    assert len(rows) == 1
    receipt = rows[0]
    assert receipt["student"] == "ali" and receipt["exercise"] == "perceptron" and receipt["files"] == ["perceptron.py"]
    assert receipt["grading"]["state"] == "graded"
    assert receipt["grading"]["public"]["score"] == 7 and receipt["grading"]["public"]["max_score"] == 12
    assert "score" not in receipt["grading"]  # nothing is released yet
    table = dlgrade("status", cwd=person.home, env={**person.env, "COLUMNS": "80"}).stdout
    assert "perceptron" in table and "public 7/12" in table and max(map(len, table.splitlines())) <= 80

    # the same content again: the same receipt, no new submission
    again = run(person, "submit", "perceptron", check=True).stdout
    assert f"submission {receipt['submission_id']}," in again and "already had this exact content" in again
    assert len(json.loads(run(person, "status", "--json", check=True).stdout)) == 1


def test_feedback_only_after_release_then_rendered_and_saved(served):
    person = login(served, "sara")
    write_work(person, "perceptron", "correct")
    run(person, "submit", "perceptron", check=True)
    line = one_error_line(run(person, "feedback", "perceptron"))
    assert "no feedback released for perceptron yet" in line

    dlgrade("autograde", "--workers", "1", "--exercise", "perceptron", cwd=served.course)
    released = staff_call(served, "POST", "/staff/exercises/perceptron/release")
    assert released.status_code == 200, released.text

    proc = run(person, "feedback", "perceptron", "--lang", "en", check=True)
    page = person.home / "feedback" / "perceptron.html"
    assert f"The page with plots: {Path('feedback') / 'perceptron.html'}" in proc.stdout
    assert page.is_file() and stat.S_IMODE(page.stat().st_mode) == 0o600
    html = page.read_text(encoding="utf-8")
    assert "<html" in html and "perceptron" in html
    assert "perceptron" in proc.stdout
    raw = run(person, "feedback", "perceptron", "--raw", "--lang", "en", check=True).stdout
    assert raw.lstrip().startswith("#")  # the Markdown as it is
    rows = json.loads(run(person, "status", "--json", check=True).stdout)
    assert rows[-1]["grading"]["score"] == rows[-1]["grading"]["max_score"] > 0  # released: the grade shows
    for args in (("feedback", "perceptron"), ("status",), ("status", "--json"), ("submit", "perceptron")):
        assert heavy_modules(person, *args) == (0, []), args  # a learner command stays light over HTTP too


# -- refusals ---------------------------------------------------------------------------------------

def test_a_revoked_token_gets_one_line_saying_so(served):
    person = login(served, "mina")
    assert run(person, "status").returncode == 0
    dlgrade("tokens", "--revoke", "mina", cwd=served.course)
    write_work(person, "perceptron", "partial")
    for args in (("status",), ("submit", "perceptron"), ("feedback", "perceptron")):
        line = one_error_line(run(person, *args))
        assert "revoked" in line and "instructor" in line


def test_over_the_rate_the_learner_is_told_how_long_to_wait(served):
    person = login(served, "reza")
    for n in range(4):
        write_work(person, "conv-arithmetic", "partial", extra=f"\n# version {n}\n")
        run(person, "submit", "conv-arithmetic", check=True)
    write_work(person, "conv-arithmetic", "partial", extra="\n# version 5\n")
    line = one_error_line(run(person, "submit", "conv-arithmetic"))
    assert "over the limit" in line and "try again in" in line
    assert len(json.loads(run(person, "status", "--json", "--exercise", "conv-arithmetic", check=True).stdout)) == 4


def test_after_the_deadline_under_reject_nothing_is_stored(served):
    person = login(served, "reza")
    write_work(person, "backprop", "correct")
    line = one_error_line(run(person, "submit", "backprop"))
    assert "deadline" in line and "backprop" in line
    assert json.loads(run(person, "status", "--json", "--exercise", "backprop", check=True).stdout) == []


def test_submitting_as_someone_else_is_refused_before_anything_is_sent(served):
    person = login(served, "reza")
    write_work(person, "perceptron", "partial")
    line = one_error_line(run(person, "submit", "perceptron", "--student", "ali"))
    assert "as yourself (reza)" in line


def test_server_unreachable_nothing_sent_and_the_files_unchanged(served, tmp_path):
    person = login(served, "omid")
    data = json.loads(person.login_file.read_text())
    data["url"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    person.login_file.write_text(json.dumps(data))
    work = write_work(person, "perceptron", "partial")
    before = {p: p.read_bytes() for p in work.parent.iterdir()}
    line = one_error_line(run(person, "submit", "perceptron"))
    assert "cannot reach the server" in line and "nothing was sent; your files are unchanged" in line
    assert {p: p.read_bytes() for p in work.parent.iterdir()} == before
    line = one_error_line(run(person, "status"))
    assert "cannot reach the server" in line
    run(person, "logout", check=True)


# -- grading on submit, directly ---------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def hidden_app(request, tmp_path):
    """grade_on_submit = "hidden" on a course made by `dlgrade init` (its gradebook on SQLite or on
    PostgreSQL): an app's state as the server has it."""
    from grader.course.config import load_course
    from grader.gradebook.store import Gradebook
    dlgrade("init", "course", cwd=tmp_path)
    course = load_course(tmp_path / "course")
    url = course.gradebook_url
    if request.param == "postgresql":
        url = fresh_database(request.getfixturevalue("postgres_url"), "hidden")
    gradebook = Gradebook.open(url)
    app = types.SimpleNamespace(state=types.SimpleNamespace(
        course=course, gradebook=gradebook, settings=types.SimpleNamespace(grade_on_submit="hidden")))
    yield app
    from grader.server.grading import stop_grading
    stop_grading(app)
    gradebook.close()


def _stored_submission(app, student: str, kind: str) -> int:
    course, gradebook = app.state.course, app.state.gradebook
    ex = course.exercise("perceptron")
    folder = Path(course.root) / "server" / "uploads" / student
    folder.mkdir(parents=True)
    data = submission_source(ex, kind).encode()
    (folder / ex.entry).write_bytes(data)
    gradebook.add_student(student)
    gradebook.upsert_exercise(ex.id, ex.id, ex.content_hash())
    return gradebook.add_submission(student, ex.id, hashlib.sha256(data).hexdigest(), "2026-12-01T00:00:00Z",
                                    str(folder))


def _wait_idle(app, timeout: float = 240.0) -> None:
    grader = app.state.on_submit_grader
    deadline = time.monotonic() + timeout
    while not grader.idle():
        assert time.monotonic() < deadline, "grading on submit did not finish"
        time.sleep(0.1)


def test_hidden_grading_on_submit_is_a_grade_held_until_release_and_a_fault_is_never_one(hidden_app):
    from grader.server.grading import grading_view, resume_grading, start_grading
    app = hidden_app
    seed_file = Path(app.state.course.solutions_dir) / ".heldout-seed"
    seed = seed_file.read_text()
    seed_file.write_text("not a seed\n")  # the grader's own setup is broken: no grading can run
    ali = _stored_submission(app, "ali", "partial")
    start_grading(app, ali)
    assert grading_view(app, ali, released=True)["state"] in ("queued", "running")
    _wait_idle(app)
    view = grading_view(app, ali, released=True)
    assert view["state"] == "failed" and "score" not in view and "not of your work" in view["problem"]
    (row,) = app.state.gradebook.grade_rows()
    assert row.score is None and row.fault == "grader_fault"  # failed: never a 0

    seed_file.write_text(seed)  # fixed: a restart runs the failed grading again, and the one never started
    reza = _stored_submission(app, "reza", "correct")
    assert resume_grading(app) == 2
    _wait_idle(app)
    assert grading_view(app, reza, released=True)["score"] == 22
    held = grading_view(app, ali, released=False)
    assert held["state"] == "graded" and "score" not in held and held["public"] is None
    shown = grading_view(app, ali, released=True)
    assert 0 < shown["score"] < shown["max_score"]
    rows = {r.student: r for r in app.state.gradebook.grade_rows()}
    assert rows["ali"].score == shown["score"]  # the grade autograde would show (autograde finds it cached)

    start_grading(app, ali)  # graded already: nothing runs again
    _wait_idle(app)
    assert sorted(g["attempts"] for g in app.state.gradebook.gradings()) == [1, 2]
    assert resume_grading(app) == 0


def test_grading_workers_that_cannot_start_leave_a_failed_grading_not_a_lost_one(tmp_path, monkeypatch):
    import sys

    from grader.batch import local as batch_local
    from grader.course.config import load_course
    from grader.gradebook.store import Gradebook
    from grader.server.grading import grading_view, start_grading, stop_grading
    dlgrade("init", "course", cwd=tmp_path)
    course = load_course(tmp_path / "course")
    app = types.SimpleNamespace(state=types.SimpleNamespace(
        course=course, gradebook=Gradebook.open(course.gradebook_url),
        settings=types.SimpleNamespace(grade_on_submit="public")))
    try:
        sub = _stored_submission(app, "ali", "partial")
        monkeypatch.setattr(batch_local._Worker, "command", (sys.executable, "-c", "raise SystemExit(3)"))
        start_grading(app, sub)
        _wait_idle(app)
        view = grading_view(app, sub, released=False)
        assert view["state"] == "failed" and view["public"] is None and "not of your work" in view["problem"]
        monkeypatch.undo()  # the workers start again: the same upload once more runs it
        start_grading(app, sub)
        _wait_idle(app)
        view = grading_view(app, sub, released=False)
        assert view["state"] == "graded" and view["public"]["score"] == 7 and view["public"]["max_score"] == 12
    finally:
        stop_grading(app)
        app.state.gradebook.close()


@pytest.mark.parametrize("mode", ["none", "hidden"])
def test_submit_wait_under_each_mode_says_what_the_learner_can_expect(tmp_path, mode):
    course, tokens = make_course(tmp_path, ["ali"], staff=(("prof", "instructor"),),
                                 server={"grade_on_submit": mode})
    with Server(course, tmp_path / "serve.log") as server:
        served = types.SimpleNamespace(root=tmp_path, url=server.url, tokens=tokens)
        person = login(served, "ali")
        write_work(person, "perceptron", "partial")
        out = run(person, "submit", "perceptron", "--wait", check=True, timeout=300).stdout
        assert "Submitted perceptron" in out
        if mode == "none":
            assert "nothing to wait for" in out
            (row,) = json.loads(run(person, "status", "--json", check=True).stdout)
            assert row["grading"]["state"] == "queued" and row["grading"]["on_submit"] == "none"
            return
        assert "Graded. Your score is shown once your instructor releases the results" in out
        (row,) = json.loads(run(person, "status", "--json", check=True).stdout)
        assert row["grading"]["state"] == "graded" and "score" not in row["grading"]
        released = httpx.post(server.url + "/api/v1/staff/exercises/perceptron/release", timeout=60,
                              headers={"Authorization": f"Bearer {tokens['prof']}"})
        assert released.status_code == 200, released.text
        (row,) = json.loads(run(person, "status", "--json", check=True).stdout)
        assert 0 < row["grading"]["score"] < row["grading"]["max_score"] == 22
        assert "15/22" in run(person, "status", check=True).stdout


def test_a_notebook_goes_to_the_server_without_its_outputs(served):
    import nbformat
    person = login(served, "omid")
    run(person, "start", "perceptron", "--notebook", check=True)
    path = person.home / "perceptron" / "perceptron.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="secret output\n")]
    code.execution_count = 3
    nbformat.write(nb, path)
    out = run(person, "submit", "perceptron", path, "--wait", check=True, timeout=300).stdout
    assert "files: perceptron.ipynb" in out and "Public tests: 0 / 12 points" in out
    (row,) = [r for r in json.loads(run(person, "status", "--json", check=True).stdout)
              if r["files"] == ["perceptron.ipynb"]]
    stored = next(Path(served.course, "server", "uploads").glob(f"*/{row['sha256']}/perceptron.ipynb"))
    kept = nbformat.read(stored, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in kept.cells if c.cell_type == "code")
    run(person, "logout", check=True)


# -- the client against servers that misbehave --------------------------------------------------------

@pytest.fixture
def odd_server():
    """A loopback HTTP server whose answer the test chooses: (status, headers, body) per request;
    yields (url, seen) where `seen` collects each request's (method, path, Authorization)."""
    import http.server
    import threading
    answer, seen = {}, []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _reply(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            seen.append((self.command, self.path, self.headers.get("Authorization")))
            status, headers, body = answer["value"]
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        do_GET = do_POST = _reply

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield url, answer, seen
    httpd.shutdown()
    httpd.server_close()


def test_the_client_never_follows_a_redirect_with_the_token(odd_server):
    from grader.server.client import ServerClient, ServerError, Upload
    url, answer, seen = odd_server
    answer["value"] = (307, {"Location": "http://elsewhere.example.org/api/v1/whoami"}, b"")
    with ServerClient(url, "dlg_secret") as client, pytest.raises(ServerError) as err:
        client.submit("perceptron", [Upload("perceptron.py", b"x = 1\n")])
    assert "elsewhere.example.org" in str(err.value) and "your files are unchanged" in str(err.value)
    assert len(seen) == 1  # asked once, never at the address it was sent to


def test_the_client_turns_odd_answers_into_one_line(odd_server):
    from grader.server.client import ServerClient, ServerError
    url, answer, _ = odd_server
    cases = [
        ((502, {"Content-Type": "text/html"}, b"<html>Bad Gateway</html>"), "failed (HTTP 502); try again later"),
        ((429, {"Retry-After": "300"}, b"{}"), "try again in 5 min"),
        ((401, {"Content-Type": "application/json"}, b'{"error": "unknown token\\u001b[31m: log in again"}'),
         "unknown token?[31m: log in again"),
        ((200, {"Content-Type": "text/html"}, b"<html>a portal page</html>"), "not JSON"),
        ((200, {"Content-Type": "application/json"}, b'{"unexpected": true}'), "update dlgrade"),
    ]
    for value, expected in cases:
        answer["value"] = value
        with ServerClient(url, "dlg_secret") as client, pytest.raises(ServerError) as err:
            client.whoami()
        message = str(err.value)
        assert expected in message and "\n" not in message and "\x1b" not in message, message


def test_a_server_that_never_answers_an_upload_is_a_timeout_that_says_what_to_check():
    import socket

    import httpx as _httpx

    from grader.server.client import ServerClient, ServerError, Upload
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)  # accepts connections, never reads or answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        t0 = time.monotonic()
        with ServerClient(url, "dlg_secret", timeout=_httpx.Timeout(1.0)) as client, pytest.raises(ServerError) as err:
            client.submit("perceptron", [Upload("perceptron.py", b"x = 1\n")])
    assert time.monotonic() - t0 < 10
    assert "did not answer in time" in str(err.value) and "dlgrade status" in str(err.value)
    assert err.value.status == 0
