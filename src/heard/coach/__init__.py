"""The live coach: what the customer feels, what to do next, and a reply worth sending.

    from heard.coach import coach
    response = coach(conversation, draft="It's our policy, I'm afraid.", authority="agent")
    response.customer.energy, response.customer.possible_real_problem
    [c.say for c in response.cues]               # each with the catalog id it serves and why
    [f.rewrite for f in response.draft_flags]    # anti-patterns in the draft, rewritten
    [s.text for s in response.suggestions]       # checked: no anti-pattern, within authority

Everything the coach says is data (``cues.yaml``, ``replies.yaml``, ``rewrites.yaml``,
``vocabulary.yaml`` beside this module) filled with the conversation's own details; an
optional local LLM (`heard.coach.llm`) may phrase the replies instead, behind the same
checks. See docs/coach.md.
"""

from __future__ import annotations

from heard.coach.engine import Coach, coach, default_coach
from heard.coach.llm import LLMBackend, LLMConfig, LLMError, OpenAICompatibleBackend
from heard.coach.schemas import (
    CoachResponse,
    Cue,
    CustomerState,
    DraftFlag,
    Evidence,
    RejectedSuggestion,
    Suggestion,
)

__all__ = [
    "Coach",
    "CoachResponse",
    "Cue",
    "CustomerState",
    "DraftFlag",
    "Evidence",
    "LLMBackend",
    "LLMConfig",
    "LLMError",
    "OpenAICompatibleBackend",
    "RejectedSuggestion",
    "Suggestion",
    "coach",
    "default_coach",
]
