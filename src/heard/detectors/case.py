"""Case details: what is particular to *this* customer's problem, and where an agent echoes it.

An agent reply is personal (T.personal) when it uses the specifics of the customer's case
- the product, the numbers, the dates, the places, the words the customer chose - rather
than only stock phrases (X.canned). This module extracts those specifics cheaply, once
per conversation, from the customer turns, and answers one question for any agent turn:
which of its spans echo them?

Stable API (the X.canned and T.personal detectors rely on it):

- ``case_details(doc) -> CaseDetails``: the specifics of the conversation, cached in
  ``doc.cache["case.details"]``; computed from all customer turns at the first call.
- ``specifics_used(doc, turn) -> list[tuple[int, int]]``: character spans in `turn` (an
  agent turn) that echo a specific the customer stated *before* that turn, in text order.
  Empty for customer turns and for turns that use none.
- ``specifics_in(doc, turn) -> list[Specific]``: the same echoes with their kind and the
  normalised key, for detectors that weigh them (a model number counts more than a word).
- ``particulars_in(doc, turn) -> list[Specific]``: numbers and days in an agent turn,
  particulars of a case whether or not the customer said them ("gate B12", "140 points",
  "by Friday"), sign-offs, part markers ("1/2"), durations ("within 24 hrs") and step
  numbers ("1.Verify") left out.
- ``addressed_names(doc) -> frozenset[str]``: the names the agent calls the customer by
  ("Hi Sam", "thanks, Sam."), which are never case details.

What counts as a specific:

- ``number``: any token with a digit (amounts, order or flight numbers, versions, times,
  "PS4"), compared without punctuation ("$40" echoes "40");
- ``date``: weekday and month names;
- ``name``: a token written with an inner or leading capital in the customer's text that
  is not a common word (products, places, services: "Kinect", "Paddington", "iPhone");
- ``word``: any other content word (not a stop word, not a stock support word such as
  "order", "help", "issue"), compared by a light stem ("reinstalled" ~ "reinstalling").

Addressing the customer by name is not a specific: a name the agent greets or addresses
the customer with ("Hi Sam", "thanks, Sam.") is skipped in every agent turn, words of the
conversation's @handles (the company's name) are not specifics, and @handles and links are
ignored on both sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from heard.detectors.base import Doc, TurnState, lower
from heard.model import Speaker

SpecificKind = Literal["number", "date", "name", "word"]

#: The key under which the details are cached in ``Doc.cache``.
CACHE_KEY = "case.details"
#: The key of the per-turn cache of echoes (turn index -> tuple of Specific).
USED_KEY = "case.used"

# The extraction works on whole texts with C-level regex calls (findall, sub) and touches
# only the few distinct content words in Python: it runs on every turn of every analysed
# conversation, so it has to cost microseconds.
#
# Links and @handles are blanked out first (same length, so offsets stay valid).
_SKIP = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+")
# Words (lower-cased text), numbers (a token that starts with a digit: "08:15", "40",
# "3-5"), and letter-digit tokens ("ps4", "g16", "v1.0") found from their first digit.
_WORD = re.compile(r"[a-z][a-z'\u2019-]*[a-z]")
# ASCII: a reference or amount is written in Latin letters and digits; without the flag a
# number would run on into the CJK text around it ("0120-999-373へ直接ご連絡ください").
_NUMBER = re.compile(r"\d[\w.,:/-]*\w|\d", re.ASCII)
_CAPITAL = re.compile(r"[A-Z][A-Za-z'\u2019-]*")
_DAY = re.compile(r"\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b")
_HANDLE = re.compile(r"@(\w{3,})")
# "Hi Sam", "thanks Sam", "..., Sam." / "..., Sam!" / "..., Sam" at the end.
_ADDRESSED = re.compile(
    r"\b(?:hi|hello|hey|dear|thanks|thank you|thx|ty|sorry|morning|afternoon|evening),?\s+"
    r"([A-Z][a-z]+)\b|,\s*([A-Z][a-z]+)\s*(?:[.!?,]|$)"
)
_NUM_STRIP = re.compile(r"[^0-9a-z]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_DATES = _words(
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs "
    "fri sat sun january february april june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)

_GREETINGS = _words(
    "hi hello hey dear thanks thank thx ty morning afternoon evening sorry welcome there"
)

# Function words and the vocabulary every support conversation shares: echoing these is
# not evidence of attention to this case.
_STOP = _words(
    """
    a about above after again against all almost also am an and any anybody anyone anything
    are aren't around as at away back be because been before being below between both but
    by can can't cannot could couldn't did didn't do does doesn't doing don't done down
    during each either else even ever every everyone everything few for from further get
    gets getting got gotten had hadn't has hasn't have haven't having he he'd he'll he's
    her here here's hers herself him himself his how how's however i i'd i'll i'm i've if
    in into is isn't it it'd it'll it's its itself just least less let let's like lot lots
    made make makes making many may me might mine more most much must mustn't my myself
    need needs neither no nobody none nor not nothing now of off often oh ok okay on once
    one only onto or other others our ours ourselves out over own per perhaps please pls
    plz quite rather really right said same say says see seem seems shall she she'd she'll
    she's should shouldn't since so some somebody someone something sometimes soon still
    such sure than that that's the their theirs them themselves then there there's these
    they they'd they'll they're they've thing things think this those though through thru
    till to too toward towards u under until up upon ur us use used using very via want
    wanted wants was wasn't way we we'd we'll we're we've well were weren't what what's
    whatever when when's where where's whether which while who who's whom whose why why's
    will with within without won't would wouldn't ya yeah yes yet yo you you'd you'll
    you're you've your yours yourself yourselves yep nope yup hi hello hey thanks thank
    thx ty dear sorry welcome great good bad sad happy glad awful terrible best better
    worse worst new old last first next another again already always never anymore
    today tomorrow yesterday tonight day days week weeks month months year years time
    times hour hours minute minutes moment ago now later currently recently
    order orders account accounts help helps helped helping issue issues problem problems
    service services support customer customers team info information detail details
    question questions answer reply message messages dm dms pm email emails mail call
    calls called calling contact contacted phone number numbers link know knew look
    looking looked check checked checking try tried trying work works worked working
    fix fixed sort sorted happen happened happening happens hear heard sounds sound
    let us ask asked asking tell told give gave given take took taken come came going
    go goes gone went keep kept find found wait waiting waited update updates able
    unable apologies apologise apologize apology inconvenience frustration frustrating
    understand understood appreciate patience assist assistance assisting concern
    concerns experience experiences feedback reach reaching reached send sent company
    app website site online store please kindly via regards cheers
    item items product products stuff hope thing way
    """
)


@dataclass(frozen=True, slots=True)
class Specific:
    """One echo of the customer's case in an agent turn."""

    start: int
    end: int
    kind: SpecificKind
    key: str  # the normalised form that matched


