"""The particulars of one case, in words a reply can reuse.

`heard.detectors.case` finds which of the customer's specifics an agent echoes (for
T.personal / X.canned); the coach needs the specifics themselves, as readable phrases, to
fill its templates: what the problem is about ("your bag"), the reference the customer
gave ("flight NW2281"), an amount, how often they have had to get in touch, a deadline,
and the sentence that hints at what is really at stake, turned into the agent's voice
("your brother gets married tomorrow at noon").

Everything is read from the customer's own words; nothing is invented. A fact that is not
there is None, and templates that need it are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from heard.coach.data import compiled, vocabulary
from heard.coach.schemas import Evidence
from heard.commitments import find_due_expressions
from heard.detectors.base import TurnState
from heard.model import Analysis, Speaker

_REF = re.compile(
    r"\b(?P<kind>order|booking|reservation|claim|ticket|case|reference|ref|account|flight|"
    r"invoice|policy|file|parcel|tracking)(?: (?:number|no\.?|#))?[\s:#]*"
    r"(?P<ref>[A-Z]{0,4}[-‐]?\d[\w-]{2,}|[A-Z]{2,}[-‐]?\d{2,}\w*)",
    re.I,
)
_BARE_REF = re.compile(r"\b(?:[A-Z]{2,5}[-‐]?\d{3,}[A-Z]?|\d{4}(?:-\d{3,4}){2,3})\b")
_AMOUNT = re.compile(
    r"[£$€]\s?\d[\d,]*(?:\.\d\d)?|\b(?<!\d,)\d[\d,]*(?:\.\d\d)? ?(?:pounds|dollars|euros)\b"
)
_MY = re.compile(r"\b(?:my|our)\s+(?P<noun>[a-z][a-z-]+)(?:'s)?\b", re.I)
_THING = re.compile(r"\bmy\s+(?P<noun>[a-z][a-z-]+)(?:'s)?\b", re.I)
_DISFLUENCY = re.compile(r"\b(?:um+|uh+|erm|er)\b,?\s*", re.I)
_STUTTER = re.compile(r"\b([\w']+)(?:,\s+\1\b)+", re.I)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NOT_THINGS = _words(
    """son daughter kid kids child children baby mum mom mother dad father parent parents
    brother sister wife husband partner family gran grandma grandad boss team cfo own god
    goodness mind head life name fault time day week question problem issue complaint
    money side end way point patience last first only best bad husband's friend friends
    neighbour landlord client clients customers guests gosh heart word words thing things
    self whole own entire old new upstairs downstairs little poor usual normal regular
    current other"""
)
# How often they have had to get in touch: "the third call", "the third time I've rung",
# "emailed you twice". A count of something else is not a contact count: "charged twice",
# "the third time my train was cancelled".
_CONTACTED = (
    r"(?:called|rung|rang|phoned|emailed|e-mailed|messaged|contacted|written|wrote|tweeted|"
    r"chased|asked|reached out|been in touch|got in touch|gotten in touch|tried)"
)
_COUNT = re.compile(
    r"\b(?P<ord>second|third|fourth|fifth|sixth|2nd|3rd|4th|5th)\s+(?:call|contact|email|"
    r"message|attempt|chat)\b"
    r"|\b(?P<ord_time>second|third|fourth|fifth|sixth|2nd|3rd|4th|5th)\s+time\s+(?:that\s+)?"
    r"(?:I|I'?ve|I\s+have|we|we'?ve|we\s+have)\s+(?:now\s+|already\s+)?" + _CONTACTED + r"\b"
    r"|\b" + _CONTACTED + r"(?:\s+[\w']+){0,3}?\s+(?P<times>twice|three times|four times|"
    r"five times)\b",
    re.I,
)
_ORDINALS = {"2nd": "second", "3rd": "third", "4th": "fourth", "5th": "fifth"}
_GREETING_ONLY = re.compile(
    r"^\W*(?:hi|hello|hey|dear|yeah|um|uh|so|ok|okay)\b[\w\s,.!-]{0,12}$", re.I
)

# -- turning the customer's words into the agent's voice -----------------------------

_SWAP = re.compile(
    r"\b(?:I'm|I’m|I've|I’ve|I'd|I’d|I'll|I’ll|I am|I was|I|me|my|mine|myself|we're|we’re|"
    r"we've|we’ve|we'll|we’ll|we|us|our|ours|ourselves|you're|you’re|you've|you’ve|you'll|"
    r"you’ll|you'd|you’d|you|your|yours|yourself)\b",
    re.I,
)
_SWAPS = {
    "i'm": "you're",
    "i've": "you've",
    "i'd": "you'd",
    "i'll": "you'll",
    "i am": "you are",
    "i was": "you were",
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "we're": "you're",
    "we've": "you've",
    "we'll": "you'll",
    "we": "you",
    "us": "you",
    "our": "your",
    "ours": "yours",
    "ourselves": "yourselves",
    "you're": "we're",
    "you've": "we've",
    "you'll": "we'll",
    "you'd": "we'd",
    "your": "our",
    "yours": "ours",
    "yourself": "ourselves",
}
_SUBJECT_NEXT = re.compile(
    r"(?<!\s)\s+(?:have|has|had|did|do|does|said|told|sent|promised|gave|took|charged|cancell?ed|"
    r"lost|never|always|keep|kept|are|were|can|could|will|would|should|must|need|just|"
    r"still|haven't|didn't|don't|won't|can't|couldn't)\b",
    re.I,
)
_SHOUT = re.compile(r"\b[A-Z][A-Z']{3,}\b|\b[A-Z]{2,}(?:\s+[A-Z]{2,})+\b")


def _calm(text: str) -> str:
    """Lower-case shouted words ("HIS RINGS" -> "his rings"), keep acronyms and codes."""
    return _SHOUT.sub(lambda m: m.group().lower(), text)


def agent_voice(text: str) -> str:
    """The customer's words as the agent would say them back ("my bag" -> "your bag")."""

    def swap(m: re.Match[str]) -> str:
        word = m.group()
        low = word.lower().replace("’", "'")
        if low == "you":
            after = text[m.end() :]
            got = "we" if _SUBJECT_NEXT.match(after) else "us"
        else:
            got = _SWAPS.get(low, word)
        if word[0].isupper() and m.start() == 0:
            got = got[0].upper() + got[1:]
        return got

    text = _STUTTER.sub(r"\1", _DISFLUENCY.sub("", _calm(text)))
    out = _SWAP.sub(swap, text)
    return re.sub(r"\s+", " ", out).strip(" ,")


