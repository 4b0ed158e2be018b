"""The evaluation harness (heard.evaluation) and the `heard eval` commands.

The metric tests run a scripted detector over hand-built conversations whose true and
false positives and negatives are counted by hand, so the expected figures are exact and
do not move when the lexical tier changes. CLI tests compare the command's JSON with the
library's report on the same input; the shared-data test recomputes the counts from the
labelled file itself.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

import heard
import heard.cli  # registers every command on the app
from heard.cli.app import app
from heard.detectors.base import BaseDetector, Doc
from heard.errors import CatalogError, InputError
from heard.evaluation import (
    MIN_SUPPORT,
    evaluate_labeled,
    predicted_emotions,
    round_half_up,
    scored_ids,
)
from heard.model import Conversation, Speaker, Turn

runner = CliRunner()
DOCS = Path(__file__).resolve().parent.parent / "docs" / "evaluation.md"


class Scripted(BaseDetector):
    """Findings from keywords, emotions and energy from a table: a detector with no doubt."""

    name: ClassVar[str] = "test.scripted"
    produces: tuple[str, ...] = ("C.risk", "T.apologize", "T.explore", "emotions", "energy")

    EMOTIONS: ClassVar[dict[str, dict[str, float]]] = {
        "It broke again": {"anger": 0.8, "frustration": 0.3},
        "It just stopped": {"worry": 0.6},
    }
    ENERGY: ClassVar[dict[str, int]] = {"It broke again": 2, "It just stopped": 0}

    def detect(self, doc: Doc) -> None:
        for t in doc.turns:
            if t.speaker is Speaker.customer:
                if "again" in t.text:
                    doc.add(self.finding("C.risk", t, (0, len(t.text)), "again"))
                t.emotions = dict(self.EMOTIONS.get(t.text, {}))
                t.energy = self.ENERGY.get(t.text)
            else:
                if "sorry" in t.lower:
                    doc.add(self.finding("T.apologize", t, (0, len(t.text)), "sorry"))
                if "?" in t.text:
                    doc.add(self.finding("T.explore", t, (0, len(t.text)), "question"))


def turn(speaker: str, text: str, **extra: Any) -> Turn:
    return Turn(speaker=Speaker(speaker), text=text, **extra)


def hand_built() -> list[Conversation]:
    """Seven labelled turns and one unlabelled; the comments give each turn's counts."""
    return [
        Conversation(
            id="a",
            turns=[
                # C.risk TP; emotion: anger TP, frustration FN; energy 2 vs 1.5 (exact)
                turn(
                    "customer",
                    "It broke again",
                    labels=["C.risk"],
                    emotion=["anger", "frustration"],
                    energy=1.5,
                    energy_annotators=[1, 2],
                ),
                # T.apologize TP, T.explore FP
                turn("agent", "Sorry! What happened?", labels=["T.apologize"]),
                # C.risk FN; emotion: neutral FN, worry disputed; energy 0 vs 1.0
                turn(
                    "customer",
                    "It just stopped",
                    labels=["C.risk"],
                    emotion=["neutral"],
                    emotion_disputed=["worry"],
                    energy=1.0,
                    energy_annotators=[1, 1],
                ),
                # T.apologize found but disputed: neither FP nor anything else
                turn("agent", "Sorry about that.", labels=[], disputed=["T.apologize"]),
            ],
        ),
        Conversation(
            id="b",
            turns=[
                turn("agent", "What did you try?", labels=["T.explore"]),  # T.explore TP
                turn("agent", "So sorry, again?"),  # no labels: not scored at all
                # T.apologize FN, T.explore disputed
                turn(
                    "agent",
                    "Let me check.",
                    labels=["T.apologize", "T.explore"],
                    disputed=["T.explore"],
                ),
                turn("agent", "Anything else?", labels=[]),  # T.explore FP
            ],
        ),
    ]


def scripted_pipeline() -> heard.Pipeline:
    return heard.Pipeline(detectors=[Scripted()], playbooks=[])


# -- metrics ---------------------------------------------------------------------------------


