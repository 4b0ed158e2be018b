"""Users and API keys (admins), and GET /me (anyone with a key)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from heard.api.deps import AdminUser, AgentUser, ServiceDep
from heard.api.schemas import ErrorOut, MeOut, UserCreatedOut, UserIn, UserOut

router = APIRouter(tags=["users"])


@router.get("/me", response_model=MeOut, summary="Who this key belongs to")
def me(actor: AgentUser) -> MeOut:
    return MeOut.model_validate(actor)


@router.get("/users", response_model=list[UserOut], summary="List users (admin)")
def list_users(actor: AdminUser, service: ServiceDep) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in service.list_users(actor)]


@router.post(
    "/users",
    response_model=UserCreatedOut,
    status_code=201,
    summary="Create a user and their API key (admin)",
    responses={409: {"model": ErrorOut}},
)
def add_user(body: UserIn, actor: AdminUser, service: ServiceDep) -> UserCreatedOut:
    user, key = service.add_user(
        actor, body.name, body.role, team=body.team, agent_id=body.agent_id
    )
    return UserCreatedOut(user=UserOut.model_validate(user), key=key)


@router.delete(
    "/users/{id}",
    status_code=204,
    summary="Delete a user; their key stops working (admin)",
    responses={404: {"model": ErrorOut}},
)
def delete_user(id: int, actor: AdminUser, service: ServiceDep) -> Response:
    service.delete_user(actor, id)
    return Response(status_code=204)
