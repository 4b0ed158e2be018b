"""Request and response schemas of the REST API, named by role (``*In`` / ``*Out``).

Response shapes of analyses follow the stable `heard analyze --format jsonl` form of
DESIGN.md (`Analysis.out()`), with the privacy findings added as ``redactions``.
Text is always returned as JSON strings: never rendered, never interpreted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from heard.coach import CoachResponse
from heard.model import MAX_TURN_CHARS, Analysis, Conversation, Speaker, Turn, clean_text
from heard.privacy import Redaction
from heard.service.auth import Role
from heard.service.records import StoredConversation

ID = 255


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- errors -------------------------------------------------------------------------------
class ProblemOut(_Out):
    code: str = Field(examples=["E002"])
    message: str
    line: int | None = None
    field: str | None = Field(None, examples=["turns[2].speaker"])


class ErrorDetail(BaseModel):
    code: str = Field(examples=["E002"], description="heard's numbered error code")
    message: str
    field: str | None = Field(None, description="Where the problem is, e.g. turns[2].speaker")
    line: int | None = Field(None, description="Line of the uploaded file, when known")
    hint: str | None = Field(None, description="What to do about it")
    problems: list[ProblemOut] | None = Field(
        None, description="Every problem, when there are several"
    )


class ErrorOut(BaseModel):
    error: ErrorDetail


# -- conversations in -----------------------------------------------------------------------
class TurnIn(BaseModel):
    speaker: Speaker
    text: str = Field(max_length=MAX_TURN_CHARS)
    ts: datetime | None = None
    agent_id: str | None = Field(None, max_length=ID)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not clean_text(value).strip():  # (NULs are dropped from turn text)
            raise ValueError("text is empty")
        return value


class ConversationIn(BaseModel):
    """A conversation in the DESIGN.md JSONL form."""

    id: str = Field("live", min_length=1, max_length=ID)
    channel: str = Field("chat", max_length=ID)
    meta: dict[str, Any] = Field(default_factory=dict)
    turns: list[TurnIn] = Field(min_length=1)

    def conversation(self) -> Conversation:
        return Conversation(
            id=self.id,
            channel=self.channel,
            meta=self.meta,
            turns=[
                Turn(speaker=t.speaker, text=t.text, ts=t.ts, agent_id=t.agent_id)
                for t in self.turns
            ],
        )


# -- analyses out ----------------------------------------------------------------------------
class FindingOut(_Out):
    id: str = Field(examples=["T.apologize"])
    span: tuple[int, int]
    text: str
    confidence: float
    detector: str
    explanation: str


class TurnAnalysisOut(_Out):
    i: int
    speaker: Speaker
    findings: list[FindingOut]
    emotions: dict[str, float]
    energy: int | None


class EvidenceOut(_Out):
    turn: int
    id: str
    text: str


class StepOut(_Out):
    id: str
    name: str
    status: Literal["met", "missed", "not_applicable", "not_observable"]
    weight: float
    evidence: list[EvidenceOut]
    breaks: list[EvidenceOut]
    note: str


class ScorecardOut(_Out):
    """A playbook's rubric applied to one conversation; every step cites its findings."""

    score: float | None
    framework: str | None
    steps: list[StepOut]


class RiskOut(_Out):
    one_star: float
    level: Literal["low", "medium", "high"]
    reasons: list[str]


class AnalysisCommitmentOut(_Out):
    turn: int
    what: str
    owner: str
    due: str | None
    kind: str
    status: str


class RedactionOut(_Out):
    """Personal data masked on import (P.email, P.phone ...). ``span`` points at the
    placeholder in the stored text; ``original`` is only sent to admins in 'keep' mode.
    """

    id: str = Field(examples=["P.email"])
    turn: int
    span: tuple[int, int]
    text: str = Field(examples=["[email]"])
    confidence: float
    detector: str
    explanation: str
    original_span: tuple[int, int]
    original: str | None = None


