"""The domain nouns of heard: Conversation, Turn, Finding, Analysis, Scorecard, Commitment.

These are the interchange types of DESIGN.md. Outside tools read and write them as JSON,
so field names here are part of the stable format: change them only with a format version.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_M = TypeVar("_M", bound=BaseModel)
# The instance slots every pydantic model has, set through their descriptors (what
# ``model_construct`` sets with ``object.__setattr__``, a little faster).
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_new = object.__new__


def trusted(cls: type[_M], values: dict[str, Any], fields_set: set[str] | None = None) -> _M:
    """An instance of `cls` from values that are already valid, without validating them.

    What ``model_construct`` does for a model without aliases, extras, private attributes
    or post-init, minus its per-field loop (hot paths build thousands of these per second):
    `values` must hold every field, in declaration order, each of the field's type;
    `fields_set` are the fields given explicitly (default: all, as when all are passed).
    """
    m = _new(cls)
    _set_dict(m, values)
    _set_fields_set(m, set(values) if fields_set is None else fields_set)
    _set_extra(m, None)
    _set_private(m, None)
    return m


#: The closed list of service emotions (customer turns), DESIGN.md.
SERVICE_EMOTIONS: tuple[str, ...] = (
    "anger",
    "frustration",
    "disappointment",
    "confusion",
    "worry",
    "sadness",
    "impatience",
    "gratitude",
    "relief",
    "happiness",
    "neutral",
)

#: Largest text a single turn may carry; longer turns are cut there (importers report it).
MAX_TURN_CHARS = 20_000


class Speaker(StrEnum):
    customer = "customer"
    agent = "agent"
    system = "system"


def clean_text(value: str) -> str:
    """`value` without what no file or database can hold: NULs are removed and lone
    surrogates (U+D800-U+DFFF, which cannot be encoded) become "?"; the rest is kept."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii() and not _encodable(value):
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clean_json(value: Any) -> Any:
    """`clean_text` applied to every string (keys included) of a JSON-like value; the
    value itself (not a copy) when nothing needs cleaning."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        for k, v in value.items():
            if _clean_json(k) is not k or _clean_json(v) is not v:
                return {_clean_json(k): _clean_json(v) for k, v in value.items()}
        return value
    if isinstance(value, list):
        for v in value:
            if _clean_json(v) is not v:
                return [_clean_json(v) for v in value]
        return value
    return value


def _clean_extra(model: BaseModel) -> None:
    extra = model.__pydantic_extra__
    if extra:
        model.__pydantic_extra__ = _clean_json(extra)


def unstorable(value: str) -> str | None:
    """Why `value` cannot be an id, or None. Ids are kept as given, never cleaned (two
    must not become one), so one holding what no file or database can hold is refused."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if not value.isascii() and not _encodable(value):
        return "must not contain lone surrogates (U+D800-U+DFFF): they cannot be encoded"
    return None


def _identifier(value: str) -> str:
    why = unstorable(value)
    if why is not None:
        raise ValueError(why)
    return value


class Turn(BaseModel):
    """One message or utterance in a conversation."""

    model_config = ConfigDict(extra="allow")

    speaker: Speaker
    text: str
    ts: datetime | None = None
    agent_id: str | None = None

    @field_validator("text")
    @classmethod
    def _clean_text(cls, value: str) -> str:
        # Text is kept as text: never rendered, never interpreted. Only NULs and lone
        # surrogates (which cannot be encoded) are removed; the rest is kept verbatim.
        value = clean_text(value)
        if len(value) > MAX_TURN_CHARS:
            value = value[:MAX_TURN_CHARS]
        return value

    @field_validator("agent_id")
    @classmethod
    def _check_agent_id(cls, value: str | None) -> str | None:
        return None if value is None else _identifier(value)

    @model_validator(mode="after")
    def _clean_extras(self) -> Turn:
        _clean_extra(self)
        return self


class Conversation(BaseModel):
    """An ordered list of turns between a customer and one or more agents."""

    model_config = ConfigDict(extra="allow")

    id: str
    channel: str = "chat"
    meta: dict[str, Any] = Field(default_factory=dict)
    turns: list[Turn] = Field(default_factory=list)

    @field_validator("id", "channel")
    @classmethod
    def _check_id(cls, value: str) -> str:
        return _identifier(value)

    @field_validator("meta")
    @classmethod
    def _clean_meta(cls, value: dict[str, Any]) -> dict[str, Any]:
        cleaned: dict[str, Any] = _clean_json(value)
        return cleaned

    @model_validator(mode="after")
    def _clean_extras(self) -> Conversation:
        _clean_extra(self)
        return self

    @classmethod
    def from_text(cls, text: str, id: str = "text-1") -> Conversation:
        """A conversation from a plain transcript, or one customer message if it has none."""
        from heard.importers.transcript import parse_transcript

        turns = parse_transcript(text)
        if not turns:
            turns = [Turn(speaker=Speaker.customer, text=text)]
        return cls(id=id, channel="text", turns=turns)


