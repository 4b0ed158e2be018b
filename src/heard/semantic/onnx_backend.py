"""MiniLM on ONNX Runtime: the same embeddings as torch, 1.5 to 2.3 times as fast on a CPU.

The ONNX graph is exported on this machine, from the installed MiniLM weights (plus a LoRA
adapter, merged), the first time an encoder is loaded, and cached beside the compiled
lexicons (``HEARD_CACHE_DIR``): nothing is downloaded. Later loads read the cached graph
and the tokenizer only, so torch is not even imported. Encoding mirrors
``SentenceTransformer.encode`` for all-MiniLM-L6-v2: texts stripped, sorted by length
into batches, truncated to the model's ``max_seq_length``, mean pooling over the attention
mask, L2 normalisation. ``benchmarks/semantic.py`` measures both backends; on the
GoEmotions dev split the emotion model scores the same to the fourth decimal with either.

Which backend :meth:`heard.semantic.encoder.Encoder.load` uses is set by
``HEARD_ENCODER_BACKEND``: ``auto`` (default: ONNX Runtime when ``onnxruntime`` and ``onnx``
are installed, else torch), ``onnx``, ``onnx-int8`` (opt-in, for bulk work: dynamic int8
weights, about twice as fast again, embeddings close to but not equal to float32's) or
``torch``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heard.errors import ModelUnavailable
from heard.files import replaced

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

log = logging.getLogger(__name__)

BACKENDS = ("auto", "onnx", "onnx-int8", "torch")
BACKEND_ENV = "HEARD_ENCODER_BACKEND"
EXPORT_VERSION = 1  # bump when the exported graph or its inputs change
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_ONNX_MODULES = ("onnxruntime", "onnx")
MAX_BATCH = 32
KEEP_GRAPHS = 4  # cached graphs kept (90 MB each): the shipped models' and a few trained


def _known(value: str, message: str) -> str:
    """`value` when it names a backend, else ModelUnavailable(`message`) listing them."""
    if value not in BACKENDS:
        raise ModelUnavailable(message, hint=f"use one of: {', '.join(BACKENDS)}")
    return value


def requested_backend() -> str:
    """The backend asked for in ``HEARD_ENCODER_BACKEND`` (``auto`` when unset)."""
    value = os.environ.get(BACKEND_ENV, "auto").strip().lower() or "auto"
    return _known(value, f"{BACKEND_ENV}={value!r} is not a known encoder backend")


def onnx_available() -> bool:
    """Whether ONNX Runtime and the ONNX exporter's ``onnx`` package are installed."""
    return all(importlib.util.find_spec(m) is not None for m in _ONNX_MODULES)


def choose_backend(backend: str | None, device: str) -> str:
    """``torch``, ``onnx`` or ``onnx-int8`` for an encoder on `device` (``backend`` None:
    the setting)."""
    if backend is None:
        wanted = requested_backend()
    else:
        wanted = _known(backend, f"unknown encoder backend {backend!r}")
    if wanted == "auto":
        return "onnx" if device == "cpu" and onnx_available() else "torch"
    if wanted in ("onnx", "onnx-int8"):
        if device != "cpu":
            raise ModelUnavailable(f"the ONNX encoder runs on the CPU only, not {device!r}")
        if not onnx_available():
            raise ModelUnavailable(
                "the ONNX encoder needs 'onnxruntime' and 'onnx'",
                hint="pip install 'heard[models]' (or set HEARD_ENCODER_BACKEND=torch)",
            )
    return wanted


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def graph_key(model_dir: Path, adapter: Path | None) -> str:
    """Cache key of the exported graph: the weights it holds and the exporter's versions.

    The base weights are identified by their file's size and modification time (hashing
    90 MB on every load would cost more than loading the cached graph); the adapter, a few
    hundred kB, by its bytes.
    """
    h = hashlib.sha256()
    h.update(f"v{EXPORT_VERSION}|{_version('torch')}|{_version('transformers')}|".encode())
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    h.update(f"{weights.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|".encode())
    h.update((model_dir / "config.json").read_bytes())
    if adapter is not None:
        for item in sorted(adapter.iterdir()):
            if item.is_file():
                h.update(item.name.encode() + b"\x00" + item.read_bytes())
    return h.hexdigest()[:24]


