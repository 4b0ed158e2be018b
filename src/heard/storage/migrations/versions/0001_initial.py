"""Initial schema: conversations, turns, analyses, findings, scores, commitments,
playbooks, users and settings.

Revision ID: 0001
Revises:
Create Date: 2026-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

ID = 255


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _conversation_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["conversation_id"],
        ["conversations.id"],
        name=op.f(f"fk_{table}_conversation_id_conversations"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("channel", sa.String(ID), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("meta_original", sa.JSON(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("team", sa.String(ID), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("redaction", sa.String(16), nullable=False),
        sa.Column("turn_count", sa.Integer(), nullable=False),
        _ts("started_at", nullable=True),
        _ts("imported_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index(op.f("ix_conversations_imported_at"), "conversations", ["imported_at"])
    op.create_index(op.f("ix_conversations_started_at"), "conversations", ["started_at"])
    op.create_index(op.f("ix_conversations_team"), "conversations", ["team"])

    op.create_table(
        "turns",
        sa.Column("conversation_id", sa.String(ID), nullable=False),
        sa.Column("i", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("original", sa.Text(), nullable=True),
        _ts("ts", nullable=True),
        sa.Column("agent_id", sa.String(ID), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        _conversation_fk("turns"),
        sa.PrimaryKeyConstraint("conversation_id", "i", name=op.f("pk_turns")),
    )
    op.create_index("ix_turns_agent_id_conversation_id", "turns", ["agent_id", "conversation_id"])

    op.create_table(
        "analyses",
        sa.Column("conversation_id", sa.String(ID), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("redactions", sa.JSON(), nullable=False),
        sa.Column("risk_one_star", sa.Float(), nullable=True),
        sa.Column("risk_level", sa.String(16), nullable=True),
        sa.Column("tiers", sa.JSON(), nullable=False),
        _ts("analyzed_at"),
        _conversation_fk("analyses"),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_analyses")),
    )
    op.create_index(op.f("ix_analyses_risk_level"), "analyses", ["risk_level"])
    op.create_index(op.f("ix_analyses_risk_one_star"), "analyses", ["risk_one_star"])

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(ID), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("catalog_id", sa.String(64), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=False),
        sa.Column("span_end", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("detector", sa.String(ID), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        _conversation_fk("findings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    op.create_index(
        "ix_findings_catalog_id_conversation_id", "findings", ["catalog_id", "conversation_id"]
    )
    op.create_index(op.f("ix_findings_conversation_id"), "findings", ["conversation_id"])

    op.create_table(
        "scores",
        sa.Column("conversation_id", sa.String(ID), nullable=False),
        sa.Column("playbook", sa.String(ID), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        _conversation_fk("scores"),
        sa.PrimaryKeyConstraint("conversation_id", "playbook", name=op.f("pk_scores")),
    )
    op.create_index("ix_scores_playbook_score", "scores", ["playbook", "score"])

    op.create_table(
        "commitments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(ID), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=True),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(ID), nullable=False),
        _ts("due", nullable=True),
        sa.Column("due_text", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("finding", sa.String(64), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("closed_turn", sa.Integer(), nullable=True),
        _ts("created_at"),
        _ts("closed_at", nullable=True),
        sa.Column("created_by", sa.String(ID), nullable=True),
        _conversation_fk("commitments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitments")),
    )
    op.create_index(op.f("ix_commitments_conversation_id"), "commitments", ["conversation_id"])
    op.create_index(op.f("ix_commitments_due"), "commitments", ["due"])
    op.create_index(op.f("ix_commitments_status"), "commitments", ["status"])

    op.create_table(
        "playbooks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(ID), nullable=False),
        sa.Column("team", sa.String(ID), nullable=True),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.Column("created_by", sa.String(ID), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbooks")),
        sa.UniqueConstraint("name", name=op.f("uq_playbooks_name")),
    )
    op.create_index(op.f("ix_playbooks_team"), "playbooks", ["team"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(ID), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("team", sa.String(ID), nullable=True),
        sa.Column("agent_id", sa.String(ID), nullable=True),
        sa.Column("key_prefix", sa.String(32), nullable=False),
        sa.Column("key_salt", sa.String(64), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("key_prefix", name=op.f("uq_users_key_prefix")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_index(op.f("ix_users_agent_id"), "users", ["agent_id"])
    op.create_index(op.f("ix_users_team"), "users", ["team"])

    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )


def downgrade() -> None:
    for table in (
        "settings",
        "users",
        "playbooks",
        "commitments",
        "scores",
        "findings",
        "analyses",
        "turns",
        "conversations",
    ):
        op.drop_table(table)
