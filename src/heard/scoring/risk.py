"""Risk of a one-star ending: a transparent, additive score with a reason per part.

The score is a sum of contributions, clamped to [0, 1]. Every contribution that is not
zero becomes one reason in plain words with its weight, e.g. ``customer energy rose 1→3
(+0.20)``, so a team lead can see why a conversation was flagged and argue with it. The
weights are data (``risk.yaml``; pass your own to `load_weights`), not code:

- the customer's last known energy, and how it changed from their first turn;
- customer signals ``C.risk`` (threats to leave, repeat contact) and ``C.unheard``;
- anti-patterns (``X.*``) in agent turns, each weighted, capped in total;
- how it ends: no accepted resolution; the customer gave up or is leaving; the customer
  has the last word and is still upset; an outcome question never got an outcome answer.
  An accepted resolution lowers the score.

Levels (cut-offs in ``risk.yaml``): **low** below 0.35, **medium** from 0.35, **high**
from 0.6. Anti-patterns only ever add, so adding one never lowers the score. The score is
meant to be computed while a conversation is still open, to flag it in time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from heard import yamltext
from heard.errors import PlaybookError
from heard.model import Analysis, Finding, Risk, Speaker, TurnAnalysis


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Capped(_Data):
    each: float
    max: float


class Levels(_Data):
    medium: float = Field(ge=0, le=1)
    high: float = Field(ge=0, le=1)


class EndWeights(_Data):
    no_acceptance: float
    gave_up: float
    accepted: float
    upset_last_word: float
    unanswered_outcome: Capped


class Upset(_Data):
    energy_at_least: int = Field(ge=0, le=3)
    emotion_at_least: float = Field(ge=0, le=1)
    emotions: list[str]


class ResolutionCues(_Data):
    gave_up_cues: list[str]
    accepted_cues: list[str]
    positive_emotions: list[str]
    negative_emotions: list[str]


class RiskWeights(_Data):
    """The contents of ``risk.yaml``."""

    version: int = 1
    levels: Levels
    last_energy: dict[int, float]
    energy_rise_per_level: float = Field(ge=0)
    energy_fall_per_level: float = Field(le=0)
    signals: dict[str, Capped]
    anti_patterns_default: float = Field(ge=0)
    anti_patterns: dict[str, float]
    anti_patterns_max: float = Field(ge=0)
    end: EndWeights
    upset: Upset
    resolution: ResolutionCues

    def anti_pattern(self, id: str) -> float:
        return max(0.0, self.anti_patterns.get(id, self.anti_patterns_default))


class RiskWeightsError(PlaybookError):
    """The risk weights file is malformed (E202, next to the playbook errors)."""

    code = "E202"


def load_weights(path: str | Path | None = None) -> RiskWeights:
    """The risk weights: the built-in ``risk.yaml`` or a team's own copy."""
    if path is None:
        return _builtin_weights()
    return _parse(Path(path).read_text(encoding="utf-8"), str(path))


def _parse(text: str, source: str) -> RiskWeights:
    try:
        return RiskWeights.model_validate(yamltext.load(text))
    except (yaml.YAMLError, ValueError) as exc:
        raise RiskWeightsError(f"risk weights {source} are invalid: {exc}") from None


@lru_cache(maxsize=1)
def _builtin_weights() -> RiskWeights:
    text = resources.files("heard.scoring").joinpath("risk.yaml").read_text(encoding="utf-8")
    return _parse(text, "built-in risk.yaml")


Reading = Literal["accepted", "gave_up", "unclear"]


@lru_cache(maxsize=1024)
def _cue_pattern(cue: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(cue.lower())}(?!\w)")


def _cue(cues: Sequence[str], text: str) -> str | None:
    low = text.lower()
    for cue in cues:
        if _cue_pattern(cue).search(low):
            return cue
    return None


def read_resolution(finding: Finding, turn: TurnAnalysis, weights: RiskWeights) -> Reading:
    """Whether a C.resolution finding reads as acceptance or as giving up.

    The matched text is read first (giving-up cues before acceptance cues), then the
    turn's emotions, then the detector's explanation.
    """
    cues = weights.resolution
    if _cue(cues.gave_up_cues, finding.text):
        return "gave_up"
    if _cue(cues.accepted_cues, finding.text):
        return "accepted"
    pos = max((turn.emotions.get(e, 0.0) for e in cues.positive_emotions), default=0.0)
    neg = max((turn.emotions.get(e, 0.0) for e in cues.negative_emotions), default=0.0)
    if max(pos, neg) >= 0.3 and pos != neg:
        return "accepted" if pos > neg else "gave_up"
    if _cue(cues.gave_up_cues, finding.explanation):
        return "gave_up"
    if _cue(cues.accepted_cues, finding.explanation):
        return "accepted"
    return "unclear"


def _fmt(value: float) -> str:
    return f"({'+' if value >= 0 else '-'}{abs(value):.2f})"


def _turns(turns: Sequence[int]) -> str:
    shown = ", ".join(str(t) for t in turns[:5])
    more = f" and {len(turns) - 5} more" if len(turns) > 5 else ""
    return f"turn{'s' if len(turns) > 1 else ''} {shown}{more}"


