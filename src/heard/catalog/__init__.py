"""The catalog of METHOD.md ids, loaded from `catalog.yaml` (data, not code)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml

from heard.errors import CatalogError

Kind = Literal["signal", "technique", "anti_pattern", "framework"]


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    kind: Kind
    name: str
    description: str
    seeds: tuple[int, ...] = ()
    better: tuple[str, ...] = field(default_factory=tuple)


@lru_cache(maxsize=1)
def catalog() -> dict[str, Entry]:
    """Every catalog entry by id, in METHOD.md order."""
    raw = yaml.safe_load(resources.files("heard.catalog").joinpath("catalog.yaml").read_text())
    out: dict[str, Entry] = {}
    for item in raw["entries"]:
        out[item["id"]] = Entry(
            id=item["id"],
            kind=item["kind"],
            name=item["name"],
            description=item["description"],
            seeds=tuple(item.get("seeds", ())),
            better=tuple(item.get("better", ())),
        )
    return out


def detectable_ids() -> list[str]:
    """Ids a detector emits (signals, techniques, anti-patterns; not frameworks)."""
    return [e.id for e in catalog().values() if e.kind != "framework"]


def entry(id: str) -> Entry:
    try:
        return catalog()[id]
    except KeyError:
        raise CatalogError(
            f"unknown catalog id '{id}'", hint="known ids are listed by 'heard catalog'"
        ) from None
