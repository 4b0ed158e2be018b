"""The live coach: one call per keystroke pause, answered in milliseconds on the lexical tier.

`Coach` holds what is expensive to build and cheap to reuse: the detector pipeline
(compiled once), resolved playbooks and company data, and the analyses of recently seen
conversations (keyed by their turns, so typing a new draft against the same conversation
does not analyse it again). `coach()` uses a process-wide `Coach`.

Per request the conversation so far is analysed once (or taken from the cache); the draft
and every candidate reply are then run through the detectors as the agent's next turn.

A live coach sees the same conversation grow a turn at a time, so a conversation not seen
before is first matched against the cached conversations with the same id: the turns of
the longest cached prefix keep their lexicon scans (a function of a turn's speaker and
text) and only the new turns are scanned. Every detector still runs over the whole conversation, so
context rules see every turn: the analysis is the one a cold run gives
(``tests/test_coach.py`` checks this on every example, cut after every turn).
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from heard.coach.checks import check_reply
from heard.coach.context import CoachContext, Seed, TurnHits, copy_hits
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
from heard.detectors.base import Doc
from heard.detectors.lexical import LexiconDetector, turn_hits
from heard.detectors.lexicon import Lexicon
from heard.errors import InputError
from heard.model import Analysis, Conversation, Speaker, clean_text
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
    #: those fields of the response, dumped once: every response is validated afresh from
    #: this (so callers never share the cached models), which is several times cheaper
    #: than deep-copying the models
    payload: dict[str, Any]


def _payload(
    analysis: Analysis,
    state: CustomerState,
    ranked: list[tuple[Cue, CueRule]],
    kept: list[Suggestion],
    rejected: list[RejectedSuggestion],
    notes: list[str],
) -> dict[str, Any]:
    return {
        "tiers": list(analysis.tiers),
        "customer": state.model_dump(),
        "cues": [c.model_dump() for c, _ in ranked],
        "suggestions": [s.model_dump() for s in kept],
        "rejected": [r.model_dump() for r in rejected],
        "commitments": [c.model_dump() for c in analysis.commitments],
        "notes": list(notes),
    }


def _digest(pb: Playbook) -> str:
    return hashlib.sha1(pb.model_dump_json().encode("utf-8")).hexdigest()


#: A cached conversation: (id, channel, its turns as (speaker, text, agent id, time)).
_Key = tuple[str, str, tuple[tuple[Any, ...], ...]]


def _key(conversation: Conversation) -> _Key:
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
        self._analyses: OrderedDict[_Key, tuple[Analysis, Seed]] = OrderedDict()
        #: the cached keys of each (id, channel), oldest first: where `_prefix` looks
        self._by_conversation: dict[tuple[str, str], list[_Key]] = {}
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
            seed = self._run(conversation, key)
            assert seed.doc is not None
            got = (self.pipeline.analysis_of(seed.doc), seed)
            self._analyses[key] = got
            self._by_conversation.setdefault(key[:2], []).append(key)
            while len(self._analyses) > self.cache_size:
                old, _ = self._analyses.popitem(last=False)
                keys = self._by_conversation[old[:2]]
                keys.remove(old)
                if not keys:
                    del self._by_conversation[old[:2]]
            return got

    def _run(self, conversation: Conversation, key: _Key) -> Seed:
        """The detectors' run over `conversation`, reusing the scans of a cached prefix.

        Equivalent to ``self.pipeline.run(conversation)``: the same detectors run in the
        same order over every turn. Each turn's lexicon hits are a function of its speaker
        and text alone, but context rules then change some hits in place, so the hits are
        read before any detector runs and kept aside (`Seed.hits`); the turns of the longest
        cached conversation with the same id, channel and first turns start from copies of
        those, and only the new turns are scanned.
        """
        lexicon = self._lexicon
        if lexicon is None:
            return Seed(self.pipeline.run(conversation))
        lex, speakers = lexicon
        base = self._prefix(key)
        before = base.hits if base is not None and base.hits is not None else []
        doc = Doc(conversation)
        hits: list[TurnHits | None] = []
        for k, turn in enumerate(doc.turns):
            old = before[k] if k < len(before) else None
            if old is not None:
                turn.hits, turn.scan = copy_hits(old[0]), old[1]
            elif turn.speaker in speakers:
                turn_hits(lex, turn)
            hits.append((copy_hits(turn.hits), turn.scan) if turn.hits is not None else None)
        for d in self.pipeline.detectors:
            d.detect(doc)
        return Seed(doc, hits=hits)

    @cached_property
    def _lexicon(self) -> tuple[Lexicon, frozenset[Speaker]] | None:
        """The one lexicon the pipeline's lexical detectors share, and the speakers whose
        turns they scan (None when they use several lexicons: then nothing is reused)."""
        lexical = [d for d in self.pipeline.detectors if isinstance(d, LexiconDetector)]
        lexicons = {id(d.lexicon): d.lexicon for d in lexical}
        if len(lexicons) != 1:
            return None
        speakers = frozenset(s for d in lexical for s in d.speakers)
        return next(iter(lexicons.values())), speakers

    def _prefix(self, key: _Key) -> Seed | None:
        """The Seed of the longest cached conversation whose turns start `key`'s turns
        (same id and channel)."""
        turns = key[2]
        best: Seed | None = None
        best_n = 0
        for k in self._by_conversation.get(key[:2], ()):
            n = len(k[2])
            if best_n < n < len(turns) and turns[:n] == k[2]:
                best, best_n = self._analyses[k][1], n
        return best

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
        if draft is not None:
            # cleaned as turn text is (NULs removed), so the flags' spans index the draft
            # the response echoes
            draft = clean_text(draft)
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
                draft=draft,
            )
            backend = resolve_backend(llm)
            memo_key = (self._digest(pb), authority)
            answer = seed.answers.get(memo_key) if backend is None else None
            if answer is None:
                slots = base_slots(ctx)
                ranked = find_cues(ctx, slots, limit=MAX_CUES)
                notes: list[str] = []
                kept, rejected = self._suggest(ctx, ranked, slots, backend, notes)
                state = customer_state(ctx)
                payload = _payload(analysis, state, ranked, kept, rejected, notes)
                answer = _Answer(slots, ranked, kept, rejected, notes, state, payload)
                if backend is None:
                    seed.answers[memo_key] = answer
            flags = draft_flags(ctx, draft, answer.slots) if draft and draft.strip() else []
        response = CoachResponse.model_validate(
            {
                **answer.payload,
                "conversation_id": conversation.id,
                "turns": len(conversation.turns),
                "playbook": pb.key,
                "authority": authority,
                "draft": draft,
                "draft_flags": flags,  # new models of this request: not validated again
            }
        )
        response.elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
        return response

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
