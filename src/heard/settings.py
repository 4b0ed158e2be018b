"""The one settings object of heard's service (database, privacy, limits, server).

Values come from the environment with the ``HEARD_`` prefix (``HEARD_DATABASE_URL``,
``HEARD_REDACTION`` ...) or from keyword arguments; nothing else is read. Reading the
settings has no side effects: the data directory is only created when a database in it
is opened, so tests and ``--help`` never touch the user's real data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: How personal data in imported conversations is stored (see docs/service.md, Privacy).
RedactionMode = Literal["redact", "keep"]

DEFAULT_PORT = 8765


def default_data_dir() -> Path:
    """Where heard keeps its database by default (platform user data dir)."""
    return platformdirs.user_data_path("heard", appauthor=False)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def default_database_url() -> str:
    return sqlite_url(default_data_dir() / "heard.db")


class Settings(BaseSettings):
    """Every knob of the service, with the environment variable that sets it."""

    model_config = SettingsConfigDict(env_prefix="HEARD_", extra="ignore", validate_default=True)

    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL: sqlite:///path.db (default: heard.db in the user data dir) "
        "or postgresql+psycopg://user:password@host/db.",
    )
    redaction: RedactionMode = Field(
        default="redact",
        description="'redact': personal data is masked on import and only the masked text is "
        "stored. 'keep': originals are stored too, visible to admins only.",
    )
    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024,
        gt=0,
        description="Largest request body the API accepts (413 above it).",
    )
    import_batch_size: int = Field(
        default=200,
        gt=0,
        description="Conversations written per database transaction when importing.",
    )
    host: str = Field(default="127.0.0.1", description="Address `heard serve` binds.")
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="Port `heard serve` binds.")
    fast: bool = Field(
        default=False,
        description="Run the lexical tier only, even when the semantic model is installed.",
    )
    playbooks: list[str] = Field(
        default_factory=list,
        description="Built-in playbooks scored on import (empty: all built-in ones). Valid "
        "playbooks stored in the database are always scored too.",
    )
    llm_url: str | None = Field(
        default=None,
        description="Optional local LLM endpoint the coach may use to phrase replies "
        "(nothing is sent anywhere when unset).",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory for heard's local files (demo database, temporary uploads).",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("database_url is empty")
        if "://" not in value:  # a plain path means a SQLite file
            return sqlite_url(Path(value).expanduser().resolve())
        return value

    def safe_database_url(self) -> str:
        """The database URL with any password masked, for display."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)


__all__ = ["DEFAULT_PORT", "RedactionMode", "Settings", "default_data_dir", "sqlite_url"]
