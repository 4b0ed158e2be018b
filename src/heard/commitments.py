"""Commitments: every promise an agent makes becomes a follow-up with an owner and a due time.

An agent who says "I'll ring you by 5" has created work that outlives the chat. This
module turns each promise the detectors found into a `Commitment` the service can store,
list and chase:

- **which findings**: every ``T.commit`` (kind ``commit``), ``X.vague_commit`` (kind
  ``vague``) and ``T.warm_handoff`` (kind ``handoff``) finding in an agent turn, and the
  further promises of those ids the lexical detectors kept in the same turn (a turn has
  one finding per id, but "I'll text you by 4, and if it isn't there I'll send a courier"
  is two follow-ups). One commitment per sentence; when a hand-off and a commitment share
  a sentence, the hand-off alone is kept.
- **what**: the promised action in a few words, read from the finding's sentence ("message
  you with the courier's name").
- **owner**: for a hand-off, the person or team it goes to ("Priya", "refunds team");
  otherwise a person or team named as the subject ("Helen will call you") or, for "I" and
  "we", the agent (their ``agent_id``, else ``"agent"``). An agent who makes a vague
  promise still owns it: that is the point-person rule.
- **due**: the deadline stated in the sentence, resolved against the turn's timestamp (or
  the nearest earlier one) in the conversation's local zone: ``meta["timezone"]`` (an
  IANA name) when set, else the zone of the timestamp. Zones written in the text win
  ("by 5pm EST", "17:00 CET", "9am Europe/London"). Deadline semantics, not calendar
  semantics: a period names its end ("tomorrow morning" -> 12:00, "this afternoon" ->
  17:00, "end of day" -> 17:00, "first thing" -> 10:00), a day without a time names the end
  of that day ("by Friday" -> Friday 23:59, and Friday itself when said on a Friday), a
  clock time already past today means tomorrow, and ranges take their upper end ("within
  2-3 working days" -> three working days, weekends skipped).

  Relative durations ("within 24 hours", "in two working days"), today / tonight /
  tomorrow, weekdays, clock times and zones are read by the small built-in parser below.
  Calendar dates ("16 March", "March 16th", "the 16th", "3/16") are read with
  ``dateparser`` (the ``server`` extra), imported lazily on first need. Without
  dateparser those dates are left unresolved (``due`` is None, ``due_text`` keeps the
  words) and everything else still works.
- **status**: ``done`` when the loop was closed later in the conversation, ``overdue``
  when the due time is before "now" and it is not done, else ``open``. When extracting,
  "now" is the last timestamp in the conversation, so an analysis is reproducible; the
  service asks `status_at(commitment, now)` for the live status and closes a promise
  explicitly with `close`.

How a loop is closed:

- a ``commit`` or ``vague`` promise is done when a later agent turn reports back ("as
  promised", "I've sent ...", "it's done") or the customer confirms receipt ("it's
  here", "both files arrived");
- a ``handoff`` stays open until the receiving person closes the loop: a later agent turn
  by someone other than the agent who handed over (naming themselves as the owner when
  the owner is a person, "Hi, this is Grace"), or a later agent turn reporting that the
  owner did it ("Priya has sent both files"), or an explicit `close` by the service.

Vague promises carry an ``explanation`` that tells the agent what to add: an owner, a
time, or (for a cold hand-off) who picks it up and when.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from heard.detectors.base import TurnState
from heard.model import Analysis, Commitment, Conversation, Finding, Speaker

Status = Literal["open", "done", "overdue"]

#: finding id -> commitment kind
KINDS: dict[str, Literal["commit", "vague", "handoff"]] = {
    "T.commit": "commit",
    "X.vague_commit": "vague",
    "T.warm_handoff": "handoff",
}

# -- time expressions -----------------------------------------------------------------

_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty-eight": 48,
    "seventy-two": 72,
    "twenty-four": 24,
    "few": 3,
    "a few": 3,
    "couple of": 2,
    "a couple of": 2,
}
_NUM = (
    r"\d+(?:\.\d+)?|twenty-four|forty-eight|seventy-two|a couple of|couple of|a few|few|"
    r"an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty"
)
_UNIT = r"(?:working |business )?(?:minutes?|mins?|hours?|hrs?|days?|weeks?)"
_RELATIVE = re.compile(
    rf"\b(?:within|in|inside|under|in the next|within the next|over the next|in under)\s+"
    rf"(?:the next\s+)?(?:about\s+|around\s+)?(?:(?P<n>{_NUM})"
    rf"(?:\s*(?:-|–|to|or)\s*(?P<n2>{_NUM}))?\s*|the\s+)(?P<unit>{_UNIT})\b",
    re.I,
)
_WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
#: one piece of a deadline; adjacent pieces form one expression
_PIECES = re.compile(
    r"(?P<day>\b(?:today|tonight|tomorrow|tmrw|tmr|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\b)"
    r"|(?P<date>\b\d{1,2}(?:st|nd|rd|th)?(?: of)? " + _MONTH + r"\b(?: \d{4})?"
    r"|\b" + _MONTH + r" \d{1,2}(?:st|nd|rd|th)?\b(?:,? \d{4})?"
    r"|\bthe \d{1,2}(?:st|nd|rd|th)\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b)"
    r"|(?P<period>\b(?:this (?:morning|afternoon|evening)|(?:in the )?(?:morning|afternoon|"
    r"evening|night|lunchtime)|end of (?:the )?(?:business )?day|end of today|eod|cob|"
    r"close of business|first thing)\b)"
    r"|(?P<clock>\b(?:\d{1,2}[:.]\d{2}\s?(?:am|pm|a\.m\.|p\.m\.)?|\d{1,2}\s?(?:am|pm|a\.m\.|"
    r"p\.m\.)|noon|midday|midnight|half (?:past )?(?:\d{1,2}|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|eleven|twelve))(?!\w)"
    r"|(?:(?<=\bat )|(?<=\bby )|(?<=\buntil )|(?<=\bbefore )|(?<=\baround ))\d{1,2}"
    r"(?![\d:.,%\w])(?!\s*(?:minutes?|mins?|hours?|hrs?|days?|weeks?|percent|pounds|"
    r"dollars|euros|items?|people|times)\b))"
    r"|(?P<zone>\b(?:UTC|GMT|BST|CET|CEST|EET|EEST|EST|EDT|CST|CDT|MST|MDT|PST|PDT|ET|CT|"
    r"MT|PT|[A-Z][a-z]+/[A-Z][A-Za-z_]+)\b)",
    re.I,
)
#: what may sit between two pieces of one expression
_JOIN = re.compile(r"^[\s,]*(?:(?:on|at|by|the|of|before|around|about|from|-)\s*)*$", re.I)
#: deadline words before an expression; an expression without one is a weaker candidate
_ANCHOR = re.compile(
    r"\b(?:by|before|until|till|til|no later than|latest|at the latest|on|at|for|around|"
    r"within|in|from)\s*(?:the\s+)?$",
    re.I,
)
_CLOCK_NUMBER = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
#: a period names its end (deadline semantics)
_PERIOD_END = {
    "morning": time(12, 0),
    "afternoon": time(17, 0),
    "evening": time(21, 0),
    "night": time(23, 59),
    "lunchtime": time(14, 0),
    "end of day": time(17, 0),
    "first thing": time(10, 0),
}
_END_OF_DAY = time(23, 59)
_END_OF_DAY_WORDS = frozenset(
    {
        "end of day",
        "end of the day",
        "end of business day",
        "end of the business day",
        "end of today",
        "eod",
        "cob",
        "close of business",
    }
)

#: zone abbreviations people write, as IANA zones (DST-aware) or fixed offsets
_ZONES: dict[str, str | int] = {
    "utc": 0,
    "gmt": 0,
    "z": 0,
    "bst": 60,
    "cet": 60,
    "cest": 120,
    "eet": 120,
    "eest": 180,
    "est": -300,
    "edt": -240,
    "cst": -360,
    "cdt": -300,
    "mst": -420,
    "mdt": -360,
    "pst": -480,
    "pdt": -420,
    "et": "America/New_York",
    "ct": "America/Chicago",
    "mt": "America/Denver",
    "pt": "America/Los_Angeles",
}


@dataclass(frozen=True, slots=True)
class DueExpression:
    """A deadline phrase found in a sentence: its span, its words, whether it is anchored."""

    start: int
    end: int
    text: str
    anchored: bool


def find_due_expressions(text: str) -> list[DueExpression]:
    """Deadline phrases in `text` ("by 5pm EST", "within 24 hours", "tomorrow morning")."""
    return list(_due_expressions(text))


@lru_cache(maxsize=8192)
def _due_expressions(text: str) -> tuple[DueExpression, ...]:
    # cached: the coach asks about the same turns again and again as a conversation grows
    out: list[DueExpression] = []
    for m in _RELATIVE.finditer(text):
        out.append(DueExpression(m.start(), m.end(), m.group(), True))
    taken = [(d.start, d.end) for d in out]
    pieces = [
        m
        for m in _PIECES.finditer(text)
        if not any(s <= m.start() < e for s, e in taken) and not _is_name_time(text, m)
    ]
    group: list[re.Match[str]] = []
    for m in pieces:
        if group and (
            not _JOIN.match(text[group[-1].end() : m.start()])
            or (m.lastgroup == "zone" and group[-1].lastgroup == "zone")
        ):
            out.append(_expression(text, group))
            group = []
        group.append(m)
    if group:
        out.append(_expression(text, group))
    out = [d for d in out if not _only_zone(d.text)]
    return tuple(sorted(out, key=lambda d: d.start))


def _is_name_time(text: str, m: re.Match[str]) -> bool:
    # "the 14:05 to Porto", "the 16:58 replacement bus": a clock time used as a name
    if m.lastgroup != "clock":
        return False
    return bool(re.search(r"\bthe\s*$", text[max(0, m.start() - 5) : m.start()], re.I))


def _only_zone(text: str) -> bool:
    kinds = [p.lastgroup for p in _PIECES.finditer(text)]
    return bool(kinds) and all(k == "zone" for k in kinds)


def _expression(text: str, group: Sequence[re.Match[str]]) -> DueExpression:
    s, e = group[0].start(), group[-1].end()
    lead = max(0, s - 20)
    anchor = _ANCHOR.search(text[lead:s])
    if anchor:
        s = lead + anchor.start()  # keep "by" / "no later than" with the time
    anchored = anchor is not None or any(g.lastgroup in ("period", "day", "date") for g in group)
    return DueExpression(s, e, text[s:e], anchored)


def _number(word: str) -> float | None:
    w = word.lower().strip()
    if w in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[w])
    try:
        return float(w)
    except ValueError:
        return None


def _zone(name: str) -> tzinfo | None:
    key = name.lower()
    got = _ZONES.get(key)
    if isinstance(got, int):
        return _fixed(got)
    try:
        return ZoneInfo(got if isinstance(got, str) else name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=32)
def _fixed(minutes: int) -> tzinfo:
    from datetime import timezone

    return UTC if minutes == 0 else timezone(timedelta(minutes=minutes))


def _add_working_days(start: datetime, days: float) -> datetime:
    whole = int(days)
    out = start
    while whole > 0:
        out += timedelta(days=1)
        if out.weekday() < 5:
            whole -= 1
    return out + timedelta(days=days - int(days))


def _relative(m: re.Match[str], base: datetime) -> datetime | None:
    n = _number(m.group("n2") or m.group("n") or "1")  # "within the hour": one hour
    if n is None:
        return None
    unit = m.group("unit").lower()
    if "working" in unit or "business" in unit:
        return _add_working_days(base, n)
    if unit.startswith("min"):
        return base + timedelta(minutes=n)
    if unit.startswith(("hour", "hr")):
        return base + timedelta(hours=n)
    if unit.startswith("day"):
        return base + timedelta(days=n)
    return base + timedelta(weeks=n)


def _clock(word: str) -> tuple[time, bool] | None:
    """A clock time and whether it is ambiguous between morning and afternoon ("by 5")."""
    w = word.lower().replace(".", ":").replace(" ", "")
    if w in ("noon", "midday"):
        return time(12, 0), False
    if w == "midnight":
        return time(23, 59), False
    if w.startswith("half"):
        rest = w.removeprefix("half").removeprefix("past")
        hour = _CLOCK_NUMBER.get(rest) or (int(rest) if rest.isdigit() else None)
        if hour is None or hour > 12:
            return None
        return time(hour, 30), hour != 12
    m = re.match(r"^(\d{1,2})(?::(\d{2}))?(a:m:|p:m:|am|pm)?$", w)
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    suffix = (m.group(3) or "").replace(":", "")
    if hour > 23 or minute > 59:
        return None
    if suffix == "pm" and hour < 12:
        return time(hour + 12, minute), False
    if suffix == "am":
        return time(0 if hour == 12 else hour, minute), False
    if suffix or hour == 0 or hour >= 12 or m.group(1).startswith("0"):
        return time(hour, minute), False  # 24-hour clock, or 12 meaning noon
    return time(hour, minute), True


def _next_clock(at: time, ambiguous: bool, here: datetime, zone: tzinfo) -> datetime:
    """The first moment at or after `here` showing `at` (either half of the day if ambiguous)."""
    today = here.date()
    hours = (at.hour, at.hour + 12) if ambiguous and at.hour < 12 else (at.hour,)
    options = [
        datetime.combine(today + timedelta(days=d), time(h, at.minute), tzinfo=zone)
        for d in (0, 1)
        for h in hours
    ]
    return min(o for o in options if o >= here.replace(second=0, microsecond=0))


@lru_cache(maxsize=1)
def _dateparser() -> Any:
    try:
        import dateparser
    except ImportError:  # the `server` extra is not installed
        return None
    return dateparser


@lru_cache(maxsize=4096)
def _calendar_date(text: str, base: datetime) -> date | None:
    """A calendar date ("16 March", "the 16th", "3/16") read by dateparser, or None."""
    dp = _dateparser()
    if dp is None:
        return None
    words = re.sub(r"^the\s+", "", text.strip(), flags=re.I)
    got = dp.parse(
        words,
        languages=["en"],
        settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future"},
    )
    return None if got is None else got.date()


def warm_up() -> None:
    """Load dateparser's data now rather than on the first calendar date (a server calls
    this at start-up: the first parse costs several hundred milliseconds)."""
    _calendar_date("16 March", datetime(2026, 1, 1))


def parse_due(text: str, base: datetime, *, tz: tzinfo | None = None) -> datetime | None:
    """The deadline `text` names, said at `base` (aware), as an aware UTC datetime, or None.

    `tz` is the conversation's local zone (default: `base`'s own zone). See the module
    docstring for the rules; ``None`` means no deadline could be read.
    """
    if base.tzinfo is None:
        base = base.replace(tzinfo=UTC)
    rel = _RELATIVE.search(text)
    if rel:
        got = _relative(rel, base)
        return None if got is None else got.astimezone(UTC)
    local = tz or base.tzinfo or UTC
    day: date | None = None
    at: time | None = None
    zone: tzinfo | None = None
    period_end: time | None = None
    for m in _PIECES.finditer(text):
        if m.lastgroup == "zone":
            zone = _zone(m.group())
    here = base.astimezone(zone or local)
    today = here.date()
    ambiguous = False
    for m in _PIECES.finditer(text):
        kind, word = m.lastgroup, m.group().lower()
        if kind == "day":
            if word in ("today", "tonight"):
                day = today
                if word == "tonight":
                    period_end = time(23, 59)
            elif word in ("tomorrow", "tmrw", "tmr"):
                day = today + timedelta(days=1)
            else:
                wd = _WEEKDAYS[word.rstrip(".")]
                day = today + timedelta(days=(wd - today.weekday()) % 7)
        elif kind == "date":
            day = _calendar_date(m.group(), here.replace(tzinfo=None))
            if day is None:
                return None
        elif kind == "period":
            key = word.removeprefix("this ").removeprefix("in the ")
            if key in _END_OF_DAY_WORDS:
                key = "end of day"
            period_end = _PERIOD_END.get(key, _PERIOD_END["end of day"])
        elif kind == "clock":
            clock = _clock(word)
            if clock is not None:
                at, ambiguous = clock
    if day is None and at is None and period_end is None:
        return None
    where = zone or local
    if day is None and at is not None:
        return _next_clock(at, ambiguous, here, where).astimezone(UTC)
    if at is not None and ambiguous and 1 <= at.hour <= 7:
        at = time(at.hour + 12, at.minute)  # "Thursday at 5" on a working day: 5 pm
    when = at or period_end or _END_OF_DAY
    if day is None:
        day = today
        if datetime.combine(day, when, tzinfo=where) < here:
            day = today + timedelta(days=1)
    return datetime.combine(day, when, tzinfo=where).astimezone(UTC)


# -- who and what -----------------------------------------------------------------------

_CLAUSE = r"(?P<what>(?:[^.;:!?\n]|[:.](?=\d))+)"
_LEAD = (
    r"(?:(?:also|personally|then|now|just|definitely|first|still|make sure (?:to|that)|"
    r"be sure to|try to|be (?:happy|glad|able|delighted|sure) to)\s+)*"
)
_NAME = r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?"
_TEAM = (
    r"(?:[a-z-]+\s+){0,3}(?:team|department|dept|desk|office|manager|supervisor|lead|"
    r"engineers?|adjuster|specialist|courier|driver|colleague|crew)"
)
#: (pattern, priority): a promise phrase; lower priority numbers win ties on distance
_PROMISES: tuple[tuple[re.Pattern[str], int], ...] = (
    (
        re.compile(
            r"(?P<subject>\b(?:I|we|We|they|They|she|She|he|He)\b|\b(?:[Oo]ur|[Tt]he|[Mm]y)\s+"
            + _TEAM
            + r"\b|\b"
            + _NAME
            + r"\b)(?:'ll|’ll|\s+will|\s+shall|\s+am going to|'m going to|’m going to|"
            r"\s+are going to|'re going to|’re going to|\s+is going to|'s going to)\s+"
            + _LEAD
            + _CLAUSE
        ),
        0,
    ),
    (re.compile(r"\b(?:[Ll]et me|[Ii] promise to)\s+" + _LEAD + _CLAUSE), 0),
    (
        re.compile(
            r"(?P<subject>\b(?:I|[Ww]e))(?:'ve|’ve|\s+have)\s+(?:now\s+|just\s+|also\s+|already\s+)*"
            r"(?P<what>(?:booked|arranged|asked|passed|sent|put|set|scheduled|raised|escalated|"
            r"logged|marked|made|told|briefed|messaged|emailed)\b(?:[^.;:!?\n]|[:.](?=\d))*)"
        ),
        1,
    ),
    (
        re.compile(
            r"(?P<subject>\b(?:I|[Ww]e))(?:'m|’m|\s+am|'re|’re|\s+are)\s+"
            r"(?P<what>(?!going\b)[a-z]+ing\b(?:[^.;:!?\n]|[:.](?=\d))*)"
        ),
        2,
    ),
    (
        re.compile(
            r"(?P<subject>\b(?:I|[Ww]e))\s+can\s+(?!see\b|understand\b|imagine\b|hear\b|tell\b)"
            + _LEAD
            + _CLAUSE
        ),
        3,
    ),
    (re.compile(r"(?P<what>\b[\w' ]{3,60}?\bwill be\s+[a-z]+ed\b(?:[^.;:!?\n]|[:.](?=\d))*)"), 4),
    (
        re.compile(
            r"\b(?:[Yy]ou(?:'ll| will)? need to|[Pp]lease)\s+"
            r"(?P<what>(?:contact|write|call|reach out|get in touch|email|speak|go)\b[^.;!?\n]*)"
        ),
        5,
    ),
)
_PERSON_OWNER = (
    re.compile(
        r"\b(?:to|with|asked|told|briefed|messaged|emailed|called|over to|through to|"
        r"introduce you to)\s+(?:my colleague\s+|(?:our|the|my)\s+[a-z ]{2,40}?,\s+)?"
        r"(?P<who>" + _NAME + r")\b"
    ),
    re.compile(
        r"\b(?:team|manager|lead|supervisor|engineer|colleague|specialist|adjuster),?\s+"
        r"(?P<who>" + _NAME + r")\b"
    ),
    re.compile(r"\b(?P<who>" + _NAME + r")\s+(?:from|on|in|at)\s+(?:the\s+|our\s+)?[a-z]+"),
)
_TEAM_OWNER = re.compile(
    r"\b(?:to|with|from|over to|through to|passed (?:it |this |you )?(?:on )?to)\s+"
    r"(?:our|the|a)\s+(?P<who>" + _TEAM + r")\b"
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NOT_NAMES = _words(
    """I We They She He It You This That There Then So And But If Our The My Your Once
    When What Where Who Why How Thanks Thank Sorry Okay Ok Yes No Hi Hello Dear Please
    Great Right Well Also Just Now First Today Tomorrow Tonight Monday Tuesday Wednesday
    Thursday Friday Saturday Sunday January February March April May June July August
    September October November December Let Fair Got Oh Both Either Of Here Mr Mrs Ms Dr
    Customer Service Support Chat Team UTC GMT Is Are Would Could Can Will Do Does Before
    After Going Any Every Everyone Nobody Nothing Someone"""
)
_WORD_LIMIT = 12
_CUT = re.compile(
    r",\s+(?:and\s+)?(?:the|I|we|you|she|he|they|it|so|but|which|while|whatever)\b"
    r"|(?<!\s)\s+(?:so that|so|but|because|which|while|whatever happens|if you'd like)\b",
)
_TRAILING = re.compile(
    r"(?<!\s)\s*(?:,|\band\b|\bso\b|\bif\b|\bwhich\b|\bbecause\b|\bonce\b|\bwhen\b|\bthen\b)\s*$",
    re.I,
)


def _short(phrase: str) -> str:
    cut = _CUT.search(phrase)
    if cut and cut.start() > 8:
        phrase = phrase[: cut.start()]
    words = phrase.strip().split()
    text = _TRAILING.sub("", " ".join(words[:_WORD_LIMIT]))
    if len(words) > _WORD_LIMIT:
        text += " …"
    return text.strip(" ,;:-")


_VAGUE_TIME = re.compile(
    r"(?<!\s)\s*\b(?:in due course|as soon as (?:possible|we can|they can|i can)|asap|shortly|"
    r"soon(?!\s+as\b)|"
    r"at some point|when (?:we|they|i) (?:can|get a chance)|in the near future|"
    r"when they'?ve got a slot)\b",
    re.I,
)


def _strip_due(phrase: str) -> str:
    out = _VAGUE_TIME.sub("", phrase)
    for d in reversed(find_due_expressions(out)):  # offsets in `out`, not in `phrase`
        out = out[: d.start] + out[d.end :]
    return re.sub(r"\s+([,;])", r"\1", re.sub(r"\s{2,}", " ", out)).strip()


def _is_name(who: str) -> bool:
    return bool(who) and who.split()[0] not in _NOT_NAMES and who.split()[-1] not in _NOT_NAMES


def _owner_from_subject(subject: str, agent: str) -> str | None:
    """The named owner a subject stands for (None for "I"/"we"/pronouns)."""
    s = subject.strip()
    low = s.lower()
    if low in ("i", "we", "they", "she", "he"):
        return None
    if low.startswith(("our ", "the ", "my ")):
        return low.split(" ", 1)[1]
    return s if _is_name(s) else None


def _handoff_owner(sentence: str) -> str | None:
    for rx in _PERSON_OWNER:
        for m in rx.finditer(sentence):
            if _is_name(m.group("who")):
                return m.group("who")
    team = _TEAM_OWNER.search(sentence)
    return team.group("who").lower() if team else None


# -- closing the loop -----------------------------------------------------------------

#: a later agent turn reporting back on an earlier promise
_REPORT_BACK = re.compile(
    r"\b(?:as promised|as i (?:said|promised)(?: i would)?|like i said i would|as agreed|"
    r"quick update|good news|update:|came back (?:up|online|at)|"
    r"(?:it|this|that)(?:'s| is| has been) (?:now )?(?:done|sorted|fixed|on (?:its|the) way|"
    r"on the van)|all done)\b",
    re.I,
)
#: "I've sent / we've booked ...": a report-back when it shares words with the promise
_DONE_ACT = re.compile(
    r"\b(?:i'?ve|i have|we'?ve|we have|i just|i)\s+(?:now |just |also |already )?(?:checked|"
    r"sent|done|booked|called|emailed|texted|messaged|refunded|cancell?ed|arranged|confirmed|"
    r"spoken|reset|fixed|sorted|removed|credited|posted|shipped|rebooked|delivered|finished|"
    r"completed|rang|phoned)\b",
    re.I,
)
#: "Priya has sent ...": the receiver of a hand-off did it
_THEY_DID = re.compile(
    r"\b(?:has|'s|’s|have|had)\s+(?:now |just |already |also )?(?:sent|done|booked|called|"
    r"emailed|texted|messaged|refunded|cancell?ed|arranged|confirmed|reset|fixed|sorted|"
    r"removed|credited|shipped|rebooked|delivered|finished|completed|rung|phoned|replied)\b",
    re.I,
)
_CONTENT = re.compile(r"[a-z][a-z'-]{3,}")
_FUNCTION_WORDS = _words(
    """with that this your yours they them their there then than what when will would
    about after before from have just make sure myself yourself again today tomorrow
    tonight either back into onto over also once right know here hour hours minute
    minutes days week let"""
)


def _content_words(text: str) -> set[str]:
    return {w[:5] for w in _CONTENT.findall(text.lower()) if w not in _FUNCTION_WORDS}


def _reports_back(c: Commitment, text: str) -> bool:
    if _REPORT_BACK.search(text):
        return True
    return bool(_DONE_ACT.search(text)) and bool(_content_words(c.what) & _content_words(text))


_RECEIPT = re.compile(
    r"\b(?:it'?s here|(?:it|they|both|the [a-z]+|[a-z]+s) (?:has |have )?(?:just |finally )?"
    r"(?:came|arrived|turned up|landed)|(?:i'?ve |i have |we'?ve )?(?:got|received) "
    r"(?:it|them|the \w+|both)\b(?! yet)|it came|(?:works?|working) now|back (?:up|online))\b",
    re.I,
)
_INTRO = re.compile(
    r"\b(?:this is|[Ii]'?m|[Ii] am|it'?s|my name is|name'?s)\s+(?P<name>[A-Z][a-z]+)\b|"
    r"\b(?P<name2>[A-Z][a-z]+)\s+here\b"
)


def _agent_label(conv: Conversation, i: int) -> str:
    return conv.turns[i].agent_id or "agent"


def _base_time(conv: Conversation, i: int) -> datetime | None:
    for j in range(i, -1, -1):
        ts = conv.turns[j].ts
        if ts is not None:
            return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
    return None


def _local_zone(conv: Conversation, base: datetime | None) -> tzinfo | None:
    name = conv.meta.get("timezone") if isinstance(conv.meta, dict) else None
    if isinstance(name, str):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return base.tzinfo if base is not None else None


def last_time(conv: Conversation) -> datetime | None:
    """The last timestamp in a conversation (aware), or None when it has none."""
    return _base_time(conv, len(conv.turns) - 1) if conv.turns else None


def _sentence_span(text: str, span: tuple[int, int]) -> tuple[int, int]:
    state = TurnState(i=0, speaker=Speaker.agent, text=text)
    s, _ = state.sentence_at(min(span[0], max(0, len(text) - 1)))
    _, e = state.sentence_at(max(span[0], min(span[1], len(text)) - 1))
    return s, e


def _pick_due(sentence: str, after: int) -> DueExpression | None:
    found = find_due_expressions(sentence)
    if not found:
        return None
    # anchored first ("by 16:00" over "the 14:05"), then the first after the promise verb
    found.sort(key=lambda d: (not d.anchored, d.start < after, d.start))
    return found[0]


def _what(sentence: str, finding: Finding, offset: int) -> tuple[str, str | None, int]:
    """(what, subject, position of the promise in the sentence) for a finding's sentence."""
    rel_s, rel_e = finding.span[0] - offset, finding.span[1] - offset
    found: list[tuple[int, int, int, re.Match[str]]] = []
    for rx, priority in _PROMISES:
        for m in rx.finditer(sentence):
            inside = m.start() < rel_e and m.end() > rel_s
            distance = 0 if inside else min(abs(m.start() - rel_s), abs(m.start() - rel_e))
            found.append((distance // 40, priority, m.start(), m))
    for *_, m in sorted(found, key=lambda x: x[:3]):
        phrase = _short(_strip_due(m.group("what")))
        if phrase and phrase.lower() not in _EMPTY_WHAT:
            return phrase, m.groupdict().get("subject"), m.start()
    return _short(_strip_due(finding.text) or finding.text), None, max(0, rel_s)


_EMPTY_WHAT = frozenset({"do", "do this", "do that", "do it", "be", "see", "try"})


_COLD = re.compile(
    r"\b(?:need to|have to|please|you can|you could)\s+(?:contact|write|call|ring|reach out|"
    r"get in touch|email|go|speak|raise)\b|\bpass(?:ed|ing)?\b[^.]{0,40}\bto\b|"
    r"\btransferr?(?:ed|ing)?\b|\bforward(?:ed|ing)?\b|\bescalated\b|\breferr?(?:ed)?\b",
    re.I,
)


def _vague_explanation(c: Commitment, named_owner: bool, sentence: str) -> str:
    if _COLD.search(sentence):
        return (
            "Cold hand-off: name who will pick this up and when they will be in touch, tell "
            "them yourself, and stay the customer's point person until they do."
        )
    missing: list[str] = []
    if c.due is None and c.due_text is None:
        missing.append("when: a time or a range the customer can hold you to ('by 4 pm today')")
    if not named_owner:
        missing.append(
            "who: yourself ('I'll ...') or a named person, and stay the point person "
            "until they pick it up"
        )
    if not missing:
        missing.append("the specific action, so the customer knows what will happen")
    return "Vague promise: add " + "; and ".join(missing) + "."


def extract_commitments(
    analysis: Analysis,
    *,
    now: datetime | None = None,
    more: Mapping[int, Sequence[Finding]] | None = None,
) -> list[Commitment]:
    """Every promise in the analysis as a Commitment, in turn order (see module docstring).

    `now` decides overdue; by default it is the conversation's last timestamp, so the same
    conversation always yields the same commitments. `more` holds promise findings beyond
    the one per id a turn keeps (turn index -> findings; the pipeline passes
    `heard.detectors.lexical.more_findings`), so that every promise of a turn is tracked;
    those of an id the turn no longer has (a vague promise that yielded to a specific one
    found by the semantic tier) are left out.
    """
    conv = analysis.conversation
    made: list[Commitment] = []
    owners_named: list[tuple[bool, str]] = []
    for t in analysis.turns:
        if t.speaker is not Speaker.agent:
            continue
        text = conv.turns[t.i].text
        chosen: list[tuple[Finding, tuple[int, int]]] = []
        found = t.findings
        if more and t.i in more:  # further promises of an id the turn still has a finding of
            ids = {f.id for f in t.findings}
            found = [*found, *(f for f in more[t.i] if f.id in ids)]
        for f in sorted(found, key=lambda f: (f.id != "T.warm_handoff", f.span[0])):
            if f.id not in KINDS:
                continue
            sent = _sentence_span(text, f.span)
            if any(s == sent for _, s in chosen):
                continue  # one commitment per sentence, the hand-off first
            chosen.append((f, sent))
        for f, (s, e) in sorted(chosen, key=lambda fs: fs[0].span[0]):
            commitment, named = _commitment(conv, t.i, f, text, s, e)
            made.append(commitment)
            owners_named.append((named, text[s:e]))
    for c, (named, sentence) in zip(made, owners_named, strict=True):
        if c.kind == "vague":
            c.explanation = _vague_explanation(c, named, sentence)
    _close_loops(conv, made)
    now = now if now is not None else last_time(conv)
    for c in made:
        if c.status != "done" and now is not None:
            c.status = status_at(c, now)
    return made


def _commitment(
    conv: Conversation, i: int, f: Finding, text: str, s: int, e: int
) -> tuple[Commitment, bool]:
    kind = KINDS[f.id]
    agent = _agent_label(conv, i)
    sentence = text[s:e]
    what, subject, at = _what(sentence, f, s)
    named = _owner_from_subject(subject, agent) if subject else None
    if kind == "handoff":
        # "I'm passing you to Kemi. She'll pick this chat up within five minutes.": the
        # receiver may be named a sentence or two before the words the detector marked
        named = _handoff_owner(sentence) or named
        state = TurnState(i=i, speaker=Speaker.agent, text=text)
        earlier = [sp for sp in state.sentences() if sp[1] <= s][-3:]
        for ps, pe in reversed(earlier):
            named = named or _handoff_owner(text[ps:pe])
    owner = named or agent
    # "I'll ..." names its owner as clearly as "Helen will ..."; "we'll" and no subject do not
    owner_is_clear = named is not None or (subject is not None and subject.lower() == "i")
    due_expr = _pick_due(sentence, at)
    if due_expr is None and kind == "handoff":
        later = [sp for sp in TurnState(i=i, speaker=Speaker.agent, text=text).sentences()]
        nxt = [sp for sp in later if sp[0] >= e][:1]
        if nxt:
            due_expr = _pick_due(text[nxt[0][0] : nxt[0][1]], 0)
    base = _base_time(conv, i)
    due = None
    if due_expr is not None and base is not None:
        due = parse_due(due_expr.text, base, tz=_local_zone(conv, base))
    c = Commitment(
        turn=i,
        what=what,
        owner=owner,
        due=due,
        kind=kind,
        status="open",
        finding=f.id,
        due_text=due_expr.text if due_expr else None,
    )
    if due_expr is not None and due is None:
        c.explanation = f"the deadline '{due_expr.text}' could not be resolved to a time"
    if kind == "handoff":
        c.explanation = f"handed to {owner}: open until {owner} picks it up or a colleague confirms"
    return c, owner_is_clear


def _close_loops(conv: Conversation, made: list[Commitment]) -> None:
    turns = conv.turns
    for c in made:
        if c.status == "done":
            continue
        handing_agent = turns[c.turn].agent_id
        for j in range(c.turn + 1, len(turns)):
            t = turns[j]
            if t.speaker is Speaker.agent:
                if c.kind == "handoff":
                    if _receiver_speaks(c, handing_agent, t.agent_id, t.text) or (
                        c.owner.lower() in t.text.lower()
                        and (_reports_back(c, t.text) or _THEY_DID.search(t.text))
                    ):
                        _mark_done(c, j, f"{c.owner} picked it up")
                        break
                elif (
                    handing_agent is None or t.agent_id in (None, handing_agent)
                ) and _reports_back(c, t.text):
                    _mark_done(c, j, "the agent reported back")
                    break
            elif (
                t.speaker is Speaker.customer
                and c.kind != "handoff"
                and _first_customer_turn_after(conv, c.turn) == j
                and _RECEIPT.search(t.text)
            ):
                _mark_done(c, j, "the customer confirmed it")
                break


def _first_customer_turn_after(conv: Conversation, i: int) -> int | None:
    for j in range(i + 1, len(conv.turns)):
        if conv.turns[j].speaker is Speaker.customer:
            return j
    return None


def _receiver_speaks(c: Commitment, handing: str | None, agent_id: str | None, text: str) -> bool:
    if handing is None or agent_id is None or agent_id == handing:
        return False
    if not c.owner[:1].isupper():
        return True  # a team was named: whoever from it picks up closes the loop
    first = c.owner.split()[0].lower()
    for m in _INTRO.finditer(text):
        name = (m.group("name") or m.group("name2") or "").lower()
        if name == first:
            return True
    return False


def _mark_done(c: Commitment, turn: int, why: str) -> None:
    c.status = "done"
    c.closed_turn = turn
    done = f"closed in turn {turn}: {why}"
    c.explanation = f"{c.explanation}; {done}" if c.explanation else done


def describe_promise(text: str, span: tuple[int, int]) -> tuple[str, str | None, str | None]:
    """(what, named owner or None, deadline words or None) of the promise at `span`.

    The same reading `extract_commitments` uses, for one sentence of any text (the coach
    uses it to rewrite a vague promise in a draft).
    """
    s, e = _sentence_span(text, span)
    sentence = text[s:e]
    probe = Finding(
        id="T.commit",
        turn=0,
        span=span,
        text=text[span[0] : span[1]],
        confidence=1.0,
        detector="describe",
        explanation="",
    )
    what, subject, at = _what(sentence, probe, s)
    named = _owner_from_subject(subject, "agent") if subject else None
    named = _handoff_owner(sentence) or _cold_target(sentence) or named
    due = _pick_due(sentence, at)
    return what, named, due.text if due else None


_COLD_TARGET = re.compile(
    r"\b(?:contact|write to|call|ring|email|speak to|go to|reach out to|get in touch with|"
    r"passed (?:it |this |your \w+ )?(?:on )?to|handled by)\s+(?P<who>(?:your|our|the)\s+"
    r"(?:[\w-]+\s+){0,3}?[\w-]+?)(?=\s*(?:[,.;!?]|$|\s(?:to|and|who|for|about|on|in|at|"
    r"with|by)\b))",
    re.I,
)


def _cold_target(sentence: str) -> str | None:
    """Who a cold hand-off points the customer to ("your reseller", "our refunds team")."""
    m = _COLD_TARGET.search(sentence)
    return m.group("who") if m else None


def status_at(commitment: Commitment, now: datetime) -> Status:
    """The status of `commitment` at `now`: done stays done; past its due time it is overdue."""
    if commitment.status == "done":
        return "done"
    if commitment.due is not None:
        when = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        if commitment.due < when:
            return "overdue"
    return "open"


def close(commitment: Commitment, *, turn: int | None = None, note: str = "") -> Commitment:
    """A copy of `commitment` marked done (the service's explicit close of a loop)."""
    out = commitment.model_copy(deep=True)
    out.status = "done"
    out.closed_turn = turn
    why = note or "closed by hand"
    out.explanation = (out.explanation + "; " if out.explanation else "") + why
    return out


__all__ = [
    "KINDS",
    "DueExpression",
    "close",
    "describe_promise",
    "extract_commitments",
    "find_due_expressions",
    "last_time",
    "parse_due",
    "status_at",
    "warm_up",
]
