"""Find and mask personal data in conversation text, locally (patterns plus checks).

What is masked, and the check that keeps look-alikes out:

==========  ==========================================================================
P.email     an address with a dotted domain
P.phone     7-15 digits laid out like a phone number (+ or 00 prefix, area code in
            brackets, 3-3-4, a national 0 prefix) or introduced by "call", "phone" ...;
            never dates, version strings or numbers introduced as order/tracking ids
P.card      13-19 digits passing the Luhn check (order numbers mostly fail it)
P.iban      an IBAN with the right length for its country and a valid mod-97 check
P.account   the number after "account" / "acct" (at least four digits)
P.address   a house number, capitalised street name words and a street word
P.name      a name after a greeting or introduction ("Hi Sarah," "this is Tom from"),
            and the same name wherever else it appears in the conversation
==========  ==========================================================================

Each masked span becomes a Finding (id ``P.*``, detector ``privacy.redact@1``) whose span
points at the placeholder in the redacted text, and which also records where the
original was, so an interface can show what was masked without showing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from heard.model import Conversation, Finding
from heard.privacy.checks import card_ok, digits_of, iban_ok

DETECTOR = "privacy.redact@1"

#: kind -> (finding id, placeholder, explanation). Order is priority when spans overlap.
KINDS: dict[str, tuple[str, str, str]] = {
    "email": ("P.email", "[email]", "email address masked"),
    "iban": ("P.iban", "[iban]", "IBAN masked (mod-97 check passed)"),
    "card": ("P.card", "[card]", "payment card number masked (Luhn check passed)"),
    "account": ("P.account", "[account]", "account number masked"),
    "phone": ("P.phone", "[phone]", "phone number masked"),
    "address": ("P.address", "[address]", "street address masked"),
    "name": ("P.name", "[name]", "personal name masked"),
}
_PRIORITY = {kind: k for k, kind in enumerate(KINDS)}

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,24}(?![\w-])"
)
# A run of digits with phone/card separators; classified afterwards.
_RUN = re.compile(r"(?<![\w+./#:-])(?:\+\s?|\(\+?)?\d(?:[ .()\-]{0,3}\d)+\)?(?![\w/]|[.,]\d)")
_GROUP = re.compile(r"\d+")
# Words that introduce an identifier that is not personal data.
_ID_CONTEXT = re.compile(
    r"(?i:\b(?:order|tracking|track|ref|reference|invoice|ticket|case|confirmation|booking|"
    r"po|sku|serial|model|flight|parcel|shipment|package|item|receipt|transaction|claim|"
    r"file|version|ver|build|release|code|pin|id))"
    r"(?:\s*(?:number|no\.?|num|nr|id|code|#))?\s*(?:is|was|:)?\s*#?\s*$"
)
_PHONE_CONTEXT = re.compile(
    r"(?i:\b(?:call|called|calling|phone|tel|telephone|mobile|cell|cellphone|landline|"
    r"ring|reach|contact|text|sms|whatsapp|fax|number|dial))\b[^.\n]{0,24}$"
)
_ACCOUNT = re.compile(
    r"(?i:\b(?:account|acct|a/c)(?:\s+(?:number|no\.?|num|nr|#))?"
    r"(?:\s*(?::|#|is|was|ending(?:\s+in)?|ends\s+in)\s*|\s+))"
    r"(?P<n>[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){3,33})(?![\w-])"
)
_STREET = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|close|crescent|square|sq|highway|hwy|parkway|pkwy|circle|cir|row|mews|gardens|"
    r"grove|walk|alley|strasse|straße|weg|gasse)"
)
_ADDRESS = re.compile(
    r"(?<![\w/.-])\d{1,5}[A-Za-z]?(?:-\d{1,5})?,?\s+(?:[A-Z][\w'’.-]*\s+){1,4}"
    rf"(?i:{_STREET})\b\.?(?!\w)"
)
_ADDRESS_CONTEXT = re.compile(
    r"(?i:\b(?:live at|lives at|living at|address is|address:|ship(?:ped)? (?:it )?to|"
    r"deliver(?:ed)? (?:it )?to|send (?:it|them) to|moved to|located at)\s+)"
    rf"(?P<a>(?i:\d{{1,5}}[a-z]?\s+(?:[a-z][\w'’.-]*\s+){{1,4}}{_STREET})\b\.?)"
)
_NAME = r"[A-Z][a-z'’-]*[a-z](?:\s+[A-Z][a-z'’-]*[a-z])?"
_TITLE = r"(?:(?i:mr|mrs|ms|miss|mx|dr)\.?\s+)?"
_GREETING = re.compile(
    r"(?i:\b(?:hi|hello|hey|hiya|dear|morning|good (?:morning|afternoon|evening)))"
    rf",?\s+{_TITLE}(?P<n>{_NAME})(?=\s*[,.!?:;\n-]|\s*$|\s+(?i:here|again)\b)"
)
_THANKS = re.compile(
    r"(?i:\b(?:thanks|thank you|many thanks|cheers|regards|best|sincerely|bye|goodbye))"
    rf",?\s+{_TITLE}(?P<n>{_NAME})(?=\s*[.!?,\n]|\s*$)"
)
_INTRO = re.compile(
    r"(?i:\b(?:this is|i am|i'm|i’m|it's|it’s|you're speaking (?:to|with)|you've reached))"
    rf"\s+{_TITLE}(?P<n>{_NAME})(?=\s*,|\s+(?i:from|with|at|here|speaking|calling|and)\b)"
)
# after a greeting, an introduction needs nothing after the name ("Hi, this is Dana.")
_GREETED_INTRO = re.compile(
    r"(?i:\b(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))[,!.]?\s+"
    r"(?:this is|it's|it’s|i'm|i’m|i am|my name is))"
    rf"\s+{_TITLE}(?P<n>{_NAME})\b"
)
_MY_NAME = re.compile(
    rf"(?i:\b(?:my name is|my name's|name's|call me))\s+(?P<n>{_NAME}|[a-z][a-z'’-]*[a-z])\b"
)
_STOP_TEXT = """
absurd awful bad crazy disgraceful important insane joke nonsense outrageous pathetic
ridiculous serious terrible unacceptable urgent worse worst wrong
this is a about again all also am an and angry anybody anyone are at aware back being
best but calling calm can customer day dear done evening everybody everyone fed fine
folks for friend friends from frustrated getting glad going good great guys happy having
he hello here hey hi how i in it just looking madam mate morning my new night no not now
ok okay on only our out over please ready really sad she sick so sorry still sure
support team thank thanks that the there they this tired to today tomorrow trying upset
very waiting we well what when where who why with writing yes yet you your yours monday
tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december
"""
#: capitalised words that follow a greeting or "this is" but are not names
STOP_WORDS = frozenset(_STOP_TEXT.split())


class Redaction(Finding):
    """A masked span: a Finding on the redacted text plus where the original was."""

    original_span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Match:
    """Personal data found in a text (offsets in that text)."""

    kind: str
    start: int
    end: int
    confidence: float
    note: str = ""

    @property
    def priority(self) -> int:
        return _PRIORITY[self.kind]


@dataclass(slots=True)
class RedactedText:
    text: str
    original: str
    #: (match, start, end of the placeholder in the redacted text)
    masks: list[tuple[Match, int, int]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.masks)


def _classify_run(text: str, start: int, end: int) -> Match | None:
    run = text[start:end]
    digits = digits_of(run)
    groups = [len(g) for g in _GROUP.findall(run)]
    before = text[max(0, start - 40) : start]
    if _ID_CONTEXT.search(before):
        return None
    plus = run.startswith("+") or run.startswith("(+") or (run.startswith("00") and groups[0] > 2)
    uses = set(re.sub(r"\d", "", run))
    if not (uses & set(".()")) and card_ok(digits):
        return Match("card", start, end, 0.97, "Luhn check passed")
    if len(digits) < 7 or len(digits) > 15:
        return None
    if len(digits) == 8 and groups in ([4, 2, 2], [2, 2, 4]):  # a date
        return None
    if "." in uses and not (plus or groups in ([3, 3, 4], [1, 3, 3, 4])):
        return None  # dotted runs: version strings, IPs, amounts
    shaped = (
        plus
        or run.startswith("(")
        or groups in ([3, 3, 4], [1, 3, 3, 4], [3, 4])
        or (digits[0] == "0" and 9 <= len(digits) <= 12 and len(groups) > 1)
    )
    if plus and len(digits) < 8:
        shaped = False
    if shaped:
        return Match("phone", start, end, 0.9, "laid out like a phone number")
    if _PHONE_CONTEXT.search(before):
        return Match("phone", start, end, 0.8, "number given as a phone number")
    return None


def _name_ok(name: str) -> str | None:
    """The name without trailing non-name words, or None if it is not a name."""
    words = name.split()
    while words and words[-1].lower().strip("'’") in STOP_WORDS:
        words.pop()
    if not words or words[0].lower().strip("'’") in STOP_WORDS:
        return None
    return " ".join(words)


def find_names(text: str) -> list[Match]:
    out: list[Match] = []
    patterns = ((_GREETING, 0.8), (_THANKS, 0.7), (_INTRO, 0.8), (_GREETED_INTRO, 0.85),
                (_MY_NAME, 0.9))  # fmt: skip
    for pattern, conf in patterns:
        for m in pattern.finditer(text):
            name = _name_ok(m.group("n"))
            if name is None:
                continue
            s = m.start("n")
            out.append(Match("name", s, s + len(name), conf, "name after a greeting"))
    return out


def find_pii(text: str, *, names: Iterable[str] = ()) -> list[Match]:
    """Non-overlapping personal data in `text`, in order; `names` are known names to mask."""
    found: list[Match] = [Match("email", m.start(), m.end(), 0.99) for m in _EMAIL.finditer(text)]
    for m in re.finditer(
        r"(?i)\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", text
    ):
        if iban_ok(m.group()):
            found.append(Match("iban", m.start(), m.end(), 0.99, "mod-97 check passed"))
    for m in _RUN.finditer(text):
        s, e = m.span()
        if text[s] == "(" and ")" not in text[s:e]:
            s += 1  # a bracket opening a sentence, not an area code
        match = _classify_run(text, s, e)
        if match is not None:
            found.append(match)
    for m in _ACCOUNT.finditer(text):
        token = m.group("n")
        digits = digits_of(token)
        alnum = sum(ch.isalnum() for ch in token)
        if len(digits) >= 4 and 2 * len(digits) >= alnum:
            found.append(Match("account", m.start("n"), m.end("n"), 0.85, "after 'account'"))
    for m in _ADDRESS.finditer(text):
        found.append(Match("address", m.start(), m.end(), 0.8))
    for m in _ADDRESS_CONTEXT.finditer(text):
        found.append(Match("address", m.start("a"), m.end("a"), 0.75))
    found.extend(find_names(text))
    for name in names:
        for m in re.finditer(rf"(?<![\w'’-]){re.escape(name)}(?![\w'’-])", text):
            found.append(Match("name", m.start(), m.end(), 0.7, "name used earlier"))
    chosen: list[Match] = []
    for match in sorted(found, key=lambda x: (x.priority, x.start, -x.end)):
        if all(match.end <= c.start or match.start >= c.end for c in chosen):
            chosen.append(match)
    return sorted(chosen, key=lambda x: x.start)


def redact_text(text: str, *, names: Iterable[str] = ()) -> RedactedText:
    """`text` with every piece of personal data replaced by a placeholder such as [email]."""
    matches = find_pii(text, names=names)
    out = RedactedText(text=text, original=text)
    if not matches:
        return out
    parts: list[str] = []
    pos = 0
    length = 0
    for match in matches:
        parts.append(text[pos : match.start])
        length += match.start - pos
        placeholder = KINDS[match.kind][1]
        out.masks.append((match, length, length + len(placeholder)))
        parts.append(placeholder)
        length += len(placeholder)
        pos = match.end
    parts.append(text[pos:])
    out.text = "".join(parts)
    return out


def _redact_value(value: Any, names: Iterable[str]) -> Any:
    if isinstance(value, str):
        return redact_text(value, names=names).text
    if isinstance(value, dict):
        return {k: _redact_value(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, names) for v in value]
    return value


@dataclass(slots=True)
class RedactedConversation:
    """A conversation with personal data masked, and what was needed to undo it."""

    conversation: Conversation
    #: per turn, the original text where something was masked (None where unchanged)
    originals: list[str | None]
    meta_original: dict[str, Any] | None
    redactions: list[Redaction]

    @property
    def changed(self) -> bool:
        return bool(self.redactions) or self.meta_original is not None


def redact_conversation(conversation: Conversation) -> RedactedConversation:
    """Mask personal data in every turn (and in string values of meta).

    Names found in one turn ("Hi Sarah,") are masked wherever they recur in the
    conversation, since a name once known identifies the customer in every turn.
    """
    names: list[str] = []
    for turn in conversation.turns:
        for match in find_names(turn.text):
            for word in turn.text[match.start : match.end].split():
                if len(word) >= 3 and word.lower() not in STOP_WORDS and word not in names:
                    names.append(word)
    turns = []
    originals: list[str | None] = []
    redactions: list[Redaction] = []
    for i, turn in enumerate(conversation.turns):
        result = redact_text(turn.text, names=names)
        if not result.changed:
            turns.append(turn)
            originals.append(None)
            continue
        turns.append(turn.model_copy(update={"text": result.text}))
        originals.append(turn.text)
        for match, s, e in result.masks:
            id_, placeholder, explanation = KINDS[match.kind]
            note = f" ({match.note})" if match.note and match.kind == "name" else ""
            redactions.append(
                Redaction(
                    id=id_,
                    turn=i,
                    span=(s, e),
                    text=placeholder,
                    confidence=match.confidence,
                    detector=DETECTOR,
                    explanation=explanation + note,
                    original_span=(match.start, match.end),
                )
            )
    meta = _redact_value(conversation.meta, names)
    meta_original = dict(conversation.meta) if meta != conversation.meta else None
    redacted = conversation.model_copy(update={"turns": turns, "meta": meta})
    return RedactedConversation(redacted, originals, meta_original, redactions)
