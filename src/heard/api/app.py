"""The FastAPI application factory: `create_app(settings) -> FastAPI`.

    uvicorn --factory heard.api:create_app     # settings from HEARD_* variables
    heard serve                               # the same, with checks and a banner

OpenAPI is at /openapi.json, interactive docs at /docs.

The app warms the service's detectors and models up while it starts (in its lifespan),
so the first request is as fast as the others. `prepare_to_serve` also moves what start-up
built out of the garbage collector's way, for a process that does nothing but serve.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool

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


def prepare_to_serve(service: Service) -> None:
    """Warm `service` up, then freeze the heap: for a process that is about to serve.

    Start-up builds a large, long-lived object graph (compiled detectors, the lexicon,
    playbooks, models). Left to the garbage collector, every full collection walks all of
    it again: 50-200 ms on a busy 2-core machine, a pause some unlucky request waits out.
    `gc.freeze` moves everything alive now to a permanent generation that collections skip
    (a full collection then takes well under a millisecond). Call it once, just before
    serving (``heard serve`` does); it is process-wide, so `create_app` does not.
    """
    service.engine.warm_up()
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings | None = None, *, service: Service | None = None, warm_up: bool = True
) -> FastAPI:
    """The API over `service` (or over a Service opened, and migrated, from `settings`).

    With `warm_up` (the default) the app builds the detectors and loads the models while
    it starts, not in the first request (`AnalysisEngine.warm_up`; done once per engine).
    """
    settings = settings or (service.settings if service is not None else Settings())
    owned = service is None
    svc = service or Service.open(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_up:
            await run_in_threadpool(svc.engine.warm_up)
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
