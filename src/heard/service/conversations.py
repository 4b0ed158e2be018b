"""Reading stored conversations: lists with filters, one conversation, its scorecards."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, asc, delete, desc, exists, func, or_, select
from sqlalchemy.orm import Session

from heard.errors import NotFound
from heard.model import Risk, Scorecard, clean_text
from heard.service.access import sees_originals, visible
from heard.service.auth import Principal, Role
from heard.service.base import ServiceBase
from heard.service.commitments import commitment_record
from heard.service.records import (
    ConversationQuery,
    ConversationSummary,
    Page,
    StoredConversation,
)
from heard.storage import repository
from heard.storage.models import (
    AnalysisRow,
    CommitmentRow,
    ConversationRow,
    FindingRow,
    ScoreRow,
    TurnRow,
)
from heard.storage.types import as_utc

PREVIEW_CHARS = 160


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _bound(value: date | datetime, *, end: bool) -> datetime:
    """A filter bound: a date means the whole day (date_to includes it)."""
    if isinstance(value, datetime):
        return as_utc(value)
    day = datetime.combine(value, time.min)
    return as_utc(day + timedelta(days=1) if end else day)


def _filters(actor: Principal, q: ConversationQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [visible(actor)]
    conv = ConversationRow.id
    if q.agent:
        where.append(exists().where(TurnRow.conversation_id == conv, TurnRow.agent_id == q.agent))
    if q.team:
        where.append(ConversationRow.team == q.team)
    if q.date_from is not None:
        where.append(ConversationRow.started_at >= _bound(q.date_from, end=False))
    if q.date_to is not None:
        end = _bound(q.date_to, end=True)
        if isinstance(q.date_to, datetime):
            where.append(ConversationRow.started_at <= end)
        else:
            where.append(ConversationRow.started_at < end)
    if q.risk is not None:
        where.append(AnalysisRow.risk_level == q.risk)
    if q.min_risk is not None:
        where.append(AnalysisRow.risk_one_star >= q.min_risk)
    for finding in q.finding:
        where.append(
            exists().where(FindingRow.conversation_id == conv, FindingRow.catalog_id == finding)
        )
    if q.playbook:
        score_where: list[ColumnElement[bool]] = [
            ScoreRow.conversation_id == conv,
            ScoreRow.playbook == q.playbook,
        ]
        if q.min_score is not None:
            score_where.append(ScoreRow.score >= q.min_score)
        if q.max_score is not None:
            score_where.append(ScoreRow.score <= q.max_score)
        where.append(exists().where(and_(*score_where)))
    if q.q:
        # cleaned as stored text is (a NUL would end SQLite's pattern: match everything)
        pattern = _like(clean_text(q.q).strip())
        in_text: ColumnElement[bool] = TurnRow.text.ilike(pattern, escape="\\")
        if sees_originals(actor):
            in_text = or_(in_text, TurnRow.original.ilike(pattern, escape="\\"))
        where.append(
            or_(
                conv.ilike(pattern, escape="\\"),
                exists().where(TurnRow.conversation_id == conv, in_text),
            )
        )
    return where


def _sorted(stmt: Select[ConversationRow], sort: str) -> Select[ConversationRow]:
    column = {
        "imported_at": ConversationRow.imported_at,
        "started_at": ConversationRow.started_at,
        "risk": AnalysisRow.risk_one_star,
        "id": ConversationRow.id,
    }[sort.lstrip("-")]
    order = desc(column) if sort.startswith("-") else asc(column)
    return stmt.order_by(order.nulls_last(), ConversationRow.id)


class ConversationsMixin(ServiceBase):
    def list_conversations(
        self, actor: Principal, query: ConversationQuery | None = None
    ) -> Page[ConversationSummary]:
        """Conversations `actor` may see that match every filter in `query`."""
        q = query or ConversationQuery()
        where = _filters(actor, q)
        with self.db.session() as session:
            base = select(ConversationRow).outerjoin(
                AnalysisRow, AnalysisRow.conversation_id == ConversationRow.id
            )
            total = session.scalar(
                select(func.count())
                .select_from(ConversationRow)
                .outerjoin(AnalysisRow, AnalysisRow.conversation_id == ConversationRow.id)
                .where(*where)
            )
            rows = list(
                session.scalars(_sorted(base.where(*where), q.sort).limit(q.limit).offset(q.offset))
            )
            items = self._summaries(session, actor, rows)
        return Page[ConversationSummary](
            items=items, total=total or 0, limit=q.limit, offset=q.offset
        )

    def _summaries(
        self, session: Session, actor: Principal, rows: list[ConversationRow]
    ) -> list[ConversationSummary]:
        ids = [r.id for r in rows]
        if not ids:
            return []
        agents: dict[str, set[str]] = defaultdict(set)
        for cid, agent in session.execute(
            select(TurnRow.conversation_id, TurnRow.agent_id).where(
                TurnRow.conversation_id.in_(ids), TurnRow.agent_id.is_not(None)
            )
        ):
            if agent is not None:
                agents[cid].add(agent)
        previews: dict[str, str] = {}
        for cid, text, original in session.execute(
            select(TurnRow.conversation_id, TurnRow.text, TurnRow.original).where(
                TurnRow.conversation_id.in_(ids), TurnRow.i == 0
            )
        ):
            shown = original if original is not None and sees_originals(actor) else text
            previews[cid] = shown[:PREVIEW_CHARS]
        scores: dict[str, dict[str, float | None]] = defaultdict(dict)
        for cid, playbook, score in session.execute(
            select(ScoreRow.conversation_id, ScoreRow.playbook, ScoreRow.score).where(
                ScoreRow.conversation_id.in_(ids)
            )
        ):
            scores[cid][playbook] = None if score is None else round(score, 3)
        findings: dict[str, set[str]] = defaultdict(set)
        for cid, fid in session.execute(
            select(FindingRow.conversation_id, FindingRow.catalog_id)
            .where(FindingRow.conversation_id.in_(ids))
            .distinct()
        ):
            findings[cid].add(fid)
        risks: dict[str, Risk] = {}
        for cid, one_star, level, data in session.execute(
            select(
                AnalysisRow.conversation_id,
                AnalysisRow.risk_one_star,
                AnalysisRow.risk_level,
                AnalysisRow.data,
            ).where(AnalysisRow.conversation_id.in_(ids))
        ):
            if one_star is not None:
                reasons = (data.get("risk") or {}).get("reasons", [])
                risks[cid] = Risk(one_star=one_star, level=level or "low", reasons=reasons)
        open_counts: dict[str, int] = {
            cid: n
            for cid, n in session.execute(
                select(CommitmentRow.conversation_id, func.count())
                .where(CommitmentRow.conversation_id.in_(ids), CommitmentRow.status == "open")
                .group_by(CommitmentRow.conversation_id)
            )
        }
        return [
            ConversationSummary(
                id=r.id,
                channel=r.channel,
                team=r.team,
                started_at=r.started_at,
                imported_at=r.imported_at,
                turn_count=r.turn_count,
                agent_ids=sorted(agents.get(r.id, ())),
                preview=previews.get(r.id, ""),
                risk=risks.get(r.id),
                scores=dict(sorted(scores.get(r.id, {}).items())),
                finding_ids=sorted(findings.get(r.id, ())),
                open_commitments=int(open_counts.get(r.id, 0)),
            )
            for r in rows
        ]

    def get_conversation(self, actor: Principal, id: str) -> StoredConversation:
        """One stored conversation with its analysis; NotFound if `actor` may not see it."""
        with self.db.session(snapshot=True) as session:
            row = self._conversation_row(session, actor, id)
            turns = repository.load_turns(session, id)
            redacted = repository.conversation_from(row, turns)
            originals_ok = sees_originals(actor) and row.redaction == "keep"
            shown = (
                repository.conversation_from(row, turns, originals=True)
                if originals_ok
                else redacted
            )
            arow = session.get(AnalysisRow, id)
            analysis = repository.analysis_from(arow, redacted) if arow is not None else None
            commitments = session.scalars(
                select(CommitmentRow)
                .where(CommitmentRow.conversation_id == id)
                .order_by(CommitmentRow.turn, CommitmentRow.id)
            ).all()
            return StoredConversation(
                conversation=shown,
                team=row.team,
                source=row.source,
                redaction=row.redaction,
                imported_at=row.imported_at,
                updated_at=row.updated_at,
                analysis=analysis,
                redactions=repository.redactions_from(arow),
                originals=[t.original for t in turns] if originals_ok else None,
                commitments=[commitment_record(c) for c in commitments],
                analyzed_at=arow.analyzed_at if arow is not None else None,
            )

    def delete_conversation(self, actor: Principal, id: str) -> None:
        """Delete a conversation and everything stored about it (lead or admin)."""
        actor.require(Role.lead)
        with self.db.session(write=True) as session:
            row = self._conversation_row(session, actor, id)
            session.execute(delete(ConversationRow).where(ConversationRow.id == row.id))

    def scorecards(self, actor: Principal, id: str) -> dict[str, Scorecard]:
        stored = self.get_conversation(actor, id)
        return dict(stored.analysis.scorecards) if stored.analysis is not None else {}

    def scorecard(self, actor: Principal, id: str, playbook: str) -> Scorecard:
        """The scorecard of one playbook: the stored one, or scored now from the stored
        findings when the playbook was added after the conversation was analysed.
        """
        stored = self.get_conversation(actor, id)
        if stored.analysis is None:
            raise NotFound(f"conversation '{id}' has not been analysed")
        cards = stored.analysis.scorecards
        if playbook in cards:
            return cards[playbook]
        key, pb = self._playbook_for(actor, playbook)
        if key in cards:
            return cards[key]
        return self.engine.score(stored.analysis, pb)
