"""Conversations: import, list with filters, read one with its analysis, scorecards."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from heard.api.deps import AgentUser, LeadUser, ServiceDep
from heard.api.schemas import (
    ConversationOut,
    ConversationPageOut,
    DateBound,
    ErrorOut,
    ImportOut,
    ScorecardOut,
)
from heard.api.upload import received
from heard.model import Scorecard
from heard.service import ConversationQuery

router = APIRouter(prefix="/conversations", tags=["conversations"])

_IMPORT_BODY = {
    "requestBody": {
        "description": "A JSONL / CSV / transcript file: multipart (field `file`) or the raw "
        "body (Content-Type application/x-ndjson, text/csv or text/plain).",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "format": {"type": "string"},
                    },
                    "required": ["file"],
                }
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}


def _scorecard(card: Scorecard) -> ScorecardOut:
    return ScorecardOut.model_validate(
        {
            "score": None if card.score is None else round(card.score, 3),
            "framework": card.framework,
            "steps": [
                {
                    **s.model_dump(exclude={"evidence", "breaks"}),
                    "evidence": [{"turn": f.turn, "id": f.id, "text": f.text} for f in s.evidence],
                    "breaks": [{"turn": f.turn, "id": f.id, "text": f.text} for f in s.breaks],
                }
                for s in card.steps
            ],
        }
    )


@router.post(
    "/import",
    response_model=ImportOut,
    summary="Import conversations (lead or admin)",
    openapi_extra=_IMPORT_BODY,
    responses={
        400: {"model": ErrorOut},
        413: {"model": ErrorOut, "description": "Larger than HEARD_MAX_UPLOAD_BYTES"},
        422: {"model": ErrorOut, "description": "Nothing could be imported"},
    },
)
async def import_conversations(
    request: Request,
    actor: LeadUser,
    service: ServiceDep,
    format: Annotated[
        str | None, Query(description="jsonl, csv, twcs, transcript ... (default: detect)")
    ] = None,
    name: Annotated[str | None, Query(description="File name of a raw body")] = None,
    strict: Annotated[bool, Query(description="Import nothing if any row has a problem")] = False,
) -> ImportOut:
    async with received(request, format=format, name=name) as upload:
        report = await run_in_threadpool(
            service.import_file,
            actor,
            upload.path,
            name=upload.name,
            format=upload.format,
            strict=strict,
        )
    return ImportOut.model_validate(report.model_dump())


@router.get("", response_model=ConversationPageOut, summary="List and search conversations")
def list_conversations(
    actor: AgentUser,
    service: ServiceDep,
    agent: Annotated[str | None, Query(description="Agent id in an agent turn")] = None,
    date_from: Annotated[
        DateBound | None, Query(description="Started at or after (a date or a time)")
    ] = None,
    date_to: Annotated[
        DateBound | None, Query(description="Started at or before (a date includes its day)")
    ] = None,
    risk: Annotated[Literal["low", "medium", "high"] | None, Query()] = None,
    min_risk: Annotated[float | None, Query(ge=0, le=1, description="Least one-star risk")] = None,
    finding: Annotated[
        list[str] | None, Query(description="Catalog id found (repeat for all of several)")
    ] = None,
    playbook: Annotated[str | None, Query(description="Has a scorecard of this playbook")] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text search")] = None,
    team: Annotated[str | None, Query()] = None,
    sort: Annotated[
        Literal["-imported_at", "imported_at", "-started_at", "started_at", "-risk", "risk", "id"],
        Query(),
    ] = "-imported_at",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ConversationPageOut:
    query = ConversationQuery(
        agent=agent,
        date_from=date_from,
        date_to=date_to,
        risk=risk,
        min_risk=min_risk,
        finding=finding or [],
        playbook=playbook,
        min_score=min_score,
        max_score=max_score,
        q=q,
        team=team,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    page = service.list_conversations(actor, query)
    return ConversationPageOut.model_validate(page.model_dump())


@router.get(
    "/{id}",
    response_model=ConversationOut,
    summary="One conversation with its analysis",
    responses={404: {"model": ErrorOut}},
)
def get_conversation(id: str, actor: AgentUser, service: ServiceDep) -> ConversationOut:
    return ConversationOut.of(service.get_conversation(actor, id))


@router.delete(
    "/{id}",
    status_code=204,
    summary="Delete a conversation (lead or admin)",
    responses={404: {"model": ErrorOut}},
)
def delete_conversation(id: str, actor: LeadUser, service: ServiceDep) -> Response:
    service.delete_conversation(actor, id)
    return Response(status_code=204)


@router.get(
    "/{id}/scorecards",
    response_model=dict[str, ScorecardOut],
    summary="Every scorecard of a conversation",
    responses={404: {"model": ErrorOut}},
)
def scorecards(id: str, actor: AgentUser, service: ServiceDep) -> dict[str, ScorecardOut]:
    return {k: _scorecard(v) for k, v in service.scorecards(actor, id).items()}


@router.get(
    "/{id}/scorecards/{playbook}",
    response_model=ScorecardOut,
    summary="One playbook's scorecard (scored now if it was added later)",
    responses={404: {"model": ErrorOut}},
)
def scorecard(id: str, playbook: str, actor: AgentUser, service: ServiceDep) -> ScorecardOut:
    return _scorecard(service.scorecard(actor, id, playbook))