@dataclass(slots=True)
class CaseDetails:
    """The specifics of one conversation, keyed by normalised form.

    `first_turn` maps a key to the index of the first customer turn that stated it (an
    agent can only echo what was said before), `kinds` maps it to its kind. Words that
    are part of an @handle ("Acme" in "@AcmeHelp") are the company's name, not the case's.
    """

    first_turn: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, SpecificKind] = field(default_factory=dict)
    #: the conversation's @handles, lower-cased and space-separated (company names)
    company: str = ""

    def known_before(self, key: str, turn: int) -> SpecificKind | None:
        first = self.first_turn.get(key)
        if first is None or first >= turn:
            return None
        return self.kinds[key]

    def __len__(self) -> int:
        return len(self.first_turn)


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light, fast stem so that inflections of one word meet ("tried" ~ "trying")."""
    w = word.lower()
    if "\u2019" in w:
        w = w.replace("\u2019", "'")
    if w.endswith("'s"):
        w = w[:-2]
    n = len(w)
    if n > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if n > 5 and w.endswith("ing"):
        return _undouble(w[:-3])
    if n > 4 and w.endswith("ied"):
        return w[:-3] + "y"
    if n > 4 and w.endswith("ed"):
        return _undouble(w[:-2])
    if n > 3 and w.endswith("es") and w[-3] in "sxz":
        return w[:-2]
    if n > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w


def _undouble(w: str) -> str:
    # "running" -> "run", "stopped" -> "stop" (but "install" keeps its "ll")
    if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "lsz":
        return w[:-1]
    return w


@lru_cache(maxsize=1 << 16)
def _number_key(token: str) -> str:
    return _NUM_STRIP.sub("", token.lower())


def _blank(text: str) -> str:
    """`text` with links and @handles replaced by spaces (offsets unchanged)."""
    if "@" not in text and "#" not in text and "http" not in text and "www." not in text:
        return text
    return _SKIP.sub(lambda m: " " * (m.end() - m.start()), text)


def _number_start(text: str, start: int) -> int:
    """Extend a number found at its first digit back over letters ("ps4" from "4")."""
    while start > 0 and text[start - 1].isascii() and text[start - 1].isalpha():
        start -= 1
    return start


@lru_cache(maxsize=1 << 16)
def _content_key(word: str) -> str | None:
    """The key of a lower-cased word, or None for stop words and stock support words."""
    if "\u2019" in word:
        word = word.replace("\u2019", "'")
    if word in _DATES:
        return word
    if len(word) < 3 or word in _STOP:
        return None
    key = stem(word)
    return None if key in _STOP else key


def _name_words(clean: str) -> set[str]:
    """Lower-cased words the customer wrote like names.

    Like a name: inner capitals ("iPhone"), short all-capitals ("DTW"), or a capital
    that does not start a sentence ("... from Paddington"). Only capitalised tokens are
    looked at (a regex finds them; a tweet has a handful).
    """
    out: set[str] = set()
    for m in _CAPITAL.finditer(clean):
        start = m.start()
        while start > 0 and clean[start - 1].isalpha():
            start -= 1  # "iPhone": the token starts before its capital
        token = clean[start : m.end()]
        tail = token[1:]
        if tail != tail.lower():
            if not token.isupper() or len(token) <= 5:
                out.add(lower(token))
            continue
        j = start - 1
        while j >= 0 and clean[j] in " \t\"'(":
            j -= 1
        if j >= 0 and clean[j] not in ".!?\n:":
            out.add(lower(token))
    return out


def _strip(text: str) -> str:
    """`text` with links and @handles replaced by one space each: for finding words and
    numbers where offsets do not matter (cheaper than `_blank`, same tokens)."""
    if "@" not in text and "#" not in text and "http" not in text and "www." not in text:
        return text
    return _SKIP.sub(" ", text)


def case_details(doc: Doc) -> CaseDetails:
    """The customer's specifics in `doc`, extracted once and cached in ``doc.cache``."""
    cached = doc.cache.get(CACHE_KEY)
    if isinstance(cached, CaseDetails):
        return cached
    details = CaseDetails()
    first_turn, kinds = details.first_turn, details.kinds
    handles: set[str] = set()
    # The company's own handle, when an importer took it out of the text (TWCS keeps it
    # in meta["company"]): "Xbox" from "@XboxSupport" is the brand, not a case detail.
    own = doc.conversation.meta.get("company")
    if isinstance(own, str) and own:
        handles.add(own.lstrip("@").lower())
    customer = Speaker.customer
    # Words of earlier customer turns: their keys are known already, so a word met again
    # can only turn a "word" into a "name" (customers repeat their words a lot).
    seen: set[str] = set()
    for turn in doc.turns:
        text = turn.text
        if "@" in text:
            handles.update(h.lower() for h in _HANDLE.findall(text))
        if turn.speaker is not customer or not text:
            continue
        i = turn.i
        clean = _strip(text)  # offsets are not needed here, only the words
        low = lower(clean)
        names = _name_words(clean) if clean != low else set()
        words = set(_WORD.findall(low))
        words -= _STOP
        fresh = words - seen if seen else words
        for word in fresh:
            key = _content_key(word)
            if key is None:
                continue
            old = kinds.get(key)
            if old is None or old == "word":
                kind: SpecificKind = (
                    "date" if key in _DATES else "name" if word in names else "word"
                )
                if old is None:
                    first_turn[key] = i
                    kinds[key] = kind
                elif kind == "name":
                    kinds[key] = "name"
        if names and len(fresh) < len(words):
            for word in names.intersection(words).difference(fresh):
                key = _content_key(word)
                if key is not None and key not in _DATES and kinds.get(key) == "word":
                    kinds[key] = "name"
        seen |= words
        for m in _NUMBER.finditer(low):
            key = _number_key(low[_number_start(low, m.start()) : m.end()])
            if key and key not in kinds:
                first_turn[key] = i
                kinds[key] = "number"
    details.company = " ".join(sorted(handles))
    if handles:
        company = details.company
        for key in [k for k in first_turn if _is_company(k, company)]:
            del first_turn[key]
            del kinds[key]
    doc.cache[CACHE_KEY] = details
    return details


