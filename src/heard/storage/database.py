"""Opening a database: engine, SQLite pragmas, sessions and migrations.

SQLite (the default) gets WAL journalling, foreign keys and a busy timeout on every new
connection; PostgreSQL is used through ``postgresql+psycopg://``. The schema is created
and upgraded by the Alembic migrations shipped in this package, run from code (there is
no alembic.ini to find).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from heard.errors import ServiceError

#: Alembic keeps the schema revision in this table (named so it cannot clash with an
#: application sharing the database).
VERSION_TABLE = "heard_schema_version"
SCRIPT_LOCATION = "heard.storage:migrations"
#: key for pg_advisory_xact_lock so two processes starting at once migrate one by one
_MIGRATION_LOCK = 0x6865617264
#: key for pg_advisory_xact_lock taken by write sessions (`Database.session(write=True)`)
_WRITE_LOCK = 0x6865617265


class StorageError(ServiceError):
    """The database cannot be opened, reached or migrated."""

    code = "E420"


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(
            f"'{url}' is not a database URL",
            hint="use sqlite:///path/heard.db or postgresql+psycopg://user@host/db",
        ) from None
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise StorageError(
            f"database backend '{parsed.get_backend_name()}' is not supported",
            hint="heard stores data in SQLite or PostgreSQL",
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
    finally:
        cursor.close()


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic Config built in code, pointing at the migrations in this package."""
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.set_main_option("version_table", VERSION_TABLE)
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


class Database:
    """One database: an engine, a session factory and its migrations."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = parse_url(url)
        self.backend = self.url.get_backend_name()
        connect_args: dict[str, Any] = {}
        if self.backend == "sqlite":
            database = self.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            connect_args["check_same_thread"] = False
        self.engine: Engine = create_engine(
            self.url, echo=echo, connect_args=connect_args, pool_pre_ping=self.backend != "sqlite"
        )
        if self.backend == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def session(self, *, write: bool = False, snapshot: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error.

        ``write=True`` is for a transaction that reads and then writes on what it read
        (an upsert, a count that guards a delete): it takes the database's write lock
        first (SQLite ``BEGIN IMMEDIATE``, waiting up to the busy timeout; on PostgreSQL
        a transaction advisory lock), so two such transactions run one after the other
        and each reads what the other committed, instead of failing with a unique
        violation or 'database is locked', or both passing a check only one may pass.

        ``snapshot=True`` is for a read of several statements that must agree (a
        conversation, its turns and its analysis): they all read one snapshot (SQLite
        ``BEGIN``, which the driver leaves out before a SELECT; PostgreSQL REPEATABLE
        READ), so a delete or an import committed meanwhile is seen whole or not at all.
        """
        with self._sessions.begin() as session:
            if snapshot and not write:
                if self.backend == "sqlite":
                    session.connection().exec_driver_sql("BEGIN")
                else:
                    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            if write:
                if self.backend == "sqlite":
                    session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _WRITE_LOCK})
            yield session

    def migrate(self) -> str:
        """Create or upgrade the schema to the newest revision; returns that revision."""
        try:
            with self.engine.begin() as connection:
                if self.backend == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK}
                    )
                command.upgrade(alembic_config(connection), "head")
        except OperationalError as exc:
            raise StorageError(
                f"cannot open database {self!r}: {exc.orig}",
                hint="check HEARD_DATABASE_URL / --db, and that the server is running",
            ) from None
        return self.revision() or ""

    def revision(self) -> str | None:
        """The schema revision the database is at (None before the first migration)."""
        with self.engine.connect() as connection:
            ctx = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return ctx.get_current_revision()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
