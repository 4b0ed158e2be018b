"""Customer-side context rules and detectors (C.*), emotion and energy (lexical tier).

The patterns live in ``heard/lexicons/customer.yaml`` (ids) and ``emotion.yaml`` (cue
sets); both are scanned in the one Hyperscan pass every turn gets. This module adds what a
pattern cannot know:

- context rules for lexicon hits: ``C.resolution`` only near the end of the conversation,
  ``C.outcome_question`` only as a question (or a request at the start of a clause),
  weak ``C.risk`` evidence not when the customer's own troubleshooting explains it;
- :class:`EmotionDetector`: service-emotion scores per customer turn from the emotion cue
  sets (negation- and sarcasm-aware) behind a small :class:`EmotionScorer` protocol, so a
  learned model can replace or be blended with the lexical scorer;
- :class:`EnergyDetector`: emotional energy 0-3 per customer turn (capitals, repeated
  punctuation, profanity, intensifiers, threats) and its trajectory over the conversation;
- :class:`RepeatComplaintDetector`: a customer restating an earlier complaint after an
  agent reply (``C.unheard``), by content-word overlap.

Everything here is per-turn work on hits the scan already found, so it stays within the
lexical tier's budget (tens of microseconds per turn).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, runtime_checkable

from heard.detectors.base import BaseDetector, Detector, Doc, TurnState
from heard.detectors.lexical import rule, turn_hits
from heard.detectors.lexicon import Hit, Lexicon, Scan, builtin_lexicon, inside_quotes, negated
from heard.errors import InputError
from heard.model import MAX_TURN_CHARS, SERVICE_EMOTIONS, Speaker

CUSTOMER_ONLY = frozenset({Speaker.customer})

#: An emotion at or above this score is "expressed" (a C.emotion finding, not neutral).
EXPRESSED = 0.5

#: Cue weights by the tier in a set's name (``emotion.<emotion>[.<tier>]``, emotion.yaml).
TIER_WEIGHTS: dict[str, float] = {
    "": 0.6,
    "strong": 0.9,
    "weak": 0.3,
    "mark": 0.6,
    "punct": 0.6,
}

#: Feelings that turn the volume up (energy) and make praise sound sarcastic.
NEGATIVE = ("anger", "frustration", "disappointment", "impatience", "sadness", "worry")
POSITIVE = ("gratitude", "relief", "happiness")

#: Customer signals that are themselves evidence of a feeling: annotators mark nearly every
#: turn showing a recovery risk or not being heard as frustrated, most demands too. Weighted
#: like cues (weak hits of C.risk count as weak cues).
SIGNAL_FEELINGS: tuple[tuple[str, str, float], ...] = (
    ("C.risk", "frustration", TIER_WEIGHTS[""]),
    ("C.unheard", "frustration", TIER_WEIGHTS[""]),
    ("C.demand", "frustration", TIER_WEIGHTS["weak"]),
)

#: Energy cue sets that also show a feeling: swearing, threats and sarcasm at the company
#: read as anger (hostility); sarcasm says the customer is annoyed.
SET_FEELINGS: tuple[tuple[str, str, float], ...] = (
    ("profanity.strong", "anger", TIER_WEIGHTS[""]),
    ("threat", "anger", TIER_WEIGHTS[""]),
    ("sarcasm", "anger", TIER_WEIGHTS["weak"]),
    ("sarcasm", "frustration", TIER_WEIGHTS[""]),
)

_NEGATION_REACH = 60  # characters: beyond this no negation can be in the few words before
_INTENSIFIER_REACH = 12  # characters between an intensifier and the cue it strengthens
_INTENSIFIER_BOOST = 0.25
_BUT = re.compile(r"\bbut\b")


# -- customer turns of a conversation -----------------------------------------------------


def customer_turns(doc: Doc) -> list[int]:
    """Indices of the customer turns."""
    return [t.i for t in doc.turns if t.speaker == Speaker.customer]


def _scan(lexicon: Lexicon, turn: TurnState) -> Scan:
    """The turn's shared scan (made by the lexical detectors, or here if they did not run)."""
    if turn.scan is None:
        turn_hits(lexicon, turn)
    assert turn.scan is not None
    return turn.scan


def _agent_before(doc: Doc, i: int) -> bool:
    return any(doc.turns[j].speaker == Speaker.agent for j in range(i))


# -- context rules for lexicon hits ----------------------------------------------------------


