"""Measure a pipeline against labelled conversations: per-id precision, recall and F1.

A labelled file is Conversation JSONL whose turns carry the annotators' calls as extra
fields (``ANNOTATION.md`` conventions; :func:`heard.load` keeps them on each Turn):

``labels``
    The catalog ids the turn shows. A turn without a ``labels`` field is not labelled and
    is left out entirely, so a partly labelled file is measured on its labelled turns only.
``disputed``
    Ids one annotator gave and the other did not. They are left out of scoring for that
    turn: whatever the pipeline says about them there is neither a hit nor a miss.
``emotion`` / ``emotion_disputed``
    Customer turns: the service emotions felt (``["neutral"]`` when none), and those in
    dispute. Compared with the emotions the pipeline reads (macro-F1 over emotions).
``energy`` (and ``energy_annotators``)
    Customer turns: emotional energy 0-3, possibly the mean of two annotators (1.5).
    Compared with the pipeline's energy (mean absolute error, exact agreement).

``C.energy`` is not scored as an id: ANNOTATION.md puts energy in ``energy``, not in
``labels``, so an id score for it would count every energetic turn as a false alarm.

The pipeline runs without scoring (:meth:`heard.Pipeline.run`): only detectors are measured.
Macro-F1 averages the ids with at least ``min_support`` gold positives (8 by default, the
rule the annotator-agreement figure of heard's labelled data uses), because the F1 of an id
seen twice says more about those two turns than about the detector.

    import heard
    from heard.evaluation import evaluate_labeled

    report = evaluate_labeled(heard.load("labelled.jsonl"), heard.Pipeline(fast=True))
    report.macro_f1, report.score("T.apologize").f1
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Self

from pydantic import BaseModel, Field

from heard.catalog import detectable_ids, entry
from heard.errors import CatalogError, InputError
from heard.model import SERVICE_EMOTIONS, Conversation, Speaker
from heard.pipeline import Pipeline

#: Ids averaged into macro-F1 need at least this many gold positives.
MIN_SUPPORT = 8
#: Ids never scored from ``labels`` (energy has its own field and measure).
UNSCORED_IDS: frozenset[str] = frozenset({"C.energy"})
#: An emotion score at or above this is "felt" (both tiers' line, heard.detectors.customer).
FELT = 0.5


# -- counting --------------------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    """True positives, false positives and false negatives of one label."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: bool, gold: bool) -> None:
        if predicted and gold:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif gold:
            self.fn += 1

    def __iadd__(self, other: Tally) -> Tally:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        return self


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


class Score(BaseModel):
    """Counts of one label and the measures read from them.

    ``precision`` is None when nothing was predicted, ``recall`` when nothing was gold,
    ``f1`` when neither happened (there is nothing to be right or wrong about).
    """

    support: int = Field(description="gold positives scored")
    predicted: int = Field(description="predicted positives scored")
    tp: int
    fp: int
    fn: int
    precision: float | None
    recall: float | None
    f1: float | None

    @classmethod
    def counts(cls, tally: Tally, **fields: Any) -> Self:
        return cls(
            support=tally.tp + tally.fn,
            predicted=tally.tp + tally.fp,
            tp=tally.tp,
            fp=tally.fp,
            fn=tally.fn,
            precision=_ratio(tally.tp, tally.tp + tally.fp),
            recall=_ratio(tally.tp, tally.tp + tally.fn),
            f1=_ratio(2 * tally.tp, 2 * tally.tp + tally.fp + tally.fn),
            **fields,
        )


class IdScore(Score):
    id: str
    disputed: int = Field(0, description="turns where this id was left out as disputed")


class EmotionScore(Score):
    emotion: str


class EmotionAgreement(BaseModel):
    """Gold service emotions of customer turns against those the pipeline reads."""

    turns: int
    macro_f1: float | None = Field(description="mean F1 over emotions with gold support")
    averaged: list[str] = Field(description="the emotions macro_f1 averages")
    emotions: list[EmotionScore]


class EnergyAgreement(BaseModel):
    """Gold energy of customer turns (0-3, maybe a mean of annotators) against predicted."""

    turns: int
    mae: float = Field(description="mean absolute error against the gold (mean) energy")
    exact: float = Field(description="share of turns where prediction == gold rounded half up")
    within_annotators: float | None = Field(
        None, description="share of turns whose prediction lies between the annotators' calls"
    )


