"""What the server-core tests share: a course made with init_course, people and tokens, its
[server] settings, `create_app` served by a real uvicorn on a free loopback port in a thread, and
multipart bodies built by hand (so a test can send what no well-behaved client would)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

from grader.clock import now_utc
from grader.course.config import init_course
from grader.gradebook.store import Gradebook
from grader.server.identity import Person, issue_tokens, revoke_tokens, save_people
from grader.server.settings import ServerSettings, uploads_root

PEOPLE = [Person("alice", "Alice", "alice@example.org", "1"), Person("bob", "Bob", "bob@example.org", "1"),
          Person("eve", "Eve", "eve@example.org", "2"), Person("ta1", "Tess", "ta@example.org", "", "ta"),
          Person("prof", "Prof", "prof@example.org", "", "instructor")]
STEP = b"def step(z):\n    return 1 if z >= 0 else 0\n"
SETTINGS = ServerSettings(max_upload_mb=0.5, max_files=3, rate_per_hour=6, upload_idle_s=1.5)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_course(root: Path, db_url: str | None = None):
    """A course in root/course (its gradebook `db_url`, else its SQLite file) whose deadlines put
    perceptron in the future, backprop 2 days past (late, accepted with a penalty) and
    conv-arithmetic 10 days past (beyond the policy's 7 days: refused)."""
    course = init_course(root / "course")
    if db_url:
        course.gradebook_url = db_url
    now = now_utc()
    course.deadlines["perceptron"] = now + timedelta(days=7)
    course.deadlines["backprop"] = now - timedelta(days=2)
    course.deadlines["conv-arithmetic"] = now - timedelta(days=10)
    return course


def multipart(files: list[tuple[bytes | None, bytes]], boundary: bytes = b"dlgTestBoundary7", field: bytes = b"file",
              close: bool = True) -> tuple[bytes, dict]:
    """A multipart/form-data body of (raw file name, content) parts, and its Content-Type header."""
    body = b""
    for name, data in files:
        disposition = b'form-data; name="' + field + b'"' + (b'; filename="' + name + b'"' if name is not None else b"")
        body += b"--" + boundary + b"\r\nContent-Disposition: " + disposition + \
            b"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
    if close:
        body += b"--" + boundary + b"--\r\n"
    return body, {"content-type": "multipart/form-data; boundary=" + boundary.decode()}


@dataclass
class Served:
    """A running server: its base URL, app, course, gradebook and everyone's token."""

    base: str
    app: object
    course: object
    gradebook: Gradebook
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, who: str | None = None, token: str | None = None) -> httpx.Client:
        """An httpx client with `who`'s token (or `token`, or none)."""
        token = token if token is not None else self.tokens.get(who or "")
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=60)

    def submit(self, who: str, exercise: str = "perceptron", files=None, **kw) -> httpx.Response:
        """Upload `files` ([(name, bytes)]; default: one perceptron.py) as `who`."""
        body, headers = multipart(files if files is not None else [(b"perceptron.py", STEP)])
        with self.client(who) as c:
            return c.post(f"/api/v1/exercises/{exercise}/submissions", content=body, headers=headers, **kw)

    def stored(self) -> tuple[int, list[str]]:
        """(submissions in the gradebook, every path under the uploads folder)."""
        root = uploads_root(self.course)
        return len(self.gradebook.submission_rows()), sorted(str(p.relative_to(root)) for p in root.rglob("*"))


class ThreadServer:
    """uvicorn serving an app on 127.0.0.1 in a thread: `with ThreadServer(app) as base:`."""

    def __init__(self, app):
        import uvicorn

        from grader.server.app import uvicorn_config
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-s-test", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        end = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > end:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def serve(root: Path, db_url: str | None = None, settings: ServerSettings = SETTINGS):
    """A context manager: a course with PEOPLE and their tokens (eve's revoked) served on loopback."""
    from contextlib import contextmanager

    from grader.server.app import create_app

    @contextmanager
    def running():
        course = make_course(root, db_url)
        gradebook = Gradebook(course.gradebook_url)
        try:
            save_people(gradebook, PEOPLE)
            tokens = {p.id: t for p, t in issue_tokens(gradebook)}
            revoke_tokens(gradebook, "eve")
            app = create_app(course, settings=settings, gradebook=gradebook)
            with ThreadServer(app) as base:
                yield Served(base, app, course, gradebook, tokens)
        finally:
            gradebook.close()

    return running()


__all__ = ["PEOPLE", "STEP", "SETTINGS", "free_port", "make_course", "multipart", "Served", "ThreadServer", "serve"]
