"""The coach's data files (YAML beside this module), loaded once and validated.

Teams change what the coach says by editing data, not code:

- ``cues.yaml``: cue rules (when a cue shows, the catalog id it serves, its wording);
- ``replies.yaml``: reply moves (sentence templates, the technique ids they use) and the
  recipes that combine them into suggested replies;
- ``rewrites.yaml``: for each anti-pattern, the advice and rewrite templates for a draft;
- ``vocabulary.yaml``: words for feelings, stakes, demands and remedy kinds.

Templates use ``{slot}`` fields filled from the conversation (see `heard.coach.slots`);
``⟨…⟩`` marks a placeholder only the agent can fill (an estimate, a time).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from heard.errors import HeardError


class CoachDataError(HeardError):
    """A coach data file (cues, replies, rewrites, vocabulary) is malformed."""

    code = "E210"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- vocabulary -------------------------------------------------------------------------


class Feeling(_Strict):
    adjective: str
    felt: str


class Stakes(_Strict):
    min_kinds: int = 2
    past: list[str] = Field(default_factory=list)
    future: list[str] = Field(default_factory=list)
    kinds: dict[str, list[str]]


class DemandKind(_Strict):
    words: list[str]
    remedy_kinds: list[str] = Field(default_factory=list)
    escalate: bool = False
    phrase: str


class Vocabulary(_Strict):
    version: int
    feelings: dict[str, Feeling]
    stakes: Stakes
    demands: dict[str, DemandKind]
    remedy_kinds: dict[str, list[str]]


# -- cues -------------------------------------------------------------------------------


class CueRule(_Strict):
    id: str
    serves: str
    say: str | list[str]
    why: str | list[str]
    priority: int = 50
    when: dict[str, Any] = Field(default_factory=dict)
    replies: list[str] = Field(default_factory=list)


class CueFile(_Strict):
    version: int
    cues: list[CueRule]


# -- replies ----------------------------------------------------------------------------


class Move(_Strict):
    uses: list[str] = Field(default_factory=list)
    say: list[str]


class Recipe(_Strict):
    id: str
    moves: list[str] = Field(description="Move names; a trailing '?' makes a move optional.")
    note: str = ""


class ReplyFile(_Strict):
    version: int
    moves: dict[str, Move]
    recipes: list[Recipe]


# -- rewrites ---------------------------------------------------------------------------


class Rewrite(_Strict):
    better: list[str] = Field(default_factory=list)
    advice: str
    say: list[str]


class RewriteFile(_Strict):
    version: int
    rewrites: dict[str, Rewrite]


_SLOT = re.compile(r"\{([a-z_]+)\}")


def slots_of(template: str) -> list[str]:
    """The ``{slot}`` names a template needs."""
    return _SLOT.findall(template)


_M = TypeVar("_M", bound=BaseModel)


def _load(name: str) -> Any:
    text = resources.files("heard.coach").joinpath(name).read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CoachDataError(f"coach/{name} is not valid YAML: {exc}") from None


def _validated(model: type[_M], name: str) -> _M:
    try:
        return model.model_validate(_load(name))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CoachDataError(
            f"coach/{name}: {where}: {first['msg']}",
            hint=f"{len(exc.errors())} problem(s); see docs/coach.md for the format",
        ) from None


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return _validated(Vocabulary, "vocabulary.yaml")


@lru_cache(maxsize=1)
def cue_rules() -> CueFile:
    got = _validated(CueFile, "cues.yaml")
    replies = reply_book()
    known = {r.id for r in replies.recipes}
    for cue in got.cues:
        for r in cue.replies:
            if r not in known:
                raise CoachDataError(f"coach/cues.yaml: cue '{cue.id}' names unknown recipe '{r}'")
    return got


@lru_cache(maxsize=1)
def reply_book() -> ReplyFile:
    got = _validated(ReplyFile, "replies.yaml")
    for recipe in got.recipes:
        for spec in recipe.moves:
            for m in spec.rstrip("?").split("|"):
                if m not in got.moves:
                    raise CoachDataError(
                        f"coach/replies.yaml: recipe '{recipe.id}' uses unknown move '{m}'"
                    )
    return got


@lru_cache(maxsize=1)
def rewrite_book() -> RewriteFile:
    return _validated(RewriteFile, "rewrites.yaml")


@lru_cache(maxsize=256)
def compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


__all__ = [
    "CoachDataError",
    "CueRule",
    "Recipe",
    "Rewrite",
    "compiled",
    "cue_rules",
    "reply_book",
    "rewrite_book",
    "slots_of",
    "vocabulary",
]
