"""The live coach: one call per keystroke pause, answered in milliseconds on the lexical tier.

`Coach` holds what is expensive to build and cheap to reuse: the detector pipeline
(compiled once), resolved playbooks and company data, and the analyses of recently seen
conversations (keyed by their turns, so typing a new draft against the same conversation
does not analyse it again). `coach()` uses a process-wide `Coach`.

Per request the conversation so far is analysed once (or taken from the cache); the draft
and every candidate reply are then run through the detectors as the agent's next turn.
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from heard.coach.checks import check_reply
from heard.coach.context import CoachContext, Seed
from heard.coach.cues import cues as find_cues
from heard.coach.data import CueRule
from heard.coach.drafts import draft_flags
from heard.coach.llm import LLMBackend, LLMError, build_messages, resolve_backend
from heard.coach.schemas import (
    CoachResponse,
    Cue,
    CustomerState,
    RejectedSuggestion,
    Suggestion,
)
from heard.coach.slots import base_slots
from heard.coach.state import customer_state
from heard.coach.suggest import suggestions as template_suggestions
from heard.coach.templates import placeholders
from heard.errors import InputError
from heard.model import Analysis, Conversation
from heard.pipeline import Pipeline
from heard.scoring.playbook import Company, Playbook, load_company, resolve

DEFAULT_PLAYBOOK = "company"
MAX_SUGGESTIONS = 3
MAX_CUES = 4


@dataclass(frozen=True, slots=True)
class _Answer:
    """The draft-independent part of a response, kept with the conversation's analysis."""

    slots: dict[str, str | None]
    ranked: list[tuple[Cue, CueRule]]
    kept: list[Suggestion]
    rejected: list[RejectedSuggestion]
    notes: list[str]
    state: CustomerState


def _digest(pb: Playbook) -> str:
    return hashlib.sha1(pb.model_dump_json().encode("utf-8")).hexdigest()


def _key(conversation: Conversation) -> Hashable:
    return (
        conversation.id,
        conversation.channel,
        tuple((t.speaker, t.text, t.agent_id, t.ts) for t in conversation.turns),
    )


