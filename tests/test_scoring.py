"""Scorecards and the one-star risk score on hand-built analyses (no detectors involved)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from heard.catalog import catalog
from heard.model import Analysis, Conversation, Finding, Speaker, Turn, TurnAnalysis
from heard.scoring.playbook import FRAMEWORK_PLAYBOOKS, Playbook, builtin
from heard.scoring.risk import (
    RiskWeightsError,
    assess_risk,
    level_for,
    load_weights,
    read_resolution,
)
from heard.scoring.scorecard import judge_step, score

T0 = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)

# A turn spec: (speaker, text, ids found in it, energy, emotions, seconds after T0)
Spec = tuple[Any, ...]


def build(turns: Sequence[Spec], id: str = "t") -> Analysis:
    """An Analysis from turn specs; each id becomes a Finding spanning the whole text."""
    conv_turns: list[Turn] = []
    analysed: list[TurnAnalysis] = []
    for i, spec in enumerate(turns):
        speaker, text = Speaker(spec[0]), spec[1]
        ids: Sequence[str] = spec[2] if len(spec) > 2 else ()
        energy: int | None = spec[3] if len(spec) > 3 else None
        emotions: dict[str, float] = spec[4] if len(spec) > 4 else {}
        seconds: float | None = spec[5] if len(spec) > 5 else None
        ts = T0 + timedelta(seconds=seconds) if seconds is not None else None
        conv_turns.append(Turn(speaker=speaker, text=text, ts=ts))
        findings = [
            Finding(
                id=fid,
                turn=i,
                span=(0, len(text)),
                text=text,
                confidence=0.9,
                detector="test@1",
                explanation=f"{fid} (hand-built)",
            )
            for fid in ids
        ]
        analysed.append(
            TurnAnalysis(i=i, speaker=speaker, findings=findings, emotions=emotions, energy=energy)
        )
    conv = Conversation(id=id, turns=conv_turns)
    return Analysis(id=id, conversation=conv, turns=analysed)


def statuses(analysis: Analysis, playbook: str | Playbook) -> dict[str, str]:
    pb = builtin(playbook) if isinstance(playbook, str) else playbook
    return {s.id: s.status for s in score(analysis, pb).steps}


ANGRY_OPENING: list[Spec] = [
    ("customer", "THIRD time I'm writing. Where is my refund?!", ["C.emotion", "C.risk"], 3),
]
GOOD_AGENT: list[Spec] = [
    (
        "agent",
        "I'm so sorry, that sounds maddening. What happened when you first asked?",
        ["T.acknowledge", "T.apologize", "T.explore"],
    ),
    ("customer", "They said 5 days. It's been three weeks.", [], 2),
    (
        "agent",
        "Let's get this fixed: I'm issuing the refund now and I'll email you by 5pm today.",
        ["T.refocus", "T.commit", "T.plan_b"],
    ),
]


# -- scorecards ------------------------------------------------------------------------------


def test_jerk_scorecard_statuses_evidence_and_score() -> None:
    a = build(ANGRY_OPENING + GOOD_AGENT)
    card = score(a, builtin("F.jerk"))
    assert card.playbook == "jerk" and card.framework == "F.jerk"
    by_id = {s.id: s for s in card.steps}
    assert {k: s.status for k, s in by_id.items()} == {
        "just_calm_down": "met",
        "empathize": "met",
        "redirect": "met",
        "plan_b": "met",  # C.risk in turn 0 makes it apply; T.plan_b in turn 3 meets it
    }
    assert [f.id for f in by_id["plan_b"].evidence] == ["T.plan_b"]
    assert "C.risk in turn 0" in by_id["plan_b"].note
    assert [f.turn for f in by_id["empathize"].evidence] == [1]
    assert "T.acknowledge in turn 1" in by_id["empathize"].note
    assert by_id["just_calm_down"].evidence == []
    assert "no X.match_emotion or X.dismiss in 2 agent replies" in by_id["just_calm_down"].note
    assert card.score == pytest.approx(1.0)


def test_missed_steps_lower_the_score_by_their_weight() -> None:
    a = build(
        [
            ("customer", "This is ridiculous!!", ["C.emotion"], 3),
            ("agent", "Calm down, it's not a big deal.", ["X.dismiss"]),
        ]
    )
    card = score(a, builtin("jerk"))
    by_id = {s.id: s for s in card.steps}
    assert by_id["just_calm_down"].status == "missed"
    assert [f.id for f in by_id["just_calm_down"].breaks] == ["X.dismiss"]
    assert "broken by X.dismiss in turn 1" in by_id["just_calm_down"].note
    assert by_id["empathize"].status == "missed"
    assert "it applies because of C.emotion in turn 0" in by_id["empathize"].note
    assert by_id["redirect"].status == "missed"
    assert by_id["plan_b"].status == "not_applicable"
    assert card.score == pytest.approx(0.0)


def test_weighted_share() -> None:
    pb = Playbook.model_validate(
        {
            "name": "weights",
            "steps": [
                {"id": "big", "name": "Big", "satisfied_by": ["T.acknowledge"], "weight": 3},
                {"id": "small", "name": "Small", "satisfied_by": ["T.thank"], "weight": 1},
                {
                    "id": "never",
                    "name": "Never applies",
                    "satisfied_by": ["T.outcome_answer"],
                    "weight": 10,
                    "applies_when": "outcome_question",
                },
            ],
        }
    )
    a = build([("customer", "Hi", []), ("agent", "I hear you.", ["T.acknowledge"])])
    card = score(a, pb)
    assert [s.status for s in card.steps] == ["met", "missed", "not_applicable"]
    assert card.score == pytest.approx(0.75)
    assert [s.weight for s in card.steps] == [3, 1, 10]


def test_outcome_step_not_applicable_without_outcome_question() -> None:
    a = build(
        [
            ("customer", "My parcel is damaged.", []),
            (
                "agent",
                "So the box arrived crushed? Can you tell me more?",
                ["T.mirror", "T.explore"],
            ),
        ]
    )
    card = score(a, builtin("secrets"))
    step = next(s for s in card.steps if s.id == "outcome_not_process")
    assert step.status == "not_applicable"
    assert "no C.outcome_question" in step.note
    assert {s.id: s.status for s in card.steps}["be_heard"] == "met"
    assert card.score == pytest.approx(1.0)  # the inapplicable step does not count


def test_outcome_question_with_process_answer_is_missed() -> None:
    a = build(
        [
            ("customer", "When will the internet be back?", ["C.outcome_question"]),
            (
                "agent",
                "Our engineers are investigating, then they will report back.",
                ["X.process_answer"],
            ),
        ]
    )
    step = next(s for s in score(a, builtin("F.secrets")).steps if s.id == "outcome_not_process")
    assert step.status == "missed"
    assert [f.id for f in step.breaks] == ["X.process_answer"]


def test_send_body_language_is_not_observable_and_never_scored() -> None:
    a = build(ANGRY_OPENING + GOOD_AGENT)
    card = score(a, builtin("F.send"))
    by_id = {s.id: s for s in card.steps}
    for sid in ("stop", "eyes", "nod"):
        assert by_id[sid].status == "not_observable"
        assert by_id[sid].note  # says why
    # no timestamps: timely attention is not observable either, rather than guessed
    assert by_id["timely_attention"].status == "not_observable"
    assert "timestamps" in by_id["timely_attention"].note
    assert by_id["document"].status == "missed"
    assert card.score == pytest.approx(0.0)  # only `document` was judged


def test_send_timely_attention_from_timestamps() -> None:
    quick = build(
        [
            ("customer", "Hello? Anyone?", [], 1, {}, 0),
            ("agent", "I'm here. Noting your order number now.", ["T.document"], None, {}, 45),
            ("customer", "Thanks", [], 0, {}, 100),
            ("agent", "You're welcome.", ["T.thank"], None, {}, 160),
        ]
    )
    step = next(s for s in score(quick, builtin("send")).steps if s.id == "timely_attention")
    assert step.status == "met"
    assert "slowest 1m" in step.note

    slow = build(
        [
            ("customer", "Hello?", [], 1, {}, 0),
            ("customer", "HELLO??", [], 3, {}, 60),
            ("agent", "Sorry for the wait.", ["T.apologize"], None, {}, 600),
        ]
    )
    step = next(s for s in score(slow, builtin("send")).steps if s.id == "timely_attention")
    assert step.status == "missed"
    # measured from the first unanswered customer message, not the latest one
    assert "turn 2 came 10m after turn 0" in step.note


def test_within_agent_turns_late_solution_is_missed() -> None:
    turns: list[Spec] = [("customer", "My order never came.", [])]
    for k in range(4):
        turns += [("agent", f"Let me check {k}.", []), ("customer", "ok?", [])]
    turns += [("agent", "I've sent a replacement, arriving Friday.", ["T.commit"])]
    step = next(
        s for s in score(build(turns), builtin("five_step")).steps if s.id == "resolve_quickly"
    )
    assert step.status == "missed"
    assert "agent reply 5 (turn 9)" in step.note
    assert step.evidence == []

    early = build([("customer", "My order never came.", []), *turns[-1:]])
    step = next(s for s in score(early, builtin("five_step")).steps if s.id == "resolve_quickly")
    assert step.status == "met"


def test_seen_condition_judges_policy_only_when_policy_came_up() -> None:
    calm = build([("customer", "Can I change my address?", []), ("agent", "Done!", ["T.commit"])])
    step = next(s for s in score(calm, builtin("toister")).steps if s.id == "policy_with_benefit")
    assert step.status == "not_applicable"

    bare = build([("customer", "Why not?", []), ("agent", "It's our policy.", ["X.bare_policy"])])
    step = next(s for s in score(bare, builtin("toister")).steps if s.id == "policy_with_benefit")
    assert step.status == "missed"


def test_a_break_outweighs_evidence() -> None:
    a = build(
        [
            ("customer", "I'm furious.", ["C.emotion"], 3),
            ("agent", "I understand. But honestly, calm down.", ["T.acknowledge", "X.dismiss"]),
        ]
    )
    step = next(s for s in score(a, builtin("compassion")).steps if s.id == "acknowledge_emotions")
    assert step.status == "missed"
    assert [f.id for f in step.evidence] == ["T.acknowledge"]
    assert "despite T.acknowledge" in step.note


def test_no_agent_turn_means_nothing_applies_and_score_is_none() -> None:
    a = build(ANGRY_OPENING)
    for name in FRAMEWORK_PLAYBOOKS:
        card = score(a, builtin(name))
        assert card.score is None
        assert all(s.status in ("not_applicable", "not_observable") for s in card.steps)


def test_customer_findings_never_satisfy_a_step() -> None:
    # a (misattributed) technique id on a customer turn is not the agent's evidence
    a = build(
        [
            ("customer", "I'm sorry to bother you, I'm upset.", ["T.apologize", "C.emotion"], 2),
            ("agent", "Here is your tracking link.", []),
        ]
    )
    step = next(s for s in score(a, builtin("five_step")).steps if s.id == "acknowledge_apologize")
    assert step.status == "missed"
    assert step.evidence == []


@pytest.mark.parametrize("name", FRAMEWORK_PLAYBOOKS)
def test_customer_staying_angry_does_not_lower_the_score(name: str) -> None:
    agent: list[Spec] = [
        ("agent", "That sounds awful, I'm sorry. What happened?", ["T.acknowledge", "T.explore"]),
        ("agent", "I'll escalate it to my supervisor, who will call you by 3pm.", ["T.plan_b"]),
        ("agent", "It's our policy to check ID.", ["X.bare_policy"]),
    ]
    opening: Spec = (
        "customer",
        "I want a refund NOW!!",
        ["C.emotion", "C.demand"],
        3,
        {"anger": 0.9},
    )
    calmed = [
        opening,
        agent[0],
        ("customer", "ok, thanks", ["C.resolution"], 0, {"gratitude": 0.8}),
        agent[1],
        ("customer", "fine", [], 0),
        agent[2],
    ]
    angry = [
        opening,
        agent[0],
        ("customer", "YOU ARE NOT LISTENING", ["C.emotion", "C.unheard"], 3, {"anger": 0.95}),
        agent[1],
        ("customer", "USELESS. I'm leaving.", ["C.emotion", "C.resolution"], 3, {"anger": 0.9}),
        agent[2],
    ]
    calm_card = score(build(calmed), builtin(name))
    angry_card = score(build(angry), builtin(name))
    assert angry_card.score == calm_card.score
    # ...while the risk of a one-star ending is, rightly, much higher
    assert assess_risk(build(angry)).one_star > assess_risk(build(calmed)).one_star


def test_emotion_and_energy_conditions() -> None:
    pb = Playbook.model_validate(
        {
            "name": "cond",
            "steps": [
                {
                    "id": "anger",
                    "name": "A",
                    "satisfied_by": ["T.label"],
                    "applies_when": "anger>=0.5",
                },
                {
                    "id": "loud",
                    "name": "L",
                    "satisfied_by": ["T.label"],
                    "applies_when": ["energy>=3"],
                },
            ],
        }
    )
    a = build(
        [("customer", "grr", [], 2, {"anger": 0.6}), ("agent", "You sound livid.", ["T.label"])]
    )
    card = score(a, pb)
    assert [s.status for s in card.steps] == ["met", "not_applicable"]
    assert "anger 0.60 in turn 0" in card.steps[0].note
    assert "no customer turn with energy>=3" in card.steps[1].note


def test_judge_step_unobservable_directly() -> None:
    step = builtin("send").step("eyes")
    result = judge_step(step, build(ANGRY_OPENING + GOOD_AGENT))
    assert result.status == "not_observable"
    assert result.note == step.note


# -- risk --------------------------------------------------------------------------------------

_WEIGHT = re.compile(r"\(([+-]\d+\.\d\d)\)$")


def _reason_sum(reasons: Sequence[str]) -> float:
    total = 0.0
    for r in reasons:
        m = _WEIGHT.search(r)
        assert m, f"reason without a weight: {r!r}"
        total += float(m.group(1))
    return total


def test_risk_energy_rise_reason_and_weight() -> None:
    a = build(
        [
            ("customer", "my order is late", [], 1),
            ("agent", "It is what it is.", []),
            ("customer", "WHAT?! THIS IS A JOKE", [], 3),
        ]
    )
    risk = assess_risk(a)
    assert "customer energy rose 1→3 (+0.20)" in risk.reasons
    assert "the customer's last message is at energy 3 of 3 (+0.25)" in risk.reasons
    assert any(
        r.startswith("the customer has the last word (turn 2) and is upset") for r in risk.reasons
    )
    assert "no sign that the customer accepted a resolution (+0.10)" in risk.reasons
    assert risk.one_star == pytest.approx(0.70)
    assert risk.level == "high"
    assert _reason_sum(risk.reasons) == pytest.approx(risk.one_star)


def test_risk_calm_accepted_conversation_is_low() -> None:
    a = build(
        [
            ("customer", "Where is my parcel?", ["C.outcome_question"], 1),
            ("agent", "It arrives tomorrow before noon.", ["T.outcome_answer"]),
            ("customer", "Perfect, thanks!", ["C.resolution"], 0, {"gratitude": 0.9}),
        ]
    )
    risk = assess_risk(a)
    assert risk.level == "low"
    assert risk.one_star == 0.0
    assert any("accepted in turn 2" in r and r.endswith("(-0.20)") for r in risk.reasons)
    assert not any("outcome question" in r for r in risk.reasons)
    assert any("energy fell 1→0 (-0.05)" in r for r in risk.reasons)


def test_risk_signals_anti_patterns_and_unanswered_question() -> None:
    a = build(
        [
            (
                "customer",
                "Third time calling. When will it be fixed?",
                ["C.risk", "C.outcome_question"],
                2,
            ),
            ("agent", "Calm down. It's our policy.", ["X.dismiss", "X.bare_policy"]),
            ("customer", "You're not listening.", ["C.unheard"], 2),
            ("agent", "We'll look into it.", ["X.vague_commit"]),
        ]
    )
    risk = assess_risk(a)
    text = "\n".join(risk.reasons)
    assert re.search(r"^C\.risk in turn 0: \"Third time calling.*\(\+0\.20\)$", text, re.M)
    assert re.search(r"^C\.unheard in turn 2: .*\(\+0\.10\)$", text, re.M)
    assert (
        "agent anti-patterns: X.dismiss in turn 1, X.bare_policy in turn 1, "
        "X.vague_commit in turn 3 (+0.22)"
    ) in risk.reasons
    assert "outcome question in turn 0 got no outcome answer (+0.15)" in risk.reasons
    # the customer did not have the last word: no upset-last-word reason
    assert not any("last word" in r for r in risk.reasons)
    assert _reason_sum(risk.reasons) == pytest.approx(risk.one_star)


def test_risk_caps_and_clamps() -> None:
    turns: list[Spec] = []
    for _ in range(6):
        turns.append(
            ("customer", "I'll post a review! You're not listening!", ["C.risk", "C.unheard"], 3)
        )
        turns.append(
            ("agent", "Whatever. Not my problem.", ["X.match_emotion", "X.blame", "X.hands_tied"])
        )
    turns.append(("customer", "Forget it, I'm cancelling.", ["C.resolution"], 3, {"anger": 0.9}))
    risk = assess_risk(build(turns))
    assert risk.one_star == 1.0
    assert risk.level == "high"
    assert any(
        r.startswith("C.risk in turns 0, 2, 4, 6, 8 and 1 more") and r.endswith("(+0.30)")
        for r in risk.reasons
    )
    assert any("(capped) (+0.35)" in r for r in risk.reasons)
    assert any("gave up or is leaving in turn 12" in r for r in risk.reasons)


@pytest.mark.parametrize(
    ("text", "emotions", "expected"),
    [
        ("Forget it, I'm cancelling.", {}, "gave_up"),
        ("Thanks for nothing.", {"gratitude": 0.4}, "gave_up"),
        ("Thanks, that works.", {}, "accepted"),
        ("Alright.", {"relief": 0.7}, "accepted"),
        ("Alright.", {"frustration": 0.8}, "gave_up"),
        ("Alright.", {}, "unclear"),
    ],
)
def test_read_resolution(text: str, emotions: dict[str, float], expected: str) -> None:
    a = build([("customer", text, ["C.resolution"], 1, emotions)])
    turn = a.turns[0]
    assert read_resolution(turn.findings[0], turn, load_weights()) == expected


def test_levels_cut_offs() -> None:
    w = load_weights()
    assert (w.levels.medium, w.levels.high) == (0.35, 0.6)
    assert level_for(0.0) == "low"
    assert level_for(0.349) == "low"
    assert level_for(0.35) == "medium"
    assert level_for(0.599) == "medium"
    assert level_for(0.6) == "high"
    assert level_for(1.0) == "high"


def test_custom_weights_file(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parent.parent / "src/heard/scoring/risk.yaml").read_text()
    custom = tmp_path / "risk.yaml"
    custom.write_text(text.replace("no_acceptance: 0.10", "no_acceptance: 0.50"))
    a = build([("customer", "hello", [], 0), ("agent", "hi", [])])
    assert assess_risk(a).one_star == pytest.approx(0.10)
    risk = assess_risk(a, load_weights(custom))
    assert risk.one_star == pytest.approx(0.50)
    assert risk.level == "medium"

    broken = tmp_path / "broken.yaml"
    broken.write_text("levels: {medium: 2}\n")
    with pytest.raises(RiskWeightsError) as exc:
        load_weights(broken)
    assert str(exc.value).startswith("E202")


def test_every_weighted_anti_pattern_is_a_catalog_id() -> None:
    w = load_weights()
    ids = {i for i, e in catalog().items() if e.kind == "anti_pattern"}
    assert set(w.anti_patterns) <= ids
    assert set(w.signals) <= {i for i, e in catalog().items() if e.kind == "signal"}


ANTI_PATTERNS = sorted(i for i, e in catalog().items() if e.kind == "anti_pattern")
CUSTOMER_IDS = [
    "C.emotion",
    "C.risk",
    "C.unheard",
    "C.outcome_question",
    "C.demand",
    "C.resolution",
]
AGENT_IDS = ["T.acknowledge", "T.outcome_answer", "T.commit", *ANTI_PATTERNS]
CUSTOMER_TEXTS = ["Thanks, that works.", "Forget it.", "WHERE IS IT", "ok"]

customer_turn = st.tuples(
    st.just("customer"),
    st.sampled_from(CUSTOMER_TEXTS),
    st.lists(st.sampled_from(CUSTOMER_IDS), unique=True, max_size=3),
    st.one_of(st.none(), st.integers(0, 3)),
    st.dictionaries(
        st.sampled_from(["anger", "gratitude", "frustration"]), st.floats(0, 1), max_size=2
    ),
)
agent_turn = st.tuples(
    st.just("agent"),
    st.just("reply"),
    st.lists(st.sampled_from(AGENT_IDS), unique=True, max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(
    turns=st.lists(st.one_of(customer_turn, agent_turn), min_size=1, max_size=8),
    extra=st.sampled_from(ANTI_PATTERNS),
    where=st.integers(0, 100),
)
def test_adding_an_anti_pattern_never_lowers_risk(
    turns: list[Spec], extra: str, where: int
) -> None:
    before = assess_risk(build(turns))
    assert 0.0 <= before.one_star <= 1.0
    agent_at = [k for k, t in enumerate(turns) if t[0] == "agent"]
    assume(agent_at)
    k = agent_at[where % len(agent_at)]
    spec = turns[k]
    turns = [*turns[:k], (spec[0], spec[1], [*spec[2], extra]), *turns[k + 1 :]]
    after = assess_risk(build(turns))
    assert after.one_star >= before.one_star


@settings(max_examples=100, deadline=None)
@given(turns=st.lists(st.one_of(customer_turn, agent_turn), min_size=1, max_size=8))
def test_reasons_add_up_to_the_score_unless_clamped(turns: list[Spec]) -> None:
    risk = assess_risk(build(turns))
    total = _reason_sum(risk.reasons)
    assert risk.one_star == pytest.approx(max(0.0, min(1.0, total)), abs=1e-6)
