"""The recipe that produces the shipped technique heads, and their evaluation.

``train_techniques(data_dir, out_dir)`` regenerates ``weights/techniques.{npz,json}`` from
heard's own examples (``data/techniques/{train,dev,test}.jsonl``, written by
``data/techniques/generate.py``; splits are by template family):

1. Every row is cut into sentences exactly as an analysed turn is
   (:func:`heard.semantic.techniques.units`) and each sentence is embedded once with the
   frozen all-MiniLM-L6-v2 encoder (cached on disk, keyed by the texts and the encoder).
2. One multi-label head (a hidden layer of 256, :class:`Recipe`) on sentence embeddings,
   masked binary cross-entropy. Labels are per row, so rows of several sentences are used
   as in multiple-instance learning: every sentence of a row without the id is a
   negative; a row with the id contributes its best sentence under the previous pass's
   model (the first pass learns from one-sentence rows only). Sentences where the id
   cannot be read are left out for that id: a process narrative or vague promise with no
   outcome question before it (``X.process_answer``), a ``T.label`` sentence whose
   feeling the customer already stated, an anti-pattern in a row of several sentences
   that also has the move it yields to (``YIELDS``).
3. The decision threshold per id maximises F1 on the dev split (turn level: a row's
   score is its best sentence's). Fusion parameters, also on dev (``tune_fusion``):
   ``emit`` is the lowest threshold, not below 0.85, at which what the semantic tier
   would add on its own is at least 95% right (97% for anti-patterns: flagging an agent
   for something they did not do costs more than missing a technique), over at least 10
   such findings. Synthetic text is
   easier than real text, so these are deliberately strict. The shipped heads veto no
   lexical finding (``VETO_GRID``): the synthetic dev split underestimates the lexical
   tier's precision on real text (X.blame: 0.36 on dev, 1.00 on the labelled TweetSumm
   dialogs), so it cannot justify one.
4. The test split is read once, at the end, for the figures in ``techniques.json``.
5. The example sentences that explanations quote are the training sentences nearest to
   k-means centres of each id's positives (our own text).

``evaluate_labeled(path)`` measures lexical alone, semantic alone and fused on labelled
real conversations (``heard``'s TweetSumm annotation; evaluation only, never training).

    python -m heard.semantic.train_techniques --data data/techniques --out DIR
    python -m heard.semantic.train_techniques --eval path/to/labeled/tweetsumm_valid.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heard.detectors.base import Detector, Doc
from heard.evaluation import Tally
from heard.model import Conversation, Speaker, Turn
from heard.semantic.techniques import (
    HEAD_IDS,
    YIELDS,
    IdParams,
    TechniqueHeads,
    Unit,
    feelings,
    units,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from heard.pipeline import Pipeline

Log = Callable[[str], None]
SPLITS = ("train", "dev", "test")
THRESHOLDS = tuple(round(0.05 + 0.025 * i, 3) for i in range(38))  # 0.05 .. 0.975
VETO_GRID: tuple[float, ...] = (0.0,)
EMIT_FLOOR = 0.85
WEAK_LEXICAL_PRECISION = 0.4
EMIT_PRECISION = 0.95
#: An anti-pattern the agent did not commit costs more (a coach loses trust in the tool)
#: than a technique missed: the semantic tier alone flags one only at this precision.
EMIT_PRECISION_ANTI = 0.97
#: ... measured on at least this many findings the semantic tier would add on dev.
EMIT_MIN_SUPPORT = 10
EMIT_HIGH = (0.985, 0.99, 0.995)
N_EXAMPLES = 12


def default_cache() -> Path:
    """Where sentence embeddings are kept between training runs (HEARD_CACHE_DIR overrides)."""
    from heard.detectors.lexicon import cache_dir

    return cache_dir() / "techniques-embeddings"


# -- data ------------------------------------------------------------------------------------


@dataclass
class Row:
    text: str
    context: str | None
    labels: frozenset[str]
    kind: str
    template: str
    register: str = "chat"
    units: list[Unit] = field(default_factory=list)


def read_rows(path: Path) -> list[Row]:
    rows = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        text = raw["text"]
        row = Row(
            text,
            raw.get("context"),
            frozenset(raw.get("labels", ())),
            raw.get("kind", "other"),
            raw.get("template", ""),
            raw.get("register", "chat"),
        )
        row.units = units(text) or [Unit(0, len(text), text.strip() or text)]
        rows.append(row)
    return rows


def row_conversation(row: Row, k: int) -> Conversation:
    turns = []
    if row.context:
        turns.append(Turn(speaker=Speaker.customer, text=row.context))
    turns.append(Turn(speaker=Speaker.agent, text=row.text))
    return Conversation(id=f"row-{k}", turns=turns)


# -- embeddings ------------------------------------------------------------------------------


class EmbeddingTable:
    """Unit text -> embedding, filled in one pass and cached on disk.

    Also serves as the encoder of :class:`SemanticTechniqueDetector` during evaluation
    (``encode`` looks texts up; unknown texts are encoded with the real encoder).
    """

    def __init__(self, encoder: Any, cache_dir: Path | None = None) -> None:
        self.encoder = encoder
        self.cache_dir = cache_dir
        self.vectors: dict[str, npt.NDArray[np.float32]] = {}

    def fill(self, texts: Iterable[str], say: Log) -> None:
        """Embed every text not seen yet; earlier runs' cache files are reused."""
        import numpy as np

        name = str(getattr(self.encoder, "name", "encoder"))
        folder = self.cache_dir / name.replace("/", "_") if self.cache_dir else None
        todo = sorted({t for t in texts if t not in self.vectors})
        if todo and folder is not None and folder.is_dir():
            wanted = set(todo)
            for path in sorted(folder.glob("*.npz")):
                with np.load(path) as arrays:
                    for text, vec in zip(arrays["texts"].tolist(), arrays["vectors"], strict=True):
                        if text in wanted:
                            self.vectors[text] = np.asarray(vec, dtype=np.float32)
            todo = [t for t in todo if t not in self.vectors]
            if not todo:
                say(f"embeddings: all sentences from the cache in {folder}")
        if not todo:
            return
        say(f"embeddings: encoding {len(todo)} sentences with {name}")
        matrix = np.asarray(self.encoder.encode(todo, batch_size=128), dtype=np.float32)
        for text, vec in zip(todo, matrix, strict=True):
            self.vectors[text] = vec
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256("\n".join(todo).encode()).hexdigest()[:20]
            np.savez(folder / f"{digest}.npz", texts=np.asarray(todo), vectors=matrix)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]:
        import numpy as np

        missing = [t for t in texts if t not in self.vectors]
        if missing:
            self.fill(missing, lambda _msg: None)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self.vectors[t] for t in texts])


