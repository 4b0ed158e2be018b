"""Commitments: promises found in agent turns, kept as follow-ups until closed.

The pipeline (`heard.commitments`) finds them; the service stores them, derives
'overdue' (open with a due time in the past) when reading, and lets people close them,
add their own and delete them. Access follows the conversation a commitment belongs to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from heard.errors import InputError, NotFound
from heard.service.access import visible
from heard.service.auth import Principal, Role
from heard.service.base import ServiceBase, now
from heard.service.records import CommitmentQuery, Page, StoredCommitment
from heard.storage.models import CommitmentRow, ConversationRow
from heard.storage.types import as_utc

_UNSET: object = object()


def commitment_record(row: CommitmentRow, at: datetime | None = None) -> StoredCommitment:
    status = row.status
    if status == "open" and row.due is not None and row.due < (at or now()):
        status = "overdue"
    return StoredCommitment(
        id=row.id,
        conversation_id=row.conversation_id,
        turn=row.turn,
        what=row.what,
        owner=row.owner,
        due=row.due,
        due_text=row.due_text,
        kind=row.kind,
        status="overdue" if status == "overdue" else ("done" if status == "done" else "open"),
        source="manual" if row.source == "manual" else "extracted",
        finding=row.finding,
        explanation=row.explanation,
        closed_turn=row.closed_turn,
        created_at=row.created_at,
        closed_at=row.closed_at,
        created_by=row.created_by,
    )


class CommitmentsMixin(ServiceBase):
    def list_commitments(
        self, actor: Principal, query: CommitmentQuery | None = None
    ) -> Page[StoredCommitment]:
        q = query or CommitmentQuery()
        at = now()
        overdue = and_(
            CommitmentRow.status == "open", CommitmentRow.due.is_not(None), CommitmentRow.due < at
        )
        where: list[ColumnElement[bool]] = [visible(actor)]
        if q.status == "overdue" or q.overdue is True:
            where.append(overdue)
        elif q.status == "open":
            where.append(
                and_(
                    CommitmentRow.status == "open",
                    or_(CommitmentRow.due.is_(None), CommitmentRow.due >= at),
                )
            )
        elif q.status == "done":
            where.append(CommitmentRow.status == "done")
        if q.overdue is False:
            where.append(~overdue)
        if q.conversation_id:
            where.append(CommitmentRow.conversation_id == q.conversation_id)
        if q.owner:
            where.append(CommitmentRow.owner == q.owner)
        joined = select(CommitmentRow).join(
            ConversationRow, ConversationRow.id == CommitmentRow.conversation_id
        )
        with self.db.session() as session:
            total = session.scalar(
                select(func.count())
                .select_from(CommitmentRow)
                .join(ConversationRow, ConversationRow.id == CommitmentRow.conversation_id)
                .where(*where)
            )
            rows = session.scalars(
                joined.where(*where)
                .order_by(CommitmentRow.due.asc().nulls_last(), CommitmentRow.id)
                .limit(q.limit)
                .offset(q.offset)
            ).all()
            items = [commitment_record(r, at) for r in rows]
        return Page[StoredCommitment](items=items, total=total or 0, limit=q.limit, offset=q.offset)

    def _commitment_row(self, session: Session, actor: Principal, id: int) -> CommitmentRow:
        row = session.scalars(
            select(CommitmentRow)
            .join(ConversationRow, ConversationRow.id == CommitmentRow.conversation_id)
            .where(CommitmentRow.id == id, visible(actor))
        ).first()
        if row is None:
            raise NotFound(f"no commitment {id}", hint="GET /commitments lists yours")
        return row

    def get_commitment(self, actor: Principal, id: int) -> StoredCommitment:
        with self.db.session() as session:
            return commitment_record(self._commitment_row(session, actor, id))

    def add_commitment(
        self,
        actor: Principal,
        conversation_id: str,
        *,
        what: str,
        owner: str = "agent",
        due: datetime | None = None,
        turn: int | None = None,
    ) -> StoredCommitment:
        """Record a promise by hand (one the pipeline missed, or made off the record)."""
        if not what.strip():
            raise InputError("a commitment needs a 'what'")
        with self.db.session(write=True) as session:
            conv = self._conversation_row(session, actor, conversation_id)
            if turn is not None and not 0 <= turn < conv.turn_count:
                raise InputError(
                    f"turn {turn} is not in conversation '{conversation_id}' "
                    f"(it has {conv.turn_count} turns)"
                )
            row = CommitmentRow(
                conversation_id=conv.id,
                turn=turn,
                what=what.strip(),
                owner=owner,
                due=as_utc(due) if due is not None else None,
                kind="commit",
                status="open",
                source="manual",
                finding=None,
                explanation="",
                closed_turn=None,
                created_at=now(),
                closed_at=None,
                created_by=actor.name,
            )
            session.add(row)
            session.flush()
            return commitment_record(row)

    def update_commitment(
        self,
        actor: Principal,
        id: int,
        *,
        status: Literal["open", "done"] | None = None,
        what: str | None = None,
        owner: str | None = None,
        due: datetime | object | None = _UNSET,
    ) -> StoredCommitment:
        """Close (status done) or reopen a commitment, or change what, owner or due."""
        with self.db.session(write=True) as session:
            row = self._commitment_row(session, actor, id)
            if status is not None and status != row.status:
                row.status = status
                row.closed_at = now() if status == "done" else None
            if what is not None:
                if not what.strip():
                    raise InputError("a commitment needs a 'what'")
                row.what = what.strip()
            if owner is not None:
                row.owner = owner
            if due is not _UNSET:
                row.due = as_utc(due) if isinstance(due, datetime) else None
            session.flush()
            return commitment_record(row)

    def delete_commitment(self, actor: Principal, id: int) -> None:
        actor.require(Role.lead)
        with self.db.session(write=True) as session:
            session.delete(self._commitment_row(session, actor, id))
