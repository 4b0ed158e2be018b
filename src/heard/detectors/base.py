"""The detector interface and the per-conversation working state detectors share.

A detector reads a `Doc` (one conversation being analysed) and adds findings to it. It
declares which speakers it reads, which ids (or features such as ``emotions`` and
``energy``) it requires from earlier detectors and which it produces; the pipeline orders
detectors by those declarations and refuses configurations it cannot satisfy.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from heard.model import Conversation, Finding, Speaker, trusted

if TYPE_CHECKING:
    from heard.detectors.lexicon import Hit, Lexicon, Scan

#: Lexicon hits of a conversation by id: the turns with hits of it, in order, and the hits.
HitIndex = dict[str, list[tuple["TurnState", list["Hit"]]]]

#: Features (not catalog ids) that detectors may produce and require.
FEATURES = frozenset({"emotions", "energy", "semantic"})

_SENTENCE_END = re.compile(r"[.!?]+(?:\s+|$)|\n+")
_CLAUSE_BREAK = re.compile(r"[,;:()\u2013\u2014]|\s-\s|\bbut\b|\bthough\b|\bhowever\b", re.I)


def lower(text: str) -> str:
    """``text.lower()`` with the same length, so offsets in it are offsets in `text`.

    ``str.lower`` keeps every character's length but one: U+0130 (capital I with dot
    above, Turkish) becomes two ("i" and a combining dot). It is lower-cased to "i" here.
    """
    if "\u0130" in text:
        text = text.replace("\u0130", "i")
    return text.lower()


@dataclass(slots=True)
class TurnState:
    """What detectors know about one turn while a conversation is analysed."""

    i: int
    speaker: Speaker
    text: str
    findings: list[Finding] = field(default_factory=list)
    emotions: dict[str, float] = field(default_factory=dict)
    energy: int | None = None
    hits: dict[str, list[Hit]] | None = None
    scan: Scan | None = None
    _lower: str | None = None
    _sentences: list[tuple[int, int]] | None = None
    _sentence_starts: list[int] | None = None
    _clause_breaks: list[tuple[int, int]] | None = None

    @property
    def lower(self) -> str:
        if self._lower is None:
            self._lower = lower(self.text)
        return self._lower

    def sentences(self) -> list[tuple[int, int]]:
        """Character spans of sentences (a cheap splitter: ., !, ? and newlines)."""
        if self._sentences is None:
            spans: list[tuple[int, int]] = []
            start = 0
            for m in _SENTENCE_END.finditer(self.text):
                if m.end() > start:
                    spans.append((start, m.end()))
                start = m.end()
            if start < len(self.text):
                spans.append((start, len(self.text)))
            self._sentences = spans or [(0, len(self.text))]
        return self._sentences

    def sentence_at(self, pos: int) -> tuple[int, int]:
        # bisect, not a scan: a long turn with many hits must not cost hits x sentences
        spans = self.sentences()
        if self._sentence_starts is None:
            self._sentence_starts = [s for s, _ in spans]
        k = bisect_right(self._sentence_starts, pos) - 1
        if k >= 0 and spans[k][0] <= pos < spans[k][1]:
            return spans[k]
        return 0, len(self.text)

    def clause_start(self, pos: int) -> int:
        """Start of the clause holding `pos` (after the last comma, 'but', dash ...)."""
        s, _ = self.sentence_at(pos)
        if self._clause_breaks is None:  # found once per turn, then bisected per hit
            self._clause_breaks = [m.span() for m in _CLAUSE_BREAK.finditer(self.text)]
        k = bisect_right(self._clause_breaks, pos, key=lambda b: b[1]) - 1
        if k >= 0 and self._clause_breaks[k][0] >= s:
            return self._clause_breaks[k][1]
        return s

    def has(self, id: str) -> bool:
        return any(f.id == id for f in self.findings)

    def get(self, id: str) -> Finding | None:
        for f in self.findings:
            if f.id == id:
                return f
        return None


class Doc:
    """A conversation under analysis: its turns, their findings so far, shared caches."""

    __slots__ = ("cache", "conversation", "hit_index", "turns")

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.turns: list[TurnState] = [
            TurnState(i=i, speaker=t.speaker, text=t.text) for i, t in enumerate(conversation.turns)
        ]
        #: free-form per-conversation cache shared by detectors (e.g. case details)
        self.cache: dict[str, object] = {}
        #: lexicon hits by id, per (lexicon, speakers): see `heard.detectors.lexical`
        self.hit_index: dict[tuple[int, frozenset[Speaker]], tuple[Lexicon, HitIndex]] = {}

    def of(self, *speakers: Speaker) -> Iterator[TurnState]:
        for t in self.turns:
            if t.speaker in speakers:
                yield t

    def previous(self, i: int, speaker: Speaker) -> TurnState | None:
        """The nearest earlier turn by `speaker`."""
        for j in range(i - 1, -1, -1):
            if self.turns[j].speaker == speaker:
                return self.turns[j]
        return None

    def add(self, finding: Finding) -> None:
        """Add a finding; one finding per (id, turn): the more confident one is kept."""
        turn = self.turns[finding.turn]
        for k, old in enumerate(turn.findings):
            if old.id == finding.id:
                if finding.confidence > old.confidence:
                    turn.findings[k] = finding
                return
        turn.findings.append(finding)

    def remove(self, turn: int, id: str) -> None:
        t = self.turns[turn]
        t.findings = [f for f in t.findings if f.id != id]


@runtime_checkable
class Detector(Protocol):
    """What the pipeline needs of a detector (built-in and third-party alike)."""

    # Read-only properties, so that class attributes (BaseDetector subclasses) and instance
    # attributes (LexiconDetector) both satisfy the protocol.
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def speakers(self) -> frozenset[Speaker]: ...
    @property
    def requires(self) -> tuple[str, ...]: ...
    @property
    def produces(self) -> tuple[str, ...]: ...

    def detect(self, doc: Doc) -> None:
        """Read `doc` and add findings (or emotions/energy) to its turns."""


class BaseDetector:
    """Convenience base: fills the declarations and builds findings with provenance."""

    name: ClassVar[str] = "detector"
    version: ClassVar[int] = 1
    speakers: frozenset[Speaker] = frozenset({Speaker.customer, Speaker.agent})
    requires: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"

    def finding(
        self,
        id: str,
        turn: TurnState,
        span: tuple[int, int],
        explanation: str,
        confidence: float = 0.8,
    ) -> Finding:
        s, e = span
        c = max(0.0, min(1.0, confidence))
        if (
            type(s) is int
            and type(e) is int
            and type(c) is float
            and type(id) is str
            and type(explanation) is str
        ):
            # the values are of the fields' types and in range: no validation needed
            return trusted(
                Finding,
                {
                    "id": id,
                    "turn": turn.i,
                    "span": (s, e),
                    "text": turn.text[s:e],
                    "confidence": c,
                    "detector": self.tag,
                    "explanation": explanation,
                },
            )
        return Finding(
            id=id,
            turn=turn.i,
            span=(s, e),
            text=turn.text[s:e],
            confidence=c,
            detector=self.tag,
            explanation=explanation,
        )

    def detect(self, doc: Doc) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def turns_for(doc: Doc, speakers: Iterable[Speaker]) -> Iterator[TurnState]:
    wanted = frozenset(speakers)
    return (t for t in doc.turns if t.speaker in wanted)
