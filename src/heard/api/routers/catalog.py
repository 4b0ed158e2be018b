"""GET /catalog: every id a finding, playbook or report may use (METHOD.md)."""

from __future__ import annotations

from fastapi import APIRouter

from heard.api.deps import AgentUser, ServiceDep
from heard.api.schemas import CatalogEntryOut

router = APIRouter(tags=["catalog"])


@router.get("/catalog", response_model=list[CatalogEntryOut], summary="The catalog of ids")
def list_catalog(actor: AgentUser, service: ServiceDep) -> list[CatalogEntryOut]:
    return [CatalogEntryOut.model_validate(e) for e in service.catalog()]
