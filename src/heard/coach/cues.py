"""Cues: what the agent should do next, from the cue rules (``cues.yaml``) and the state.

A cue rule's ``when`` is a mapping of conditions, all of which must hold:

===============================  =========================================================
condition                        holds when
===============================  =========================================================
``energy_at_least: N``           the latest customer turn's energy is at least N
``risk_at_least: X``             the one-star risk is at least X
``used: [ids]``                  some agent turn so far carries one of the ids
``not_used: [ids]``              no agent turn so far carries any of them
``last_agent_has: [ids]``        the latest agent turn carries one of them
``customer_signal: [ids]``       the customer's current message carries one of them
``feeling_any: [emotions]``      the latest customer turn shows one (score >= 0.3)
``unanswered: {signal, by}``     a customer turn with `signal` has no later agent turn
                                 with any of the `by` ids (``within: N``: only the
                                 customer's last N turns count)
``not_used_after: {after, ids}`` no agent turn after the anchor carries any of `ids`;
                                 the anchor is the last customer turn with a C.* id, the
                                 last agent turn with a T./X. id, ``customer`` (the latest
                                 customer turn) or ``stake`` (where the stake was said);
                                 false when there is no such anchor
``demand_beyond_authority: b``   the customer demands something above the agent's level
``stake_known: b``               a possible real problem was found in their words
``resolved: b``                  their current message closes the conversation on a good
                                 note (C.resolution with gratitude, relief or happiness)
``customer_turns_at_least: N``   the customer has written at least N turns
===============================  =========================================================

Cues are ranked by priority (lower first), and a cue that serves one of the playbook's
steps names the step and gains `PLAYBOOK_BONUS` points of priority: the playbook decides
between cues of similar urgency, not over an urgent one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from heard.coach.context import CoachContext
from heard.coach.data import CoachDataError, CueRule, cue_rules
from heard.coach.schemas import Cue, Evidence
from heard.coach.templates import first_filled
from heard.model import Finding, Speaker


@dataclass(slots=True)
class Outcome:
    """A condition's verdict, with the evidence and template slots it contributes."""

    ok: bool
    evidence: list[Evidence] = field(default_factory=list)
    slots: dict[str, str] = field(default_factory=dict)


def _ev(f: Finding) -> Evidence:
    return Evidence(turn=f.turn, span=f.span, text=f.text, id=f.id)