class Coach:
    """A reusable live coach (see module docstring). Safe to share between threads."""

    def __init__(self, pipeline: Pipeline | None = None, *, cache_size: int = 256) -> None:
        self.pipeline = pipeline if pipeline is not None else Pipeline(fast=True, playbooks=[])
        self.cache_size = cache_size
        from heard.commitments import warm_up

        warm_up()  # pay dateparser's start-up here, not in a live request
        self._analyses: OrderedDict[Hashable, tuple[Analysis, Seed]] = OrderedDict()
        self._playbooks: dict[str, tuple[Playbook, Company]] = {}
        self._digests: dict[int, tuple[Playbook, str]] = {}
        self._lock = threading.RLock()

    # -- cached reads ---------------------------------------------------------------------
    def analysis(self, conversation: Conversation) -> Analysis:
        """The analysis of `conversation`, from the cache when its turns were seen before."""
        return self._entry(conversation)[0]

    def _entry(self, conversation: Conversation) -> tuple[Analysis, Seed]:
        key = _key(conversation)
        with self._lock:
            got = self._analyses.get(key)
            if got is not None:
                self._analyses.move_to_end(key)
                return got
            doc = self.pipeline.run(conversation)
            got = (self.pipeline.analysis_of(doc), Seed(doc))
            self._analyses[key] = got
            while len(self._analyses) > self.cache_size:
                self._analyses.popitem(last=False)
            return got

    def playbook(self, spec: str | Playbook | None) -> tuple[Playbook, Company]:
        """The playbook and the company data it brings (the default company's if none)."""
        if isinstance(spec, Playbook):
            return spec, self._company_of(spec)
        name = spec or DEFAULT_PLAYBOOK
        with self._lock:
            got = self._playbooks.get(name)
            if got is None:
                pb = resolve(name)
                got = (pb, self._company_of(pb))
                self._playbooks[name] = got
            return got

    @staticmethod
    def _company_of(pb: Playbook) -> Company:
        if pb.remedies or pb.escalation:
            return pb.company()
        return load_company()

    # -- the coach ------------------------------------------------------------------------
    def coach(
        self,
        conversation: Conversation,
        *,
        draft: str | None = None,
        playbook: str | Playbook | None = None,
        authority: str = "agent",
        llm: LLMBackend | str | None = None,
    ) -> CoachResponse:
        """Cues, draft flags and suggested replies for the conversation so far."""
        started = time.perf_counter()
        if not conversation.turns:
            raise InputError("the coach needs at least one turn of the conversation")
        pb, company = self.playbook(playbook)
        company.rank(authority)  # PlaybookError (E201) names the levels for an unknown one
        with self._lock:
            analysis, seed = self._entry(conversation)
            ctx = CoachContext(
                conversation=conversation,
                analysis=analysis,
                pipeline=self.pipeline,
                playbook=pb,
                company=company,
                authority=authority,
                seed=seed,
            )
            backend = resolve_backend(llm)
            memo_key = (self._digest(pb), authority)
            answer = seed.answers.get(memo_key) if backend is None else None
            if answer is None:
                slots = base_slots(ctx)
                ranked = find_cues(ctx, slots, limit=MAX_CUES)
                notes: list[str] = []
                kept, rejected = self._suggest(ctx, ranked, slots, backend, notes)
                answer = _Answer(slots, ranked, kept, rejected, notes, customer_state(ctx))
                if backend is None:
                    seed.answers[memo_key] = answer
            flags = draft_flags(ctx, draft, answer.slots) if draft and draft.strip() else []
        return CoachResponse(
            conversation_id=conversation.id,
            turns=len(conversation.turns),
            playbook=pb.key,
            authority=authority,
            tiers=list(analysis.tiers),
            customer=answer.state.model_copy(deep=True),
            cues=[c.model_copy(deep=True) for c, _ in answer.ranked],
            draft=draft,
            draft_flags=flags,
            suggestions=[s.model_copy(deep=True) for s in answer.kept],
            rejected=[r.model_copy(deep=True) for r in answer.rejected],
            commitments=[c.model_copy() for c in analysis.commitments],
            notes=list(answer.notes),
            elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    def _digest(self, pb: Playbook) -> str:
        """A digest of the playbook's content (cached per object)."""
        got = self._digests.get(id(pb))
        if got is not None and got[0] is pb:
            return got[1]
        digest = _digest(pb)
        if len(self._digests) > 256:
            self._digests.clear()
        self._digests[id(pb)] = (pb, digest)
        return digest

    def _suggest(
        self,
        ctx: CoachContext,
        ranked: list[tuple[Cue, CueRule]],
        slots: dict[str, str | None],
        backend: LLMBackend | None,
        notes: list[str],
    ) -> tuple[list[Suggestion], list[RejectedSuggestion]]:
        rejected: list[RejectedSuggestion] = []
        if backend is not None:
            kept: list[Suggestion] = []
            try:
                # ask for three; check up to twice that many if the model offers more
                candidates = backend.complete(
                    build_messages(ctx, [c for c, _ in ranked], n=MAX_SUGGESTIONS),
                    n=2 * MAX_SUGGESTIONS,
                )
            except LLMError as exc:
                notes.append(f"LLM not used ({exc}); replies are from templates")
                candidates = []
            for text in candidates:
                verdict = check_reply(ctx, text)
                if not verdict.ok:
                    rejected.append(
                        RejectedSuggestion(text=text, source="llm", reasons=verdict.reasons)
                    )
                    continue
                kept.append(
                    Suggestion(
                        text=text.strip(),
                        techniques=verdict.detected,
                        detected=verdict.detected,
                        source="llm",
                        remedies=verdict.remedies,
                        slots=placeholders(text),
                    )
                )
            if rejected:
                n = len(rejected)
                notes.append(
                    f"{n} LLM repl{'y' if n == 1 else 'ies'} dropped by the detectors "
                    "or the authority check"
                )
            if kept:
                return kept[:MAX_SUGGESTIONS], rejected
            if candidates:
                notes.append("no LLM reply passed the checks; replies are from templates")
        kept_t, rejected_t = template_suggestions(ctx, ranked, slots, limit=MAX_SUGGESTIONS)
        return kept_t, rejected + rejected_t


_default: Coach | None = None
_by_pipeline: weakref.WeakKeyDictionary[Pipeline, Coach] = weakref.WeakKeyDictionary()
_default_lock = threading.Lock()


def default_coach(pipeline: Pipeline | None = None) -> Coach:
    """The process-wide coach (one per pipeline given)."""
    global _default
    with _default_lock:
        if pipeline is not None:
            got = _by_pipeline.get(pipeline)
            if got is None:
                got = Coach(pipeline)
                _by_pipeline[pipeline] = got
            return got
        if _default is None:
            _default = Coach()
        return _default


def coach(
    conversation: Conversation,
    *,
    draft: str | None = None,
    playbook: str | Playbook | None = None,
    authority: str = "agent",
    pipeline: Pipeline | None = None,
    llm: LLMBackend | str | None = None,
) -> CoachResponse:
    """Coach the next reply in `conversation` (the conversation so far).

    - `draft`: the agent's draft reply; flagged for anti-patterns, with rewrites.
    - `playbook`: a built-in name ("F.jerk"), a YAML path or a Playbook; its steps rank the
      cues, its remedies/policies/escalation bound the suggestions (default: ``company``;
      a playbook without remedies uses the built-in example company's).
    - `authority`: the agent's level in the company's ``authority_levels``.
    - `pipeline`: the detectors to use (default: a cached lexical-tier pipeline).
    - `llm`: an `LLMBackend`, an endpoint URL, or None for ``HEARD_LLM_URL`` (unset: off).
    """
    return default_coach(pipeline).coach(
        conversation, draft=draft, playbook=playbook, authority=authority, llm=llm
    )


__all__ = ["DEFAULT_PLAYBOOK", "Coach", "coach", "default_coach"]
