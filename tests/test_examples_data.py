"""The bundled example conversations are ground truth: check them as data.

`src/heard/examples/conversations.jsonl` feeds `heard demo`, the docs and the golden tests,
and its `labels` are the author's intended annotation (ANNOTATION.md). These tests read it
with plain `json` (not heard's importers, so a bug there cannot hide a bug here) and check
it against the catalog in `src/heard/catalog/catalog.yaml`, read with PyYAML: the catalog is
the only list of known ids.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from heard.model import SERVICE_EMOTIONS

SRC = Path(__file__).resolve().parent.parent / "src" / "heard"
EXAMPLES = SRC / "examples"
CONVERSATIONS = EXAMPLES / "conversations.jsonl"
DRAFTS = EXAMPLES / "coach_drafts.jsonl"
README = EXAMPLES / "README.md"
CATALOG = SRC / "catalog" / "catalog.yaml"

SPEAKERS = {"customer", "agent", "system"}
CHANNELS = {"chat", "email", "call", "twitter"}
QUALITIES = {"strong", "weak", "mixed"}
META_KEYS = {
    "title",
    "industry",
    "summary",
    "stated_problem",
    "real_problem",
    "agent_quality",
    "playbook_focus",
}
AGENT_ID = re.compile(r"^a-\d{3}$")
EXAMPLE_ID = re.compile(r"^ex-\d{2}-[a-z0-9]+(-[a-z0-9]+)*$")


def _kinds() -> dict[str, str]:
    raw = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    return {entry["id"]: entry["kind"] for entry in raw["entries"]}


KINDS = _kinds()
BY_KIND: dict[str, set[str]] = defaultdict(set)
for _id, _kind in KINDS.items():
    BY_KIND[_kind].add(_id)
SIGNALS = BY_KIND["signal"]
AGENT_IDS = BY_KIND["technique"] | BY_KIND["anti_pattern"]
FRAMEWORKS = BY_KIND["framework"]
DETECTABLE = SIGNALS | AGENT_IDS

# The few ids that ANNOTATION.md rules tie to each other or to earlier turns. They are
# stable (METHOD.md); the test below makes sure the catalog still has them.
EMOTION_ID = "C.emotion"
ENERGY_ID = "C.energy"
OUTCOME_Q_ID = "C.outcome_question"
EXPLORE_ID = "T.explore"
FOLLOW_UP_ID = "T.follow_up"
NEEDS_OUTCOME_Q = {"T.outcome_answer", "X.process_answer"}


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _lines(path)]


CONVS = _load(CONVERSATIONS)
BY_ID = {c["id"]: c for c in CONVS}


def test_rule_ids_are_in_the_catalog() -> None:
    rule_ids = {EMOTION_ID, ENERGY_ID, OUTCOME_Q_ID, EXPLORE_ID, FOLLOW_UP_ID, *NEEDS_OUTCOME_Q}
    assert rule_ids <= DETECTABLE, sorted(rule_ids - DETECTABLE)


def test_every_line_parses_as_an_object() -> None:
    for n, line in enumerate(_lines(CONVERSATIONS), 1):
        obj = json.loads(line)
        assert isinstance(obj, dict), f"line {n} is not a JSON object"
        assert set(obj) >= {"id", "channel", "meta", "turns"}, f"line {n} misses fields"


def test_ids_are_unique_and_well_formed() -> None:
    ids = [c["id"] for c in CONVS]
    assert len(ids) == len(set(ids)), "duplicate conversation ids"
    for cid in ids:
        assert EXAMPLE_ID.match(cid), cid


def test_collection_is_varied() -> None:
    assert len(CONVS) >= 16
    assert {c["channel"] for c in CONVS} == CHANNELS
    assert {c["meta"]["agent_quality"] for c in CONVS} == QUALITIES
    assert len({c["meta"]["industry"] for c in CONVS}) >= 16
    agent_ids = {t["agent_id"] for c in CONVS for t in c["turns"] if t["speaker"] == "agent"}
    assert len(agent_ids) >= 5
    handed_over = [
        c["id"]
        for c in CONVS
        if len({t["agent_id"] for t in c["turns"] if t["speaker"] == "agent"}) > 1
    ]
    assert handed_over, "no conversation with a hand-off between two agents"
    assert any(t["speaker"] == "system" for c in CONVS for t in c["turns"])


@pytest.mark.parametrize("conv", CONVS, ids=[c["id"] for c in CONVS])
def test_conversation_shape(conv: dict[str, Any]) -> None:
    assert conv["channel"] in CHANNELS
    meta = conv["meta"]
    assert set(meta) >= META_KEYS
    assert meta["agent_quality"] in QUALITIES
    assert meta["playbook_focus"], "playbook_focus is empty"
    assert set(meta["playbook_focus"]) <= FRAMEWORKS, meta["playbook_focus"]
    for key in META_KEYS - {"agent_quality", "playbook_focus"}:
        assert isinstance(meta[key], str) and meta[key].strip(), key
    assert 6 <= len(conv["turns"]) <= 16, len(conv["turns"])
    speakers = [t["speaker"] for t in conv["turns"]]
    assert "customer" in speakers and "agent" in speakers


@pytest.mark.parametrize("conv", CONVS, ids=[c["id"] for c in CONVS])
def test_timestamps_are_aware_and_increase(conv: dict[str, Any]) -> None:
    previous: datetime | None = None
    for i, turn in enumerate(conv["turns"]):
        assert turn["ts"].endswith("Z"), f"turn {i}: {turn['ts']}"
        ts = datetime.fromisoformat(turn["ts"])
        assert ts.tzinfo is not None, f"turn {i} has no timezone"
        if previous is not None:
            assert ts > previous, f"turn {i} is not later than turn {i - 1}"
        previous = ts


@pytest.mark.parametrize("conv", CONVS, ids=[c["id"] for c in CONVS])
def test_turns_and_labels(conv: dict[str, Any]) -> None:
    outcome_asked = False
    explored = False
    for i, turn in enumerate(conv["turns"]):
        where = f"{conv['id']} turn {i}"
        speaker = turn["speaker"]
        assert speaker in SPEAKERS, where
        assert isinstance(turn["text"], str) and turn["text"].strip(), where
        labels = turn["labels"]
        assert isinstance(labels, list), where
        assert len(labels) == len(set(labels)), f"{where}: repeated label"
        unknown = set(labels) - set(KINDS)
        assert not unknown, f"{where}: unknown ids {sorted(unknown)}"
        if speaker == "customer":
            assert set(labels) <= SIGNALS, f"{where}: {labels}"
            # ANNOTATION.md: energy lives in `energy`, never in `labels`.
            assert ENERGY_ID not in labels, where
            emotion = turn["emotion"]
            assert emotion and set(emotion) <= set(SERVICE_EMOTIONS), f"{where}: {emotion}"
            felt = set(emotion) - {"neutral"}
            assert not (felt and "neutral" in emotion), f"{where}: neutral mixed with {felt}"
            assert (EMOTION_ID in labels) == bool(felt), f"{where}: {labels} vs {emotion}"
            assert isinstance(turn["energy"], int) and 0 <= turn["energy"] <= 3, where
            outcome_asked = outcome_asked or OUTCOME_Q_ID in labels
        elif speaker == "agent":
            assert AGENT_ID.match(turn.get("agent_id", "")), f"{where}: agent_id"
            assert set(labels) <= AGENT_IDS, f"{where}: {labels}"
            if NEEDS_OUTCOME_Q & set(labels):
                assert outcome_asked, f"{where}: outcome/process answer before any question"
            if FOLLOW_UP_ID in labels:
                assert explored, f"{where}: follow-up before any exploring question"
            explored = explored or bool({EXPLORE_ID, FOLLOW_UP_ID} & set(labels))
        else:
            assert labels == [], f"{where}: system turns carry no labels"
            assert "agent_id" not in turn, where


def _conversations_per_id() -> dict[str, set[str]]:
    seen: dict[str, set[str]] = defaultdict(set)
    for conv in CONVS:
        energies = []
        for turn in conv["turns"]:
            for label in turn["labels"]:
                seen[label].add(conv["id"])
            if turn["speaker"] == "customer":
                energies.append(turn["energy"])
        # Energy is annotated as a number per turn; a conversation shows the signal when
        # the customer's energy moves (rises or falls) across it.
        if len(set(energies)) > 1:
            seen[ENERGY_ID].add(conv["id"])
    return seen


def test_every_detectable_id_appears_in_two_conversations() -> None:
    seen = _conversations_per_id()
    thin = {i: len(seen.get(i, ())) for i in sorted(DETECTABLE) if len(seen.get(i, ())) < 2}
    assert not thin, f"ids in fewer than two conversations: {thin}"


def test_readme_describes_every_conversation() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [c["id"] for c in CONVS if c["id"] not in text]
    assert not missing, f"README.md does not describe {missing}"
    assert "Apache-2.0" in text


DRAFT_ROWS = _load(DRAFTS)


def test_coach_drafts() -> None:
    assert len(DRAFT_ROWS) == 40
    anti_patterns = BY_KIND["anti_pattern"]
    for n, row in enumerate(DRAFT_ROWS, 1):
        assert set(row) == {"context_id", "upto_turn", "draft", "expect_flags", "note"}, n
        conv = BY_ID.get(row["context_id"])
        assert conv is not None, f"draft {n}: unknown context {row['context_id']}"
        upto = row["upto_turn"]
        assert isinstance(upto, int) and 1 <= upto <= len(conv["turns"]), f"draft {n}"
        # The draft answers the last turn shown, so that turn is not the agent's own.
        assert conv["turns"][upto - 1]["speaker"] != "agent", f"draft {n}"
        assert row["draft"].strip() and row["note"].strip(), f"draft {n}"
        flags = row["expect_flags"]
        assert len(flags) == len(set(flags)) and set(flags) <= anti_patterns, f"draft {n}"
    weak = [r for r in DRAFT_ROWS if r["expect_flags"]]
    strong = [r for r in DRAFT_ROWS if not r["expect_flags"]]
    assert len(weak) >= 15 and len(strong) >= 10
    flagged = {f for r in weak for f in r["expect_flags"]}
    assert flagged == anti_patterns, f"no weak draft for {sorted(anti_patterns - flagged)}"
