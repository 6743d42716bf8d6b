"""A real PostgreSQL server for the tests, started on loopback and thrown away afterwards.

`postgres_url` (session scope) runs initdb into a fresh temporary folder, starts the server on a
free 127.0.0.1 port (its Unix socket in that folder too), creates the database `dlgrade`, yields
`postgresql+psycopg://postgres@127.0.0.1:PORT/dlgrade`, and at the end stops the server and deletes
the folder. The server refuses to run as root, so as root it runs as the `postgres` user.
No PostgreSQL installed is a test failure, never a skip: `apt-get install postgresql`.
`fresh_database(url, name)` makes another empty database on the same server (one per test).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

PG_USER = "postgres"


def find_pg_bin() -> Path | None:
    """The folder of initdb/pg_ctl: $DLGRADE_PG_BIN, Debian's newest /usr/lib/postgresql/N/bin, or PATH."""
    candidates = []
    if os.environ.get("DLGRADE_PG_BIN"):
        candidates.append(Path(os.environ["DLGRADE_PG_BIN"]))
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    candidates += versions
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", PG_USER, "--", *cmd]


def _run(cmd: list[str], cwd: Path, timeout: float = 60) -> None:
    proc = subprocess.run(_as_server_user(cmd), cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "LC_ALL": "C", "LANG": "C"})
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])} failed ({proc.returncode}): {(proc.stderr or proc.stdout)[-2000:]}")


def fresh_database(url: str, name: str) -> str:
    """Create the empty database `name` on the server of `url` and return its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    with psycopg.connect(host=parsed.host, port=parsed.port, user=parsed.username, dbname="postgres",
                         autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url():
    """The URL of a throwaway PostgreSQL database on a server this fixture starts and removes."""
    pg_bin = find_pg_bin()
    if pg_bin is None:
        pytest.fail("PostgreSQL is not installed (no initdb/pg_ctl): apt-get install postgresql "
                    "(or set DLGRADE_PG_BIN to the folder of initdb and pg_ctl)", pytrace=False)
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            pytest.fail(f"no `{PG_USER}` user to run the server as (it refuses root): "
                        f"apt-get install postgresql creates it", pytrace=False)
    t0 = time.monotonic()
    # /tmp: the server user must reach the folder, and the socket path must stay short
    root = Path(tempfile.mkdtemp(prefix="dlgrade-pg-", dir="/tmp" if os.path.isdir("/tmp") else None))
    data, log = root / "data", root / "server.log"
    started = False
    try:
        if os.geteuid() == 0:
            user = pwd.getpwnam(PG_USER)
            os.chown(root, user.pw_uid, user.pw_gid)
        _run([str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
              "--locale=C", "--no-sync", "--no-instructions"], cwd=root)
        for attempt in range(3):  # another process may take the free port before the server does
            port = _free_port()
            opts = (f"-k {root} -p {port} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off "
                    f"-c full_page_writes=off -c max_connections=50")
            try:
                _run([str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "30", "-o", opts, "start"],
                     cwd=root)
                started = True
                break
            except RuntimeError:
                if attempt == 2:
                    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                    raise RuntimeError(f"PostgreSQL did not start: {tail}") from None
        base = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        url = fresh_database(base, "dlgrade")
        os.environ.setdefault("DLGRADE_TEST_PG_STARTUP_S", f"{time.monotonic() - t0:.2f}")
        yield url
    finally:
        if started:
            try:
                _run([str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "30", "stop"], cwd=root)
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(root, ignore_errors=True)