def test_per_id_counts_with_disputed_and_unlabelled_turns() -> None:
    report = evaluate_labeled(hand_built(), scripted_pipeline(), min_support=2)
    risk, sorry, explore = (report.score(i) for i in ("C.risk", "T.apologize", "T.explore"))
    assert (risk.tp, risk.fp, risk.fn) == (1, 0, 1)
    assert (risk.precision, risk.recall, risk.f1) == (1.0, 0.5, 0.6667)
    assert (sorry.tp, sorry.fp, sorry.fn, sorry.disputed) == (1, 0, 1, 1)
    assert (sorry.precision, sorry.recall, sorry.f1) == (1.0, 0.5, 0.6667)
    assert (explore.tp, explore.fp, explore.fn, explore.disputed) == (1, 2, 0, 1)
    assert (explore.precision, explore.recall, explore.f1) == (0.3333, 1.0, 0.5)
    assert report.conversations == 2
    assert report.turns == 7  # the unlabelled turn is left out
    assert report.disputed == 2
    assert (report.micro.tp, report.micro.fp, report.micro.fn) == (3, 2, 2)
    assert (report.micro.precision, report.micro.recall, report.micro.f1) == (0.6, 0.6, 0.6)


def test_macro_averages_only_ids_with_enough_support() -> None:
    two = evaluate_labeled(hand_built(), scripted_pipeline(), min_support=2)
    assert two.averaged == ["C.risk", "T.apologize"]
    assert two.macro_f1 == 0.6667
    one = evaluate_labeled(hand_built(), scripted_pipeline(), min_support=1)
    assert one.averaged == ["C.risk", "T.apologize", "T.explore"]
    assert one.macro_f1 == round((0.6667 + 0.6667 + 0.5) / 3, 4)
    default = evaluate_labeled(hand_built(), scripted_pipeline())
    assert default.min_support == MIN_SUPPORT == 8
    assert default.averaged == [] and default.macro_f1 is None


def test_ids_never_seen_have_no_measures() -> None:
    report = evaluate_labeled(hand_built(), scripted_pipeline())
    never = report.score("T.mirror")
    assert (never.support, never.predicted) == (0, 0)
    assert never.precision is None and never.recall is None and never.f1 is None
    assert "C.energy" not in {s.id for s in report.ids}


def test_emotion_agreement_is_macro_f1_over_gold_emotions() -> None:
    report = evaluate_labeled(hand_built(), scripted_pipeline())
    assert report.emotion is not None
    assert report.emotion.turns == 2
    assert report.emotion.averaged == ["anger", "frustration", "neutral"]
    by = {e.emotion: e for e in report.emotion.emotions}
    assert (by["anger"].tp, by["anger"].fp, by["anger"].fn) == (1, 0, 0)
    assert (by["frustration"].tp, by["frustration"].fn) == (0, 1)
    assert (by["neutral"].tp, by["neutral"].fn) == (0, 1)
    assert (by["worry"].tp, by["worry"].fp) == (0, 0)  # disputed where it was predicted
    assert report.emotion.macro_f1 == 0.3333


def test_energy_agreement() -> None:
    report = evaluate_labeled(hand_built(), scripted_pipeline())
    assert report.energy is not None
    assert report.energy.turns == 2
    assert report.energy.mae == 0.75  # |2 - 1.5| and |0 - 1.0|
    assert report.energy.exact == 0.5  # 1.5 rounds up to 2
    assert report.energy.within_annotators == 0.5


def test_no_emotion_or_energy_figures_when_the_pipeline_reads_none() -> None:
    class FindingsOnly(Scripted):
        produces = ("C.risk", "T.apologize", "T.explore")

    report = evaluate_labeled(
        hand_built(), heard.Pipeline(detectors=[FindingsOnly()], playbooks=[])
    )
    assert report.emotion is None and report.energy is None
    assert report.score("C.risk").tp == 1