#: C.resolution patterns whose explanation starts so are giving up, not acceptance.
GIVING_UP = ("gives up", "leaves")
_STRONG_GIVING_UP = 0.8


@rule("C.resolution")
def _resolution_at_the_end(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    """Acceptance ("thanks", "that works") ends a conversation only in the last two
    customer turns and with nothing left open (no question, no "but ..." after it);
    earlier it is politeness. Giving up needs an agent reply before it (in the first
    message it is still a complaint); clear giving up ("I'm done") counts wherever it comes,
    weaker forms ("whatever") only at the end."""
    if hit.explanation.startswith(GIVING_UP):
        if not _agent_before(doc, turn.i):
            return None
        if hit.confidence >= _STRONG_GIVING_UP:
            return hit
        return hit if turn.i in customer_turns(doc)[-2:] else None
    if turn.i not in customer_turns(doc)[-2:]:
        return None
    if "?" in turn.text or _BUT.search(turn.lower, hit.end) is not None:
        return None
    return hit


#: C.unheard patterns whose explanation starts so push back on a reply ("again, ...",
#: "nothing has changed"): without an agent reply before them they are only a complaint.
CONTESTS = "contests"


@rule("C.unheard")
def _unheard_contests_a_reply(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    """Pushing back on a reply needs a reply: the hits that contest one count only after
    an agent turn; the explicit forms ("I already told you") count anywhere (they may
    refer to an earlier call or chat)."""
    if hit.explanation.startswith(CONTESTS) and not _agent_before(doc, turn.i):
        return None
    return hit


_FILLER = re.compile(
    r"(?:[\s,.;:!\-…*\"'()]|@\w+|#\w+|\b(?:hi|hey|hello|hiya|so|ok|okay|please|pls|plz|kindly"
    r"|and|but|also|then|guys|folks|team|there|well|um|uh|hmm|oh|ah|yes|yeah|yep|no|nope|sorry"
    r"|thanks|thank you|excuse me|just|quick question|one more thing|again|now|anyway"
    r"|anyways|btw|sir|madam|dear)\b)*"
)
_RHETORICAL = re.compile(r"\b(?:how|what|why) $")
_WEAK_OUTCOME = 0.75  # below: declarative word order, needs a question mark
_STATED_OUTCOME = 0.85  # from here: a stated request ("I need to know when"), anywhere
_WH = re.compile(r"\b(?:what|which|where|who|whom|how|why)\b")


@rule("C.outcome_question")
def _outcome_question_form(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    """An outcome question is asked: in a question sentence, or opening its clause ("hey
    can you reverse this payment" without a question mark), or stated as a request ("I
    need to know when ..."). The tier is the pattern's confidence (customer.yaml)."""
    if _RHETORICAL.search(turn.lower, max(0, hit.start - 6), hit.start) is not None:
        return None  # "how can you let ...", "what does that mean": not about an outcome
    sent = turn.sentence_at(hit.start)
    if turn.text[sent[0] : sent[1]].rstrip().endswith("?"):
        if hit.confidence < _WEAK_OUTCOME and _WH.search(turn.lower, sent[0], hit.start):
            return None  # "what aisle will it be in?" asks for information
        return hit
    if hit.confidence < _WEAK_OUTCOME:
        return None  # declarative word order ("so it'll be here tonight") needs a "?"
    if hit.confidence >= _STATED_OUTCOME:
        return hit  # a stated request: "I just wanted to check it'll be ready today"
    start = turn.clause_start(hit.start)
    if _FILLER.fullmatch(turn.lower, start, hit.start) is not None:
        return hit
    return None


#: Weak C.risk evidence ("still not working") has a confidence below this.
_WEAK_RISK = 0.65


@rule("C.risk", requires=("emotions",))
def _risk_needs_failed_contact(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    """Weak evidence (a symptom that persists, a contact mentioned in passing) is a
    recovery sign only in a complaint after an agent has already tried, and not when the
    customer's own troubleshooting step explains it."""
    if hit.confidence >= _WEAK_RISK:
        return hit
    if not _agent_before(doc, turn.i) or not _complaint(turn):
        return None
    own = turn.scan.sets.get("risk.own_step") if turn.scan is not None else None
    if own:
        s, e = turn.sentence_at(hit.start)
        if any(s <= o < e for o, _ in own):
            return None
    return hit


# -- emotion ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cue:
    """One piece of emotional evidence in a turn."""

    emotion: str
    start: int
    end: int
    weight: float


@dataclass(slots=True)
class EmotionReading:
    """The lexical tier's reading of one text: scores per service emotion and their cues."""

    scores: dict[str, float]
    cues: list[Cue]

    def emotions(self) -> dict[str, float]:
        """Non-zero scores, plus ``neutral`` (1 - the strongest) when nothing is expressed."""
        out = {e: round(s, 3) for e, s in self.scores.items() if s > 0}
        top = max(out.values(), default=0.0)
        if top < EXPRESSED:
            out["neutral"] = round(1.0 - top, 3)
        return out

    def expressed(self) -> list[str]:
        """Emotions at or above EXPRESSED, strongest first."""
        found = [(s, e) for e, s in self.scores.items() if s >= EXPRESSED]
        return [e for _, e in sorted(found, key=lambda x: (-x[0], SERVICE_EMOTIONS.index(x[1])))]

    def strongest_cue(self, emotions: Sequence[str]) -> Cue | None:
        best: Cue | None = None
        for cue in self.cues:
            if cue.emotion in emotions and (best is None or cue.weight > best.weight):
                best = cue
        return best


@dataclass(frozen=True, slots=True)
class _CueSet:
    """What a hit of one lexicon set says about a feeling."""

    emotion: str
    weight: float
    negatable: bool  # word cues: "not angry" is not anger
    boostable: bool  # an intensifier before it ("so annoying") weighs more
    punctuation: bool = False  # "!!": a feeling only when nothing positive is expressed


@lru_cache(maxsize=8)
def _cue_sets(lexicon: Lexicon) -> dict[str, tuple[_CueSet, ...]]:
    """Set name -> the feelings its hits show: the ``emotion.*`` sets (emotion and weight
    encoded in the name) and the energy sets of SET_FEELINGS."""
    out: dict[str, list[_CueSet]] = {}
    for name in sorted(lexicon.set_names):
        parts = name.split(".")
        if parts[0] != "emotion" or len(parts) not in (2, 3) or parts[1] not in SERVICE_EMOTIONS:
            continue
        tier = parts[2] if len(parts) == 3 else ""
        if tier in TIER_WEIGHTS:
            word = tier not in ("mark", "punct")
            cue = _CueSet(parts[1], TIER_WEIGHTS[tier], word, word, tier == "punct")
            out.setdefault(name, []).append(cue)
    for name, emotion, weight in SET_FEELINGS:
        if name in lexicon.set_names:
            out.setdefault(name, []).append(_CueSet(emotion, weight, False, False))
    return {name: tuple(cues) for name, cues in out.items()}


def read_emotions(turn: TurnState, lexicon: Lexicon | None = None) -> EmotionReading:
    """Score the service emotions of one turn from the emotion cue sets of its scan."""
    lex = lexicon or builtin_lexicon()
    scan = _scan(lex, turn)
    sets = scan.sets
    hits = turn_hits(lex, turn)
    plans = _cue_sets(lex)
    present = [(spans, plans[name]) for name, spans in sets.items() if name in plans]
    cues: list[Cue] = []
    marks: list[Cue] = []  # "!!": frustration unless the turn is positive
    if present:
        text = turn.text
        intensifiers = sorted(e for _, e in sets.get("intensifier", ()))
        negations = sorted(e for _, e in sets.get("negation", ()))
        quoted = '"' in text or "\u201c" in text or "\u201d" in text
        for spans, plan in present:
            for s, e in spans:
                boosted = _ends_within(intensifiers, s - _INTENSIFIER_REACH, s)
                cancelled: bool | None = None
                for spec in plan:
                    if spec.negatable:
                        if cancelled is None:
                            # cheap pre-checks first: most cues have no negation near them
                            cancelled = (
                                _ends_within(negations, s - _NEGATION_REACH, s)
                                and negated(scan, text, s, turn.clause_start(s))
                            ) or (quoted and inside_quotes(text, s, 0))
                        if cancelled:
                            continue
                    weight = spec.weight
                    if boosted and spec.boostable:
                        weight = min(1.0, weight + _INTENSIFIER_BOOST)
                    if spec.punctuation:
                        marks.append(Cue(spec.emotion, s, e, weight))
                    else:
                        cues.append(Cue(spec.emotion, s, e, weight))
    for id, emotion, weight in SIGNAL_FEELINGS:
        for hit in hits.get(id, ()):
            w = weight if hit.confidence >= _WEAK_RISK else TIER_WEIGHTS["weak"]
            cues.append(Cue(emotion, hit.start, hit.end, w))
    if any(c.emotion in POSITIVE for c in cues):
        cues = _drop_insincere_praise(turn, scan, cues)
        positive = _combine([c for c in cues if c.emotion in POSITIVE])
        if max(positive.values(), default=0.0) < EXPRESSED:
            cues.extend(marks)
    else:
        cues.extend(marks)
    if not cues:
        return EmotionReading({}, cues)
    return EmotionReading(_combine(cues), cues)


def _ends_within(ends: Sequence[int], lo: int, hi: int) -> bool:
    """Whether a sorted list of end offsets has one in [lo, hi]."""
    return bisect_left(ends, lo) < bisect_right(ends, hi)


def _drop_insincere_praise(turn: TurnState, scan: Scan, cues: list[Cue]) -> list[Cue]:
    """Sarcastic thanks/praise is not gratitude or happiness, and neither is a polite
    "thanks, but ..." that opens a complaint."""
    negative = _combine([c for c in cues if c.emotion in NEGATIVE])
    sour = max(negative.values(), default=0.0) >= EXPRESSED or "!!" in turn.text
    sarcastic: list[tuple[int, int]] = list(scan.sets.get("sarcasm", ()))
    if sour:
        sarcastic.extend(scan.sets.get("sarcasm.context", ()))
    spoiled = {turn.sentence_at(s) for s, _ in sarcastic}
    polite = scan.sets.get("polite", ())
    buts = [m.start() for m in _BUT.finditer(turn.lower)]
    kept: list[Cue] = []
    for cue in cues:
        if cue.emotion in POSITIVE:
            sent = turn.sentence_at(cue.start)
            if sent in spoiled:
                continue
            k = bisect_left(buts, cue.end)
            if k < len(buts) and buts[k] < sent[1]:  # "thanks, but ..."
                continue
            if polite and any(s < cue.end and cue.start < e for s, e in polite):
                continue
        kept.append(cue)
    return kept


def _combine(cues: Sequence[Cue]) -> dict[str, float]:
    """Noisy-or of cue weights per emotion (one cue per span counts once)."""
    left: dict[str, float] = {}
    seen: set[tuple[str, int, int]] = set()
    for c in cues:
        key = (c.emotion, c.start, c.end)
        if key in seen:
            continue
        seen.add(key)
        left[c.emotion] = left.get(c.emotion, 1.0) * (1.0 - c.weight)
    return {e: 1.0 - rest for e, rest in left.items()}


@runtime_checkable
class EmotionScorer(Protocol):
    """Anything that scores service emotions for a batch of customer texts.

    Each result maps service emotions (``heard.model.SERVICE_EMOTIONS``) to 0..1; the
    lexical scorer below is the default, a learned model (semantic tier) can replace it or
    be blended with it.
    """

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]: ...


class LexicalEmotionScorer:
    """The emotion cue sets of the lexicons as an EmotionScorer."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or builtin_lexicon()

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return [lexical_emotions(t, self.lexicon) for t in texts]


def lexical_emotions(text: str, lexicon: Lexicon | None = None) -> dict[str, float]:
    """Service-emotion scores of one customer text from the lexical cues alone.

    >>> lexical_emotions("I'm so frustrated, this is the third time")["frustration"] > 0.5
    True
    """
    if not isinstance(text, str):
        raise InputError(
            f"lexical_emotions expects a text (str), got {type(text).__name__}",
            hint="pass the customer's message as a string",
        )
    # the same limit a Turn applies, so a pasted novel costs what a long message costs
    turn = TurnState(i=0, speaker=Speaker.customer, text=text[:MAX_TURN_CHARS])
    return read_emotions(turn, lexicon).emotions()


def _service_scores(scores: dict[str, float]) -> dict[str, float]:
    """A scorer's output kept to the service emotions (not neutral), clamped to 0..1."""
    return {
        e: min(1.0, max(0.0, float(v)))
        for e, v in scores.items()
        if e in SERVICE_EMOTIONS and e != "neutral"
    }


def _evidence_span(turn: TurnState) -> tuple[int, int]:
    """The turn without its leading @mentions: the evidence when no cue marks a word."""
    text = turn.text
    start = 0
    while start < len(text):
        if text[start].isspace():
            start += 1
        elif text[start] == "@":
            end = text.find(" ", start)
            start = len(text) if end == -1 else end
        else:
            break
    end = len(text.rstrip())
    return (start, end) if start < end else (0, len(text))


class EmotionDetector(BaseDetector):
    """Service emotions per customer turn (``turn.emotions``) and a C.emotion finding when
    a feeling is expressed; the span is the strongest cue of the strongest feeling."""

    name = "lexical.emotion"
    version = 1
    speakers = CUSTOMER_ONLY
    requires = ()
    produces = ("emotions", "C.emotion")

    def __init__(self, lexicon: Lexicon | None = None, scorer: EmotionScorer | None = None):
        self.lexicon = lexicon or builtin_lexicon()
        self.scorer = scorer

    def detect(self, doc: Doc) -> None:
        turns = [t for t in doc.turns if t.speaker in self.speakers]
        if not turns:
            return
        readings = [read_emotions(t, self.lexicon) for t in turns]
        if self.scorer is not None:
            # a learned scorer decides the scores; the lexical cues still point at the words
            scored = self.scorer.score([t.text for t in turns])
            readings = [
                EmotionReading(_service_scores(sc), r.cues)
                for sc, r in zip(scored, readings, strict=True)
            ]
        for turn, reading in zip(turns, readings, strict=True):
            turn.emotions = reading.emotions()
            felt = reading.expressed()
            if not felt:
                continue
            cue = reading.strongest_cue(felt[:1]) or reading.strongest_cue(felt)
            span = (cue.start, cue.end) if cue else _evidence_span(turn)
            names = " and ".join(felt[:2])
            doc.add(
                self.finding(
                    "C.emotion",
                    turn,
                    span,
                    f"expresses {names}",
                    confidence=min(0.95, reading.scores[felt[0]]),
                )
            )


# -- energy ----------------------------------------------------------------------------------

#: Words in capitals: letters only (an apostrophe inside allowed), not after @ (handles).
_CAPS_WORD = re.compile(r"(?<![\w@])[A-Z][A-Z']*[A-Z](?![\w])")
_VOWELS = frozenset("AEIOUY")
_MIN_SHOUT_LEN = 4  # shorter capitals are acronyms ("UPS", "ID") unless listed as shouting
_LONG_RUN = 5  # "!!!!!" (or "?!?!?") is shouting
_QUOTED_MARKS = 8  # an explanation quotes at most this much of a run of marks
_REPEATED_WORD = re.compile(r"\b([^\W\d_]{2,})(?:[\s,.!?]+\1\b)+", re.IGNORECASE)
_INTENSE = 0.9  # negative wording this strong ("ridiculous", "so annoying") is clearly upset


@dataclass(frozen=True, slots=True)
class EnergyReading:
    """Energy 0-3 of one turn and the loudest evidence for it."""

    level: int
    span: tuple[int, int] | None
    reasons: tuple[str, ...]


def _shouted(turn: TurnState, scan: Scan) -> list[tuple[int, int]]:
    """Spans of words written in capitals that are shouting, not acronyms."""
    text = turn.text
    if turn.lower == text:  # nothing in capitals
        return []
    matches = list(_CAPS_WORD.finditer(text))
    if not matches:
        return []
    acronyms = set(scan.sets.get("acronym", ()))
    short = set(scan.sets.get("shout.short", ()))
    out: list[tuple[int, int]] = []
    for m in matches:
        span, word = m.span(), m.group()
        if len(word.replace("'", "")) < _MIN_SHOUT_LEN:
            if span in short:
                out.append(span)
        elif not _VOWELS.isdisjoint(word) and span not in acronyms:
            out.append(span)
    return out


#: A run of '!'/'?' (spaces between marks allowed: "!! !").
_MARK_RUN = re.compile(r"[!?](?: *[!?])+")


def _punctuation_run(text: str) -> tuple[int, int] | None:
    """The longest run of '!'/'?' with at least two marks."""
    if "!" not in text and "?" not in text:
        return None
    best: tuple[int, int] | None = None
    for m in _MARK_RUN.finditer(text):
        if best is None or m.end() - m.start() > best[1] - best[0]:
            best = m.span()
    return best


def read_energy(
    turn: TurnState, emotions: dict[str, float], lexicon: Lexicon | None = None
) -> EnergyReading:
    """Energy of one customer turn: 0 calm, 1 mild, 2 clearly upset, 3 shouting/furious.

    A negative feeling alone is mild (1). Clearly upset (2): one word in capitals, "!!",
    mild swearing, a threat, sarcasm, or intense wording ("ridiculous", "so annoying").
    Shouting or furious (3): several words in capitals, a long run of "!!!!", strong
    swearing, or two kinds of loud evidence together.
    """
    lex = lexicon or builtin_lexicon()
    scan = _scan(lex, turn)
    sets = scan.sets
    text = turn.text
    upset = max((emotions.get(e, 0.0) for e in NEGATIVE), default=0.0) >= EXPRESSED
    level = 1 if upset else 0
    loud: list[tuple[int, int, tuple[int, int], str]] = []  # (level, rank, span, reason)

    caps = _shouted(turn, scan)
    if caps:
        words = sum(1 for w in text.split() if w[0] not in "@#" and not w.startswith("http"))
        sustained = len(caps) >= 3 and len(caps) / max(1, words) >= 0.4
        lvl = 3 if sustained or (len(caps) >= 2 and upset) else 2
        loud.append((lvl, 4, (caps[0][0], caps[-1][1]), "capitals"))
    run = _punctuation_run(text)
    if run is not None:
        marks = sum(1 for c in text[run[0] : run[1]] if c in "!?")
        lvl = 3 if marks >= _LONG_RUN else 2 if upset or marks >= 3 else 1
        loud.append((lvl, 2, run, f"'{text[run[0] : run[1]][:_QUOTED_MARKS]}'"))
    strong = sets.get("profanity.strong", ())
    mild = sets.get("profanity", ())
    if strong:
        loud.append((3 if upset else 2, 5, strong[0], "swearing"))
    elif mild and upset:
        loud.append((2, 3, mild[0], "swearing"))
    threats = sets.get("threat", ())
    if threats:
        loud.append((2, 3, threats[0], "a threat"))
    if upset:
        sarcasm = sets.get("sarcasm") or sets.get("sarcasm.context")
        if sarcasm:
            loud.append((2, 1, sarcasm[0], "sarcasm"))
        bang = text.find("!")
        if bang >= 0 and run is None:
            loud.append((2, 1, (bang, bang + 1), "'!'"))
        again = _REPEATED_WORD.search(text)
        if again is not None:  # "no, no, no", "Sunday. Sunday."
            loud.append((2, 1, again.span(), "repeated words"))
        if not loud:  # only the wording itself can make this turn clearly upset
            loud.extend(_intense_wording(turn, emotions))
    if not loud:
        return EnergyReading(level, None, ())
    level = max(level, *(lvl for lvl, _, _, _ in loud))
    if level == 2 and sum(1 for lvl, rank, _, _ in loud if lvl >= 2 and rank >= 2) >= 2:
        level = 3  # two kinds of loud evidence together
    loud.sort(key=lambda x: (-x[0], -x[1]))
    return EnergyReading(level, loud[0][2], tuple(r for _, _, _, r in loud))


def _intense_wording(
    turn: TurnState, emotions: dict[str, float]
) -> list[tuple[int, int, tuple[int, int], str]]:
    """Anger, or very strong negative wording, is clearly upset (energy 2). The evidence
    is the C.emotion finding's span (the strongest cue) when there is one."""
    negative = max(emotions.get(e, 0.0) for e in NEGATIVE)
    if emotions.get("anger", 0.0) >= EXPRESSED:
        reason = "anger"
    elif negative >= _INTENSE:
        reason = "intense wording"
    else:
        return []
    found = turn.get("C.emotion")
    span = found.span if found is not None else _evidence_span(turn)
    return [(2, 0, span, reason)]


class EnergyDetector(BaseDetector):
    """Emotional energy 0-3 per customer turn (``turn.energy``), a C.energy finding on
    turns at 2 or more, and the trajectory over the conversation: customers get louder
    when they do not feel heard, so a rise is said in the finding."""

    name = "lexical.energy"
    version = 1
    speakers = CUSTOMER_ONLY
    requires = ("emotions",)
    produces = ("energy", "C.energy")

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or builtin_lexicon()

    def detect(self, doc: Doc) -> None:
        trajectory: list[int] = []
        low, low_at = 4, 0  # the lowest energy so far, and where it was last
        for turn in doc.turns:
            if turn.speaker not in self.speakers:
                continue
            reading = read_energy(turn, turn.emotions, self.lexicon)
            turn.energy = reading.level
            trajectory.append(reading.level)
            if reading.level >= 2:
                span = reading.span or _evidence_span(turn)
                explanation = f"energy {reading.level}: {', '.join(reading.reasons)}"
                if len(trajectory) > 1 and reading.level > low:
                    # customers get louder when they do not feel heard: say it rose
                    turns = len(trajectory) - low_at
                    explanation += (
                        f"; energy rose {low}→{reading.level} over {turns} customer turns"
                    )
                doc.add(
                    self.finding(
                        "C.energy", turn, span, explanation, confidence=0.6 + 0.1 * reading.level
                    )
                )
            if reading.level <= low:
                low, low_at = reading.level, len(trajectory) - 1
        doc.cache["energy_trajectory"] = trajectory


# -- repeated complaint (C.unheard) ----------------------------------------------------------

#: Words for content overlap: letters first, not inside @handles, #tags or URL paths.
_WORD = re.compile(r"(?<![@#/\w'])[a-z][a-z0-9']*", re.IGNORECASE)
_STOPWORD_TEXT = """
    a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do
    does doesn't doing don't down during each few for from further get got had hadn't has
    hasn't have haven't having he her here hers herself him himself his how i i'd i'll i'm
    i've if in into is isn't it it's its itself just let's me more most my myself no nor
    not now of off on once only or other ought our ours ourselves out over own same she
    should shouldn't so some such than that that's the their theirs them themselves then
    there there's these they they're this those through to too under until up very was
    wasn't we we're were weren't what when where which while who whom why will with won't
    would wouldn't you you're your yours yourself yourselves also still even yet already
    one thing things like really please pls thanks thank hi hey hello ok okay yes yeah no
    nope im ive dont cant wont didnt doesnt isnt u ur https http t co www com amp gt lt
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_SUFFIXES = ("ing", "ed", "es", "s", "ly")
_MIN_SHARED = 3
_CONTAINMENT = 0.5


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    word = word.replace("'", "")
    if len(word) > 4:
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                return word[: -len(suffix)]
    return word


def content_words(text: str) -> frozenset[str]:
    """Stems of the content words of a text (no stopwords, @handles, #tags or URLs)."""
    stems = {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS}
    return frozenset(w for w in stems if len(w) >= 3 and w not in _STOPWORDS)


def _span_of(text: str, stems: frozenset[str]) -> tuple[int, int]:
    """From the first to the last word of `text` whose stem is in `stems`."""
    spans = [m.span() for m in _WORD.finditer(text) if _stem(m.group().lower()) in stems]
    return (spans[0][0], spans[-1][1]) if spans else (0, len(text))


class RepeatComplaintDetector(BaseDetector):
    """C.unheard when a customer restates an earlier complaint after an agent has replied:
    the reply did not land. Cheap: stem sets, containment over a threshold."""

    name = "lexical.repeat"
    version = 1
    speakers = CUSTOMER_ONLY
    requires = ("emotions",)
    produces = ("C.unheard",)

    def detect(self, doc: Doc) -> None:
        seen: list[TurnState] = []
        words: dict[int, frozenset[str]] = {}  # content words, made when first needed
        replied = False  # an agent turn since the last customer turn
        for turn in doc.turns:
            if turn.speaker == Speaker.agent:
                replied = True
                continue
            if turn.speaker != Speaker.customer:
                continue
            if replied and seen and _complaint(turn):
                now = words[turn.i] = content_words(turn.text)
                for earlier in seen if len(now) >= _MIN_SHARED else ():
                    before = words.get(earlier.i)
                    if before is None:
                        before = words[earlier.i] = content_words(earlier.text)
                    shared = now & before
                    if len(shared) < _MIN_SHARED:
                        continue
                    if len(shared) / min(len(now), len(before)) < _CONTAINMENT:
                        continue
                    doc.add(
                        self.finding(
                            "C.unheard",
                            turn,
                            _span_of(turn.text, shared),
                            f"repeats the complaint of turn {earlier.i}",
                            confidence=0.6,
                        )
                    )
                    break
            seen.append(turn)
            replied = False


def _complaint(turn: TurnState) -> bool:
    return any(turn.emotions.get(e, 0.0) >= EXPRESSED for e in NEGATIVE)


def detectors() -> list[Detector]:
    """The customer-side detector classes (the C.* lexicon detectors come from lexical)."""
    return [EmotionDetector(), EnergyDetector(), RepeatComplaintDetector()]
