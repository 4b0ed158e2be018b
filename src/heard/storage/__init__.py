"""Storage: the SQLAlchemy schema and its Alembic migrations (SQLite or PostgreSQL).

Only the service layer talks to storage; interfaces (CLI, API, web) go through it.
"""

from heard.storage.database import Database, StorageError, head_revision
from heard.storage.models import (
    AnalysisRow,
    Base,
    CommitmentRow,
    ConversationRow,
    FindingRow,
    PlaybookRow,
    ScoreRow,
    SettingRow,
    TurnRow,
    UserRow,
)

__all__ = [
    "AnalysisRow",
    "Base",
    "CommitmentRow",
    "ConversationRow",
    "Database",
    "FindingRow",
    "PlaybookRow",
    "ScoreRow",
    "SettingRow",
    "StorageError",
    "TurnRow",
    "UserRow",
    "head_revision",
]