def _is_company(key: str, handles: str) -> bool:
    """A word that is part of an @handle is the company's (or someone's) name, not a detail."""
    return len(key) >= 3 and not key[0].isdigit() and key in handles


def specifics_in(doc: Doc, turn: TurnState) -> list[Specific]:
    """Echoes of the customer's earlier specifics in an agent `turn`, in text order.

    Computed once per turn and cached in ``doc.cache["case.used"]`` (several detectors
    ask about the same turn).
    """
    if turn.speaker is not Speaker.agent or not turn.text:
        return []
    used = doc.cache.setdefault(USED_KEY, {})
    assert isinstance(used, dict)
    cached = used.get(turn.i)
    if cached is not None:
        return list(cached)
    out = _echoes(doc, turn)
    used[turn.i] = tuple(out)
    return out


def _echoes(doc: Doc, turn: TurnState) -> list[Specific]:
    details = case_details(doc)
    if not details:
        return []
    first_turn, kinds = details.first_turn, details.kinds
    now = turn.i
    text = turn.text
    clean = _blank(text)
    low = lower(clean)
    out: list[Specific] = []
    found = set(_WORD.findall(low))
    found -= _STOP  # (no stop word is a date: `_content_key` gives None for all of them)
    words = [
        (w, key)
        for w in found
        if (key := _content_key(w)) is not None and first_turn.get(key, now) < now
    ]
    if words:
        addressed = addressed_names(doc)
        for word, key in words:
            for s, e in _occurrences(low, word):
                if text[s].isupper() and (word in addressed or _after_greeting(low, s)):
                    continue  # "Hi Sam": the name alone is not a case detail
                out.append(Specific(s, e, kinds[key], key))
    for m in _NUMBER.finditer(low):
        s = _number_start(low, m.start())
        key = _number_key(low[s : m.end()])
        if key and first_turn.get(key, now) < now:
            out.append(Specific(s, m.end(), kinds[key], key))
    out.sort(key=lambda sp: sp.start)
    return out


