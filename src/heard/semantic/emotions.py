"""The learned emotion model: 28 GoEmotions labels, and the taxonomies derived from them.

Two tiers in one model, sharing one set of outputs (the 28 labels, plus dedicated heads for
the 7 Ekman groups and the 4 sentiment groups):

* **fast** (``EmotionModel.load(fast=True)``): TF-IDF word and character n-grams with
  linear logistic heads. Needs numpy, scipy and scikit-learn, no torch; thousands of texts
  per second.
* **full** (default): the same TF-IDF logits averaged with the logits of a linear head on
  all-MiniLM-L6-v2 sentence embeddings, the encoder adapted to GoEmotions by a small LoRA
  adapter. Slower (the encoder dominates), markedly better on the coarse taxonomies.

Each mode has its own per-label thresholds, tuned on a held-out slice of the GoEmotions
training split (never on the dev split the figures are reported on); see
``weights/PROVENANCE.md`` and :mod:`heard.semantic.train_emotions`.

Coarse taxonomies are read from the 28 probabilities with the mappings in
``taxonomies.yaml`` (data, not code), so every coarse label can be traced to the fine
labels behind it. The ``service`` taxonomy is DESIGN.md's closed list of customer
emotions; its ``impatience`` comes from time-pressure wording (``impatience_cues.yaml``)
combined with annoyance, because GoEmotions has no such label.

Heavy imports (numpy, scikit-learn, torch) happen inside :meth:`EmotionModel.load`, so
importing this module is as cheap as importing :mod:`heard`.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import yaml

from heard.errors import LexiconError, ModelUnavailable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from heard.semantic.encoder import Encoder

Taxonomy = Literal["goemotions", "ekman", "sentiment", "service"]
TAXONOMIES: tuple[Taxonomy, ...] = get_args(Taxonomy)

GOEMOTIONS_LABELS: tuple[str, ...] = (
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion",
    "curiosity", "desire", "disappointment", "disapproval", "disgust", "embarrassment",
    "excitement", "fear", "gratitude", "grief", "joy", "love", "nervousness", "optimism",
    "pride", "realization", "relief", "remorse", "sadness", "surprise", "neutral",
)  # fmt: skip
"""The 28 GoEmotions labels in the dataset's ``emotions.txt`` order (label index = position)."""

SERVICE_EMOTIONS: tuple[str, ...] = (
    "anger", "frustration", "disappointment", "confusion", "worry", "sadness", "impatience",
    "gratitude", "relief", "happiness", "neutral",
)  # fmt: skip
"""DESIGN.md's closed list of customer-turn emotions."""

WEIGHTS_PACKAGE = "heard.semantic"
WEIGHTS_DIR = "weights"
CONFIG_FILE = "emotions.json"
TFIDF_FILE = "emotions_tfidf.npz"
HEAD_FILE = "emotions_head.npz"
ADAPTER_DIR = "emotions_lora"
FORMAT_VERSION = 1
_INSTALL_HINT = "install the semantic tier with: pip install 'heard[models]'"


# --------------------------------------------------------------------------- taxonomy data


@dataclass(frozen=True)
class TaxonomyMaps:
    """The groupings of ``taxonomies.yaml``: target label -> {GoEmotions label: weight}."""

    ekman: dict[str, dict[str, float]]
    sentiment: dict[str, dict[str, float]]
    service: dict[str, dict[str, float]]
    impatience_floor: float
    impatience_sources: dict[str, float]
    impatience_threshold: float

    def groups(self, taxonomy: Taxonomy) -> dict[str, dict[str, float]]:
        if taxonomy == "goemotions":
            return {label: {label: 1.0} for label in GOEMOTIONS_LABELS}
        return cast(dict[str, dict[str, float]], getattr(self, taxonomy))

    def labels(self, taxonomy: Taxonomy) -> tuple[str, ...]:
        return tuple(self.groups(taxonomy))


