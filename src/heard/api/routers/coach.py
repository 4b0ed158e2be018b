"""POST /coach: live cues and a suggested next reply for the conversation so far."""

from __future__ import annotations

from fastapi import APIRouter

from heard.api.deps import AgentUser, ServiceDep
from heard.api.schemas import CoachIn, CoachOut, ErrorOut

router = APIRouter(tags=["coach"])


@router.post(
    "/coach",
    response_model=CoachOut,
    summary="Coach the next reply",
    responses={403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
def coach(body: CoachIn, actor: AgentUser, service: ServiceDep) -> CoachOut:
    response = service.coach(
        actor,
        body.conversation.conversation(),
        draft=body.draft,
        playbook=body.playbook,
        authority=body.authority,
    )
    return CoachOut.model_validate(response.model_dump())
