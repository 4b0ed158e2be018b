"""Empowerment and Plan B: what the agent may give, what the customer asks for, who may grant it.

The company data (a playbook's ``remedies``, ``authority_levels`` and ``escalation``, see
`heard.scoring.playbook.Company`) says which remedies each level may grant. This module
answers three questions for the coach:

- **what is asked**: the kinds of the customer's stated demands (C.demand findings, read
  with ``vocabulary.yaml``'s demand words) and the lowest level that may grant each;
- **what is offered**: the remedies a reply offers ("I can refund ...", "$40 credit"),
  found by ``remedy_kinds`` words; a mention is *not* an offer when its sentence declines
  it ("I can't refund that myself") or hands it up ("my supervisor can approve a refund");
- **beyond authority**: an offered remedy none of whose matching remedies the agent's
  level may grant, or an amount above every matching remedy's limit.

A remedy's kinds come from words in its id, name and description, so a team's own
remedies work without extra configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from heard.coach.data import compiled, vocabulary
from heard.coach.schemas import Evidence
from heard.detectors.base import TurnState
from heard.model import Analysis, Speaker
from heard.scoring.playbook import Company, EscalationPath, Remedy

_AMOUNT = re.compile(
    r"(?P<cur>[£$€])\s?(?P<n>\d[\d,]*(?:\.\d+)?)|(?<!\d)(?<!\d,)(?P<n2>\d[\d,]*(?:\.\d+)?)\s?"
    r"(?:usd|gbp|eur|dollars|pounds|quid|euros|bucks)\b",
    re.I,
)
_DECLINE = re.compile(
    r"\b(?:can'?t|cannot|can not|not able to|unable to|won'?t|isn'?t (?:something|mine)|"
    r"not (?:something|mine|in my)|(?:don'?t|do not) have the authority)\b",
    re.I,
)
_HAND_UP = re.compile(
    r"\b(?:supervisor|manager|team lead|my lead|senior|escalat\w*|ask(?:ing)? (?:for|them|my|"
    r"the)|request\w*|approv\w* by|(?:can|could|will|may) (?:approve|authori[sz]e|decide|"
    r"sign off)|decides?|decision|review)\b",
    re.I,
)
#: an offer: the agent (or the company) giving something, not naming it
_OFFER = re.compile(
    r"\b(?:i|we)(?:'ll|’ll| will| can| could|'ve|’ve| have| am going to|'m going to| shall)?"
    r"\s+(?:(?:also|just|now|happily|gladly|definitely|personally|then|already)\s+)?"
    r"(?:refund|credit|give|offer|send|issue|apply|applied|waive|pay|cover|arrange|process|"
    r"put|add|book|refunded|credited|issued|waived|covered|sent|added|replace|upgrade|"
    r"get you|organi[sz]e)\w*\b|\byou(?:'ll|’ll| will) (?:get|receive|have|see)\b|"
    r"\b(?:will be|has been|have been|is being|are being)\s+(?:\w+\s+)?(?:refunded|credited|"
    r"waived|issued|applied|covered|sent|replaced|upgraded)\b|\bon us\b|\bhere'?s\b|"
    r"\bno charge\b|\bfree of charge\b|\bat no cost\b",
    re.I,
)
_CURRENCY = {"USD": "$", "GBP": "£", "EUR": "€"}


def _sentences(text: str) -> list[tuple[int, int]]:
    return TurnState(i=0, speaker=Speaker.agent, text=text).sentences()


@lru_cache(maxsize=64)
def _remedy_kinds(remedy_id: str, name: str, description: str) -> frozenset[str]:
    words = f"{remedy_id.replace('_', ' ')} {name} {description}"
    return frozenset(
        kind
        for kind, patterns in vocabulary().remedy_kinds.items()
        if any(compiled(p).search(words) for p in patterns)
    )


def remedy_kinds(remedy: Remedy) -> frozenset[str]:
    """The remedy kinds (refund, credit, shipping ...) a company remedy is."""
    return _remedy_kinds(remedy.id, remedy.name, remedy.description)


def _amount(text: str) -> float | None:
    best: float | None = None
    for m in _AMOUNT.finditer(text):
        raw = (m.group("n") or m.group("n2") or "").replace(",", "")
        try:
            value = float(raw)
        except ValueError:
            continue
        best = value if best is None else max(best, value)
    return best


@dataclass(frozen=True, slots=True)
class RemedyMention:
    """A remedy kind mentioned in a reply, and whether the reply offers it."""

    kind: str
    start: int
    end: int
    text: str
    offered: bool
    amount: float | None
    remedies: tuple[str, ...]  # ids of the company remedies of this kind that allow the amount
    required: str | None  # the lowest level that may grant it (None: no such remedy)


def mentions(text: str, company: Company) -> list[RemedyMention]:
    """Remedy kinds mentioned in `text`, with what granting them would take."""
    out: list[RemedyMention] = []
    kinds = vocabulary().remedy_kinds
    for s, e in _sentences(text):
        sentence = text[s:e]
        amount = _amount(sentence)
        seen: set[str] = set()
        for kind, patterns in kinds.items():
            for p in patterns:
                m = compiled(p).search(sentence)
                if m is None or kind in seen:
                    continue
                seen.add(kind)
                before = sentence[: m.start()]
                offered = bool(_OFFER.search(sentence)) and not (
                    _DECLINE.search(before) or _HAND_UP.search(sentence)
                )
                matching = [r for r in company.remedies if kind in remedy_kinds(r)]
                allowed = [
                    r
                    for r in matching
                    if amount is None
                    or r.limits.max_amount is None
                    or amount <= r.limits.max_amount
                ]
                allowed.sort(key=lambda r: company.rank(r.authority))
                required = allowed[0].authority if allowed else None
                out.append(
                    RemedyMention(
                        kind=kind,
                        start=s + m.start(),
                        end=s + m.end(),
                        text=m.group(),
                        offered=offered,
                        amount=amount,
                        remedies=tuple(r.id for r in allowed),
                        required=required,
                    )
                )
    return out


def beyond_authority(text: str, company: Company, level: str) -> list[str]:
    """Why `text` offers more than `level` may grant (empty when it does not)."""
    rank = company.rank(level)
    problems: list[str] = []
    for m in mentions(text, company):
        if not m.offered:
            continue
        matching = [r for r in company.remedies if m.kind in remedy_kinds(r)]
        if not matching:
            continue  # the company lists no such remedy: nothing to check against
        if m.required is None:
            top = max((r.limits.max_amount or 0.0) for r in matching)
            problems.append(
                f"offers '{m.text}' of {m.amount:g}, above every {m.kind} limit ({top:g})"
                if m.amount is not None
                else f"offers '{m.text}', which no level may grant"
            )
        elif company.rank(m.required) > rank:
            problems.append(
                f"offers '{m.text}', which needs a {m.required} ({level} may not grant it)"
            )
    return problems


# -- what the customer asks for ---------------------------------------------------------


@dataclass(slots=True)
class Demand:
    """A stated demand, its kind and what granting it takes."""

    kind: str
    phrase: str
    evidence: Evidence
    required: str | None  # lowest level that may grant it; None when no remedy is listed
    escalate: bool = False


@dataclass(slots=True)
class DemandAssessment:
    demands: list[Demand] = field(default_factory=list)

    def beyond(self, company: Company, level: str) -> list[Demand]:
        """The demands `level` may not grant."""
        rank = company.rank(level)
        return [d for d in self.demands if d.required and company.rank(d.required) > rank]


def assess_demands(analysis: Analysis, company: Company) -> DemandAssessment:
    """Read every C.demand finding: its kind and the lowest level that may grant it."""
    vocab = vocabulary().demands
    out = DemandAssessment()
    for t in analysis.turns:
        if t.speaker is not Speaker.customer:
            continue
        text = analysis.conversation.turns[t.i].text
        for f in t.findings:
            if f.id != "C.demand":
                continue
            s, e = _sentence_of(text, f.span)
            sentence = text[s:e]
            for kind, spec in vocab.items():
                if not any(compiled(w).search(sentence) for w in spec.words):
                    continue
                required: str | None
                if spec.escalate:
                    required = company.next_level(company.authority_levels[0])
                else:
                    levels = [
                        r.authority
                        for r in company.remedies
                        if remedy_kinds(r) & set(spec.remedy_kinds)
                    ]
                    required = min(levels, key=company.rank) if levels else None
                ev = Evidence(turn=t.i, span=f.span, text=f.text, id="C.demand")
                if not any(d.kind == kind for d in out.demands):
                    out.demands.append(Demand(kind, spec.phrase, ev, required, spec.escalate))
    return out


def _sentence_of(text: str, span: tuple[int, int]) -> tuple[int, int]:
    for s, e in _sentences(text):
        if s <= span[0] < e:
            return s, max(e, min(span[1], len(text)))
    return 0, len(text)


def escalation_for(company: Company, level: str, required: str | None) -> EscalationPath | None:
    """The escalation path from `level` toward `required` (the first step up)."""
    paths = company.escalations_from(level)
    if not paths:
        return None
    if required is not None:
        for p in paths:
            if p.to_level == required:
                return p
    return paths[0]


def money(amount: float, currency: str | None) -> str:
    cur = (currency or "").upper()
    symbol = _CURRENCY.get(cur)
    value = f"{amount:g}"
    if symbol:
        return f"{symbol}{value}"
    return f"{value} {cur}".strip()


def remedy_phrase(remedy: Remedy) -> str:
    """How a reply names a remedy: "goodwill store credit of up to $25"."""
    name = remedy.name
    phrase = name[0].lower() + name[1:] if name[1:2].islower() else name
    limit = remedy.limits.max_amount
    if limit is not None:
        phrase += f" of up to {money(limit, remedy.limits.currency)}"
    return phrase


__all__ = [
    "Demand",
    "DemandAssessment",
    "RemedyMention",
    "assess_demands",
    "beyond_authority",
    "escalation_for",
    "mentions",
    "money",
    "remedy_kinds",
    "remedy_phrase",
]
