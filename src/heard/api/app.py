"""The FastAPI application factory: `create_app(settings) -> FastAPI`.

    uvicorn --factory heard.api:create_app     # settings from HEARD_* variables
    heard serve                               # the same, with checks and a banner

OpenAPI is at /openapi.json, interactive docs at /docs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from heard import __version__
from heard.api import errors
from heard.api.limits import BodyLimit, SecurityHeaders
from heard.api.routers import (
    analyze,
    catalog,
    coach,
    commitments,
    conversations,
    health,
    playbooks,
    users,
)
from heard.api.routers import settings as settings_routes
from heard.service import Service
from heard.settings import Settings

#: Every resource's router, in the order the docs list them.
ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        health,
        conversations,
        commitments,
        playbooks,
        analyze,
        coach,
        catalog,
        users,
        settings_routes,
    )
)

DESCRIPTION = """\
heard's REST API: import conversations, read their analyses and scorecards, track
commitments, manage playbooks and coach a reply as it is written.

Every endpoint but `/health` needs an API key (`heard users add NAME --role ROLE`) in
`Authorization: Bearer <key>` or `X-API-Key: <key>`. Errors are
`{"error": {"code": "E0xx", "message": "...", "field": "turns[2].speaker"}}`.
"""


def create_app(settings: Settings | None = None, *, service: Service | None = None) -> FastAPI:
    """The API over `service` (or over a Service opened, and migrated, from `settings`)."""
    settings = settings or (service.settings if service is not None else Settings())
    owned = service is None
    svc = service or Service.open(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            svc.close()

    app = FastAPI(
        title="heard",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.service = svc
    app.state.settings = settings
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)
    return app
