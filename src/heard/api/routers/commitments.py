"""Commitments: list (with status / overdue filters), add, close, change, delete."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from heard.api.deps import AgentUser, LeadUser, ServiceDep
from heard.api.schemas import (
    CommitmentIn,
    CommitmentOut,
    CommitmentPageOut,
    CommitmentPatch,
    ErrorOut,
)
from heard.service import CommitmentQuery

router = APIRouter(prefix="/commitments", tags=["commitments"])


@router.get("", response_model=CommitmentPageOut, summary="List commitments")
def list_commitments(
    actor: AgentUser,
    service: ServiceDep,
    status: Annotated[Literal["open", "done", "overdue"] | None, Query()] = None,
    overdue: Annotated[bool | None, Query(description="Only overdue (true) or not (false)")] = None,
    conversation_id: Annotated[str | None, Query()] = None,
    owner: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CommitmentPageOut:
    query = CommitmentQuery(
        status=status,
        overdue=overdue,
        conversation_id=conversation_id,
        owner=owner,
        limit=limit,
        offset=offset,
    )
    return CommitmentPageOut.model_validate(service.list_commitments(actor, query).model_dump())


@router.post(
    "",
    response_model=CommitmentOut,
    status_code=201,
    summary="Add a commitment by hand",
    responses={404: {"model": ErrorOut}},
)
def add_commitment(body: CommitmentIn, actor: AgentUser, service: ServiceDep) -> CommitmentOut:
    stored = service.add_commitment(
        actor, body.conversation_id, what=body.what, owner=body.owner, due=body.due, turn=body.turn
    )
    return CommitmentOut.model_validate(stored)


@router.get("/{id}", response_model=CommitmentOut, responses={404: {"model": ErrorOut}})
def get_commitment(id: int, actor: AgentUser, service: ServiceDep) -> CommitmentOut:
    return CommitmentOut.model_validate(service.get_commitment(actor, id))


@router.patch(
    "/{id}",
    response_model=CommitmentOut,
    summary="Close (status done), reopen or change a commitment",
    responses={404: {"model": ErrorOut}},
)
def update_commitment(
    id: int, body: CommitmentPatch, actor: AgentUser, service: ServiceDep
) -> CommitmentOut:
    changes = body.model_dump(exclude_unset=True)
    stored = service.update_commitment(actor, id, **changes)
    return CommitmentOut.model_validate(stored)


@router.delete(
    "/{id}",
    status_code=204,
    summary="Delete a commitment (lead or admin)",
    responses={404: {"model": ErrorOut}},
)
def delete_commitment(id: int, actor: LeadUser, service: ServiceDep) -> Response:
    service.delete_commitment(actor, id)
    return Response(status_code=204)
