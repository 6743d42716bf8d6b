"""Connecting to a gradebook's database: a SQLAlchemy URL or a SQLite file path, the engine, refusing
what is not a gradebook before touching it, and migrating it to the newest schema (Alembic)."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CONNECT_TIMEOUT_S = 5  # PostgreSQL: how long an unreachable server may keep `open` waiting
SQLITE_BUSY_MS = 30_000
SQLITE_MAGIC = b"SQLite format 3\x00"


class GradebookError(Exception):
    """A problem the user can act on; the message is one line that says what to do."""


def first_line(err: BaseException) -> str:
    """The first line of a database error (the driver's own message when there is one)."""
    orig = getattr(err, "orig", None) or err
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def _fail(where: str, why: str) -> GradebookError:
    return GradebookError(f"{where} is not a dlgrade gradebook / cannot be reached: {why}; "
                          f"restore it from a backup or point --db at another file")


def _is_sqlite_file(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def parse_url(url: str | os.PathLike) -> tuple[URL, str]:
    """(the SQLAlchemy URL, where it is for messages: a file's path or the URL without its
    password) of a URL or a plain file path (a SQLite file)."""
    text = os.fspath(url)
    if "://" not in text:
        path = Path(text).expanduser().resolve()
        return make_url(f"sqlite:///{path}"), str(path)
    try:
        parsed = make_url(text)
    except ArgumentError as err:
        raise GradebookError(f"{text} is not a database URL or a file path ({err}); "
                             f"point --db at a file or a URL such as postgresql+psycopg://host/db") from None
    if _is_sqlite_file(parsed):
        return parsed, str(Path(parsed.database).expanduser().resolve())
    return parsed, parsed.render_as_string(hide_password=True)


def make_engine(url: URL, where: str) -> Engine:
    """The engine of a gradebook: SQLite waits for a busy file and enforces foreign keys;
    PostgreSQL checks pooled connections and gives up on an unreachable server quickly."""
    backend = url.get_backend_name()
    args: dict[str, Any] = {}
    if backend == "sqlite":
        args["connect_args"] = {"timeout": SQLITE_BUSY_MS / 1000}
    elif backend == "postgresql":
        args["pool_pre_ping"] = True
        if "connect_timeout" not in url.query:
            args["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    try:
        engine = create_engine(url, **args)
    except (ArgumentError, ImportError, SQLAlchemyError) as err:
        raise _fail(where, f"{type(err).__name__}: {first_line(err)}") from None
    if backend == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.close()
    return engine


def check_sqlite_file(url: URL, where: str) -> None:
    """Refuse a file that is not SQLite before SQLite touches it (so nothing is written)."""
    if not _is_sqlite_file(url):
        return
    path = Path(where)
    if path.is_dir():
        raise _fail(where, "it is a directory")
    if path.is_file() and path.stat().st_size:
        with path.open("rb") as fh:
            if fh.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
                raise _fail(where, "the file is not a SQLite database")
    elif not path.parent.is_dir():
        raise _fail(where, f"the folder {path.parent} does not exist")


def alembic_config(url: str | None = None):
    """An Alembic Config for the gradebook's migrations (no alembic.ini needed)."""
    from alembic.config import Config  # Alembic is loaded only to open or migrate a gradebook
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*=\s*(None|[\"'][^\"']*[\"'])\s*$", re.MULTILINE)


@functools.cache
def head_revision() -> str:
    """The newest migration's revision, read from the migration files' `revision` and
    `down_revision` lines (the one no other migration builds on) without loading Alembic."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((k, v.strip("\"'")) for k, v in _REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        revisions.add(found["revision"])
        if found.get("down_revision", "None") != "None":
            parents.add(found["down_revision"])
    (head,) = revisions - parents  # one line of migrations: one head
    return head


def upgrade(engine: Engine, url: URL, where: str) -> None:
    """Migrate the database to the newest schema (Alembic `upgrade head`); idempotent. A database
    that holds other tables is refused untouched. A database already at the newest revision is
    left as it is without loading Alembic (most commands open an up-to-date gradebook)."""
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            if tables and "alembic_version" not in tables:
                raise _fail(where, f"it holds other tables ({', '.join(sorted(tables)[:5])})")
            if tables and conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() \
                    == [head_revision()]:
                return
    except SQLAlchemyError as err:
        raise _fail(where, first_line(err)) from None
    from alembic import command
    from alembic.util.exc import CommandError

    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        if _is_sqlite_file(url):
            with engine.connect() as conn:  # WAL is a property of the file: set once it is ours
                conn.exec_driver_sql("PRAGMA journal_mode = WAL")
    except CommandError as err:
        raise GradebookError(f"{where} was migrated by a newer dlgrade ({err}); "
                             f"upgrade dlgrade or point --db at another file") from None
    except SQLAlchemyError as err:
        raise _fail(where, first_line(err)) from None


def revision(engine: Engine) -> str | None:
    """The schema revision the database is at."""
    from alembic.migration import MigrationContext
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


__all__ = ["GradebookError", "MIGRATIONS", "parse_url", "make_engine", "check_sqlite_file", "alembic_config",
           "head_revision", "upgrade", "revision", "first_line"]
