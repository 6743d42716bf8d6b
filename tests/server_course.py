"""A course served over HTTP, for the server tests and bench/server.py: a course made with `dlgrade
init`, a server roster (learners and staff), their tokens, `[server]` settings in course.toml, and
`dlgrade serve` as a subprocess on a free loopback port (so a test can stop it, or kill -9 it)."""

from __future__ import annotations

import csv
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def dlgrade(*args, cwd, env=None, check=True, timeout=600) -> subprocess.CompletedProcess:
    """Run `dlgrade ARGS` in `cwd` (with `env` added to this environment)."""
    proc = subprocess.run(["dlgrade", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env=dict(os.environ, **(env or {})))
    if check:
        assert proc.returncode == 0, f"dlgrade {' '.join(map(str, args))}: {proc.stdout}\n{proc.stderr}"
    return proc


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_course(root: Path, learners: list[str], staff: tuple[tuple[str, str], ...] = (),
                server: dict | None = None, late_policy: str | None = None,
                deadlines: dict[str, str] | None = None, gradebook: str | None = None) -> tuple[Path, dict[str, str]]:
    """`dlgrade init` a course in root/course, import the people (learners, then (id, role) staff),
    issue their tokens, and write `server` as its [server] table; `late_policy`, `deadlines`
    ({exercise: TOML date-time}) and `gradebook` (a URL, e.g. PostgreSQL's) change course.toml.
    Returns (course folder, {id: token})."""
    dlgrade("init", "course", cwd=root)
    course = root / "course"
    toml = (course / "course.toml").read_text(encoding="utf-8")
    if gradebook:
        toml = toml.replace('url = "gradebook.sqlite"', f"url = {_toml(gradebook)}", 1)
    if late_policy:
        toml = re.sub(r'(?m)^policy = "\w+"', f'policy = "{late_policy}"', toml)
    for ex, when in (deadlines or {}).items():
        toml = re.sub(rf"(?m)(\[exercises\.{re.escape(ex)}\]\ndeadline = )\S+", rf"\g<1>{when}", toml)
    if server:
        toml += "\n[server]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in server.items())
    (course / "course.toml").write_text(toml, encoding="utf-8")
    roster = root / "roster.csv"
    with roster.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "name", "email", "section", "role"])
        for who in learners:
            writer.writerow([who, f"Learner {who}", f"{who}@example.org", "1", "learner"])
        for who, role in staff:
            writer.writerow([who, f"Staff {who}", f"{who}@example.org", "", role])
    dlgrade("roster", "import", roster, cwd=course)
    out = root / "tokens.csv"
    dlgrade("tokens", "--out", out, cwd=course)
    with out.open(encoding="utf-8") as fh:
        tokens = {row["id"]: row["token"] for row in csv.DictReader(fh)}
    return course, tokens


def _toml(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)


class Server:
    """`dlgrade serve` on a free loopback port, as a subprocess in its own session (its grading
    workers with it); its output goes to `log`."""

    def __init__(self, course: Path, log: Path, port: int | None = None, env: dict | None = None):
        self.course, self.log, self.env = course, log, env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "Server":
        """Start the server and wait until it answers."""
        with self.log.open("a", encoding="utf-8") as log:
            self.proc = subprocess.Popen(["dlgrade", "serve", "--port", str(self.port)], cwd=self.course,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                         env=dict(os.environ, **(self.env or {})))
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dlgrade serve exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                httpx.get(self.url + "/api/v1/whoami", timeout=2.0)
                return self
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dlgrade serve did not answer in {timeout} s:\n{self.log.read_text()[-3000:]}")
                time.sleep(0.2)

    def kill9(self) -> None:
        """SIGKILL the server process (and then what is left of its session: its grading workers)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._kill_session()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and whatever it started."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._kill_session()

    def _kill_session(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the session this test started, nothing else
            except (ProcessLookupError, PermissionError):
                pass

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- simulated learners ------------------------------------------------------------------------------

@dataclass
class Upload:
    """One learner's upload: who (their token), what (exercise, {name: bytes}), and what came back:
    the HTTP status (None when no answer came), the receipt, the error, the seconds it took."""

    learner: str
    token: str
    exercise: str
    files: dict[str, bytes]
    status: int | None = None
    receipt: dict | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def acknowledged(self) -> bool:
        """Whether the server answered with a receipt (201 new, 200 the same content again)."""
        return self.status in (200, 201) and self.receipt is not None


async def upload_all(url: str, uploads: list[Upload], on_answer=None, timeout: float = 120.0) -> list[Upload]:
    """Send every upload at once (one connection each, as separate learners would), fill in what
    came back; `on_answer(upload)` is called as each one ends."""
    import asyncio

    limits = httpx.Limits(max_connections=len(uploads) + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url + "/api/v1", timeout=timeout, limits=limits) as client:
        async def one(u: Upload) -> None:
            t0 = time.perf_counter()
            try:
                r = await client.post(f"/exercises/{u.exercise}/submissions",
                                      headers={"Authorization": f"Bearer {u.token}"},
                                      files=[("file", (name, data, "text/x-python")) for name, data in u.files.items()])
                u.status = r.status_code
                body = r.json()
                if r.status_code in (200, 201):
                    u.receipt = body
                else:
                    u.error = str(body.get("error"))
            except (httpx.HTTPError, ValueError) as err:
                u.error = f"{type(err).__name__}: {err}"
            u.seconds = time.perf_counter() - t0
            if on_answer is not None:
                on_answer(u)
        await asyncio.gather(*(one(u) for u in uploads))
    return uploads


def small_source(learner: str, version: int = 1) -> dict[str, bytes]:
    """A small perceptron.py of its own (distinct content per learner and version)."""
    return {"perceptron.py": (f"# {learner}, version {version}\nimport numpy as np\n\n\n"
                              "def step(z):\n    return (np.asarray(z) >= 0).astype(int)\n").encode()}