# -- instances -------------------------------------------------------------------------------


@dataclass
class Prepared:
    """A split with its lexical docs and, per row, which sentences each id may read."""

    rows: list[Row]
    docs: list[Doc]
    #: per row: (n_units, n_ids) booleans, True where the id may be read in that sentence
    readable: list[npt.NDArray[np.bool_]]
    #: per row: (n_ids,) booleans, the gold labels
    gold: npt.NDArray[np.bool_]
    #: all unit texts of the split, row after row, and each row's first unit index
    texts: list[str] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)


def prepare(rows: list[Row], lexical: Pipeline) -> Prepared:
    """Run the lexical tier on each row (as customer context + agent turn) and work out,
    per sentence and id, whether the id can be read there (module docstring, step 2)."""
    import numpy as np

    from heard.detectors.antipatterns import outcome_question_pending

    docs: list[Doc] = []
    readable: list[npt.NDArray[np.bool_]] = []
    gold = np.zeros((len(rows), len(HEAD_IDS)), dtype=bool)
    texts: list[str] = []
    offsets: list[int] = []
    label_k = HEAD_IDS.index("T.label")
    for k, row in enumerate(rows):
        doc = lexical.run(row_conversation(row, k))
        docs.append(doc)
        gold[k] = [id in row.labels for id in HEAD_IDS]
        mask = np.ones((len(row.units), len(HEAD_IDS)), dtype=bool)
        if not outcome_question_pending(doc, doc.turns[-1]) and (
            row.template.startswith("X.process_answer/") or "X.vague_commit" in row.labels
        ):
            # a process narrative (or a vague promise) nobody asked an outcome question
            # about: whether it would be X.process_answer is unknown, so it is not read.
            # Every other sentence is a negative whatever came before it.
            mask[:, HEAD_IDS.index("X.process_answer")] = False
        if len(row.units) > 1:  # one sentence may be the anti-pattern, another its cure
            for anti, better in YIELDS.items():
                if anti in HEAD_IDS and any(b in row.labels for b in better):
                    mask[:, HEAD_IDS.index(anti)] = False
        stated = feelings(row.context or "")
        for j, unit in enumerate(row.units):
            named = feelings(unit.text)
            if named and named <= stated:
                mask[j, label_k] = False
        readable.append(mask)
        offsets.append(len(texts))
        texts.extend(u.text for u in row.units)
    return Prepared(rows, docs, readable, gold, texts, offsets)