def _occurrences(low: str, word: str) -> list[tuple[int, int]]:
    """Spans of `word` as a whole word in `low` (C-level finds; few words per turn)."""
    spans = []
    n = len(word)
    pos = low.find(word)
    while pos >= 0:
        end = pos + n
        before = low[pos - 1] if pos else " "
        after = low[end] if end < len(low) else " "
        if not (before.isalnum() or before == "'") and not (after.isalnum() or after == "'"):
            spans.append((pos, end))
        pos = low.find(word, end)
    return spans


def _after_greeting(low: str, start: int) -> bool:
    previous = low[max(0, start - 12) : start].split()
    return bool(previous) and previous[-1].strip(",.!") in _GREETINGS


def specifics_used(doc: Doc, turn: TurnState) -> list[tuple[int, int]]:
    """Spans in an agent `turn` that echo this customer's specifics (see module docstring)."""
    return [(sp.start, sp.end) for sp in specifics_in(doc, turn)]


#: Characters that open an agent's sign-off ("... ^JM", "... - Sam", "... /PC").
_SIGNATURE_MARKS = ("^", "*", " - ", " -", " \u2013", " \u2014", " /", " ~", "(", "rgds", "regards")
_SIGNATURE_ZONE = 30


def _signature_start(text: str, low: str | None = None) -> int:
    """Where a trailing sign-off starts (the text length when there is none); `low` is
    ``text.lower()`` when the caller has it."""
    tail_from = max(0, len(text) - _SIGNATURE_ZONE)
    if low is None:
        low = lower(text)
    starts = [low.find(m, tail_from) for m in _SIGNATURE_MARKS]
    found = [p for p in starts if p >= 0]
    return min(found) if found else len(text)