class Finding(BaseModel):
    """One piece of evidence: a catalog id seen at a place in a turn."""

    id: str
    turn: int
    span: tuple[int, int]
    text: str
    confidence: float = Field(ge=0.0, le=1.0)
    detector: str
    explanation: str

    def out(self) -> dict[str, Any]:
        """The DESIGN.md per-turn form (the turn index is implied by its place)."""
        return {
            "id": self.id,
            "span": [self.span[0], self.span[1]],
            "text": self.text,
            "confidence": round(self.confidence, 3),
            "detector": self.detector,
            "explanation": self.explanation,
        }


class TurnAnalysis(BaseModel):
    i: int
    speaker: Speaker
    findings: list[Finding] = Field(default_factory=list)
    emotions: dict[str, float] = Field(default_factory=dict)
    energy: int | None = None


StepStatus = Literal["met", "missed", "not_applicable", "not_observable"]


class StepResult(BaseModel):
    id: str
    name: str
    status: StepStatus
    weight: float = 1.0
    evidence: list[Finding] = Field(default_factory=list)
    breaks: list[Finding] = Field(default_factory=list)
    note: str = ""


class Scorecard(BaseModel):
    playbook: str
    framework: str | None = None
    score: float | None = None
    steps: list[StepResult] = Field(default_factory=list)


class Risk(BaseModel):
    one_star: float = Field(ge=0.0, le=1.0)
    level: Literal["low", "medium", "high"] = "low"
    reasons: list[str] = Field(default_factory=list)


class Commitment(BaseModel):
    turn: int
    what: str
    owner: str = "agent"
    due: datetime | None = None
    kind: Literal["commit", "vague", "handoff"] = "commit"
    status: Literal["open", "done", "overdue"] = "open"
    finding: str = "T.commit"
    #: the words the due time was read from ("by 5pm EST"), None when no time was stated
    due_text: str | None = None
    #: what the agent should add (vague promises) or why the status is what it is
    explanation: str = ""
    #: the later turn that closed the loop (a report-back, the receiving person), if any
    closed_turn: int | None = None


class Analysis(BaseModel):
    """Everything heard found in one conversation."""

    id: str
    conversation: Conversation
    turns: list[TurnAnalysis]
    scorecards: dict[str, Scorecard] = Field(default_factory=dict)
    risk: Risk | None = None
    commitments: list[Commitment] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=lambda: ["lexical"])

    @property
    def findings(self) -> list[Finding]:
        return [f for t in self.turns for f in t.findings]

    def ids(self) -> set[str]:
        return {f.id for t in self.turns for f in t.findings}

    def out(self) -> dict[str, Any]:
        """The stable `heard analyze --format jsonl` line (DESIGN.md)."""
        return {
            "id": self.id,
            "tiers": self.tiers,
            "turns": [
                {
                    "i": t.i,
                    "speaker": t.speaker.value,
                    "findings": [f.out() for f in t.findings],
                    "emotions": {k: round(v, 3) for k, v in t.emotions.items()},
                    "energy": t.energy,
                }
                for t in self.turns
            ],
            "scorecards": {
                name: {
                    "score": None if sc.score is None else round(sc.score, 3),
                    "framework": sc.framework,
                    "steps": [
                        {
                            "id": s.id,
                            "name": s.name,
                            "status": s.status,
                            "weight": s.weight,
                            "evidence": [
                                {"turn": f.turn, "id": f.id, "text": f.text} for f in s.evidence
                            ],
                            "breaks": [
                                {"turn": f.turn, "id": f.id, "text": f.text} for f in s.breaks
                            ],
                            "note": s.note,
                        }
                        for s in sc.steps
                    ],
                }
                for name, sc in self.scorecards.items()
            },
            "risk": None
            if self.risk is None
            else {
                "one_star": round(self.risk.one_star, 3),
                "level": self.risk.level,
                "reasons": self.risk.reasons,
            },
            "commitments": [
                {
                    "turn": c.turn,
                    "what": c.what,
                    "owner": c.owner,
                    "due": c.due.isoformat() if c.due else None,
                    "kind": c.kind,
                    "status": c.status,
                }
                for c in self.commitments
            ],
        }
