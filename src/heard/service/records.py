"""What the service returns: stored conversations, pages, reports (pydantic models).

These are the service's own types; interfaces turn them into their own shapes (the API's
``*Out`` schemas, the CLI's tables).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from heard.model import Analysis, Conversation, Risk
from heard.privacy import Redaction
from heard.service.auth import Role

T = TypeVar("T")

CommitmentStatus = Literal["open", "done", "overdue"]
Sort = Literal["-imported_at", "imported_at", "-started_at", "started_at", "-risk", "risk", "id"]


class _Record(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)


class ImportedProblem(BaseModel):
    code: str
    message: str
    line: int | None = None
    field: str | None = None


class ImportReport(BaseModel):
    """What an import did: ids written (new or replaced), rows skipped, problems."""

    source: str
    imported: list[str] = Field(default_factory=list)
    replaced: list[str] = Field(default_factory=list)
    skipped: int = 0
    problems: list[ImportedProblem] = Field(default_factory=list)


class ConversationQuery(BaseModel):
    """Filters for listing stored conversations (all optional, combined with AND)."""

    agent: str | None = None
    date_from: date | datetime | None = None
    date_to: date | datetime | None = None
    risk: Literal["low", "medium", "high"] | None = None
    min_risk: float | None = Field(None, ge=0.0, le=1.0)
    finding: list[str] = Field(default_factory=list)
    playbook: str | None = None
    min_score: float | None = Field(None, ge=0.0, le=1.0)
    max_score: float | None = Field(None, ge=0.0, le=1.0)
    q: str | None = None
    team: str | None = None
    sort: Sort = "-imported_at"
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _score_needs_playbook(self) -> ConversationQuery:
        if (self.min_score is not None or self.max_score is not None) and not self.playbook:
            raise ValueError("min_score / max_score need a playbook to compare scores of")
        return self


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ConversationSummary(BaseModel):
    id: str
    channel: str
    team: str | None
    started_at: datetime | None
    imported_at: datetime
    turn_count: int
    agent_ids: list[str]
    preview: str
    risk: Risk | None
    scores: dict[str, float | None]
    finding_ids: list[str]
    open_commitments: int


class StoredCommitment(BaseModel):
    id: int
    conversation_id: str
    turn: int | None
    what: str
    owner: str
    due: datetime | None
    due_text: str | None
    kind: str
    status: CommitmentStatus
    source: Literal["extracted", "manual"]
    finding: str | None
    explanation: str
    closed_turn: int | None
    created_at: datetime
    closed_at: datetime | None
    created_by: str | None


class CommitmentQuery(BaseModel):
    status: CommitmentStatus | None = None
    overdue: bool | None = None
    conversation_id: str | None = None
    owner: str | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class StoredConversation(_Record):
    """A conversation as stored, with its analysis, redactions and commitments.

    ``conversation`` holds what this viewer may see: the redacted text, or for an admin
    in 'keep' mode the originals (``originals_shown``). The analysis always reads the
    redacted text, so its spans index that text.
    """

    conversation: Conversation
    team: str | None
    source: str | None
    redaction: str
    imported_at: datetime
    updated_at: datetime
    analysis: Analysis | None
    redactions: list[Redaction]
    #: per turn, the unredacted text when the viewer may see it and it differs
    originals: list[str | None] | None
    commitments: list[StoredCommitment]
    analyzed_at: datetime | None


class StoredPlaybook(BaseModel):
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


class UserRecord(BaseModel):
    id: int
    name: str
    role: Role
    team: str | None
    agent_id: str | None
    key_prefix: str
    created_at: datetime


class EffectiveSettings(BaseModel):
    """Settings as they apply now: environment values with admins' changes on top."""

    redaction: Literal["redact", "keep"]
    playbooks: list[str]
    max_upload_bytes: int
    import_batch_size: int
    fast: bool
    llm_url: str | None
    database: str
    database_backend: str
    schema_revision: str | None
    changed: list[str]
