"""The database schema: one table per stored noun (SQLAlchemy 2, typed ``Mapped``).

Turns keep the displayable (redacted) text in ``text`` and, in ``keep`` redaction mode,
the original in ``original`` (shown to admins only). Children of a conversation are
deleted with it by ``ON DELETE CASCADE`` (SQLite gets ``foreign_keys=ON``), not by ORM
relationships, so bulk replacement stays a few statements. An analysis is stored whole as JSON
so it can be rebuilt exactly, and its findings, risk and scores are also spread into
indexed columns and tables so conversations can be filtered by them.

Every change here needs a migration in ``migrations/versions`` (a test compares them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from heard.storage.types import UTCDateTime

ID = 255  # longest id or name stored (conversation ids, agent ids, team, playbook names)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


def _fk(column: str) -> ForeignKey:
    return ForeignKey(column, ondelete="CASCADE")


class ConversationRow(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    channel: Mapped[str] = mapped_column(String(ID))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: the unredacted meta in 'keep' mode (admins only); None when nothing was masked
    meta_original: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON)
    team: Mapped[str | None] = mapped_column(String(ID), index=True)
    source: Mapped[str | None] = mapped_column(Text)
    redaction: Mapped[str] = mapped_column(String(16))
    turn_count: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    imported_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class TurnRow(Base):
    __tablename__ = "turns"
    __table_args__ = (Index("ix_turns_agent_id_conversation_id", "agent_id", "conversation_id"),)

    conversation_id: Mapped[str] = mapped_column(_fk("conversations.id"), primary_key=True)
    i: Mapped[int] = mapped_column(Integer, primary_key=True)
    speaker: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    original: Mapped[str | None] = mapped_column(Text)
    ts: Mapped[datetime | None]
    agent_id: Mapped[str | None] = mapped_column(String(ID))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON)


class AnalysisRow(Base):
    __tablename__ = "analyses"

    conversation_id: Mapped[str] = mapped_column(_fk("conversations.id"), primary_key=True)
    #: Analysis.model_dump(mode="json") without the conversation (rebuilt from turns)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: privacy findings (P.*), kept apart from catalog findings
    redactions: Mapped[list[Any]] = mapped_column(JSON)
    risk_one_star: Mapped[float | None] = mapped_column(Float, index=True)
    risk_level: Mapped[str | None] = mapped_column(String(16), index=True)
    tiers: Mapped[list[Any]] = mapped_column(JSON)
    analyzed_at: Mapped[datetime]


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (
        Index("ix_findings_catalog_id_conversation_id", "catalog_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(_fk("conversations.id"), index=True)
    turn: Mapped[int] = mapped_column(Integer)
    catalog_id: Mapped[str] = mapped_column(String(64))
    span_start: Mapped[int] = mapped_column(Integer)
    span_end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    detector: Mapped[str] = mapped_column(String(ID))
    explanation: Mapped[str] = mapped_column(Text)


class ScoreRow(Base):
    """One scorecard's overall score, for filtering by playbook and score range."""

    __tablename__ = "scores"
    __table_args__ = (Index("ix_scores_playbook_score", "playbook", "score"),)

    conversation_id: Mapped[str] = mapped_column(_fk("conversations.id"), primary_key=True)
    playbook: Mapped[str] = mapped_column(String(ID), primary_key=True)
    score: Mapped[float | None] = mapped_column(Float)


class CommitmentRow(Base):
    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(_fk("conversations.id"), index=True)
    turn: Mapped[int | None] = mapped_column(Integer)
    what: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(ID))
    due: Mapped[datetime | None] = mapped_column(index=True)
    #: the words the due time was read from ("by 5pm EST")
    due_text: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    #: 'open' or 'done'; 'overdue' is derived (open and due in the past) when read
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: 'extracted' (found by the pipeline; replaced on re-analysis) or 'manual'
    source: Mapped[str] = mapped_column(String(16))
    finding: Mapped[str | None] = mapped_column(String(64))
    explanation: Mapped[str] = mapped_column(Text)
    #: the later turn that closed the loop, when the conversation itself shows it
    closed_turn: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(ID))


class PlaybookRow(Base):
    __tablename__ = "playbooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(ID), unique=True)
    team: Mapped[str | None] = mapped_column(String(ID), index=True)
    yaml: Mapped[str] = mapped_column(Text)
    valid: Mapped[bool]
    problems: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(ID))


class UserRow(Base):
    """A person or tool with an API key. Only a salted hash of the key is stored."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(ID), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(ID), index=True)
    agent_id: Mapped[str | None] = mapped_column(String(ID), index=True)
    key_prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_salt: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class SettingRow(Base):
    """A setting an admin changed at run time (overrides the environment's value)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime]