def unit_matrix(prep: Prepared, table: EmbeddingTable) -> npt.NDArray[np.float32]:
    import numpy as np

    return np.stack([table.vectors[t] for t in prep.texts])


def row_scores(prep: Prepared, unit_probs: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Turn-level scores ``(n_rows, n_ids)``: the best readable sentence's probability."""
    import numpy as np

    out = np.zeros(prep.gold.shape, dtype=np.float32)
    for k, mask in enumerate(prep.readable):
        start = prep.offsets[k]
        probs = unit_probs[start : start + mask.shape[0]]
        out[k] = np.where(mask, probs, 0.0).max(axis=0)
    return out


def instances(
    prep: Prepared,
    x: npt.NDArray[np.float32],
    unit_probs: npt.NDArray[np.float32] | None,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Targets and loss masks ``(n_units, n_ids)`` for multiple-instance training.

    A sentence is a negative of every readable id its row lacks; a one-sentence row is a
    positive of its ids; in a longer row, the best readable sentence under the previous
    model (``unit_probs``; none on the first pass) is the positive, the others do not
    count for that id.
    """
    import numpy as np

    y = np.zeros((x.shape[0], len(HEAD_IDS)), dtype=np.float32)
    m = np.zeros_like(y)
    for k, mask in enumerate(prep.readable):
        start = prep.offsets[k]
        n = mask.shape[0]
        gold = prep.gold[k]
        m[start : start + n] = mask & ~gold
        if n == 1:
            y[start] = gold & mask[0]
            m[start] = np.maximum(m[start], gold & mask[0])
        elif unit_probs is not None:
            probs = np.where(mask, unit_probs[start : start + n], -1.0)
            for i in np.flatnonzero(gold & mask.any(axis=0)):
                j = start + int(np.argmax(probs[:, i]))
                y[j, i] = 1.0
                m[j, i] = 1.0
    return y, m


@dataclass(frozen=True)
class Recipe:
    """The knobs of the head; the defaults produce the shipped weights."""

    hidden: int = 256
    dropout: float = 0.2
    weight_decay: float = 1e-2
    lr: float = 3e-3
    batch_size: int = 256
    epochs: int = 30
    passes: int = 2  # multiple-instance passes
    threads: int = 2


Layers = list[tuple["npt.NDArray[np.float32]", "npt.NDArray[np.float32]"]]


def fit_head(
    x: npt.NDArray[np.float32],
    y: npt.NDArray[np.float32],
    m: npt.NDArray[np.float32],
    recipe: Recipe,
    seed: int,
) -> Layers:
    """One hidden layer, masked binary cross-entropy (positives up-weighted by the square
    root of the class ratio, at most 10), AdamW, fixed epochs. Torch is needed here only."""
    import numpy as np
    import torch

    torch.set_num_threads(recipe.threads)
    torch.manual_seed(seed)
    xt, yt, mt = torch.tensor(x), torch.tensor(y), torch.tensor(m)
    pos = (yt * mt).sum(0)
    neg = ((1 - yt) * mt).sum(0)
    pos_weight = (neg / pos.clamp(min=1)).clamp(max=10.0) ** 0.5
    net = torch.nn.Sequential(
        torch.nn.Dropout(recipe.dropout),
        torch.nn.Linear(x.shape[1], recipe.hidden),
        torch.nn.ReLU(),
        torch.nn.Dropout(recipe.dropout),
        torch.nn.Linear(recipe.hidden, y.shape[1]),
    )
    opt = torch.optim.AdamW(net.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    for _ in range(recipe.epochs):
        net.train()
        perm = torch.randperm(n, generator=gen)
        for b in range(0, n, recipe.batch_size):
            idx = perm[b : b + recipe.batch_size]
            logits = net(xt[idx])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, yt[idx], pos_weight=pos_weight, reduction="none"
            )
            loss = (loss * mt[idx]).sum() / mt[idx].sum().clamp(min=1.0)
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
    net.eval()
    first, second = net[1], net[4]
    assert isinstance(first, torch.nn.Linear) and isinstance(second, torch.nn.Linear)
    return [
        (
            np.ascontiguousarray(first.weight.detach().numpy().T, dtype=np.float32),
            first.bias.detach().numpy().astype(np.float32),
        ),
        (
            np.ascontiguousarray(second.weight.detach().numpy().T, dtype=np.float32),
            second.bias.detach().numpy().astype(np.float32),
        ),
    ]


def forward(layers: Layers, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    import numpy as np

    z = np.asarray(x, dtype=np.float32)
    for k, (w, b) in enumerate(layers):
        z = np.asarray(z @ w + b, dtype=np.float32)
        if k < len(layers) - 1:
            z = np.maximum(z, np.float32(0.0))
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0))), dtype=np.float32)


# -- metrics ---------------------------------------------------------------------------------


class Counts(Tally):
    """:class:`heard.evaluation.Tally` with the compact figures the training report prints."""

    def prf(self) -> dict[str, float | int]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "p": round(p, 3),
            "r": round(r, 3),
            "f1": round(f, 3),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "support": self.tp + self.fn,
        }


def best_f1(scores: Any, gold: Any, counted: Any, grid: Sequence[float]) -> tuple[float, float]:
    import numpy as np

    best = (0.0, 0.5)
    s, g = scores[counted], gold[counted].astype(bool)
    for t in grid:
        pred = s >= t
        tp = int(np.sum(pred & g))
        fp = int(np.sum(pred & ~g))
        fn = int(np.sum(~pred & g))
        f = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f > best[0] + 1e-9:
            best = (f, t)
    return best


def average_precision(scores: Any, gold: Any) -> float:
    from sklearn.metrics import average_precision_score

    if gold.sum() == 0:
        return 0.0
    return float(average_precision_score(gold, scores))


def fused_decision(params: IdParams, lexical: bool, p: float) -> bool:
    """The fusion rule for one id in one turn (heard.semantic.detectors applies it)."""
    if lexical:
        return p >= params.veto
    return p >= params.emit


def tune_fusion(
    scores: Any, gold: Any, counted: Any, lexical: Any, threshold: float, *, anti: bool = False
) -> tuple[IdParams, float]:
    """The fusion parameters of one id on the dev split.

    ``emit``: the lowest threshold (at least ``max(threshold, EMIT_FLOOR)``) at which the
    findings the semantic tier would add alone are right at least ``EMIT_PRECISION`` of the
    time (``EMIT_PRECISION_ANTI`` for an anti-pattern, ``anti``); 1.01 (never) if there
    is none. ``veto``: only for ids whose lexical precision on
    dev is below ``WEAK_LEXICAL_PRECISION``, the value of ``VETO_GRID`` with the best fused
    F1 (ties: no veto).
    """
    import numpy as np

    g = gold.astype(bool)
    lex_tp = int(np.sum(lexical & g & counted))
    lex_fp = int(np.sum(lexical & ~g & counted))
    lex_precision = lex_tp / (lex_tp + lex_fp) if lex_tp + lex_fp else 1.0
    floor = max(threshold, EMIT_FLOOR)
    emit = 1.01
    alone = ~lexical & counted
    target = EMIT_PRECISION_ANTI if anti else EMIT_PRECISION
    for t in sorted({floor, *[t for t in (*THRESHOLDS, *EMIT_HIGH) if t >= floor]}):
        added = alone & (scores >= t)
        n = int(np.sum(added))
        if n >= EMIT_MIN_SUPPORT and int(np.sum(added & g)) / n >= target:
            emit = t
            break
    vetoes = VETO_GRID if lex_precision < WEAK_LEXICAL_PRECISION else (0.0,)
    best: tuple[float, float] = (-1.0, 0.0)
    for veto in vetoes:
        pred = np.where(lexical, scores >= veto, scores >= emit) & counted
        tp = int(np.sum(pred & g))
        fp = int(np.sum(pred & ~g))
        fn = int(np.sum(~pred & g & counted))
        f = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f > best[0] + 1e-9:
            best = (f, veto)
    return IdParams(threshold, round(emit, 3), best[1]), lex_precision


# -- training --------------------------------------------------------------------------------


def _lexical_pipeline() -> Pipeline:
    from heard.pipeline import Pipeline

    return Pipeline(fast=True, playbooks=[])


def _data_digest(data_dir: Path) -> dict[str, str]:
    return {
        split: hashlib.sha256((data_dir / f"{split}.jsonl").read_bytes()).hexdigest()
        for split in SPLITS
    }


def choose_examples(
    prep: Prepared, unit_probs: npt.NDArray[np.float32], table: EmbeddingTable, seed: int
) -> tuple[list[str], list[int]]:
    """Per id, training sentences nearest to k-means centres of its positive sentences.

    Only clean-looking sentences qualify (chat or email rows, 3 to 16 words, capitalised,
    no rare word: rare words are mostly the generator's typos), so explanations quote
    readable text.
    """
    import numpy as np
    from sklearn.cluster import KMeans

    vocab = Counter(w for t in prep.texts for w in t.lower().split())
    texts_out: list[str] = []
    ids_out: list[int] = []
    for i, _id in enumerate(HEAD_IDS):
        candidates: set[str] = set()
        for k, mask in enumerate(prep.readable):
            if not prep.gold[k, i] or not mask[:, i].any():
                continue
            if prep.rows[k].register in ("tweet", "phone"):  # quote tidy text only
                continue
            start = prep.offsets[k]
            probs = np.where(mask[:, i], unit_probs[start : start + mask.shape[0], i], -1.0)
            best = prep.texts[start + int(np.argmax(probs))]
            words = best.lower().split()
            if 3 <= len(words) <= 16 and best[0].isupper() and all(vocab[w] >= 4 for w in words):
                candidates.add(best)
        texts = sorted(candidates)
        if not texts:
            continue
        matrix = np.stack([table.vectors[t] for t in texts])
        km = KMeans(n_clusters=min(N_EXAMPLES, len(texts)), n_init=4, random_state=seed)
        km.fit(matrix)
        chosen: list[str] = []
        for centre in km.cluster_centers_:
            for j in np.argsort(-(matrix @ centre)):
                if texts[int(j)] not in chosen:
                    chosen.append(texts[int(j)])
                    break
        texts_out.extend(chosen)
        ids_out.extend([i] * len(chosen))
    return texts_out, ids_out


def train_techniques(
    data_dir: Path | str,
    out_dir: Path | str,
    seed: int = 13,
    *,
    encoder: Any | None = None,
    recipe: Recipe | None = None,
    cache_dir: Path | None = None,
    log: Log | None = None,
    reuse: Path | None = None,
) -> dict[str, Any]:
    """Train, tune and save the technique heads; return the dev and test figures.

    ``encoder`` defaults to :meth:`heard.semantic.encoder.Encoder.load` (frozen MiniLM,
    2 threads). Output: ``out_dir/techniques.npz`` and ``out_dir/techniques.json``.
    ``reuse``: a directory with earlier heads whose layers are kept (steps 3-5 only).
    """
    import numpy as np

    say: Log = log or (lambda msg: print(msg, file=sys.stderr))
    recipe = recipe or Recipe()
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    np.random.seed(seed)
    if encoder is None:
        from heard.semantic.encoder import Encoder

        encoder = Encoder.load(threads=recipe.threads)
    table = EmbeddingTable(encoder, cache_dir if cache_dir is not None else default_cache())
    split_rows = {s: read_rows(data_dir / f"{s}.jsonl") for s in SPLITS}
    table.fill((u.text for rows in split_rows.values() for r in rows for u in r.units), say)
    say("lexical tier over the splits (gates and fusion tuning)")
    lexical = _lexical_pipeline()
    prep = {s: prepare(rows, lexical) for s, rows in split_rows.items()}
    lex_ids = {s: [{f.id for f in d.turns[-1].findings} for d in p.docs] for s, p in prep.items()}

    x_train = unit_matrix(prep["train"], table)
    probs: npt.NDArray[np.float32] | None = None
    layers: Layers = []
    if reuse is not None:  # re-tune thresholds and fusion of an earlier run's head
        layers = TechniqueHeads.load(reuse).layers
        say(f"reusing the head in {reuse}")
        probs = forward(layers, x_train)
    for k in range(recipe.passes if reuse is None else 0):
        y, m = instances(prep["train"], x_train, probs)
        say(f"pass {k + 1}/{recipe.passes}: {int(m.sum())} sentence-id instances")
        layers = fit_head(x_train, y, m, recipe, seed)
        probs = forward(layers, x_train)
    assert probs is not None

    dev_scores = row_scores(prep["dev"], forward(layers, unit_matrix(prep["dev"], table)))
    params: dict[str, IdParams] = {}
    dev_figures: dict[str, Any] = {}
    everywhere = np.ones(len(prep["dev"].rows), dtype=bool)
    for i, id in enumerate(HEAD_IDS):
        scores, gold = dev_scores[:, i], prep["dev"].gold[:, i]
        ap = average_precision(scores, gold)
        f1, threshold = best_f1(scores, gold, everywhere, THRESHOLDS)
        lexical_hit = np.asarray([id in ids for ids in lex_ids["dev"]])
        params[id], lex_precision = tune_fusion(
            scores, gold, everywhere, lexical_hit, threshold, anti=id.startswith("X.")
        )
        dev_figures[id] = {
            "ap": round(ap, 3),
            "f1": round(f1, 3),
            "lexical_precision": round(lex_precision, 3),
        }
        say(
            f"{id:18s} dev AP={ap:.3f} F1={f1:.3f} t={threshold:.3f} emit={params[id].emit:.3f} "
            f"veto={params[id].veto:.2f} (lexical P={lex_precision:.2f})"
        )
    texts, text_ids = choose_examples(prep["train"], probs, table, seed)
    heads = TechniqueHeads(
        HEAD_IDS,
        layers,
        params,
        np.stack([table.vectors[t] for t in texts]).astype(np.float32),
        np.asarray(text_ids, dtype=np.int64),
        texts,
        {"encoder": str(getattr(encoder, "name", "all-MiniLM-L6-v2")), "version": 1},
    )
    heads.save(out_dir)
    shipped = TechniqueHeads.load(out_dir)  # evaluate through the float16 weights users get
    say("evaluating dev and test through the detector")
    dev = evaluate_prepared(shipped, prep["dev"], table, lex_ids["dev"])
    test = evaluate_prepared(shipped, prep["test"], table, lex_ids["test"])
    shipped.meta.update(
        licence="Apache-2.0 (trained only on heard's own data/techniques)",
        recipe={
            **dataclasses.asdict(recipe),
            "seed": seed,
            "emit_floor": EMIT_FLOOR,
            "weak_lexical_precision": WEAK_LEXICAL_PRECISION,
            "emit_precision": EMIT_PRECISION,
            "emit_precision_anti": EMIT_PRECISION_ANTI,
            "emit_min_support": EMIT_MIN_SUPPORT,
            "veto_grid": list(VETO_GRID),
            "data_sha256": _data_digest(data_dir),
            "rows": {s: len(r) for s, r in split_rows.items()},
        },
        dev={"tuning": dev_figures, "macro_f1": dev["macro_f1"]},
        test={
            "macro_f1": test["macro_f1"],
            "false_alarm_rows": test["false_alarm_rows"],
            "per_id": test["per_id"],
        },
    )
    shipped.save(out_dir)
    return {
        "dev": dev,
        "test": test,
        "dev_tuning": dev_figures,
        "params": {i: p.out() for i, p in params.items()},
    }


# -- evaluation ------------------------------------------------------------------------------


def evaluate_prepared(
    heads: TechniqueHeads, prep: Prepared, table: EmbeddingTable, lex_ids: list[set[str]]
) -> dict[str, Any]:
    """Lexical alone, semantic alone and fused on one prepared split (turn level)."""
    from heard.semantic.detectors import SemanticTechniqueDetector

    detector = SemanticTechniqueDetector(heads, encoder=table, lexical_ids=set(HEAD_IDS))
    tiers: dict[str, dict[str, Counts]] = {
        t: {id: Counts() for id in HEAD_IDS} for t in ("lexical", "semantic", "fused")
    }
    by_kind: dict[str, Counter[str]] = {t: Counter() for t in tiers}
    kind_rows: Counter[str] = Counter()
    for k, (row, doc) in enumerate(zip(prep.rows, prep.docs, strict=True)):
        doc = _copy_doc(doc)
        detector.detect(doc)
        readings = detector.readings(doc)
        agent = doc.turns[-1]
        sem = readings.get(agent.i, set())
        fused = {f.id for f in agent.findings}
        preds = {"lexical": lex_ids[k], "semantic": sem, "fused": fused}
        kind_rows[row.kind] += 1
        for tier, found in preds.items():
            for id in HEAD_IDS:
                tiers[tier][id].add(id in found, id in row.labels)
            # false alarms on rows written as near misses / negations
            if row.kind in ("near_miss", "negation") and (set(found) & set(HEAD_IDS)) - row.labels:
                by_kind[tier][row.kind] += 1
    out: dict[str, Any] = {"per_id": {}, "macro_f1": {}, "false_alarm_rows": {}}
    for tier, counts in tiers.items():
        out["per_id"][tier] = {id: c.prf() for id, c in counts.items()}
        f1s = [float(c.prf()["f1"]) for c in counts.values() if c.tp + c.fn]
        out["macro_f1"][tier] = round(sum(f1s) / len(f1s), 3) if f1s else 0.0
        out["false_alarm_rows"][tier] = {
            kind: round(by_kind[tier][kind] / kind_rows[kind], 3) if kind_rows[kind] else 0.0
            for kind in ("near_miss", "negation")
        }
    return out


def _copy_doc(doc: Doc) -> Doc:
    copy = Doc(doc.conversation)
    for src, dst in zip(doc.turns, copy.turns, strict=True):
        dst.findings = list(src.findings)
        dst.emotions = dict(src.emotions)
        dst.energy = src.energy
        dst.hits = src.hits
        dst.scan = src.scan
    return copy


def read_labeled(path: Path) -> list[tuple[Conversation, list[dict[str, Any]]]]:
    out = []
    for k, line in enumerate(path.read_text("utf-8").splitlines()):
        if not line.strip():
            continue
        raw = json.loads(line)
        turns = [Turn(speaker=Speaker(t["speaker"]), text=t["text"]) for t in raw["turns"]]
        out.append((Conversation(id=raw.get("id", f"c-{k}"), turns=turns), raw["turns"]))
    return out


def evaluate_labeled(
    path: Path | str,
    *,
    ids: Sequence[str] = HEAD_IDS,
    detectors: Sequence[Detector] | None = None,
) -> dict[str, Any]:
    """Per-id P/R/F1 on agent turns of a labelled file: lexical, semantic alone, fused.

    Each turn's ``disputed`` ids are left out of scoring (neither a hit nor a miss).
    ``detectors`` defaults to the full built-in list (both tiers).
    """
    from heard.pipeline import Pipeline, builtin_detectors
    from heard.semantic.detectors import SemanticTechniqueDetector

    data = read_labeled(Path(path))
    lexical = Pipeline(fast=True, playbooks=[])
    full = Pipeline(detectors if detectors is not None else builtin_detectors(), playbooks=[])
    sem_detector = next(
        (d for d in full.detectors if isinstance(d, SemanticTechniqueDetector)), None
    )
    if sem_detector is None:
        raise RuntimeError("the semantic tier is not in the pipeline (is heard[models] installed?)")
    tiers: dict[str, dict[str, Counts]] = {
        t: {id: Counts() for id in ids} for t in ("lexical", "semantic", "fused")
    }
    for conv, raw_turns in data:
        lex_doc = lexical.run(conv)
        doc = full.run(conv)
        readings = sem_detector.readings(doc)
        for t_lex, t_full, raw in zip(lex_doc.turns, doc.turns, raw_turns, strict=True):
            if raw["speaker"] != "agent":
                continue
            gold = set(raw.get("labels", ()))
            disputed = set(raw.get("disputed", ()))
            preds = {
                "lexical": {f.id for f in t_lex.findings},
                "semantic": readings.get(t_full.i, set()),
                "fused": {f.id for f in t_full.findings},
            }
            for tier, found in preds.items():
                for id in ids:
                    if id not in disputed:
                        tiers[tier][id].add(id in found, id in gold)
    out: dict[str, Any] = {"per_id": {}, "macro_f1": {}}
    for tier, counts in tiers.items():
        out["per_id"][tier] = {id: c.prf() for id, c in counts.items()}
        f1s = [float(c.prf()["f1"]) for c in counts.values() if c.tp + c.fn]
        out["macro_f1"][tier] = round(sum(f1s) / len(f1s), 3) if f1s else 0.0
    return out


def evaluate_emotions_labeled(path: Path | str) -> dict[str, Any]:
    """Customer turns of a labelled file: C.emotion and per-emotion P/R/F1 for the lexical
    reading, the learned model alone (its tuned thresholds) and the blend
    ``semantic.emotion`` writes. Disputed labels and emotions are left out."""
    from heard.model import SERVICE_EMOTIONS
    from heard.pipeline import Pipeline
    from heard.semantic.detectors import EXPRESSED, shared_emotion_model

    data = read_labeled(Path(path))
    lexical = Pipeline(fast=True, playbooks=[])
    full = Pipeline(playbooks=[])
    model = shared_emotion_model()
    emotions = [e for e in SERVICE_EMOTIONS if e != "neutral"]
    tiers = ("lexical", "learned", "blend")
    c_emotion = {t: Counts() for t in tiers}
    per = {t: {e: Counts() for e in emotions} for t in tiers}
    for conv, raw_turns in data:
        lex_doc, doc = lexical.run(conv), full.run(conv)
        customer = [(k, r) for k, r in enumerate(raw_turns) if r["speaker"] == "customer"]
        learned = model.classify([raw_turns[k]["text"] for k, _ in customer], "service")
        for (k, raw), (labels, _) in zip(customer, learned, strict=True):
            lex_scores = lex_doc.turns[k].emotions
            found = {
                "lexical": {e for e, v in lex_scores.items() if e != "neutral" and v >= EXPRESSED},
                "learned": {e for e in labels if e != "neutral"},
                "blend": {
                    e for e, v in doc.turns[k].emotions.items() if e != "neutral" and v >= EXPRESSED
                },
            }
            gold = set(raw.get("emotion", ())) - {"neutral"}
            disputed = set(raw.get("emotion_disputed", ()))
            emotion_disputed = "C.emotion" in set(raw.get("disputed", ()))
            for tier in tiers:
                if not emotion_disputed:
                    c_emotion[tier].add(bool(found[tier]), "C.emotion" in raw.get("labels", ()))
                for e in emotions:
                    if e not in disputed:
                        per[tier][e].add(e in found[tier], e in gold)
    out: dict[str, Any] = {
        "C.emotion": {t: c.prf() for t, c in c_emotion.items()},
        "per_emotion": {},
    }
    for tier in tiers:
        out["per_emotion"][tier] = {e: c.prf() for e, c in per[tier].items()}
        f1s = [float(c.prf()["f1"]) for c in per[tier].values() if c.tp + c.fn]
        out.setdefault("macro_f1", {})[tier] = round(sum(f1s) / len(f1s), 3) if f1s else 0.0
    return out


def format_table(figures: Mapping[str, Any], ids: Sequence[str] = HEAD_IDS) -> str:
    """A plain-text per-id table: support, then P/R/F1 for each tier."""
    per = figures["per_id"]
    tiers = list(per)
    head = f"{'id':18s} {'n':>4s} " + " ".join(f"{t[:8]:>17s}" for t in tiers)
    lines = [head, " " * 24 + " ".join(f"{'P    R    F1':>17s}" for _ in tiers)]
    for id in ids:
        n = per[tiers[0]][id]["support"]
        cells = " ".join(
            f"{per[t][id]['p']:>5.2f}{per[t][id]['r']:>5.2f}{per[t][id]['f1']:>6.2f} "
            for t in tiers
        )
        lines.append(f"{id:18s} {n:>4d} {cells}")
    lines.append(
        f"{'macro F1':18s} {'':>4s} " + " ".join(f"{figures['macro_f1'][t]:>16.3f} " for t in tiers)
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="train / evaluate heard's technique heads")
    parser.add_argument("--data", type=Path, help="data/techniques directory (train)")
    parser.add_argument("--out", type=Path, help="where to write techniques.{npz,json}")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--reuse", type=Path, help="keep the head in DIR, re-tune the rest")
    parser.add_argument("--eval", type=Path, help="a labelled conversation JSONL to measure on")
    parser.add_argument("--emotions", action="store_true", help="with --eval: customer emotions")
    args = parser.parse_args(argv)
    if args.data and args.out:
        result = train_techniques(args.data, args.out, seed=args.seed, reuse=args.reuse)
        print("test split (template families never seen in training):")
        print(format_table(result["test"]))
        print("false-alarm rows:", json.dumps(result["test"]["false_alarm_rows"]))
    if args.eval:
        figures = evaluate_labeled(args.eval)
        print(f"{args.eval.name}, agent turns, disputed ids left out:")
        print(format_table(figures))
        if args.emotions:
            emo = evaluate_emotions_labeled(args.eval)
            print(f"{args.eval.name}, customer turns:")
            print(
                format_table(
                    {"per_id": emo["per_emotion"], "macro_f1": emo["macro_f1"]},
                    ids=list(next(iter(emo["per_emotion"].values()))),
                )
            )
            print("C.emotion:", json.dumps(emo["C.emotion"]))
    if not (args.eval or (args.data and args.out)):
        parser.error("give --data and --out to train, or --eval to measure")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
    "EmbeddingTable",
    "evaluate_labeled",
    "format_table",
    "fused_decision",
    "train_techniques",
]
