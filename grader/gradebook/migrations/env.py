"""Alembic environment of the gradebook.

`Gradebook.upgrade()` runs it with the connection to migrate in `config.attributes["connection"]`.
A new revision (after changing grader/gradebook/models.py), against a gradebook at head:
    python -c "from alembic import command; from grader.gradebook.store import alembic_config; \
               command.revision(alembic_config('sqlite:///dev.sqlite'), autogenerate=True, message='what')"
Review what it wrote in versions/ (SQLite alters tables in batch mode), then test it on SQLite and
PostgreSQL (tests/test_gradebook.py checks that the migrated schema equals the models).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from grader.gradebook.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the gradebook's database: -x url=sqlite:///path/to/gradebook.sqlite")
    return url


def _render_item(kind: str, obj, autogen_context):
    """Migrations use plain SQLAlchemy types, never the models' own (they must not import them)."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kw) -> None:
    context.configure(target_metadata=target_metadata, compare_type=True, render_item=_render_item,
                      render_as_batch=True,  # SQLite alters tables by copying them
                      **kw)


def run_offline() -> None:
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url())
    try:
        with engine.begin() as connection:
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
