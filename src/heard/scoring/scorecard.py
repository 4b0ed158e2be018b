"""Scorecards: a playbook's rubric applied to one analysis.

Each step gets one status, with the findings behind it and a note in plain words:

- ``not_observable``: the step is marked ``observable: false`` (body language), or it is
  judged from reply times and the conversation has no timestamps. Never scored.
- ``not_applicable``: its ``applies_when`` condition does not hold (decided by customer
  signals), or there is no agent reply to judge. Never scored.
- ``missed``: a ``broken_by`` id occurs in an agent turn (a break outweighs any evidence),
  or no ``satisfied_by`` id does (in time, when ``within_agent_turns`` is set), or a reply
  came later than ``reply_within_seconds``.
- ``met``: otherwise. A step with only ``broken_by`` ids is met when none of them occurs.

The score is the weighted share of met steps among the met and missed ones, or None when
no step could be judged. Steps read **agent** findings only; customer signals only decide
whether a step applies. So a customer who stays angry cannot lower the agent's score
(METHOD.md: score the agent's half only).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from heard.model import (
    Analysis,
    Finding,
    Scorecard,
    Speaker,
    StepResult,
    StepStatus,
    TurnAnalysis,
    trusted,
)
from heard.scoring.conditions import (
    ALWAYS,
    Applicability,
    Condition,
    evaluate,
    parse_condition,
)
from heard.scoring.playbook import Playbook, Step

_QUOTE = 60


@lru_cache(maxsize=256)
def _condition(value: str | tuple[str, ...]) -> Condition:
    return parse_condition(value if isinstance(value, str) else list(value))


@lru_cache(maxsize=256)
def _parsed(value: str | tuple[str, ...]) -> tuple[Condition, bool, bool]:
    """The condition, whether it says `always`, and whether it opens with it (so it holds
    whatever the analysis)."""
    condition = _condition(value)
    atoms = condition.atoms
    return condition, condition.always, bool(atoms) and atoms[0].kind == "always"


@lru_cache(maxsize=256)
def _reads_ids(condition: Condition) -> bool:
    """Whether `evaluate` of `condition` depends on the step's ids (a ``seen`` atom)."""
    return any(a.kind == "seen" for a in condition.atoms)


def _quote(f: Finding) -> str:
    text = " ".join(f.text.split())
    if len(text) > _QUOTE:
        text = text[: _QUOTE - 1] + "…"
    return f'{f.id} in turn {f.turn} ("{text}")'


def _list(ids: Sequence[str]) -> str:
    if len(ids) <= 1:
        return "".join(ids)
    return ", ".join(ids[:-1]) + " or " + ids[-1]


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def _duration(seconds: float) -> str:
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        m, r = divmod(s, 60)
        return f"{m}m{r:02d}s" if r else f"{m}m"
    h, r = divmod(s, 3600)
    return f"{h}h{r // 60:02d}m" if r // 60 else f"{h}h"


def _agent_findings(agent_turns: Sequence[TurnAnalysis], ids: Sequence[str]) -> list[Finding]:
    wanted = set(ids)
    found = [f for t in agent_turns for f in t.findings if f.id in wanted]
    return sorted(found, key=_finding_order)


def _finding_order(f: Finding) -> tuple[int, int, str]:
    return (f.turn, f.span[0], f.id)


