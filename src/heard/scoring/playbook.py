"""Playbooks: a team's rubric, remedies, policies and escalation paths, as YAML data."""

from __future__ import annotations

from pydantic import BaseModel


class Playbook(BaseModel):
    name: str
    framework: str | None = None


def builtin_playbooks() -> list[Playbook]:
    return []


def resolve(spec: Playbook | str) -> Playbook:
    if isinstance(spec, Playbook):
        return spec
    raise NotImplementedError(spec)
