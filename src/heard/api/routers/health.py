"""GET /health: is the server up and its database reachable (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter

from heard.api.deps import ServiceDep
from heard.api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, summary="Liveness and database check")
def health(service: ServiceDep) -> HealthOut:
    return HealthOut.model_validate(service.health())
