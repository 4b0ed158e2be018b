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

What counts as a specific:

- ``number``: any token with a digit (amounts, order or flight numbers, versions, times,
  "PS4"), compared without punctuation ("$40" echoes "40");
- ``date``: weekday and month names;
- ``name``: a token written with an inner or leading capital in the customer's text that
  is not a common word (products, places, services: "Kinect", "Paddington", "iPhone");
- ``word``: any other content word (not a stop word, not a stock support word such as
  "order", "help", "issue"), compared by a light stem ("reinstalled" ~ "reinstalling").

Addressing the customer by name is not a specific: a token right after a greeting ("Hi
Sam", "thanks, Sam") is skipped, and @handles and links are ignored on both sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from heard.detectors.base import Doc, TurnState
from heard.model import Speaker

SpecificKind = Literal["number", "date", "name", "word"]

#: The key under which the details are cached in ``Doc.cache``.
CACHE_KEY = "case.details"

# One token regex for both sides: @handles and links are matched (so they can be skipped)
# rather than split into words.
_TOKEN = re.compile(
    r"https?://\S+|www\.\S+|[@#][\w.]+|[$£€]?\d[\w.,:/-]*\w|[$£€]?\d|[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]"
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
    agent can only echo what was said before), `kinds` maps it to its kind.
    """

    first_turn: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, SpecificKind] = field(default_factory=dict)

    def known_before(self, key: str, turn: int) -> SpecificKind | None:
        first = self.first_turn.get(key)
        if first is None or first >= turn:
            return None
        return self.kinds[key]

    def __len__(self) -> int:
        return len(self.first_turn)


def stem(word: str) -> str:
    """A light, fast stem so that inflections of one word meet ("tried" ~ "trying")."""
    w = word.lower().replace("\u2019", "'")
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


def _classify(token: str, at_sentence_start: bool) -> tuple[str, SpecificKind] | None:
    """The key and kind of a customer token, or None when it is not a specific."""
    first = token[0]
    if first in "@#" or token.startswith(("http://", "https://", "www.")):
        return None
    if any(c.isdigit() for c in token):
        key = _NUM_STRIP.sub("", token.lower())
        return (key, "number") if key else None
    low = token.lower().replace("\u2019", "'")
    if low in _DATES:
        return low, "date"
    if len(low) < 3 or low in _STOP:
        return None
    key = stem(low)
    if key in _STOP:
        return None
    inner_cap = any(c.isupper() for c in token[1:]) and not token.isupper()
    if (
        inner_cap
        or (first.isupper() and not at_sentence_start)
        or (token.isupper() and len(token) <= 5)
    ):
        return key, "name"
    return key, "word"


def _tokens(text: str) -> list[tuple[int, int, str, bool]]:
    """Tokens with spans and whether each starts a sentence (cheap: one regex pass)."""
    out: list[tuple[int, int, str, bool]] = []
    prev_end = 0
    sentence_start = True
    for m in _TOKEN.finditer(text):
        gap = text[prev_end : m.start()]
        if any(c in ".!?\n" for c in gap):
            sentence_start = True
        tok = m.group()
        out.append((m.start(), m.end(), tok, sentence_start))
        if tok[0] not in "@#":
            sentence_start = False
        prev_end = m.end()
    return out


def case_details(doc: Doc) -> CaseDetails:
    """The customer's specifics in `doc`, extracted once and cached in ``doc.cache``."""
    cached = doc.cache.get(CACHE_KEY)
    if isinstance(cached, CaseDetails):
        return cached
    details = CaseDetails()
    for turn in doc.turns:
        if turn.speaker is not Speaker.customer or not turn.text:
            continue
        for _, _, tok, at_start in _tokens(turn.text):
            got = _classify(tok, at_start)
            if got is None:
                continue
            key, kind = got
            if key not in details.first_turn:
                details.first_turn[key] = turn.i
                details.kinds[key] = kind
            elif kind == "name" and details.kinds[key] == "word":
                details.kinds[key] = "name"
    doc.cache[CACHE_KEY] = details
    return details


def specifics_in(doc: Doc, turn: TurnState) -> list[Specific]:
    """Echoes of the customer's earlier specifics in an agent `turn`, in text order."""
    if turn.speaker is not Speaker.agent or not turn.text:
        return []
    details = case_details(doc)
    if not details:
        return []
    out: list[Specific] = []
    after_greeting = False
    for s, e, tok, _ in _tokens(turn.text):
        first = tok[0]
        if first in "@#" or tok.startswith(("http://", "https://", "www.")):
            continue
        low = tok.lower()
        if any(c.isdigit() for c in tok):
            key = _NUM_STRIP.sub("", low)
        elif low in _DATES:
            key = low
        else:
            if after_greeting and first.isupper():
                after_greeting = False
                continue  # "Hi Sam": the name alone is not a case detail
            key = stem(low)
        after_greeting = low in _GREETINGS
        kind = details.known_before(key, turn.i)
        if kind is not None:
            out.append(Specific(s, e, kind, key))
    return out


def specifics_used(doc: Doc, turn: TurnState) -> list[tuple[int, int]]:
    """Spans in an agent `turn` that echo this customer's specifics (see module docstring)."""
    return [(sp.start, sp.end) for sp in specifics_in(doc, turn)]
