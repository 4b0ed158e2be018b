"""The values the coach's templates are filled with, read from one conversation.

Every slot is a phrase taken from the conversation or the company data, or None when it is
not known (and templates that need it are then skipped):

==================  ==============================================================
slot                value
==================  ==============================================================
thing               what the case is about, in the agent's voice ("your bag")
reference           the customer's reference ("flight NW2281", "order 4111-...")
amount              an amount the customer named ("£486")
repeat              repeated contact ("the third time you've had to get in touch")
deadline            a deadline the customer named ("tomorrow at noon")
problem             their main complaint, in the agent's voice (for mirroring)
stake               what may really be at stake, mid-sentence form
stake_quote         the customer's sentence the stake comes from
feeling             the strongest negative feeling named (frustration, worry ...)
feeling_adj         how to say it ("frustrating"); feeling_felt ("fed up")
demand_phrase       the stated demand ("a refund"), beyond-authority one first
grant_phrase        the same, when it is a thing to grant (not a person to talk to)
demand_level        who may grant it ("supervisor"), when it is above the agent's level
escalate_level      the level a customer asking for a manager can be put through to
answer_hint         the placeholder an outcome answer needs (an estimate for "when?",
                    yes/no and what happens for "will it?", where and when for "where?")
escalation_how      the company's escalation path from the agent's level
remedy_offer        the most relevant remedy the agent may grant, with its limit
authority           the agent's level
energy, risk        the customer's latest energy (0-3) and one-star risk (0-1)
risk_reason         the first reason for that risk
==================  ==============================================================

Cue- and flag-specific slots (the question asked, the words of a vague promise ...) are
added where those are built.
"""

from __future__ import annotations

import re

from heard.coach.authority import escalation_for, remedy_phrase
from heard.coach.context import CoachContext
from heard.coach.data import vocabulary
from heard.coach.templates import lower_first, mid_sentence
from heard.model import Speaker
from heard.scoring.playbook import Remedy

_WORD = re.compile(r"[a-z]{4,}")

#: slots that carry this customer's own details: a move claims T.personal only with one
CASE_SLOTS = frozenset(
    {"thing", "reference", "amount", "repeat", "deadline", "problem", "stake", "stake_quote"}
)


def _relevant_remedy(ctx: CoachContext) -> Remedy | None:
    """The remedy within the agent's authority that best fits the customer's words."""
    allowed = ctx.company.remedies_for(ctx.authority)
    if not allowed:
        return None
    words = {
        w[:5]
        for t in ctx.conversation.turns
        if t.speaker is Speaker.customer
        for w in _WORD.findall(t.text.lower())
    }

    def score(r: Remedy) -> tuple[int, int, int]:
        own = {w[:5] for w in _WORD.findall(f"{r.name} {r.description}".lower())}
        shared = len(own & words)
        # a clear fit (two shared words) first; otherwise the most everyday remedy
        return (-(shared >= 2), ctx.company.rank(r.authority), -shared)

    return min(allowed, key=score)


_WHERE = re.compile(r"\bwhere\b", re.I)
_WHEN = re.compile(r"\b(?:when|how long|what time|how soon|by when|eta|a day|a week)\b", re.I)


def question_kind(text: str) -> str:
    """when / where / result: what kind of answer an outcome question wants."""
    if _WHEN.search(text):
        return "when"
    if _WHERE.search(text):
        return "where"
    return "result"


_HINTS = {
    "when": "⟨your best estimate or range, e.g. between 2 and 4 pm today⟩",
    "where": "⟨where it is now, and when they will have it⟩",
    "result": "⟨yes or no, and what happens next⟩",
}


def answer_hint(ctx: CoachContext) -> str:
    """The placeholder for an answer to the customer's latest outcome question."""
    questions = ctx.customer_findings("C.outcome_question")
    if not questions:
        return _HINTS["when"]
    q = questions[-1]
    s, e = ctx.facts_sentence(q.turn, q.span)
    return _HINTS[question_kind(ctx.text(q.turn)[s:e])]


def base_slots(ctx: CoachContext) -> dict[str, str | None]:
    facts = ctx.facts
    vocab = vocabulary()
    feeling = vocab.feelings.get(facts.feeling or "")
    slots: dict[str, str | None] = {
        "thing": facts.thing,
        "reference": facts.reference,
        "amount": facts.amount,
        "repeat": facts.repeat,
        "deadline": facts.deadline,
        "problem": facts.problem,
        "stake": mid_sentence(facts.stake) if facts.stake else None,
        "stake_quote": facts.stake_evidence[0].text.rstrip(".!") if facts.stake_evidence else None,
        "feeling": facts.feeling,
        "feeling_adj": feeling.adjective if feeling else None,
        "feeling_felt": feeling.felt if feeling else None,
        "authority": ctx.authority,
    }
    demands = ctx.demands.demands
    beyond = ctx.demands.beyond(ctx.company, ctx.authority)
    demand = beyond[0] if beyond else (demands[0] if demands else None)
    slots["demand_phrase"] = demand.phrase if demand else None
    slots["grant_phrase"] = demand.phrase if demand and not demand.escalate else None
    slots["demand_level"] = demand.required if demand and beyond else None
    slots["escalate_level"] = demand.required if demand and demand.escalate and beyond else None
    slots["answer_hint"] = answer_hint(ctx)
    path = escalation_for(ctx.company, ctx.authority, demand.required if demand else None)
    slots["escalation_how"] = lower_first(path.how.rstrip(". ")) if path else None
    slots["escalation_to"] = path.to_level if path else None
    remedy = _relevant_remedy(ctx)
    slots["remedy_offer"] = remedy_phrase(remedy) if remedy else None
    slots["remedy_id"] = remedy.id if remedy else None
    last = ctx.last(Speaker.customer)
    slots["energy"] = str(last.energy) if last and last.energy is not None else None
    risk = ctx.analysis.risk
    slots["risk"] = f"{risk.one_star:.2f}" if risk else None
    slots["risk_reason"] = risk.reasons[0] if risk and risk.reasons else None
    return slots


__all__ = ["CASE_SLOTS", "answer_hint", "base_slots", "question_kind"]
