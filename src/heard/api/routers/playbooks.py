"""Playbooks: built-in ones (read only) and teams' own, validated before they are stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from heard.api.deps import LeadUser, ServiceDep
from heard.api.schemas import (
    ErrorOut,
    PlaybookCheckIn,
    PlaybookCheckOut,
    PlaybookIn,
    PlaybookOut,
    PlaybookUpdate,
)

router = APIRouter(prefix="/playbooks", tags=["playbooks"])
_INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "The numbered problems of the YAML"}
}


@router.get("", response_model=list[PlaybookOut], summary="Built-in and stored playbooks")
def list_playbooks(actor: LeadUser, service: ServiceDep) -> list[PlaybookOut]:
    return [PlaybookOut.model_validate(p) for p in service.list_playbooks(actor)]


@router.post("/check", response_model=PlaybookCheckOut, summary="Validate YAML without storing it")
def check_playbook(body: PlaybookCheckIn, actor: LeadUser, service: ServiceDep) -> PlaybookCheckOut:
    problems = service.validate_playbook(body.yaml)
    return PlaybookCheckOut(valid=not problems, problems=problems)


@router.post(
    "",
    response_model=PlaybookOut,
    status_code=201,
    summary="Store a playbook",
    responses={**_INVALID, 409: {"model": ErrorOut}},
)
def create_playbook(body: PlaybookIn, actor: LeadUser, service: ServiceDep) -> PlaybookOut:
    return PlaybookOut.model_validate(service.create_playbook(actor, body.yaml, team=body.team))


@router.get("/{name}", response_model=PlaybookOut, responses={404: {"model": ErrorOut}})
def get_playbook(name: str, actor: LeadUser, service: ServiceDep) -> PlaybookOut:
    return PlaybookOut.model_validate(service.get_playbook(actor, name))


@router.put(
    "/{name}",
    response_model=PlaybookOut,
    summary="Replace a stored playbook's YAML",
    responses={**_INVALID, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)
def update_playbook(
    name: str, body: PlaybookUpdate, actor: LeadUser, service: ServiceDep
) -> PlaybookOut:
    return PlaybookOut.model_validate(service.update_playbook(actor, name, body.yaml))


@router.delete(
    "/{name}",
    status_code=204,
    responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)
def delete_playbook(name: str, actor: LeadUser, service: ServiceDep) -> Response:
    service.delete_playbook(actor, name)
    return Response(status_code=204)
