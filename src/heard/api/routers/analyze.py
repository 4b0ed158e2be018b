"""POST /analyze: analyse a conversation without storing it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from heard.api.deps import AgentUser, ServiceDep
from heard.api.schemas import AnalysisOut, ConversationIn, ErrorOut

router = APIRouter(tags=["analyze"])


@router.post(
    "/analyze",
    response_model=AnalysisOut,
    summary="Analyse without storing",
    responses={422: {"model": ErrorOut}},
)
def analyze(
    body: ConversationIn,
    actor: AgentUser,
    service: ServiceDep,
    playbook: Annotated[
        list[str] | None, Query(description="Playbooks to score (default: the built-ins)")
    ] = None,
) -> AnalysisOut:
    analysis = service.analyze(actor, body.conversation(), playbooks=playbook)
    return AnalysisOut.of(analysis)