def _pooling_is_mean(model_dir: Path) -> bool:
    try:
        config = json.loads((model_dir / "1_Pooling" / "config.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    others = ("cls_token", "max_tokens", "mean_sqrt_len_tokens")
    return bool(config.get("pooling_mode_mean_tokens")) and not any(
        config.get(f"pooling_mode_{o}") for o in others
    )


def _max_seq_length(model_dir: Path) -> int:
    try:
        config = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 256


def export(st: Any, path: Path) -> None:
    """Write the transformer of SentenceTransformer `st` as an ONNX graph to `path`
    (atomically: a failed export leaves no partial file behind)."""
    import torch

    auto = st[0].auto_model

    class _Hidden(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    sample = st.tokenizer(["a short text", "and a somewhat longer one"], padding=True)
    args = tuple(torch.tensor(sample[name]) for name in _INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    with replaced(path) as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about the model's Python branches
        torch.onnx.export(
            _Hidden(auto).eval(),
            args,
            str(tmp),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


class OnnxSentenceModel:
    """A MiniLM sentence encoder on ONNX Runtime, with ``SentenceTransformer.encode``'s
    signature (the part :class:`~heard.semantic.encoder.Encoder` uses)."""

    def __init__(self, graph: Path, model_dir: Path, *, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # no busy-waiting between batches: on a shared machine spinning threads slow the
        # other jobs down (the same reason OMP_WAIT_POLICY is PASSIVE for torch)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.max_seq_length = _max_seq_length(model_dir)
        self.tokenizer = WordPieceTokenizer(model_dir, self.max_seq_length)

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        convert_to_numpy: bool = True,
        normalize_embeddings: bool = True,
        show_progress_bar: bool = False,
    ) -> npt.NDArray[np.float32]:
        import numpy as np

        # Batches of at most MAX_BATCH texts: on ONNX Runtime larger ones were slower
        # (the activations outgrow the CPU caches); sorted by length, little is padded.
        batch_size = max(1, min(batch_size, MAX_BATCH))
        stripped = [str(t).strip() for t in texts]
        order = sorted(range(len(stripped)), key=lambda i: -len(stripped[i]))
        out = np.empty((len(stripped), 384), dtype=np.float32)
        for lo in range(0, len(order), batch_size):
            rows = order[lo : lo + batch_size]
            feeds = self.tokenizer([stripped[i] for i in rows])
            hidden = self.session.run(None, feeds)[0]
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            vectors = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            if normalize_embeddings:
                norms = np.linalg.norm(vectors, axis=1, keepdims=True)
                vectors = vectors / np.maximum(norms, 1e-12)
            out[rows] = vectors
        return out


def load_onnx(
    model_dir: Path,
    adapter: Path | None,
    *,
    threads: int,
    cache: Path,
    sentence_transformer: Any = None,
    build: Any = None,
    quantized: bool = False,
) -> tuple[OnnxSentenceModel, Any]:
    """The ONNX encoder of MiniLM (+ `adapter`), exporting and caching its graph if needed.

    ``build()`` returns the torch SentenceTransformer (adapter merged); it is called only
    when the graph must be exported. ``quantized`` runs a dynamic int8 copy of the graph
    (weights of the linear layers in int8: about twice as fast again, embeddings close to
    but not equal to float32's; made once from the float32 graph and cached). Returns the
    encoder and the SentenceTransformer if one was built (else None). Raises
    :class:`ModelUnavailable` when the model cannot run on ONNX (then the caller may fall
    back to torch).
    """
    if not _pooling_is_mean(model_dir):
        raise ModelUnavailable("this MiniLM's pooling is not mean pooling; ONNX path skipped")
    base = cache / "encoders" / f"minilm-{graph_key(model_dir, adapter)}.onnx"
    st = sentence_transformer
    for attempt in (1, 2):
        exported = False
        if not base.is_file():
            if st is None and build is not None:
                st = build()
            if st is None:
                raise ModelUnavailable("no model to export to ONNX")
            log.info(
                "exporting the sentence encoder%s to ONNX (once; cached in %s)",
                f" with the adapter {adapter.name}" if adapter is not None else "",
                base.parent,
            )
            try:
                export(st, base)
            except Exception as exc:  # an exporter failure must not stop the semantic tier
                raise ModelUnavailable(f"exporting MiniLM to ONNX failed: {exc}") from exc
            exported = True
            _prune(base.parent, keep=(base,))
        graph = _quantized(base) if quantized else base  # the one to load
        try:
            model = OnnxSentenceModel(graph, model_dir, threads=threads)
        except Exception as exc:
            # a damaged cache file (say, a disk that filled up): drop it and export again
            with contextlib.suppress(OSError):
                graph.unlink()
            if exported or attempt == 2:
                raise ModelUnavailable(f"the ONNX encoder {graph} could not load: {exc}") from exc
            again = "exporting again" if graph == base else "quantising again"
            log.warning("the cached ONNX encoder %s could not load (%s); %s", graph, exc, again)
            continue
        if not exported:
            for used in {base, graph}:  # recently used: pruned last
                with contextlib.suppress(OSError):
                    os.utime(used)
        return model, st
    raise AssertionError("unreachable")  # pragma: no cover


def _quantized(graph: Path) -> Path:
    """The dynamic int8 copy of `graph` (made and cached next to it when missing)."""
    target = graph.with_name(graph.stem + ".int8.onnx")
    if target.is_file():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    try:
        with replaced(target) as tmp, warnings.catch_warnings(), _quiet_root_logger():
            warnings.simplefilter("ignore")
            quantize_dynamic(str(graph), str(tmp), weight_type=QuantType.QInt8)
    except Exception as exc:
        raise ModelUnavailable(f"quantising the ONNX encoder failed: {exc}") from exc
    _prune(graph.parent, keep=(graph, target))
    return target


@contextlib.contextmanager
def _quiet_root_logger() -> Any:
    """onnxruntime's quantiser logs advice on the root logger; keep it off the user's screen."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _prune(folder: Path, *, keep: tuple[Path, ...]) -> None:
    """Delete all but the KEEP_GRAPHS most recently used graphs in `folder`."""
    try:
        others = [p for p in folder.glob("minilm-*.onnx") if p not in keep]
        others.sort(key=lambda p: p.stat().st_mtime)
    except OSError:
        return
    for old in others[: max(0, len(others) - max(0, KEEP_GRAPHS - len(keep)))]:
        with contextlib.suppress(OSError):
            old.unlink()


class WordPieceTokenizer:
    """MiniLM's fast tokenizer (``tokenizer.json``) through the ``tokenizers`` library alone:
    the ids ``transformers`` gives, without importing transformers (which imports torch).

    The file carries a fixed 128-token padding and truncation of its own; both are set
    here as sentence-transformers sets them: pad to the batch's longest text, truncate at
    the model's ``max_seq_length``.
    """

    def __init__(self, model_dir: Path, max_seq_length: int) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        pad_id = self._tok.token_to_id("[PAD]")
        self._tok.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
        self._tok.enable_truncation(max_length=max_seq_length)

    def __call__(self, texts: Sequence[str]) -> dict[str, Any]:
        import numpy as np

        encodings = self._tok.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }


__all__ = [
    "BACKENDS",
    "BACKEND_ENV",
    "OnnxSentenceModel",
    "WordPieceTokenizer",
    "choose_backend",
    "load_onnx",
    "onnx_available",
    "requested_backend",
]