class AnalysisOut(_Out):
    id: str
    tiers: list[str]
    turns: list[TurnAnalysisOut]
    scorecards: dict[str, ScorecardOut]
    risk: RiskOut | None
    commitments: list[AnalysisCommitmentOut]
    redactions: list[RedactionOut] = Field(default_factory=list)

    @classmethod
    def of(cls, analysis: Analysis, redactions: list[RedactionOut] | None = None) -> AnalysisOut:
        return cls.model_validate({**analysis.out(), "redactions": redactions or []})


# -- conversations out -----------------------------------------------------------------------
class TurnOut(_Out):
    i: int
    speaker: Speaker
    text: str
    ts: datetime | None
    agent_id: str | None


class CommitmentOut(_Out):
    id: int
    conversation_id: str
    turn: int | None
    what: str
    owner: str
    due: datetime | None
    due_text: str | None
    kind: str
    status: Literal["open", "done", "overdue"]
    source: Literal["extracted", "manual"]
    finding: str | None
    explanation: str
    closed_turn: int | None
    created_at: datetime
    closed_at: datetime | None
    created_by: str | None


class ConversationOut(_Out):
    id: str
    channel: str
    meta: dict[str, Any]
    team: str | None
    source: str | None
    redaction: str = Field(description="How personal data was stored: 'redact' or 'keep'")
    originals_shown: bool = Field(
        description="True when turns show the unredacted text (admins, 'keep' mode)"
    )
    imported_at: datetime
    updated_at: datetime
    analyzed_at: datetime | None
    turns: list[TurnOut]
    analysis: AnalysisOut | None
    commitments: list[CommitmentOut]

    @classmethod
    def of(cls, stored: StoredConversation) -> ConversationOut:
        conv = stored.conversation
        originals = stored.originals
        redactions = [_redaction_out(r, conv, originals) for r in stored.redactions]
        return cls(
            id=conv.id,
            channel=conv.channel,
            meta=conv.meta,
            team=stored.team,
            source=stored.source,
            redaction=stored.redaction,
            originals_shown=originals is not None,
            imported_at=stored.imported_at,
            updated_at=stored.updated_at,
            analyzed_at=stored.analyzed_at,
            turns=[
                TurnOut(i=i, speaker=t.speaker, text=t.text, ts=t.ts, agent_id=t.agent_id)
                for i, t in enumerate(conv.turns)
            ],
            analysis=AnalysisOut.of(stored.analysis, redactions) if stored.analysis else None,
            commitments=[CommitmentOut.model_validate(c) for c in stored.commitments],
        )


def _redaction_out(
    r: Redaction, conv: Conversation, originals: list[str | None] | None
) -> RedactionOut:
    original = None
    if originals is not None and r.turn < len(originals):
        text = originals[r.turn]
        if text is not None:
            original = text[r.original_span[0] : r.original_span[1]]
    return RedactionOut.model_validate({**r.model_dump(), "original": original})


class ConversationSummaryOut(_Out):
    id: str
    channel: str
    team: str | None
    started_at: datetime | None
    imported_at: datetime
    turn_count: int
    agent_ids: list[str]
    preview: str = Field(description="The start of the first turn (redacted text)")
    risk: RiskOut | None
    scores: dict[str, float | None]
    finding_ids: list[str]
    open_commitments: int


class ConversationPageOut(_Out):
    items: list[ConversationSummaryOut]
    total: int
    limit: int
    offset: int


class ImportOut(_Out):
    source: str
    imported: list[str] = Field(description="Ids written (new or replaced)")
    replaced: list[str] = Field(description="Ids that replaced a stored conversation")
    skipped: int = Field(description="Rows, lines or turns that could not be read")
    problems: list[ProblemOut]


