"""Alembic environment for heard's schema.

heard runs migrations from code (`Database.migrate`), passing an open connection in
``config.attributes["connection"]``. Developers can also run Alembic against a URL::

    python -c "from heard.storage.database import alembic_config; from alembic import command; \
        command.revision(alembic_config(url='sqlite:///dev.db'), 'message', autogenerate=True)"
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from heard.storage.models import Base

config = context.config
target_metadata = Base.metadata
VERSION_TABLE = config.get_main_option("version_table") or "heard_schema_version"


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection or sqlalchemy.url given to heard's migrations")
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        _configure(conn)


if context.is_offline_mode():
    run_offline()
else:
    run_online()