def _part_marker(tok: str) -> bool:
    """'1/2', '2/2', '(1/2)' and the like number the parts of a split reply."""
    core = tok.strip("():.")
    if "/" in core:
        a, _, b = core.partition("/")
        return a.isdigit() and b.isdigit() and len(a) <= 2 and len(b) <= 2
    return core.isdigit() and len(core) == 1


# A number that is a duration ("within 24 hrs", "after 30 seconds", "3-5 working days"):
# how long things take in general, as said in instructions and policies, not a particular
# of this case (a due time the agent commits to is T.commit's evidence, not this).
_DURATION_AFTER = re.compile(
    r"\s?(?:-\s?)?(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|"
    r"(?:working|business) days)\b"
)
# "1.Verify", "2)Tap": the number of a step in a list of instructions.
_STEP = re.compile(r"\d{1,2}[.)][a-z]")


def _generic_number(low: str, tok: str, end: int) -> bool:
    """Whether the number `tok` (ending at `end` in `low`) is a duration, "24/7" or a step
    number, which every customer could be told."""
    if tok in ("24/7", "24-7") or _STEP.match(tok):
        return True
    return _DURATION_AFTER.match(low, end) is not None


def particulars_in(doc: Doc, turn: TurnState) -> list[Specific]:
    """Numbers and days in an agent `turn`: particulars of a case, said by the agent.

    Whether or not the customer said them: an amount, a reference, a time, a day ("the
    18:30 train", "140 points", "by Friday"). Sign-offs, @handles, links, single digits,
    part markers ("1/2"), durations ("within 24 hrs", "after 30 seconds"), "24/7" and
    step numbers ("1.Verify") are left out. Capitalised words are not used here: in agents'
    replies they are mostly the customer's name, team names and menu labels (measured on
    real support dialogs, they added more false than true evidence). Not cached.
    """
    if turn.speaker is not Speaker.agent or not turn.text:
        return []
    text = turn.text
    clean = _blank(text)
    low = lower(clean)
    sig = _signature_start(clean, low)
    out: list[Specific] = []
    for m in _NUMBER.finditer(low, 0, sig):
        s = _number_start(low, m.start())
        tok = low[s : m.end()]
        if len(tok) > 1 and not _part_marker(tok) and not _generic_number(low, tok, m.end()):
            out.append(Specific(s, m.end(), "number", _number_key(tok)))
    if "day" in low:
        for m in _DAY.finditer(clean, 0, sig):
            out.append(Specific(m.start(), m.end(), "date", m.group().lower()))
        out.sort(key=lambda sp: sp.start)
    return out


#: The key under which the names the agent addresses the customer by are cached.
ADDRESSED_KEY = "case.addressed"


def addressed_names(doc: Doc) -> frozenset[str]:
    """Names the agent addresses the customer by ("Hi Sam", "..., Sam."), lower-cased.

    Collected once per conversation from every agent turn (cached in ``doc.cache``), so a
    name used as a greeting in one reply is not taken for a case detail in another.
    """
    cached = doc.cache.get(ADDRESSED_KEY)
    if isinstance(cached, frozenset):
        return cached
    names: set[str] = set()
    for turn in doc.turns:
        if turn.speaker is Speaker.agent and turn.text:
            for greeted, vocative in _ADDRESSED.findall(turn.text):
                names.add(lower(greeted or vocative))
    out = frozenset(names - _STOP)
    doc.cache[ADDRESSED_KEY] = out
    return out