def test_ids_option_selects_and_checks_ids() -> None:
    report = evaluate_labeled(hand_built(), scripted_pipeline(), ids=["T.explore", "C.risk"])
    assert [s.id for s in report.ids] == ["T.explore", "C.risk"]
    assert (report.micro.tp, report.micro.fp, report.micro.fn) == (2, 2, 1)
    with pytest.raises(CatalogError, match=r"unknown catalog id 'T\.nope'"):
        scored_ids(["T.nope"])
    with pytest.raises(CatalogError, match="energy"):
        scored_ids(["C.energy"])
    with pytest.raises(CatalogError, match="framework"):
        scored_ids(["F.jerk"])
    assert "C.energy" not in scored_ids() and "T.explore" in scored_ids()


def test_malformed_labels_name_the_turn() -> None:
    bad = Conversation(id="x", turns=[turn("agent", "Hello", labels="T.thank")])
    with pytest.raises(InputError, match="conversation 'x' turn 0: 'labels' must be a list"):
        evaluate_labeled([bad], scripted_pipeline())
    odd = Conversation(id="y", turns=[turn("customer", "Hi", labels=[], emotion=["glee"])])
    with pytest.raises(InputError, match="unknown emotion 'glee'"):
        evaluate_labeled([odd], scripted_pipeline())
    loud = Conversation(id="z", turns=[turn("customer", "Hi", labels=[], energy=7)])
    with pytest.raises(InputError, match="'energy' must be a number from 0 to 3"):
        evaluate_labeled([loud], scripted_pipeline())


def test_rounding_and_predicted_emotions() -> None:
    assert [round_half_up(x) for x in (0.0, 0.5, 1.49, 1.5, 2.5, 3.0)] == [0, 1, 1, 2, 3, 3]
    assert predicted_emotions({}) == {"neutral"}
    assert predicted_emotions({"neutral": 0.9, "anger": 0.2}) == {"neutral"}
    assert predicted_emotions({"anger": 0.5, "worry": 0.49}) == {"anger"}


# -- CLI -------------------------------------------------------------------------------------


def write_jsonl(path: Path, conversations: list[Conversation]) -> Path:
    path.write_text(
        "".join(
            json.dumps(c.model_dump(mode="json", exclude_none=True)) + "\n" for c in conversations
        ),
        encoding="utf-8",
    )
    return path


def test_cli_labeled_writes_the_library_report(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "gold.jsonl", hand_built())
    out = tmp_path / "figures.json"
    result = runner.invoke(app, ["eval", "labeled", str(source), "--fast", "--json", str(out)])
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text("utf-8"))
    expected = evaluate_labeled(
        heard.load(source), heard.Pipeline(fast=True, playbooks=[]), source=str(source)
    ).model_dump(mode="json")
    assert written == expected
    assert written["turns"] == 7 and written["disputed"] == 2
    # the lexical tier finds an unmistakable apology: one true positive at least
    assert written["ids"][[s["id"] for s in written["ids"]].index("T.apologize")]["tp"] >= 1
    assert "micro, all ids" in result.stdout and "T.apologize" in result.stdout


