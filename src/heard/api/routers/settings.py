"""Run-time settings (admin): see and change redaction and the scored playbooks."""

from __future__ import annotations

from fastapi import APIRouter

from heard.api.deps import AdminUser, ServiceDep
from heard.api.schemas import SettingsOut, SettingsPatch

router = APIRouter(prefix="/settings", tags=["settings"])


@router.get("", response_model=SettingsOut, summary="Settings in effect (admin)")
def get_settings(actor: AdminUser, service: ServiceDep) -> SettingsOut:
    return SettingsOut.model_validate(service.get_settings(actor))


@router.patch("", response_model=SettingsOut, summary="Change run-time settings (admin)")
def update_settings(body: SettingsPatch, actor: AdminUser, service: ServiceDep) -> SettingsOut:
    changes = body.model_dump(exclude_unset=True)
    return SettingsOut.model_validate(service.update_settings(actor, changes))