class EvalReport(BaseModel):
    """What :func:`evaluate_labeled` measured (the JSON of ``heard eval labeled --json``)."""

    source: str | None = None
    conversations: int
    turns: int = Field(description="labelled turns scored")
    tiers: list[str]
    min_support: int
    ids: list[IdScore]
    micro: Score = Field(description="all scored ids pooled")
    macro_f1: float | None
    averaged: list[str] = Field(description="the ids macro_f1 averages (support >= min_support)")
    disputed: int = Field(description="(turn, id) pairs left out as disputed")
    emotion: EmotionAgreement | None = None
    energy: EnergyAgreement | None = None

    def score(self, id: str) -> IdScore:
        """The score of one id (raises CatalogError when it was not scored)."""
        for s in self.ids:
            if s.id == id:
                return s
        raise CatalogError(f"'{id}' was not scored in this report")


# -- gold ------------------------------------------------------------------------------------


def _where(conversation: Conversation, i: int) -> str:
    return f"conversation '{conversation.id}' turn {i}"


def _id_list(value: object, field: str, where: str) -> set[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: '{field}' must be a list of catalog ids, found {value!r}")
    return set(value)


def _emotions(value: object, field: str, where: str) -> set[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: '{field}' must be a list of service emotions")
    unknown = [v for v in value if v not in SERVICE_EMOTIONS]
    if unknown:
        raise InputError(
            f"{where}: unknown emotion '{unknown[0]}' in '{field}'",
            hint=f"service emotions are: {', '.join(SERVICE_EMOTIONS)}",
        )
    return set(value)


def _energy(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 3:
        raise InputError(f"{where}: 'energy' must be a number from 0 to 3, found {value!r}")
    return float(value)


def scored_ids(ids: Sequence[str] | None = None) -> list[str]:
    """The ids to score: ``ids`` checked against the catalog, or every detectable id.

    ``C.energy`` is refused when asked for (it is measured from ``energy``) and left out of
    the default list.
    """
    if ids is None:
        return [i for i in detectable_ids() if i not in UNSCORED_IDS]
    out: list[str] = []
    for id in ids:
        entry(id)  # CatalogError E101 for an unknown id
        if id in UNSCORED_IDS:
            raise CatalogError(
                f"'{id}' is not scored as an id",
                hint="energy is labelled in the 'energy' field and reported on its own: "
                "MAE and exact agreement",
            )
        if entry(id).kind == "framework":
            raise CatalogError(f"'{id}' is a framework, not something a detector finds")
        if id not in out:
            out.append(id)
    return out


def round_half_up(value: float) -> int:
    """1.5 -> 2, 0.5 -> 1: the mean of two annotators one level apart goes up."""
    return math.floor(value + 0.5)


def predicted_emotions(scores: dict[str, float]) -> set[str]:
    """Service emotions felt (score >= FELT), or ``{"neutral"}`` when none is."""
    felt = {e for e, s in scores.items() if e != "neutral" and s >= FELT}
    return felt or {"neutral"}


# -- evaluation ------------------------------------------------------------------------------


def evaluate_labeled(
    conversations: Iterable[Conversation],
    pipeline: Pipeline,
    *,
    ids: Sequence[str] | None = None,
    min_support: int = MIN_SUPPORT,
    source: str | None = None,
) -> EvalReport:
    """Run ``pipeline``'s detectors over labelled ``conversations`` and score them.

    Per id (``ids``, default every detectable catalog id but ``C.energy``): a labelled turn
    counts once per id as a true positive (found and gold), false positive (found, not
    gold) or false negative (gold, not found), unless the id is disputed on that turn.
    Emotion and energy agreement are measured when the file has ``emotion`` / ``energy``
    on customer turns and the pipeline produces ``emotions`` / ``energy``.

    Raises InputError naming the conversation and turn for malformed labels, and
    CatalogError for an unknown id in ``ids``.
    """
    wanted = scored_ids(ids)
    tallies = {id: Tally() for id in wanted}
    disputed_per_id = dict.fromkeys(wanted, 0)
    produced = {p for d in pipeline.detectors for p in d.produces}
    emotion_tallies = {e: Tally() for e in SERVICE_EMOTIONS}
    emotion_turns = 0
    energy_pairs: list[tuple[float, int, tuple[float, float] | None]] = []
    n_conversations = n_turns = n_disputed = 0

    for conversation in conversations:
        n_conversations += 1
        doc = pipeline.run(conversation)
        for i, (turn, state) in enumerate(zip(conversation.turns, doc.turns, strict=True)):
            extra = turn.model_extra or {}
            where = _where(conversation, i)
            gold = _id_list(extra.get("labels"), "labels", where)
            if gold is not None:
                n_turns += 1
                disputed = _id_list(extra.get("disputed"), "disputed", where) or set()
                found = {f.id for f in state.findings}
                for id in wanted:
                    if id in disputed:
                        disputed_per_id[id] += 1
                        n_disputed += 1
                        continue
                    tallies[id].add(id in found, id in gold)
            if turn.speaker is not Speaker.customer:
                continue
            felt = _emotions(extra.get("emotion"), "emotion", where)
            if felt is not None and "emotions" in produced:
                emotion_turns += 1
                unsure = _emotions(extra.get("emotion_disputed"), "emotion_disputed", where)
                read = predicted_emotions(state.emotions)
                for emotion in SERVICE_EMOTIONS:
                    if emotion not in (unsure or ()):
                        emotion_tallies[emotion].add(emotion in read, emotion in felt)
            energy = _energy(extra.get("energy"), where)
            if energy is not None and "energy" in produced and state.energy is not None:
                energy_pairs.append((energy, state.energy, _annotators(extra, where)))

    id_scores = [IdScore.counts(tallies[id], id=id, disputed=disputed_per_id[id]) for id in wanted]
    pooled = Tally()
    for t in tallies.values():
        pooled += t
    averaged = [s.id for s in id_scores if s.support >= min_support]
    macro = _mean([s.f1 for s in id_scores if s.id in averaged])
    return EvalReport(
        source=source,
        conversations=n_conversations,
        turns=n_turns,
        tiers=list(pipeline.tiers),
        min_support=min_support,
        ids=id_scores,
        micro=Score.counts(pooled),
        macro_f1=macro,
        averaged=averaged,
        disputed=n_disputed,
        emotion=_emotion_agreement(emotion_tallies, emotion_turns) if emotion_turns else None,
        energy=_energy_agreement(energy_pairs) if energy_pairs else None,
    )


def _annotators(extra: dict[str, Any], where: str) -> tuple[float, float] | None:
    calls = extra.get("energy_annotators")
    if calls is None:
        return None
    if (
        not isinstance(calls, list)
        or not calls
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in calls)
    ):
        raise InputError(f"{where}: 'energy_annotators' must be a list of numbers")
    return float(min(calls)), float(max(calls))


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(sum(kept) / len(kept), 4) if kept else None


def _emotion_agreement(tallies: dict[str, Tally], turns: int) -> EmotionAgreement:
    scores = [EmotionScore.counts(t, emotion=e) for e, t in tallies.items()]
    averaged = [s.emotion for s in scores if s.support > 0]
    return EmotionAgreement(
        turns=turns,
        macro_f1=_mean(s.f1 for s in scores if s.emotion in averaged),
        averaged=averaged,
        emotions=scores,
    )


def _energy_agreement(
    pairs: list[tuple[float, int, tuple[float, float] | None]],
) -> EnergyAgreement:
    n = len(pairs)
    ranged = [(p, r) for _, p, r in pairs if r is not None]
    return EnergyAgreement(
        turns=n,
        mae=round(sum(abs(g - p) for g, p, _ in pairs) / n, 4),
        exact=round(sum(round_half_up(g) == p for g, p, _ in pairs) / n, 4),
        within_annotators=round(sum(lo <= p <= hi for p, (lo, hi) in ranged) / len(ranged), 4)
        if ranged
        else None,
    )


__all__ = [
    "MIN_SUPPORT",
    "UNSCORED_IDS",
    "EmotionAgreement",
    "EmotionScore",
    "EnergyAgreement",
    "EvalReport",
    "IdScore",
    "Score",
    "Tally",
    "evaluate_labeled",
    "predicted_emotions",
    "round_half_up",
    "scored_ids",
]