class Facts:
    """What the steps of every playbook read of one analysis, gathered once.

    The pipeline scores six playbooks (some 25 steps) per analysis: the agent turns, the
    customer turns and the agent findings by id are the same for all of them. Built from
    the analysis as it is; build a new one after changing its findings.
    """

    __slots__ = ("_applies", "_by_id", "agent_turns", "analysis", "customer_turns")

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        turns = analysis.turns
        self.agent_turns = [t for t in turns if t.speaker == Speaker.agent]
        self.customer_turns = [t for t in turns if t.speaker == Speaker.customer]
        by_id: dict[str, list[Finding]] = {}
        for t in self.agent_turns:
            for f in t.findings:
                found = by_id.get(f.id)
                if found is None:
                    by_id[f.id] = [f]
                else:
                    found.append(f)
        self._by_id = by_id
        self._applies: dict[tuple[str | tuple[str, ...], tuple[str, ...]], Applicability] = {}

    def agent_findings(self, ids: Sequence[str]) -> list[Finding]:
        """Agent findings of any of `ids`, by turn, start and id (as `_agent_findings`)."""
        by_id = self._by_id
        if not by_id:
            return []
        lists = [found for i in ids if (found := by_id.get(i)) is not None]
        if not lists:
            return []
        if len(lists) > 1:  # the same id twice in `ids` counts once
            lists = list({id(found): found for found in lists}.values())
        if len(lists) == 1:
            only = lists[0]
            return list(only) if len(only) == 1 else sorted(only, key=_finding_order)
        return sorted([f for found in lists for f in found], key=_finding_order)

    def applicability(
        self, source: str | tuple[str, ...], condition: Condition, ids: tuple[str, ...]
    ) -> Applicability:
        """`evaluate` of `condition` (parsed from `source`) for a step with `ids`.

        Only a ``seen`` atom reads the step's ids: without one, every step with the same
        condition (``customer_emotion`` is in three playbooks) shares one evaluation.
        """
        key = (source, ids if _reads_ids(condition) else ())
        found = self._applies.get(key)
        if found is None:
            found = self._applies[key] = evaluate(
                condition, self.analysis.turns, ids, customer=self.customer_turns
            )
        return found


def _result(
    step: Step,
    status: StepStatus,
    note: str,
    evidence: list[Finding] | None = None,
    breaks: list[Finding] | None = None,
) -> StepResult:
    # trusted: every field is built here from already-validated values, and validating
    # (or model_construct's per-field loop) for six playbooks per analysis is measurable.
    return trusted(
        StepResult,
        {
            "id": step.id,
            "name": step.name,
            "status": status,
            "weight": step.weight,
            "evidence": evidence or [],
            "breaks": breaks or [],
            "note": note,
        },
    )


def _timing(step: Step, analysis: Analysis, why: str) -> StepResult:
    """Judge reply times: each agent reply against the first customer message it answers."""
    assert step.reply_within_seconds is not None
    limit = step.reply_within_seconds
    conv_turns = analysis.conversation.turns
    n = len(conv_turns)
    waits: list[tuple[int, datetime | None, int, datetime | None]] = []
    waiting: tuple[int, datetime | None] | None = None
    for t in analysis.turns:
        ts = conv_turns[t.i].ts if 0 <= t.i < n else None
        if t.speaker == Speaker.customer:
            if waiting is None:
                waiting = (t.i, ts)
            elif waiting[1] is None and ts is not None:
                waiting = (waiting[0], ts)
        elif t.speaker == Speaker.agent and waiting is not None:
            waits.append((waiting[0], waiting[1], t.i, ts))
            waiting = None
    if not waits:
        return _result(step, "not_applicable", "the agent never replied to a customer message")
    timed = [
        (c, a, (a_ts - c_ts).total_seconds())
        for c, c_ts, a, a_ts in waits
        if c_ts is not None and a_ts is not None
    ]
    if not timed:
        return _result(
            step,
            "not_observable",
            "no reply timestamps in this conversation, so timely attention cannot be judged "
            "from the text; heard gives no score rather than guess",
        )
    partial = (
        f" ({len(timed)} of {_plural(len(waits), 'reply')} had timestamps)"
        if len(timed) < len(waits)
        else ""
    )
    slow = [(c, a, s) for c, a, s in timed if s > limit]
    if slow:
        worst = ", ".join(f"turn {a} came {_duration(s)} after turn {c}" for c, a, s in slow[:3])
        more = f" and {len(slow) - 3} more" if len(slow) > 3 else ""
        return _result(
            step,
            "missed",
            f"{_plural(len(slow), 'reply')} slower than {_duration(limit)}: {worst}{more}"
            f"{partial}{why}",
        )
    slowest = max(s for _, _, s in timed)
    return _result(
        step,
        "met",
        f"all {_plural(len(timed), 'timed reply')} within {_duration(limit)} "
        f"(slowest {_duration(slowest)}){partial}{why}",
    )


