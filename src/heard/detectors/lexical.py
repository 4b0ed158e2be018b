"""Lexical detectors: one per catalog id, all fed by a single scan of each turn.

The scan (one multi-pattern engine pass, `heard.detectors.lexicon`) happens once per turn
and is shared; each `LexiconDetector` then keeps the hits of its id that survive the
generic rules and its id-specific context rule. Context rules live beside the detectors
that need them (`heard.detectors.customer`, `heard.detectors.agent`) and register here.
"""

from __future__ import annotations

import builtins
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from heard.detectors.base import BaseDetector, Doc, HitIndex, TurnState
from heard.detectors.lexicon import (
    NEG_WINDOW_CHARS,
    Hit,
    Lexicon,
    builtin_lexicon,
    inside_quotes,
    is_question,
    negated,
)
from heard.model import Finding, Speaker

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
    turn.hits = out
    if not scan.ids:
        return out
    text = turn.text
    speaker = turn.speaker
    entries = lexicon.entries
    # cheap facts first: most hits have no quote, no negation cue and no veto near them
    quoted = '"' in text or "\u201c" in text or "\u201d" in text
    cues = scan.sets.get("negation") or []
    for id, matches in scan.ids.items():
        entry = entries[id]
        if speaker not in entry.speakers:
            continue
        vetoes = scan.unless.get(id, ())
        check_quotes = quoted and entry.quotes
        check_negation = entry.negation and bool(cues)
        mood = entry.mood
        kept: list[Hit] = []
        for s, e, pattern in matches:
            if check_quotes and inside_quotes(text, s, 0):
                continue
            if mood != "any" or vetoes:
                sent = turn.sentence_at(s)
                if mood != "any" and is_question(text, sent) != (mood == "question"):
                    continue
            if (
                check_negation
                and _cue_before(cues, s)
                and negated(scan, text, s, turn.clause_start(s))
            ):
                continue
            if vetoes and any(sent[0] <= vs < sent[1] for vs, _ in vetoes):
                continue
            kept.append(Hit(id, s, e, pattern.confidence, pattern.explanation))
        if kept:
            out[id] = kept
    return out


def _cue_before(cues: list[tuple[int, int]], start: int) -> bool:
    """Whether a cue ends by `start` and starts within the reach of `negated` before it
    (a necessary condition for `negated`, much cheaper than finding the clause)."""
    for s, e in islice(cues, bisect_left(cues, (start - NEG_WINDOW_CHARS, -1)), None):
        if s >= start:
            return False
        if e <= start:
            return True
    return False


#: Ids whose every kept hit in a turn is recorded, not only the first: a turn has one
#: finding per id, but each promise in it becomes a commitment ("I'll text you by 4, and
#: if it isn't there I'll send a courier"). The others are kept, as findings not added to
#: the turn, in ``doc.cache[MORE_KEY]`` (turn index -> findings); see `more_findings`.
EVERY_HIT = frozenset({"T.commit", "X.vague_commit", "T.warm_handoff"})
MORE_KEY = "lexical.more"


def more_findings(doc: Doc) -> dict[int, list[Finding]]:
    """The findings of `EVERY_HIT` ids beyond each turn's first, by turn index."""
    more = doc.cache.get(MORE_KEY)
    if not isinstance(more, dict):
        more = doc.cache[MORE_KEY] = {}
    return more


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
        self._index_key = (builtins.id(self.lexicon), self.speakers)

    def detect(self, doc: Doc) -> None:
        # only the turns with hits of this id (indexed once per conversation), in order
        rule = self.rule
        cached = doc.hit_index.get(self._index_key)
        if cached is not None and cached[0] is self.lexicon:
            index = cached[1]
        else:
            index = hit_index(doc, self.lexicon, self.speakers)
        every = self.id in EVERY_HIT
        for turn, hits in index.get(self.id, ()):
            first = True
            for hit in hits:
                kept = rule(doc, turn, hit) if rule else hit
                if kept is None:
                    continue
                found = self.finding(
                    self.id, turn, (kept.start, kept.end), kept.explanation, kept.confidence
                )
                if first:
                    doc.add(found)
                    if not every:
                        break
                    first = False
                else:
                    more_findings(doc).setdefault(turn.i, []).append(found)


def hit_index(doc: Doc, lexicon: Lexicon, speakers: frozenset[Speaker]) -> HitIndex:
    """The hits (`turn_hits`) of the turns by `speakers`, by id, in turn order.

    Built once per conversation (and speaker set), so that each of the many lexicon
    detectors visits only the turns holding hits of its own id.
    """
    key = (builtins.id(lexicon), speakers)
    cached = doc.hit_index.get(key)
    if cached is not None and cached[0] is lexicon:
        return cached[1]
    index: HitIndex = {}
    for turn in doc.turns:
        if turn.speaker not in speakers:
            continue
        for hid, hits in turn_hits(lexicon, turn).items():
            if hits:
                found = index.get(hid)
                if found is None:
                    index[hid] = [(turn, hits)]
                else:
                    found.append((turn, hits))
    doc.hit_index[key] = (lexicon, index)
    return index


def lexicon_detectors(lexicon: Lexicon | None = None) -> list[BaseDetector]:
    lex = lexicon or builtin_lexicon()
    return [LexiconDetector(id, lex) for id in lex.entries]


AGENT = Speaker.agent
CUSTOMER = Speaker.customer
