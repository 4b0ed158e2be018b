"""POST /coach: live cues and a suggested next reply for the conversation so far.

The coach is called at every pause in the agent's typing, so this route is kept lean:
the response is serialized once, straight from the coach's `CoachResponse` (the same
fields as `CoachOut`, which documents it), instead of being dumped, validated again as
`CoachOut` and then validated and dumped once more by FastAPI's response handling.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from heard.api.deps import AgentUser, ServiceDep
from heard.api.schemas import CoachIn, CoachOut, ErrorOut

router = APIRouter(tags=["coach"])


@router.post(
    "/coach",
    response_model=CoachOut,
    summary="Coach the next reply",
    responses={403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
def coach(body: CoachIn, actor: AgentUser, service: ServiceDep) -> Response:
    # a plain `def`: the coach is CPU-bound work, run in FastAPI's thread pool
    response = service.coach(
        actor,
        body.conversation.conversation(),
        draft=body.draft,
        playbook=body.playbook,
        authority=body.authority,
    )
    return Response(content=response.model_dump_json(), media_type="application/json")