def test_cli_labeled_ids_option_and_json_on_stdout(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "gold.jsonl", hand_built())
    result = runner.invoke(
        app,
        [
            "eval",
            "labeled",
            str(source),
            "--fast",
            "--ids",
            "T.explore,C.risk",
            "--ids",
            "T.apologize",
            "--json",
            "-",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [s["id"] for s in report["ids"]] == ["T.explore", "C.risk", "T.apologize"]
    assert "micro, all ids" in result.stderr  # the table moves to stderr


def test_cli_labeled_errors(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "gold.jsonl", hand_built())
    missing = runner.invoke(app, ["eval", "labeled", str(tmp_path / "nope.jsonl"), "--fast"])
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    unknown = runner.invoke(app, ["eval", "labeled", str(source), "--fast", "--ids", "T.nope"])
    assert unknown.exit_code == 2 and "E101" in unknown.stderr
    energy = runner.invoke(app, ["eval", "labeled", str(source), "--fast", "--ids", "C.energy"])
    assert energy.exit_code == 2
    assert "'energy' field" in energy.stderr


def test_cli_labeled_on_the_shared_file(shared_dir: Path) -> None:
    path = shared_dir / "data" / "labeled" / "tweetsumm_valid.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    result = runner.invoke(app, ["eval", "labeled", str(path), "--fast", "--json", "-"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # recount the gold from the file itself: labels minus disputed, C.energy excluded
    support: Counter[str] = Counter()
    disputed = conversations = 0
    for line in path.read_text("utf-8").splitlines():
        conversations += 1
        for t in json.loads(line)["turns"]:
            if "labels" not in t:
                continue
            left_out = set(t.get("disputed", []))
            disputed += len(left_out - {"C.energy"})
            support.update(set(t["labels"]) - left_out - {"C.energy"})
    assert report["conversations"] == conversations == 110
    assert report["disputed"] == disputed
    by = {s["id"]: s for s in report["ids"]}
    assert {i: s["support"] for i, s in by.items() if s["support"]} == dict(support)
    assert report["averaged"] == [i for i in by if by[i]["support"] >= 8]
    f1s = [by[i]["f1"] for i in report["averaged"]]
    assert report["macro_f1"] == pytest.approx(sum(f1s) / len(f1s), abs=1e-4)
    micro = report["micro"]
    assert micro["tp"] == sum(s["tp"] for s in by.values())
    assert micro["fp"] == sum(s["fp"] for s in by.values())
    assert report["emotion"]["turns"] > 0 and report["energy"]["turns"] > 0
    assert report["macro_f1"] > 0.6, "the lexical tier fell far below its measured level"


def _emotion_weights() -> None:
    for module in ("numpy", "scipy", "sklearn"):
        pytest.importorskip(module, reason="needs the heard[models] extra")
    from heard.semantic import emotions

    if not (emotions.weights_root() / emotions.TFIDF_FILE).is_file():
        pytest.skip("the emotion weights are not installed (heard train emotions)")


def test_cli_goemotions_matches_the_library(shared_dir: Path, tmp_path: Path) -> None:
    _emotion_weights()
    from heard.semantic.emotions import EmotionModel
    from heard.semantic.train_emotions import evaluate_goemotions

    dev = shared_dir / "data" / "goemotions" / "dev.tsv"
    if not dev.is_file():
        pytest.skip(f"{dev} not found")
    piece = tmp_path / "dev_slice.tsv"
    piece.write_text("".join(dev.read_text("utf-8").splitlines(True)[:300]), encoding="utf-8")
    out = tmp_path / "goemotions.json"
    result = runner.invoke(app, ["eval", "goemotions", str(piece), "--fast", "--json", str(out)])
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text("utf-8"))
    expected = evaluate_goemotions(EmotionModel.load(fast=True), piece)
    for key in ("rows", "macro_f1", "ekman_macro_f1", "sentiment_macro_f1"):
        assert written[key] == expected[key], key
    assert written["rows"] == 300
    assert "ekman" in result.stdout and "sentiment" in result.stdout


def test_cli_goemotions_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "goemotions", str(tmp_path / "none.tsv"), "--fast"])
    assert result.exit_code == 2 and "no such file" in result.stderr


# -- docs ------------------------------------------------------------------------------------


def _options(group: str, command: str) -> list[str]:
    import typer.main

    root: Any = typer.main.get_command(app)  # typer's own (vendored) click group
    parent = root.commands[group] if group else root
    target = parent.commands[command]
    return [opt for p in target.params for opt in getattr(p, "opts", []) if opt.startswith("--")]


@pytest.mark.parametrize(
    ("group", "command", "spelled"),
    [
        ("eval", "labeled", "heard eval labeled"),
        ("eval", "goemotions", "heard eval goemotions"),
        ("eval", "epitome", "heard eval epitome"),
        ("train", "empathy", "heard train empathy"),
        ("", "empathy", "heard empathy"),
    ],
)
def test_docs_cover_every_command_and_option(group: str, command: str, spelled: str) -> None:
    text = DOCS.read_text("utf-8")
    assert spelled in text
    for option in _options(group, command):
        assert f"`{option}" in text, f"{spelled} {option} is not documented"
