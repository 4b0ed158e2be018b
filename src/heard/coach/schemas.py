"""What the live coach returns: the customer's state, cues, draft flags and suggested replies.

These are the response types of `heard.coach.coach` and of ``POST /coach``; field names are
part of the API. Every cue, flag and suggestion names the catalog ids it is about, so the
agent (and a QA coach later) can see *why* it was shown.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from heard.model import Commitment, Risk

Trend = Literal["rising", "falling", "steady", "unknown"]


class Evidence(BaseModel):
    """Words in the conversation a statement rests on."""

    turn: int
    span: tuple[int, int]
    text: str
    id: str | None = Field(None, description="The catalog id found there, if any.")


class CustomerState(BaseModel):
    """How the customer is doing, read from the customer turns so far."""

    emotions: dict[str, float] = Field(
        default_factory=dict, description="Service emotions of the latest customer turn."
    )
    dominant: str | None = Field(None, description="The strongest emotion of the latest turn.")
    energy: int | None = Field(None, description="Energy (0-3) of the latest customer turn.")
    energy_trend: list[int | None] = Field(
        default_factory=list, description="Energy of every customer turn, in order."
    )
    trend: Trend = "unknown"
    risk: Risk = Field(default_factory=lambda: Risk(one_star=0.0))
    signals: list[str] = Field(
        default_factory=list, description="C.* ids in the customer's latest message(s)."
    )
    stated_demand: list[Evidence] = Field(
        default_factory=list, description="What the customer asks for (C.demand findings)."
    )
    possible_real_problem: str = Field(
        "unknown",
        description="A cautious hint at what may matter underneath, or 'unknown'.",
    )
    real_problem_evidence: list[Evidence] = Field(default_factory=list)
    open_questions: list[Evidence] = Field(
        default_factory=list,
        description="Outcome questions no agent turn has answered yet (C.outcome_question).",
    )


class Cue(BaseModel):
    """One thing to do next, the catalog id it serves and why it is shown now."""

    id: str = Field(description="The cue rule's id (coach/cues.yaml).")
    serves: str = Field(description="The catalog id (T.*) this cue asks for.")
    say: str = Field(description="The cue, in a few words.")
    why: str = Field(description="What in the conversation triggered it.")
    priority: int
    step: str | None = Field(
        None, description="The playbook step this cue helps meet ('<id>: <name>')."
    )
    evidence: list[Evidence] = Field(default_factory=list)


class DraftFlag(BaseModel):
    """An anti-pattern found in the agent's draft, with a better move and a rewrite."""

    id: str = Field(description="The anti-pattern (X.*).")
    span: tuple[int, int]
    text: str
    explanation: str
    detector: str
    better: list[str] = Field(default_factory=list, description="Catalog ids of the better move.")
    advice: str = Field(description="What to do instead, in plain words.")
    rewrite: str = Field(description="A rewrite built from templates and this case's details.")
    slots: list[str] = Field(
        default_factory=list,
        description="Placeholders (⟨…⟩) in the rewrite only the agent can fill.",
    )


class Suggestion(BaseModel):
    """A suggested next reply that passed the detectors and the authority check."""

    text: str
    techniques: list[str] = Field(description="Technique ids the reply is built to use.")
    detected: list[str] = Field(
        default_factory=list, description="Technique ids the detectors found in the reply."
    )
    source: Literal["template", "llm"] = "template"
    recipe: str | None = Field(None, description="The reply recipe (coach/replies.yaml).")
    cue: str | None = Field(None, description="The cue this reply answers.")
    remedies: list[str] = Field(default_factory=list, description="Remedy ids it offers.")
    slots: list[str] = Field(
        default_factory=list, description="Placeholders (⟨…⟩) only the agent can fill."
    )


class RejectedSuggestion(BaseModel):
    """A candidate reply that was not shown, and why (for transparency and tests)."""

    text: str
    source: Literal["template", "llm"]
    reasons: list[str]


class CoachResponse(BaseModel):
    """Everything the coach has to say about the conversation so far (and the draft)."""

    conversation_id: str
    turns: int = Field(description="How many turns of the conversation were read.")
    playbook: str
    authority: str
    tiers: list[str]
    customer: CustomerState
    cues: list[Cue] = Field(default_factory=list)
    draft: str | None = None
    draft_flags: list[DraftFlag] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(default_factory=list)
    rejected: list[RejectedSuggestion] = Field(default_factory=list)
    commitments: list[Commitment] = Field(
        default_factory=list, description="Promises made so far, with their status."
    )
    notes: list[str] = Field(default_factory=list)
    elapsed_ms: float = 0.0


__all__ = [
    "CoachResponse",
    "Cue",
    "CustomerState",
    "DraftFlag",
    "Evidence",
    "RejectedSuggestion",
    "Suggestion",
    "Trend",
]
