"""The customer's state so far: feelings, energy and its trend, risk, demand vs. real problem.

The stated demand is what the customer asks for (C.demand). The real problem is often
something else, and the coach only *hints* at it, from the customer's own words, in this
order of strength:

1. a sentence that names what is at stake (a deadline, someone who depends on it, health,
   money, "what I actually need is ...": see ``vocabulary.yaml`` stakes);
2. outcome questions asked more than once ("when?" twice): a time they can plan around
   may matter more than the demand;
3. feeling unheard or repeating a complaint: the repeated complaint is the thing to fix;
4. worry: something is at stake that they have not said yet.

When none of these is there the hint is ``"unknown"``: the coach does not guess.
"""

from __future__ import annotations

from heard.coach.context import CoachContext
from heard.coach.schemas import CustomerState, Evidence, Trend
from heard.coach.templates import mid_sentence
from heard.model import Finding, Risk, Speaker


def _ev(f: Finding) -> Evidence:
    return Evidence(turn=f.turn, span=f.span, text=f.text, id=f.id)


def trend_of(energies: list[int | None]) -> Trend:
    """rising / falling / steady over the last two known energies (unknown with fewer)."""
    known = [e for e in energies if e is not None]
    if len(known) < 2:
        return "unknown"
    a, b = known[-2], known[-1]
    return "rising" if b > a else "falling" if b < a else "steady"


def open_questions(ctx: CoachContext) -> list[Evidence]:
    """Outcome questions not followed by any agent T.outcome_answer."""
    out: list[Evidence] = []
    for f in ctx.customer_findings("C.outcome_question"):
        if ctx.agent_finding(["T.outcome_answer"], after=f.turn) is None:
            out.append(_ev(f))
    return out


def real_problem(ctx: CoachContext) -> tuple[str, list[Evidence]]:
    facts = ctx.facts
    if facts.stake and facts.stake_evidence:
        return (
            f"Maybe more than the request: {mid_sentence(facts.stake)} (their words; confirm it)",
            facts.stake_evidence,
        )
    questions = ctx.customer_findings("C.outcome_question")
    if len(questions) >= 2:
        demand = ctx.demands.demands[0].phrase if ctx.demands.demands else "the details"
        return (
            f"They keep asking about the outcome: a time or result they can plan around may "
            f"matter more than {demand}",
            [_ev(f) for f in questions[-2:]],
        )
    unheard = ctx.customer_findings("C.unheard")
    if unheard:
        last = unheard[-1]
        return (
            "They feel unheard about what they already said; start from that, not from the "
            "next step in the process",
            [_ev(last)],
        )
    worried = [
        t
        for t in ctx.of(Speaker.customer)
        if t.emotions.get("worry", 0.0) >= 0.5 or t.emotions.get("sadness", 0.0) >= 0.5
    ]
    if worried:
        t = worried[-1]
        text = ctx.text(t.i)
        return (
            "Something worries them that they have not spelled out; ask what is at stake",
            [Evidence(turn=t.i, span=(0, len(text)), text=text[:160])],
        )
    return "unknown", []


def customer_state(ctx: CoachContext) -> CustomerState:
    customer = ctx.of(Speaker.customer)
    last = customer[-1] if customer else None
    energies = [t.energy for t in customer]
    signals: list[str] = []
    for t in ctx.latest_customer_turns():
        for f in t.findings:
            if f.id.startswith("C.") and f.id not in signals:
                signals.append(f.id)
    emotions = dict(last.emotions) if last else {}
    dominant = max(emotions, key=lambda k: emotions[k]) if emotions else None
    hint, evidence = real_problem(ctx)
    return CustomerState(
        emotions={k: round(v, 3) for k, v in emotions.items()},
        dominant=dominant,
        energy=last.energy if last else None,
        energy_trend=energies,
        trend=trend_of(energies),
        risk=ctx.analysis.risk or Risk(one_star=0.0),
        signals=signals,
        stated_demand=[_ev(f) for f in ctx.customer_findings("C.demand")],
        possible_real_problem=hint,
        real_problem_evidence=evidence,
        open_questions=open_questions(ctx),
    )


__all__ = ["customer_state", "open_questions", "real_problem", "trend_of"]
