"""One coaching request's working state: the conversation so far, analysed once.

Cues, draft flags and suggestions all read the same `CoachContext`: the analysis of the
conversation so far (run once), the playbook and company data, the agent's authority
level, and lazily the case facts and demands. A candidate reply (a draft, a template
suggestion, an LLM reply) is checked by running the detectors on it as the next agent
turn, with the conversation so far as its context (`next_agent_turn`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from heard.coach.authority import DemandAssessment, assess_demands
from heard.coach.specifics import CaseFacts, case_facts
from heard.detectors.base import Doc, TurnState
from heard.detectors.case import CACHE_KEY as CASE_DETAILS
from heard.detectors.case import USED_KEY as CASE_USED
from heard.detectors.lexicon import Hit, Scan
from heard.model import Analysis, Conversation, Finding, Speaker, Turn, TurnAnalysis
from heard.pipeline import Pipeline
from heard.scoring.playbook import Company, Playbook

#: A turn's lexicon hits as the scan left them, before any context rule ran, and its scan.
TurnHits = tuple[dict[str, list[Hit]], Scan | None]


def copy_hits(hits: dict[str, list[Hit]] | None) -> dict[str, list[Hit]]:
    """Fresh copies of a turn's hits: context rules change hits in place (their
    explanation, their confidence), so a run must never share them with another."""
    if not hits:
        return {}
    return {
        k: [Hit(h.id, h.start, h.end, h.confidence, h.explanation) for h in v]
        for k, v in hits.items()
    }


@dataclass(slots=True)
class Seed:
    """The detector run over the conversation so far, whose work later runs reuse.

    A candidate reply is checked as one more *agent* turn after the same turns, so what
    the detectors computed from those turns alone carries over:

    - each turn's lexicon hits and scan (pure functions of its text);
    - the customer (and system) turns' findings, emotions and energy, and the shared
      cache entries computed from them: detectors that read only customer turns are
      not run again, since one more agent turn cannot change what a customer said;
    - the case details and their per-turn echoes (`heard.detectors.case`), which also
      read @handles in agent turns, so only when the new turn has none.

    Detectors that read agent turns all run again over every turn, so context rules see
    the new turn. ``tests/test_coach.py`` checks that the new turn's findings equal a full
    pipeline run's on every example.

    Context rules change hits in place, so the hits a later run starts from are those
    taken before any detector ran (`hits`, per turn, when the coach kept them), copied.
    """

    doc: Doc | None = None
    #: each turn's hits and scan before the detectors ran (None: not scanned / not kept)
    hits: list[TurnHits | None] | None = None
    facts: CaseFacts | None = None
    #: what the coach said about these turns, by (playbook digest, authority): it does not
    #: depend on the draft, so typing a new draft only checks the draft
    answers: dict[tuple[str, str], Any] = field(default_factory=dict)


@dataclass(slots=True)
class CoachContext:
    conversation: Conversation
    analysis: Analysis
    pipeline: Pipeline
    playbook: Playbook
    company: Company
    authority: str
    seed: Seed = field(default_factory=Seed)
    #: the agent's draft of this request, if any: checked too, so it joins the prefetch
    draft: str | None = None
    _facts: CaseFacts | None = None
    _demands: DemandAssessment | None = None
    _checked: dict[str, TurnState] = field(default_factory=dict)

    # -- lazily computed reads ----------------------------------------------------------
    @property
    def facts(self) -> CaseFacts:
        if self._facts is None:
            if self.seed.facts is None:
                self.seed.facts = case_facts(self.analysis)
            self._facts = self.seed.facts
        return self._facts

    @property
    def demands(self) -> DemandAssessment:
        if self._demands is None:
            self._demands = assess_demands(self.analysis, self.company)
        return self._demands

    # -- turns --------------------------------------------------------------------------
    @property
    def turns(self) -> list[TurnAnalysis]:
        return self.analysis.turns

    def of(self, speaker: Speaker) -> list[TurnAnalysis]:
        return [t for t in self.analysis.turns if t.speaker is speaker]

    def last(self, speaker: Speaker) -> TurnAnalysis | None:
        for t in reversed(self.analysis.turns):
            if t.speaker is speaker:
                return t
        return None

    def latest_customer_turns(self) -> list[TurnAnalysis]:
        """The customer's messages since the last agent reply (their current message)."""
        out: list[TurnAnalysis] = []
        for t in reversed(self.analysis.turns):
            if t.speaker is Speaker.agent:
                break
            if t.speaker is Speaker.customer:
                out.append(t)
        return list(reversed(out))

    def agent_finding(self, ids: Iterable[str], *, after: int = -1) -> Finding | None:
        """The first agent finding with one of `ids` in a turn after index `after`."""
        wanted = set(ids)
        for t in self.analysis.turns:
            if t.i <= after or t.speaker is not Speaker.agent:
                continue
            for f in t.findings:
                if f.id in wanted:
                    return f
        return None

    def customer_findings(self, id: str) -> list[Finding]:
        return [
            f
            for t in self.analysis.turns
            if t.speaker is Speaker.customer
            for f in t.findings
            if f.id == id
        ]

    @property
    def agent_id(self) -> str | None:
        for t in reversed(self.conversation.turns):
            if t.speaker is Speaker.agent and t.agent_id:
                return t.agent_id
        return None

    @property
    def last_ts(self) -> datetime | None:
        for t in reversed(self.conversation.turns):
            if t.ts is not None:
                return t.ts
        return None

    def text(self, turn: int) -> str:
        return self.conversation.turns[turn].text

    def facts_sentence(self, turn: int, span: tuple[int, int]) -> tuple[int, int]:
        """The sentence of `turn` holding `span`."""
        state = TurnState(i=turn, speaker=Speaker.customer, text=self.text(turn))
        return state.sentence_at(span[0])

    # -- checking a candidate reply -----------------------------------------------------
    def prefetch(self, texts: Iterable[str]) -> None:
        """Let detectors batch their work for the replies about to be checked.

        The semantic tier embeds the sentences of all of them (and of the draft) in one
        encoder call, instead of one call per reply: on a CPU the call overhead and the
        torch threads' start-up cost as much as the few sentences themselves. Detectors
        without a ``prefetch`` method are skipped; results are the same either way.
        """
        todo = sorted({t for t in (*texts, self.draft or "") if t.strip()} - self._checked.keys())
        if not todo:
            return
        for d in self.pipeline.detectors:
            prefetch = getattr(d, "prefetch", None)
            if callable(prefetch):
                prefetch(todo)

    def next_agent_turn(self, text: str) -> TurnState:
        """The detectors' view of `text` as the agent's next turn (cached per text)."""
        got = self._checked.get(text)
        if got is not None:
            return got
        turn = Turn(speaker=Speaker.agent, text=text, agent_id=self.agent_id, ts=self.last_ts)
        conv = Conversation(
            id=self.conversation.id,
            channel=self.conversation.channel,
            meta=self.conversation.meta,
            turns=[*self.conversation.turns, turn],
        )
        doc = self._run(conv)
        state = doc.turns[-1]
        self._checked[text] = state
        return state

    def _run(self, conv: Conversation) -> Doc:
        base = self.seed.doc
        if base is None or len(base.turns) + 1 != len(conv.turns):
            return self.pipeline.run(conv)
        doc = Doc(conv)
        # Only hits kept before any context rule ran are reused: `base`'s own hits have been
        # through the rules (which change them in place), and a turn without kept hits is
        # scanned again.
        kept = self.seed.hits or []
        for k, (new, old) in enumerate(zip(doc.turns, base.turns, strict=False)):
            before = kept[k] if k < len(kept) else None
            if before is not None:
                new.hits, new.scan = copy_hits(before[0]), before[1]
            if old.speaker is not Speaker.agent:
                new.findings = list(old.findings)
                new.emotions = dict(old.emotions)
                new.energy = old.energy
        for key, value in base.cache.items():
            if key not in (CASE_DETAILS, CASE_USED):
                doc.cache[key] = value
        if "@" not in conv.turns[-1].text:
            details = base.cache.get(CASE_DETAILS)
            if details is not None:
                doc.cache[CASE_DETAILS] = details
                used = base.cache.get(CASE_USED)
                if isinstance(used, dict):
                    doc.cache[CASE_USED] = dict(used)
        for d in self.pipeline.detectors:
            if Speaker.agent in d.speakers:
                d.detect(doc)
        return doc


__all__ = ["CoachContext", "Seed", "TurnHits", "copy_hits"]