def judge_step(step: Step, analysis: Analysis, facts: Facts | None = None) -> StepResult:
    """The status of one step in one analysis, with evidence and a note saying why.

    `facts` (of this same analysis) saves gathering them again for every step.
    """
    if not step.observable:
        return _result(step, "not_observable", step.note or "text cannot show this step")
    if facts is None or facts.analysis is not analysis:
        facts = Facts(analysis)
    agent_turns = facts.agent_turns
    if not agent_turns:
        return _result(step, "not_applicable", "no agent reply yet, so nothing of theirs to judge")
    raw = step.applies_when
    source = raw if isinstance(raw, str) else tuple(raw)
    condition, always, opens_always = _parsed(source)
    if opens_always:
        applicability = ALWAYS
    else:
        applicability = facts.applicability(
            source, condition, (*step.satisfied_by, *step.broken_by)
        )
    if not applicability.applies:
        return _result(
            step,
            "not_applicable",
            f"does not apply ({condition.source}): {'; '.join(applicability.because)}",
        )
    why = "" if always else f"; it applies because of {', '.join(applicability.because)}"
    if step.reply_within_seconds is not None:
        return _timing(step, analysis, why)

    evidence = facts.agent_findings(step.satisfied_by)
    breaks = facts.agent_findings(step.broken_by)
    late: list[Finding] = []
    if step.within_agent_turns is not None:
        allowed = {t.i for t in agent_turns[: step.within_agent_turns]}
        late = [f for f in evidence if f.turn not in allowed]
        evidence = [f for f in evidence if f.turn in allowed]

    if breaks:
        note = "broken by " + ", ".join(_quote(f) for f in breaks[:3])
        if len(breaks) > 3:
            note += f" and {len(breaks) - 3} more"
        if evidence:
            note += f", despite {_quote(evidence[0])}"
        return _result(step, "missed", note + why, evidence=evidence, breaks=breaks)
    if not step.satisfied_by:
        replies = _plural(len(agent_turns), "agent reply")
        return _result(step, "met", f"no {_list(step.broken_by)} in {replies}{why}")
    if evidence:
        note = _quote(evidence[0])
        others = [f"{f.id} in turn {f.turn}" for f in evidence[1:4]]
        if others:
            note += "; also " + ", ".join(others)
            if len(evidence) > 4:
                note += f" and {len(evidence) - 4} more"
        return _result(step, "met", note + why, evidence=evidence)
    if late:
        first = late[0]
        position = [t.i for t in agent_turns].index(first.turn) + 1
        return _result(
            step,
            "missed",
            f"{first.id} first came in agent reply {position} (turn {first.turn}); this step "
            f"asks for it within the first {_plural(step.within_agent_turns or 0, 'reply')}"
            f"{why}",
        )
    replies = _plural(len(agent_turns), "agent reply")
    return _result(step, "missed", f"no {_list(step.satisfied_by)} in {replies}{why}")


def score(analysis: Analysis, playbook: Playbook, facts: Facts | None = None) -> Scorecard:
    """Apply `playbook` to `analysis`: a status per step and the weighted share met.

    Pass the analysis's `Facts` when scoring several playbooks, to gather them once.
    """
    if facts is None or facts.analysis is not analysis:
        facts = Facts(analysis)
    steps = [judge_step(s, analysis, facts) for s in playbook.steps]
    judged = [s for s in steps if s.status in ("met", "missed")]
    total = sum(s.weight for s in judged)
    value = sum(s.weight for s in judged if s.status == "met") / total if total > 0 else None
    return trusted(
        Scorecard,
        {
            "playbook": playbook.name,
            "framework": playbook.framework,
            "score": value,
            "steps": steps,
        },
    )