def _weights_of(name: str, raw: object, where: str) -> dict[str, float]:
    if isinstance(raw, list):
        raw = dict.fromkeys(raw, 1.0)
    if not isinstance(raw, dict):
        raise LexiconError(f"taxonomies.yaml: {where}.{name} must be a list or a mapping")
    out: dict[str, float] = {}
    for label, weight in raw.items():
        if label not in GOEMOTIONS_LABELS:
            raise LexiconError(
                f"taxonomies.yaml: {where}.{name} refers to unknown GoEmotions label "
                f"'{label}'; known labels: {', '.join(GOEMOTIONS_LABELS)}"
            )
        out[str(label)] = float(weight)
    return out


@functools.cache
def taxonomy_maps() -> TaxonomyMaps:
    """Load and check ``taxonomies.yaml`` (cached)."""
    text = resources.files(WEIGHTS_PACKAGE).joinpath("taxonomies.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    maps: dict[str, dict[str, dict[str, float]]] = {}
    for taxonomy in ("ekman", "sentiment", "service"):
        section = data.get(taxonomy)
        if not isinstance(section, dict):
            raise LexiconError(f"taxonomies.yaml: missing section '{taxonomy}'")
        maps[taxonomy] = {
            str(name): _weights_of(str(name), raw or {}, taxonomy) for name, raw in section.items()
        }
    if tuple(maps["service"]) != SERVICE_EMOTIONS:
        raise LexiconError(
            "taxonomies.yaml: service emotions must be exactly, in order: "
            + ", ".join(SERVICE_EMOTIONS)
        )
    imp = data.get("impatience") or {}
    return TaxonomyMaps(
        ekman=maps["ekman"],
        sentiment=maps["sentiment"],
        service=maps["service"],
        impatience_floor=float(imp.get("floor", 0.6)),
        impatience_sources=_weights_of("sources", imp.get("sources", {}), "impatience"),
        impatience_threshold=float(imp.get("threshold", 0.35)),
    )


@dataclass(frozen=True)
class _Cue:
    pattern: re.Pattern[str]
    weight: float


@functools.cache
def _impatience_cues() -> tuple[_Cue, ...]:
    text = resources.files(WEIGHTS_PACKAGE).joinpath("impatience_cues.yaml").read_text("utf-8")
    cues = []
    for i, entry in enumerate(yaml.safe_load(text).get("cues", [])):
        try:
            cues.append(_Cue(re.compile(entry["pattern"], re.IGNORECASE), float(entry["weight"])))
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise LexiconError(f"impatience_cues.yaml: cue {i} is malformed: {exc}") from exc
    return tuple(cues)


def lexical_impatience(text: str) -> float:
    """Strength in [0, 1] of time-pressure wording ("still", "how long", "3 hours", "ASAP").

    A noisy-or of the weights of the cues in ``impatience_cues.yaml`` that match ``text``.
    """
    folded = text.replace("\u2019", "'").replace("\u2018", "'")
    miss = 1.0
    for cue in _impatience_cues():
        if cue.pattern.search(folded):
            miss *= 1.0 - cue.weight
    return 1.0 - miss


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def derive_scores(
    scores: Mapping[str, float],
    taxonomy: Taxonomy,
    *,
    text: str | None = None,
    heads: Mapping[str, float] | None = None,
    head_mix: float = 0.5,
) -> dict[str, float]:
    """Scores of ``taxonomy``'s labels from the 28 GoEmotions probabilities in ``scores``.

    A target label scores ``max(weight * p(source))`` over its sources in
    ``taxonomies.yaml``. ``heads`` (dedicated-head probabilities for the same taxonomy)
    are mixed in by averaging logits with weight ``head_mix``. For ``service``,
    ``impatience`` needs ``text`` (time-pressure cues); without it, it scores 0.
    """
    maps = taxonomy_maps()
    if taxonomy == "goemotions":
        return {label: float(scores.get(label, 0.0)) for label in GOEMOTIONS_LABELS}
    out: dict[str, float] = {}
    for name, sources in maps.groups(taxonomy).items():
        value = max((w * float(scores.get(src, 0.0)) for src, w in sources.items()), default=0.0)
        if heads is not None and name in heads and head_mix > 0.0:
            value = _sigmoid(
                head_mix * _logit(float(heads[name])) + (1.0 - head_mix) * _logit(value)
            )
        out[name] = value
    if taxonomy == "service":
        lexical = lexical_impatience(text) if text else 0.0
        if lexical > 0.0:
            evidence = max(
                [maps.impatience_floor]
                + [w * float(scores.get(s, 0.0)) for s, w in maps.impatience_sources.items()]
            )
            out["impatience"] = lexical * evidence
        else:
            out["impatience"] = 0.0
    return out


def to_taxonomy(
    scores: Mapping[str, float],
    taxonomy: Taxonomy = "service",
    thresholds: Mapping[str, float] | None = None,
    *,
    text: str | None = None,
    heads: Mapping[str, float] | None = None,
    head_mix: float = 0.5,
    at_least_one: bool = True,
) -> tuple[list[str], dict[str, float]]:
    """(labels at or above their threshold, best first; every label's score) for ``taxonomy``.

    ``scores`` are the 28 GoEmotions probabilities of one text (``EmotionModel.predict``).
    ``thresholds`` maps the taxonomy's labels to their decision thresholds (0.5 for a
    label it does not name; ``EmotionModel.to_taxonomy`` passes the tuned ones).

    With ``at_least_one`` (the default) a text whose scores are all below threshold gets
    the label closest to its threshold (highest score / threshold): every taxonomy has
    ``neutral``, GoEmotions gives every text at least one label, and measured on dev this
    rule adds about 0.004 macro-F1.
    """
    if taxonomy not in TAXONOMIES:
        raise ValueError(f"unknown taxonomy {taxonomy!r}; choose one of {', '.join(TAXONOMIES)}")
    derived = derive_scores(scores, taxonomy, text=text, heads=heads, head_mix=head_mix)
    limits = thresholds or {}
    if taxonomy == "service" and "impatience" not in limits:
        limits = {**limits, "impatience": taxonomy_maps().impatience_threshold}
    labels = [name for name, value in derived.items() if value >= limits.get(name, 0.5)]
    if not labels and at_least_one:
        labels = [max(derived, key=lambda name: derived[name] / max(limits.get(name, 0.5), 1e-6))]
    labels.sort(key=lambda name: -derived[name])
    return labels, derived


# --------------------------------------------------------------------------- the model


class _TfidfHead:
    """Word + character TF-IDF features and linear logistic heads, rebuilt from arrays.

    scikit-learn's ``TfidfVectorizer`` does the featurising (vocabulary and idf restored,
    not refitted); the heads are a plain matrix product, so no estimator is pickled.
    """

    def __init__(self, arrays: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._vectorizers = []
        for part in ("word", "char"):
            params = dict(config["tfidf"][part])
            params["ngram_range"] = tuple(params["ngram_range"])
            vec = TfidfVectorizer(**params, dtype=np.float32)
            terms = bytes(arrays[f"{part}_vocab"]).decode("utf-8").split("\n")
            vec.vocabulary_ = {term: i for i, term in enumerate(terms)}
            vec.idf_ = np.asarray(arrays[f"{part}_idf"], dtype=np.float64)
            self._vectorizers.append(vec)
        # int8 weights with one float scale per output column
        self.coef = np.asarray(arrays["coef"], dtype=np.float32) * np.asarray(
            arrays["coef_scale"], dtype=np.float32
        )
        self.intercept = np.asarray(arrays["intercept"], dtype=np.float32)

    def logits(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        import scipy.sparse as sp

        features = sp.hstack([v.transform(texts) for v in self._vectorizers], format="csr")
        return cast("npt.NDArray[np.float32]", features @ self.coef + self.intercept)


def weights_root() -> Path:
    """The installed directory of heard's shipped weights (emotion and technique heads)."""
    root = resources.files(WEIGHTS_PACKAGE).joinpath(WEIGHTS_DIR)
    if not isinstance(root, Path):  # pragma: no cover - zipped installs
        raise ModelUnavailable("heard's weights must be installed as files, not zipped")
    return root


def weights_present(weights_dir: Path | None = None) -> bool:
    """True when the emotion weights (fast and full tier) are installed. Cheap."""
    try:
        root = weights_dir or weights_root()
    except ModelUnavailable:  # pragma: no cover - zipped installs
        return False
    return all((root / name).exists() for name in (CONFIG_FILE, TFIDF_FILE, HEAD_FILE, ADAPTER_DIR))


def _sigmoid_array(z: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    import numpy as np

    return cast("npt.NDArray[np.float32]", 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0))))


class EmotionModel:
    """GoEmotions emotion model; use :meth:`load`.

    ``outputs`` names the model's output columns: the 28 labels, then ``ekman:<group>``
    and ``sentiment:<group>`` heads.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        tfidf: _TfidfHead,
        *,
        encoder: Encoder | None = None,
        head: tuple[Any, Any] | None = None,
    ) -> None:
        self.config = config
        self.fast = encoder is None
        self.mode = "fast" if self.fast else "full"
        self._tfidf = tfidf
        self._encoder = encoder
        self._head = head
        self.outputs: tuple[str, ...] = tuple(config["outputs"])
        self.fusion_weight = float(config["fusion"]["tfidf_weight"])
        self.head_mix = float(config["fusion"]["head_mix"])
        tuned = config["thresholds"][self.mode]
        self._thresholds: dict[str, dict[str, float]] = {
            taxonomy: {k: float(v) for k, v in tuned[taxonomy].items()} for taxonomy in TAXONOMIES
        }

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(
        cls, fast: bool = False, *, weights_dir: Path | str | None = None, device: str = "cpu"
    ) -> EmotionModel:
        """Load the shipped weights (or those in ``weights_dir``, e.g. a fresh training run).

        ``fast=True`` loads the TF-IDF tier only and never imports torch. Raises
        :class:`~heard.errors.ModelUnavailable` when the ``models`` extra is missing.
        """
        import importlib.util

        needed = ["numpy", "scipy", "sklearn"]
        if not fast:
            needed += ["torch", "sentence_transformers"]
        missing = [name for name in needed if importlib.util.find_spec(name) is None]
        if missing:
            raise ModelUnavailable(
                f"the emotion model needs {', '.join(missing)}", hint=_INSTALL_HINT
            )
        import numpy as np

        root = Path(weights_dir) if weights_dir is not None else weights_root()
        config_path = root / CONFIG_FILE
        if not config_path.is_file():
            raise ModelUnavailable(
                f"emotion weights not found in {root}",
                hint="train them with: heard train emotions --goemotions DIR --out DIR",
            )
        config = json.loads(config_path.read_text("utf-8"))
        if config.get("format_version") != FORMAT_VERSION:
            raise ModelUnavailable(
                f"emotion weights in {root} have format {config.get('format_version')}, "
                f"this heard reads format {FORMAT_VERSION}"
            )
        with np.load(root / TFIDF_FILE) as arrays:
            tfidf = _TfidfHead(dict(arrays), config)
        if fast:
            return cls(config, tfidf)
        from heard.semantic.encoder import Encoder

        adapter = root / str(config.get("encoder", {}).get("adapter", ADAPTER_DIR))
        encoder = Encoder.load(device=device, adapter=adapter)
        with np.load(root / HEAD_FILE) as arrays:
            head = (
                np.asarray(arrays["weight"], dtype=np.float32),
                np.asarray(arrays["bias"], dtype=np.float32),
            )
        return cls(config, tfidf, encoder=encoder, head=head)

    @property
    def encoder(self) -> Encoder | None:
        """The (LoRA-adapted) sentence encoder of the full tier; None in the fast tier."""
        return self._encoder

    # ------------------------------------------------------------------ thresholds
    @property
    def thresholds(self) -> dict[str, float]:
        """Tuned decision thresholds of the 28 GoEmotions labels for this mode."""
        return dict(self._thresholds["goemotions"])

    def taxonomy_thresholds(self, taxonomy: Taxonomy) -> dict[str, float]:
        """Tuned decision thresholds of ``taxonomy``'s labels for this mode."""
        return dict(self._thresholds[taxonomy])

    # ------------------------------------------------------------------ prediction
    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]:
        """Probabilities of every output (``self.outputs``) for each text: ``(n, 39)``."""
        import numpy as np

        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.outputs)), dtype=np.float32)
        z = self._tfidf.logits(texts)
        if self._encoder is not None and self._head is not None:
            embeddings = self._encoder.encode(texts, batch_size=batch_size)
            weight, bias = self._head
            z = self.fusion_weight * z + (1.0 - self.fusion_weight) * (embeddings @ weight.T + bias)
        return _sigmoid_array(z)

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> list[dict[str, float]]:
        """The 28 GoEmotions probabilities of each text, in ``GOEMOTIONS_LABELS`` order."""
        probs = self.predict_proba(texts, batch_size=batch_size)
        return [dict(zip(GOEMOTIONS_LABELS, row[:28].tolist(), strict=True)) for row in probs]

    def group_heads(self, row: Sequence[float], taxonomy: Taxonomy) -> dict[str, float] | None:
        """The dedicated-head probabilities of ``taxonomy`` in one ``predict_proba`` row."""
        prefix = f"{taxonomy}:"
        heads = {
            name[len(prefix) :]: float(value)
            for name, value in zip(self.outputs, row, strict=True)
            if name.startswith(prefix)
        }
        return heads or None

    def to_taxonomy(
        self,
        scores: Mapping[str, float],
        taxonomy: Taxonomy = "service",
        thresholds: Mapping[str, float] | None = None,
        *,
        text: str | None = None,
        heads: Mapping[str, float] | None = None,
    ) -> tuple[list[str], dict[str, float]]:
        """:func:`to_taxonomy` with this model's tuned thresholds and head mix."""
        return to_taxonomy(
            scores,
            taxonomy,
            thresholds if thresholds is not None else self._thresholds[taxonomy],
            text=text,
            heads=heads,
            head_mix=self.head_mix,
        )

    def classify(
        self, texts: Sequence[str], taxonomy: Taxonomy = "service", batch_size: int = 64
    ) -> list[tuple[list[str], dict[str, float]]]:
        """(labels, scores) of ``taxonomy`` for each text, using the dedicated group heads.

        A blank text gets ``([], {})``: there is nothing to feel.
        """
        texts = list(texts)
        keep = [i for i, t in enumerate(texts) if t.strip()]
        results: list[tuple[list[str], dict[str, float]]] = [([], {}) for _ in texts]
        probs = self.predict_proba([texts[i] for i in keep], batch_size=batch_size)
        for i, row in zip(keep, probs.tolist(), strict=True):
            scores = dict(zip(GOEMOTIONS_LABELS, row[:28], strict=True))
            results[i] = self.to_taxonomy(
                scores, taxonomy, text=texts[i], heads=self.group_heads(row, taxonomy)
            )
        return results


__all__ = [
    "GOEMOTIONS_LABELS",
    "SERVICE_EMOTIONS",
    "TAXONOMIES",
    "EmotionModel",
    "Taxonomy",
    "TaxonomyMaps",
    "derive_scores",
    "lexical_impatience",
    "taxonomy_maps",
    "to_taxonomy",
    "weights_present",
]