def _ids(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise CoachDataError(f"coach/cues.yaml: '{name}' expects an id or a list of ids")


def _energy_at_least(ctx: CoachContext, value: Any) -> Outcome:
    last = ctx.last(Speaker.customer)
    ok = last is not None and last.energy is not None and last.energy >= int(value)
    return Outcome(ok, slots={"energy": str(last.energy)} if ok and last else {})


def _risk_at_least(ctx: CoachContext, value: Any) -> Outcome:
    risk = ctx.analysis.risk
    return Outcome(risk is not None and risk.one_star >= float(value))


def _used(ctx: CoachContext, value: Any) -> Outcome:
    f = ctx.agent_finding(_ids(value, "used"))
    return Outcome(f is not None, [_ev(f)] if f else [])


def _not_used(ctx: CoachContext, value: Any) -> Outcome:
    return Outcome(ctx.agent_finding(_ids(value, "not_used")) is None)


_LAST_AGENT_SLOTS = {
    "X.vague_commit": "vague",
    "X.hands_tied": "hands_tied",
    "X.bare_policy": "bare_policy",
}


def _last_agent_has(ctx: CoachContext, value: Any) -> Outcome:
    last = ctx.last(Speaker.agent)
    if last is None:
        return Outcome(False)
    wanted = set(_ids(value, "last_agent_has"))
    got = [f for f in last.findings if f.id in wanted]
    slots = {_LAST_AGENT_SLOTS[f.id]: f.text for f in got if f.id in _LAST_AGENT_SLOTS}
    return Outcome(bool(got), [_ev(f) for f in got], slots)


def _customer_signal(ctx: CoachContext, value: Any) -> Outcome:
    wanted = set(_ids(value, "customer_signal"))
    got = [f for t in ctx.latest_customer_turns() for f in t.findings if f.id in wanted]
    return Outcome(bool(got), [_ev(f) for f in got])


def _feeling_any(ctx: CoachContext, value: Any) -> Outcome:
    last = ctx.last(Speaker.customer)
    wanted = _ids(value, "feeling_any")
    return Outcome(last is not None and any(last.emotions.get(e, 0.0) >= 0.3 for e in wanted))


_ASK = {
    "when": ("*when*", "a time range"),
    "where": ("*where* it is", "where it is and when they will have it"),
    "result": ("about the outcome", "the result (yes, no, or what will happen)"),
}


def _question_slots(ctx: CoachContext, f: Finding) -> dict[str, str]:
    from heard.coach.slots import question_kind

    s, e = ctx.facts_sentence(f.turn, f.span)
    ask, kind = _ASK[question_kind(ctx.text(f.turn)[s:e])]
    return {"question": ctx.text(f.turn)[s:e].strip(), "ask": ask, "answer_kind": kind}


def _unanswered(ctx: CoachContext, value: Any) -> Outcome:
    if not isinstance(value, dict) or "signal" not in value or "by" not in value:
        raise CoachDataError("coach/cues.yaml: 'unanswered' expects {signal: C.x, by: [T.y]}")
    signal, by = str(value["signal"]), _ids(value["by"], "unanswered.by")
    recent = int(value.get("within", 0))
    found = ctx.customer_findings(signal)
    if recent:  # only what the customer said in their last `within` turns still waits
        turns = [t.i for t in ctx.of(Speaker.customer)][-recent:]
        found = [f for f in found if f.turn in turns]
    open_ = [f for f in found if ctx.agent_finding(by, after=f.turn) is None]
    if not open_:
        return Outcome(False)
    last = open_[-1]
    slots = {"unheard": last.text} if signal == "C.unheard" else {}
    if signal == "C.outcome_question":
        slots = _question_slots(ctx, last)
    return Outcome(True, [_ev(f) for f in open_[-2:]], slots)


def _anchor(ctx: CoachContext, after: str) -> int | None:
    if after == "customer":
        last = ctx.last(Speaker.customer)
        return last.i if last else None
    if after == "stake":
        ev = ctx.facts.stake_evidence
        return ev[0].turn if ev else None
    speaker = Speaker.customer if after.startswith("C.") else Speaker.agent
    for t in reversed(ctx.turns):
        if t.speaker is speaker and any(f.id == after for f in t.findings):
            return t.i
    return None


def _not_used_after(ctx: CoachContext, value: Any) -> Outcome:
    if not isinstance(value, dict) or "after" not in value or "ids" not in value:
        raise CoachDataError("coach/cues.yaml: 'not_used_after' expects {after: ..., ids: [...]}")
    at = _anchor(ctx, str(value["after"]))
    if at is None:
        return Outcome(False)
    return Outcome(ctx.agent_finding(_ids(value["ids"], "not_used_after.ids"), after=at) is None)


def _demand_beyond_authority(ctx: CoachContext, value: Any) -> Outcome:
    beyond = ctx.demands.beyond(ctx.company, ctx.authority)
    return Outcome(bool(beyond) == bool(value), [d.evidence for d in beyond])


def _stake_known(ctx: CoachContext, value: Any) -> Outcome:
    known = ctx.facts.stake is not None
    return Outcome(known == bool(value), list(ctx.facts.stake_evidence[:1]) if known else [])


def _resolved(ctx: CoachContext, value: Any) -> Outcome:
    """The customer's current message closes the conversation on a good note."""
    last = ctx.last(Speaker.customer)
    closing = bool(_customer_signal(ctx, ["C.resolution"]).ok) and last is not None
    glad = (
        closing
        and any(last.emotions.get(e, 0.0) >= 0.3 for e in ("gratitude", "relief", "happiness"))
        if last is not None
        else False
    )
    return Outcome(glad == bool(value))


def _customer_turns_at_least(ctx: CoachContext, value: Any) -> Outcome:
    return Outcome(len(ctx.of(Speaker.customer)) >= int(value))


CONDITIONS: dict[str, Callable[[CoachContext, Any], Outcome]] = {
    "energy_at_least": _energy_at_least,
    "risk_at_least": _risk_at_least,
    "used": _used,
    "not_used": _not_used,
    "last_agent_has": _last_agent_has,
    "customer_signal": _customer_signal,
    "feeling_any": _feeling_any,
    "unanswered": _unanswered,
    "not_used_after": _not_used_after,
    "demand_beyond_authority": _demand_beyond_authority,
    "stake_known": _stake_known,
    "resolved": _resolved,
    "customer_turns_at_least": _customer_turns_at_least,
}


def evaluate(rule: CueRule, ctx: CoachContext) -> Outcome:
    """Whether `rule` holds for `ctx`, with the evidence and slots of its conditions."""
    out = Outcome(True)
    for name, value in rule.when.items():
        fn = CONDITIONS.get(name)
        if fn is None:
            raise CoachDataError(
                f"coach/cues.yaml: cue '{rule.id}' has unknown condition '{name}'",
                hint=f"known conditions: {', '.join(CONDITIONS)}",
            )
        got = fn(ctx, value)
        if not got.ok:
            return Outcome(False)
        out.evidence.extend(e for e in got.evidence if e not in out.evidence)
        out.slots.update(got.slots)
    return out


PLAYBOOK_BONUS = 5


def rank_key(cue: Cue) -> int:
    return cue.priority - (PLAYBOOK_BONUS if cue.step else 0)


def _steps_by_id(ctx: CoachContext) -> dict[str, str]:
    steps: dict[str, str] = {}
    for s in ctx.playbook.steps:
        for id in s.satisfied_by:
            steps.setdefault(id, f"{s.id}: {s.name}")
    return steps


def cues(
    ctx: CoachContext, slots: dict[str, str | None], limit: int = 4
) -> list[tuple[Cue, CueRule]]:
    """The cues that hold now, best first (at most `limit`; see module docstring)."""
    steps = _steps_by_id(ctx)
    found: list[tuple[Cue, CueRule]] = []
    for rule in cue_rules().cues:
        got = evaluate(rule, ctx)
        if not got.ok:
            continue
        values: dict[str, str | None] = {**slots, **got.slots}
        say = first_filled(_as_list(rule.say), values)
        why = first_filled(_as_list(rule.why), values)
        if say is None or why is None:
            continue  # its wording needs a fact this conversation does not have
        found.append(
            (
                Cue(
                    id=rule.id,
                    serves=rule.serves,
                    say=say,
                    why=why,
                    priority=rule.priority,
                    step=steps.get(rule.serves),
                    evidence=got.evidence,
                ),
                rule,
            )
        )
    found.sort(key=lambda cr: (rank_key(cr[0]), cr[0].step is None))
    return found[:limit]


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


__all__ = ["CONDITIONS", "PLAYBOOK_BONUS", "Outcome", "cues", "evaluate", "rank_key"]