# -- the facts ----------------------------------------------------------------------------


@dataclass(slots=True)
class CaseFacts:
    """What the customer has told us, as phrases (None when they have not said it)."""

    thing: str | None = None
    reference: str | None = None
    amount: str | None = None
    repeat: str | None = None
    deadline: str | None = None
    problem: str | None = None
    problem_evidence: Evidence | None = None
    stake: str | None = None
    stake_evidence: list[Evidence] = field(default_factory=list)
    feeling: str | None = None


@lru_cache(maxsize=8192)
def _sentences(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(TurnState(i=0, speaker=Speaker.customer, text=text).sentences())


@lru_cache(maxsize=8192)
def _stake_kinds(sentence: str) -> frozenset[str]:
    """The stake kinds (deadline, people, health ...) one sentence shows."""
    stakes = vocabulary().stakes
    kinds = {
        kind
        for kind, patterns in stakes.kinds.items()
        if any(compiled(p).search(sentence) for p in patterns)
    }
    if (
        "deadline" in kinds
        and any(compiled(p).search(sentence) for p in stakes.past)
        and not any(compiled(p).search(sentence) for p in stakes.future)
    ):
        kinds.discard("deadline")  # "on Sunday I emailed it": history, not a deadline
    return frozenset(kinds)


def _clip(text: str, limit: int = 160) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(",", 0, limit)
    if cut < limit // 2:
        cut = text.rfind(" ", 0, limit)
    return text[:cut].rstrip(" ,;:") + " …"


def stake_sentences(analysis: Analysis, upto: int | None = None) -> list[tuple[int, Evidence]]:
    """Customer sentences that hint at what is at stake, best first, with their score."""
    vocab = vocabulary().stakes
    found: list[tuple[int, int, Evidence]] = []
    turns = analysis.conversation.turns if upto is None else analysis.conversation.turns[:upto]
    for i, turn in enumerate(turns):
        if turn.speaker is not Speaker.customer:
            continue
        for s, e in _sentences(turn.text):
            sentence = turn.text[s:e]
            kinds = _stake_kinds(sentence)
            explicit = "explicit" in kinds
            if len(kinds - {"explicit"}) < vocab.min_kinds and not (explicit and len(kinds) > 1):
                continue
            score = len(kinds) + (2 if explicit else 0)
            ev = Evidence(turn=i, span=(s, e), text=sentence.strip())
            found.append((score, i, ev))
    # best score first; among equals the shorter (more focused), then the earlier sentence
    found.sort(key=lambda x: (-x[0], len(x[2].text) // 40, x[1]))
    return [(score, ev) for score, _, ev in found]


def _feeling(analysis: Analysis) -> str | None:
    feelings = vocabulary().feelings
    for t in reversed(analysis.turns):
        if t.speaker is not Speaker.customer:
            continue
        named = {k: v for k, v in t.emotions.items() if k in feelings and v >= 0.3}
        if named:
            return max(named, key=lambda k: named[k])
    best: tuple[float, str] | None = None
    for t in analysis.turns:
        for k, v in t.emotions.items():
            if k in feelings and v >= 0.3 and (best is None or v > best[0]):
                best = (v, k)
    return best[1] if best else None


def _problem(analysis: Analysis) -> tuple[str, Evidence] | None:
    """The customer's most concrete statement of the problem (for mirroring it back)."""
    best: tuple[float, str, Evidence] | None = None
    for i, turn in enumerate(analysis.conversation.turns):
        if turn.speaker is not Speaker.customer:
            continue
        for s, e in _sentences(turn.text):
            raw = turn.text[s:e].strip()
            words = raw.split()
            if not 4 <= len(words) <= 35 or raw.endswith("?") or _GREETING_ONLY.match(raw):
                continue
            if raw.lower().startswith(("thank", "thanks", "ok", "okay", "yes", "no.")):
                continue
            capitals = sum(1 for w in words if w[:1].isupper())
            if capitals > len(words) / 2:
                continue  # a signature or a heading, not a statement
            detail = sum(1 for w in words if any(c.isdigit() for c in w))
            detail += sum(1 for w in words[1:] if w[:1].isupper())
            detail += len(_MY.findall(raw))
            score = detail - 0.02 * len(words) - 0.3 * i
            if best is None or score > best[0]:
                best = (score, raw, Evidence(turn=i, span=(s, e), text=raw))
    if best is None or best[0] <= 0:
        return None
    text = _strip_fillers(best[1].rstrip(".!? "))
    return _clip(agent_voice(text), 180), best[2]


_FILLER = re.compile(
    r"^(?:@\w+|hi|hello|hey|yeah|yes|um+|uh+|er+|so|and|but|well|wait|no|honestly|look|"
    r"right|okay|ok)\b[,.!]?\s*",
    re.I,
)
_DEADLINE_WORDS = re.compile(
    r"^(?:by|before|until|till|no later than)\b|\b(?:tomorrow|tonight|today)\b", re.I
)


@lru_cache(maxsize=8192)
def _deadline(text: str) -> str | None:
    """The first deadline-like time phrase in the customer's words ("by 10", "tomorrow")."""
    for d in find_due_expressions(text):
        if _DEADLINE_WORDS.search(d.text):
            return _calm(d.text)
    return None


def _strip_fillers(text: str) -> str:
    """Drop leading "hi, um, so," and @handles, however many there are."""
    prev = None
    while prev != text:
        prev = text
        text = _FILLER.sub("", text, count=1)
    return text


def case_facts(analysis: Analysis) -> CaseFacts:
    """The case's facts from the customer turns of `analysis` (see module docstring)."""
    facts = CaseFacts()
    customer = [t for t in analysis.conversation.turns if t.speaker is Speaker.customer]
    text = "\n".join(t.text for t in customer)
    ref = _REF.search(text)
    if ref:
        kind = ref.group("kind").lower()
        kind = "reference" if kind == "ref" else kind
        facts.reference = f"{kind} {ref.group('ref')}"
        if kind not in ("reference", "tracking", "account", "file", "case", "ticket"):
            facts.thing = f"your {kind}"
    else:
        bare = _BARE_REF.search(text)
        if bare:
            facts.reference = bare.group()
    first = customer[0].text if customer else ""
    for m in _THING.finditer(first):
        noun = m.group("noun").lower()
        if noun not in _NOT_THINGS and len(noun) > 2:
            facts.thing = f"your {noun}"
            break
    amount = _AMOUNT.search(text)
    if amount:
        facts.amount = amount.group().replace(" ", "")
    count = _COUNT.search(text)
    if count:
        ordinal = count.group("ord") or count.group("ord_time")
        if ordinal:
            word = ordinal.lower()
            facts.repeat = (
                f"this is the {_ORDINALS.get(word, word)} time you've had to get in touch"
            )
        else:
            facts.repeat = f"you've had to get in touch {count.group('times').lower()} already"
    stakes = stake_sentences(analysis)
    if stakes:
        top = stakes[0][1]
        facts.stake_evidence = [ev for _, ev in stakes[:2]]
        clause = re.sub(
            r"^(?:the most pressing part is(?: that)?|the thing is(?: that)?|what i need is)\s*",
            "",
            _strip_fillers(top.text.rstrip(".!? ")),
            flags=re.I,
        )
        facts.stake = _clip(agent_voice(clause), 140)
    for source in [top.text] if stakes else []:
        facts.deadline = _deadline(source)
    if facts.deadline is None:
        for t in customer:
            facts.deadline = _deadline(t.text)
            if facts.deadline:
                break
    problem = _problem(analysis)
    if problem is not None:
        facts.problem, facts.problem_evidence = problem
    facts.feeling = _feeling(analysis)
    return facts


__all__ = ["CaseFacts", "agent_voice", "case_facts", "stake_sentences"]