def _quote(text: str, n: int = 50) -> str:
    flat = " ".join(text.split())
    return f'"{flat if len(flat) <= n else flat[: n - 1] + "…"}"'


def _upset(turn: TurnAnalysis, weights: RiskWeights) -> str | None:
    u = weights.upset
    if turn.energy is not None and turn.energy >= u.energy_at_least:
        return f"energy {turn.energy}"
    strongest = max(u.emotions, key=lambda e: turn.emotions.get(e, 0.0), default=None)
    if strongest is not None and turn.emotions.get(strongest, 0.0) >= u.emotion_at_least:
        return f"{strongest} {turn.emotions[strongest]:.2f}"
    return None


def level_for(value: float, weights: RiskWeights | None = None) -> Literal["low", "medium", "high"]:
    levels = (weights or _builtin_weights()).levels
    if value >= levels.high:
        return "high"
    if value >= levels.medium:
        return "medium"
    return "low"


def assess_risk(analysis: Analysis, weights: RiskWeights | None = None) -> Risk:
    """The one-star risk of `analysis`, with one reason per contribution."""
    w = weights or _builtin_weights()
    parts: list[tuple[float, str]] = []
    turns = analysis.turns
    customer = [t for t in turns if t.speaker == Speaker.customer]
    agent = [t for t in turns if t.speaker == Speaker.agent]

    # energy: where it ended, and where it went
    energies = [(t.i, t.energy) for t in customer if t.energy is not None]
    if energies:
        first, last = energies[0][1], energies[-1][1]
        value = w.last_energy.get(last, 0.0)
        if value:
            parts.append((value, f"the customer's last message is at energy {last} of 3"))
        if len(energies) > 1 and last != first:
            rate = w.energy_rise_per_level if last > first else w.energy_fall_per_level
            value = rate * abs(last - first)
            verb = "rose" if last > first else "fell"
            if value:
                parts.append((value, f"customer energy {verb} {first}→{last}"))

    # customer signals
    for sid, rule in w.signals.items():
        hits = [(t.i, f) for t in customer for f in t.findings if f.id == sid]
        turn_ids = sorted({i for i, _ in hits})
        if turn_ids:
            value = min(rule.max, rule.each * len(turn_ids))
            first_hit = hits[0][1]
            parts.append(
                (
                    value,
                    f"{sid} in {_turns(turn_ids)}: {_quote(first_hit.text)} "
                    f"({first_hit.explanation})",
                )
            )

    # anti-patterns in agent turns
    found = sorted(
        (f for t in agent for f in t.findings if f.id.startswith("X.")),
        key=lambda f: (f.turn, f.span[0]),
    )
    if found:
        raw = sum(w.anti_pattern(f.id) for f in found)
        value = min(w.anti_patterns_max, raw)
        listed = ", ".join(f"{f.id} in turn {f.turn}" for f in found[:6])
        more = f" and {len(found) - 6} more" if len(found) > 6 else ""
        capped = " (capped)" if raw > value else ""
        if value:
            parts.append((value, f"agent anti-patterns: {listed}{more}{capped}"))

    # how it ends
    readings = [
        (t, f, read_resolution(f, t, w))
        for t in customer
        for f in t.findings
        if f.id == "C.resolution"
    ]
    final = next((r for r in reversed(readings) if r[2] != "unclear"), None)
    if final is not None and final[2] == "gave_up":
        t, f, _ = final
        parts.append(
            (w.end.gave_up, f"the customer gave up or is leaving in turn {t.i}: {_quote(f.text)}")
        )
    elif final is not None and final[2] == "accepted":
        t, f, _ = final
        parts.append((w.end.accepted, f"the customer accepted in turn {t.i}: {_quote(f.text)}"))
    if not any(r[2] == "accepted" for r in readings) and w.end.no_acceptance:
        parts.append((w.end.no_acceptance, "no sign that the customer accepted a resolution"))

    spoken = [t for t in turns if t.speaker != Speaker.system]
    if spoken and spoken[-1].speaker == Speaker.customer and agent:
        how = _upset(spoken[-1], w)
        if how:
            parts.append(
                (
                    w.end.upset_last_word,
                    f"the customer has the last word (turn {spoken[-1].i}) and is upset ({how})",
                )
            )

    unanswered = [
        t.i
        for t in customer
        if any(f.id == "C.outcome_question" for f in t.findings)
        and not any(f.id == "T.outcome_answer" for a in agent if a.i > t.i for f in a.findings)
    ]
    if unanswered:
        rule = w.end.unanswered_outcome
        value = min(rule.max, rule.each * len(unanswered))
        parts.append((value, f"outcome question in {_turns(unanswered)} got no outcome answer"))

    total = round(max(0.0, min(1.0, sum(v for v, _ in parts))), 3)
    reasons = [f"{text} {_fmt(value)}" for value, text in parts if value]
    return Risk(one_star=total, level=level_for(total, w), reasons=reasons)
