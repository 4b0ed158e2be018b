"""Lexical detectors: one per catalog id, all fed by a single scan of each turn.

The scan (one multi-pattern engine pass, `heard.detectors.lexicon`) happens once per turn
and is shared; each `LexiconDetector` then keeps the hits of its id that survive the
generic rules and its id-specific context rule. Context rules live beside the detectors
that need them (`heard.detectors.customer`, `heard.detectors.agent`) and register here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from heard.detectors.base import BaseDetector, Doc, TurnState
from heard.detectors.lexicon import (
    Hit,
    Lexicon,
    builtin_lexicon,
    inside_quotes,
    is_question,
    negated,
)
from heard.model import Speaker

#: An id-specific context rule: return the hit (possibly changed) to keep it, None to drop.
Rule = Callable[[Doc, TurnState, Hit], Hit | None]


@dataclass(frozen=True, slots=True)
class RuleSpec:
    fn: Rule
    requires: tuple[str, ...]
    version: int


RULES: dict[str, RuleSpec] = {}


def rule(id: str, *, requires: tuple[str, ...] = (), version: int = 1) -> Callable[[Rule], Rule]:
    """Register a context rule for lexicon hits of `id`."""

    def deco(fn: Rule) -> Rule:
        RULES[id] = RuleSpec(fn, requires, version)
        return fn

    return deco


def turn_hits(lexicon: Lexicon, turn: TurnState) -> dict[str, list[Hit]]:
    """Hits of every id in `turn` after the generic rules (cached on the turn)."""
    if turn.hits is not None:
        return turn.hits
    scan = lexicon.scan(turn.text, turn.speaker)
    turn.scan = scan
    out: dict[str, list[Hit]] = {}
    text = turn.text
    for id, matches in scan.ids.items():
        entry = lexicon.entries[id]
        if turn.speaker not in entry.speakers:
            continue
        vetoes = scan.unless.get(id, ())
        kept: list[Hit] = []
        for s, e, pattern in matches:
            sent = turn.sentence_at(s)
            if entry.quotes and inside_quotes(text, s, sent[0]):
                continue
            if entry.mood != "any" and is_question(text, sent) != (entry.mood == "question"):
                continue
            if entry.negation and negated(scan, text, s, turn.clause_start(s)):
                continue
            if vetoes and any(sent[0] <= vs < sent[1] for vs, _ in vetoes):
                continue
            kept.append(Hit(id, s, e, pattern.confidence, pattern.explanation))
        if kept:
            out[id] = kept
    turn.hits = out
    return out


class LexiconDetector(BaseDetector):
    """Emits the lexicon hits of one id (after its context rule) as findings."""

    def __init__(self, id: str, lexicon: Lexicon | None = None) -> None:
        self.id = id
        self.lexicon = lexicon or builtin_lexicon()
        entry = self.lexicon.entries[id]
        spec = RULES.get(id)
        self.rule = spec.fn if spec else None
        self.name = f"lexical.{id}"  # type: ignore[misc]
        self.version = 1 + (spec.version - 1 if spec else 0)  # type: ignore[misc]
        self.speakers = entry.speakers
        self.requires = spec.requires if spec else ()
        self.produces = (id,)

    def detect(self, doc: Doc) -> None:
        for turn in doc.turns:
            if turn.speaker not in self.speakers:
                continue
            hits = turn_hits(self.lexicon, turn).get(self.id)
            if not hits:
                continue
            for hit in hits:
                kept = self.rule(doc, turn, hit) if self.rule else hit
                if kept is not None:
                    doc.add(
                        self.finding(
                            self.id,
                            turn,
                            (kept.start, kept.end),
                            kept.explanation,
                            kept.confidence,
                        )
                    )
                    break


def lexicon_detectors(lexicon: Lexicon | None = None) -> list[BaseDetector]:
    lex = lexicon or builtin_lexicon()
    return [LexiconDetector(id, lex) for id in lex.entries]


AGENT = Speaker.agent
CUSTOMER = Speaker.customer
