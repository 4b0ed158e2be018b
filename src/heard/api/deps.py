"""Dependencies: the service, and who is asking (one dependency per role).

Every endpoint except ``/health`` declares one of `AgentUser`, `LeadUser` or
`AdminUser`; a test walks the routes to make sure none is left open.

FastAPI runs every plain ``def`` dependency in its thread pool, and each hop there costs a
few hundred microseconds on a busy machine (a handoff to a worker thread and back to the
event loop). So only the dependency that does I/O, `current_principal` (one indexed read
of the users table), is a ``def``; the others do no I/O and are ``async def``, which run
on the event loop directly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from heard.service import Principal, Role, Service

bearer = HTTPBearer(
    auto_error=False,
    description="An API key from `heard users add`, as `Authorization: Bearer <key>`.",
)
api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="The same API key, as `X-API-Key: <key>`."
)


async def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def current_principal(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> Principal:
    key = credentials.credentials if credentials is not None else api_key
    return service.authenticate(key)


def requires(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(actor: Annotated[Principal, Depends(current_principal)]) -> Principal:
        actor.require(role)
        return actor

    check.__name__ = f"requires_{role.value}"
    return check


AgentUser = Annotated[Principal, Depends(requires(Role.agent))]
LeadUser = Annotated[Principal, Depends(requires(Role.lead))]
AdminUser = Annotated[Principal, Depends(requires(Role.admin))]