# -- commitments -------------------------------------------------------------------------------
class CommitmentIn(BaseModel):
    conversation_id: str = Field(min_length=1, max_length=ID)
    what: str = Field(min_length=1)
    owner: str = Field("agent", min_length=1, max_length=ID)
    due: datetime | None = None
    turn: int | None = Field(None, ge=0)


class CommitmentPatch(BaseModel):
    """Fields to change; `"due": null` clears the due time."""

    status: Literal["open", "done"] | None = None
    what: str | None = Field(None, min_length=1)
    owner: str | None = Field(None, min_length=1, max_length=ID)
    due: datetime | None = None


class CommitmentPageOut(_Out):
    items: list[CommitmentOut]
    total: int
    limit: int
    offset: int


# -- playbooks ---------------------------------------------------------------------------------
class PlaybookIn(BaseModel):
    yaml: str = Field(min_length=1, description="The playbook YAML (its `name` names it)")
    team: str | None = Field(
        None, max_length=ID, description="Team it belongs to (admins only; leads: theirs)"
    )


class PlaybookUpdate(BaseModel):
    yaml: str = Field(min_length=1)


class PlaybookOut(_Out):
    name: str
    team: str | None
    builtin: bool
    valid: bool
    problems: list[str]
    yaml: str
    framework: str | None
    created_at: datetime | None
    updated_at: datetime | None
    created_by: str | None


class PlaybookCheckIn(BaseModel):
    yaml: str


class PlaybookCheckOut(BaseModel):
    valid: bool
    problems: list[str]


# -- analyse and coach -------------------------------------------------------------------------
class CoachIn(BaseModel):
    conversation: ConversationIn = Field(description="The conversation so far")
    draft: str | None = Field(None, max_length=MAX_TURN_CHARS, description="The agent's draft")
    playbook: str | None = Field(None, max_length=ID, description="Built-in or stored playbook")
    authority: str = Field("agent", max_length=64, description="Authority level of the agent")


class CoachOut(CoachResponse):
    """The coach's answer: the customer's state, cues (each with the id it serves and
    why), flags on the draft with rewrites, and checked suggestions within authority.
    """


# -- catalog, health, users, settings ----------------------------------------------------------
class CatalogEntryOut(_Out):
    id: str
    kind: Literal["signal", "technique", "anti_pattern", "framework"]
    name: str
    description: str
    seeds: list[int]
    better: list[str]


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    database: str


class MeOut(_Out):
    name: str
    role: Role
    team: str | None
    agent_id: str | None


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=ID)
    role: Role
    team: str | None = Field(None, max_length=ID)
    agent_id: str | None = Field(None, max_length=ID)


class UserOut(_Out):
    id: int
    name: str
    role: Role
    team: str | None
    agent_id: str | None
    key_prefix: str = Field(description="The start of the key, to tell keys apart")
    created_at: datetime


class UserCreatedOut(BaseModel):
    user: UserOut
    key: str = Field(description="The API key. It is shown this once and stored hashed.")


class SettingsOut(_Out):
    redaction: Literal["redact", "keep"]
    playbooks: list[str]
    max_upload_bytes: int
    import_batch_size: int
    fast: bool
    llm_url: str | None
    database: str
    database_backend: str
    schema_revision: str | None
    changed: list[str] = Field(description="Settings changed at run time (over the env)")


class SettingsPatch(BaseModel):
    """Run-time settings to change; null restores the environment's value."""

    model_config = ConfigDict(extra="forbid")

    redaction: Literal["redact", "keep"] | None = None
    playbooks: list[str] | None = None


def _date_bound(value: object) -> object:
    """A date ('2026-03-01': the whole day) or a date and time, from ISO 8601 text."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if "T" in text or " " in text or len(text) > 10:
            return datetime.fromisoformat(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"'{value}' is not a date (2026-03-01) or a date and time (2026-03-01T09:00:00Z)"
        ) from None


#: A query bound: a day, or an instant. Parsed before the union so errors name the field.
DateBound = Annotated[datetime | date, BeforeValidator(_date_bound)]
