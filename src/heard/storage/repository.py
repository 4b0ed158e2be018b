"""Turning domain objects into rows and back (no access rules here: see heard.service).

A conversation is written as one row plus its turns; its analysis as one JSON row plus
the findings and scores spread out for filtering; commitments found by the pipeline as
rows that re-analysis replaces while keeping what people changed (status done).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from heard.model import Analysis, Commitment, Conversation, Speaker, Turn
from heard.privacy import Redaction
from heard.storage.models import (
    AnalysisRow,
    CommitmentRow,
    ConversationRow,
    FindingRow,
    ScoreRow,
    TurnRow,
)
from heard.storage.types import as_utc

_TURN_FIELDS = frozenset({"speaker", "text", "ts", "agent_id"})
_CONVERSATION_FIELDS = frozenset({"id", "channel", "meta", "turns"})


def _jsonable(value: Any) -> Any:
    """Extra fields as plain JSON values (datetimes as ISO text)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def started_at(conversation: Conversation) -> datetime | None:
    stamps = [as_utc(t.ts) for t in conversation.turns if t.ts is not None]
    return min(stamps) if stamps else None


def save_conversation(
    session: Session,
    conversation: Conversation,
    *,
    originals: Sequence[str | None] | None,
    meta_original: dict[str, Any] | None,
    team: str | None,
    source: str | None,
    redaction: str,
    now: datetime,
) -> bool:
    """Insert or replace a conversation and its turns; True if one was replaced.

    Replacing deletes the old turns, analysis, findings and scores in the same
    transaction (commitments are handled by `save_commitments`, which keeps statuses).
    """
    row = session.get(ConversationRow, conversation.id)
    replaced = row is not None
    extra = _jsonable(dict(conversation.model_extra or {}))
    if row is None:
        row = ConversationRow(id=conversation.id, imported_at=now)
        session.add(row)
    else:
        for table in (TurnRow, FindingRow, ScoreRow, AnalysisRow):
            session.execute(delete(table).where(table.conversation_id == conversation.id))
    row.channel = conversation.channel
    row.meta = _jsonable(conversation.meta)
    row.meta_original = _jsonable(meta_original) if meta_original is not None else None
    row.extra = extra
    row.team = team
    row.source = source
    row.redaction = redaction
    row.turn_count = len(conversation.turns)
    row.started_at = started_at(conversation)
    row.updated_at = now
    session.flush()
    if conversation.turns:
        session.execute(
            insert(TurnRow),
            [
                {
                    "conversation_id": conversation.id,
                    "i": i,
                    "speaker": t.speaker.value,
                    "text": t.text,
                    "original": originals[i] if originals else None,
                    "ts": t.ts,
                    "agent_id": t.agent_id,
                    "extra": _jsonable(dict(t.model_extra or {})),
                }
                for i, t in enumerate(conversation.turns)
            ],
        )
    return replaced


def save_analysis(
    session: Session,
    analysis: Analysis,
    redactions: Sequence[Redaction] | None,
    *,
    now: datetime,
) -> None:
    """Store (or replace) the analysis of a stored conversation.

    ``redactions`` None keeps the redactions already stored (re-analysis).
    """
    cid = analysis.id
    for table in (FindingRow, ScoreRow):
        session.execute(delete(table).where(table.conversation_id == cid))
    row = session.get(AnalysisRow, cid)
    if row is None:
        row = AnalysisRow(conversation_id=cid, redactions=[])
        session.add(row)
    if redactions is not None:
        row.redactions = [r.model_dump(mode="json") for r in redactions]
    risk = analysis.risk
    row.data = analysis.model_dump(mode="json", exclude={"conversation"})
    row.risk_one_star = risk.one_star if risk else None
    row.risk_level = risk.level if risk else None
    row.tiers = list(analysis.tiers)
    row.analyzed_at = now
    findings = [
        {
            "conversation_id": cid,
            "turn": f.turn,
            "catalog_id": f.id,
            "span_start": f.span[0],
            "span_end": f.span[1],
            "text": f.text,
            "confidence": f.confidence,
            "detector": f.detector,
            "explanation": f.explanation,
        }
        for f in analysis.findings
    ]
    if findings:
        session.execute(insert(FindingRow), findings)
    scores = [
        {"conversation_id": cid, "playbook": key, "score": sc.score}
        for key, sc in analysis.scorecards.items()
    ]
    if scores:
        session.execute(insert(ScoreRow), scores)


def save_commitments(
    session: Session, conversation_id: str, commitments: Sequence[Commitment], *, now: datetime
) -> None:
    """Store the pipeline's commitments of a conversation.

    A commitment found again (same turn and words) keeps its row: its id, and its status
    if someone marked it done. Ones no longer found are deleted; manual ones are kept.
    """
    old = session.scalars(
        select(CommitmentRow)
        .where(
            CommitmentRow.conversation_id == conversation_id, CommitmentRow.source == "extracted"
        )
        .order_by(CommitmentRow.id)
    ).all()
    kept: dict[tuple[int | None, str], CommitmentRow] = {}
    for before in old:
        kept.setdefault((before.turn, before.what), before)
    used: set[int] = set()
    for c in commitments:
        row: CommitmentRow | None = kept.get((c.turn, c.what))
        if row is not None and row.id in used:
            row = None
        if row is None:
            row = CommitmentRow(
                conversation_id=conversation_id,
                turn=c.turn,
                what=c.what,
                status="open",
                source="extracted",
                created_at=now,
                closed_at=None,
                created_by=None,
            )
            session.add(row)
        else:
            used.add(row.id)
        row.owner = c.owner
        row.due = c.due
        row.due_text = c.due_text
        row.kind = c.kind
        row.finding = c.finding
        row.explanation = c.explanation
        row.closed_turn = c.closed_turn
        if c.status == "done" and row.status != "done":  # the conversation itself closed it
            row.status = "done"
            row.closed_at = now
    for before in old:
        if before.id not in used:
            session.delete(before)
    session.flush()


def load_turns(session: Session, conversation_id: str) -> list[TurnRow]:
    return list(
        session.scalars(
            select(TurnRow).where(TurnRow.conversation_id == conversation_id).order_by(TurnRow.i)
        )
    )


def conversation_from(
    row: ConversationRow, turns: Sequence[TurnRow], *, originals: bool = False
) -> Conversation:
    """The Conversation stored in `row` (redacted text, or originals where kept)."""
    meta = row.meta_original if originals and row.meta_original is not None else row.meta
    return Conversation.model_validate(
        {
            **{k: v for k, v in row.extra.items() if k not in _CONVERSATION_FIELDS},
            "id": row.id,
            "channel": row.channel,
            "meta": meta,
            "turns": [
                Turn.model_validate(
                    {
                        **{k: v for k, v in t.extra.items() if k not in _TURN_FIELDS},
                        "speaker": Speaker(t.speaker),
                        "text": t.original if originals and t.original is not None else t.text,
                        "ts": t.ts,
                        "agent_id": t.agent_id,
                    }
                )
                for t in turns
            ],
        }
    )


def analysis_from(row: AnalysisRow, conversation: Conversation) -> Analysis:
    """Rebuild the stored Analysis (`conversation` must be the redacted one it read)."""
    return Analysis.model_validate({**row.data, "conversation": conversation})


def redactions_from(row: AnalysisRow | None) -> list[Redaction]:
    if row is None:
        return []
    return [Redaction.model_validate(r) for r in row.redactions]
