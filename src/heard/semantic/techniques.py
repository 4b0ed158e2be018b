"""Learned technique / anti-pattern heads on frozen MiniLM sentence embeddings.

A small multi-label head (one hidden layer, one output per catalog id in
:data:`HEAD_IDS`) on frozen sentence embeddings, trained on heard's own examples in
``data/techniques/`` (:mod:`heard.semantic.train_techniques`) and shipped as
``weights/techniques.npz`` (float16) with ``weights/techniques.json`` (ids, thresholds,
fusion parameters, the example sentences explanations quote, provenance).

Why sentences, not turns: a finding needs evidence, and an agent turn often does several
things ("Sorry about that. I'll call you at 3pm."). Each sentence of an agent turn is
embedded once and scored by every head; a turn's probability for an id is its best
sentence's, and that sentence is the evidence span. Encoding the sentences of a turn costs
about what encoding the whole turn costs (the same tokens), so the explanation is free.

Two ids depend on the conversation, not only on the sentence, and are gated the way
ANNOTATION.md defines them:

- ``X.process_answer`` only answers an outcome question (the lexical tier's
  ``C.outcome_question`` since the agent last spoke);
- ``T.label`` names a feeling the customer has *not* stated: when every feeling word of the
  evidence sentence already appears in the customer's earlier turns, it is plain
  ``T.acknowledge``.

Anti-patterns yield to the better move in the same turn, as in the lexical tier
(:data:`YIELDS`): a limit said with a plan B is not ``X.hands_tied``.

numpy is the only import at module level that is not in the standard library; the
encoder (torch) is loaded by the caller (:mod:`heard.semantic.detectors`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from heard.detectors.base import TurnState
from heard.errors import ModelUnavailable
from heard.model import Speaker
from heard.semantic.emotions import weights_root

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from heard.detectors.base import Doc

#: The ids with a learned head (issue 4, item 3).
HEAD_IDS: tuple[str, ...] = (
    "T.acknowledge",
    "T.label",
    "T.mirror",
    "T.audit",
    "T.apologize",
    "T.explore",
    "T.commit",
    "T.boundary",
    "T.policy_benefit",
    "T.refocus",
    "T.plan_b",
    "T.warm_handoff",
    "X.blame",
    "X.dismiss",
    "X.hands_tied",
    "X.vague_commit",
    "X.process_answer",
    "X.why",
)

#: An anti-pattern is cancelled by any of these techniques in the same turn.
YIELDS: dict[str, tuple[str, ...]] = {
    "X.hands_tied": ("T.boundary", "T.plan_b"),
    "X.vague_commit": ("T.commit", "T.warm_handoff"),
    "X.bare_policy": ("T.policy_benefit",),
    "X.process_answer": ("T.outcome_answer",),
}

NPZ_FILE = "techniques.npz"
META_FILE = "techniques.json"
FORMAT_VERSION = 1

# -- sentence units --------------------------------------------------------------------------

#: Parts of a turn that carry no meaning for the heads: handles, links, tweet signatures
#: ("^JK", "/MT", "-Dev"), part counters ("1/2").
_NOISE = re.compile(
    r"@\w+|https?://\S+|www\.\S+|\^\s?[A-Za-z]{1,4}\b|(?<!\w)/[A-Z]{2,3}\b"
    r"|\(?\b\d\s?/\s?\d\b\)?|(?:^|\s)[-~\u2013]\s?[A-Z][a-z]{1,14}\s*$"
)
_LEADING = re.compile(r"(?:\s|@\w+[:,]?)*")
_WORD = re.compile(r"[A-Za-z]{2}")


@dataclass(frozen=True, slots=True)
class Unit:
    """One sentence of a turn: its character span in the turn and the text to embed."""

    start: int
    end: int
    text: str


def clean(text: str) -> str:
    """The text a head reads: noise removed, whitespace collapsed."""
    return " ".join(_NOISE.sub(" ", text).split())


def units(text: str) -> list[Unit]:
    """Sentences of `text` worth embedding, with spans that skip leading @handles.

    Uses the same sentence splitter as the lexical tier (`TurnState.sentences`), so
    training rows and analysed turns are cut the same way.
    """
    state = TurnState(i=0, speaker=Speaker.agent, text=text)
    return turn_units(state)


def turn_units(turn: TurnState) -> list[Unit]:
    out: list[Unit] = []
    text = turn.text
    for s, e in turn.sentences():
        raw = text[s:e]
        body = clean(raw)
        if not _WORD.search(body):
            continue
        lead = _LEADING.match(raw)
        start = s + (lead.end() if lead else 0)
        end = s + len(raw.rstrip())
        if start >= end:
            continue
        out.append(Unit(start, end, body))
    return out


# -- feelings (the T.label gate) ---------------------------------------------------------------

_FEELINGS: tuple[tuple[str, str], ...] = (
    ("anger", r"angry|anger|furious|fuming|livid|infuriat\w*|outrag\w*|seething|rage"),
    ("frustration", r"frustrat\w*|exasperat\w*|fed up|maddening"),
    ("annoyance", r"annoy\w*|irritat\w*|aggravat\w*"),
    ("upset", r"upset\w*|distress\w*"),
    ("disappointment", r"disappoint\w*|let ?down|disheartening|gutted"),
    ("worry", r"worr\w*|anxious|anxiety|nervous|nerve-?racking|scared|scary|afraid|fear\w*"),
    ("stress", r"stress\w*|overwhelm\w*"),
    ("confusion", r"confus\w*|baffl\w*|puzzl\w*"),
    ("exhaustion", r"exhaust\w*|worn (?:out|down)|drained|knackered|tired"),
    ("embarrassment", r"embarrass\w*|humiliat\w*"),
    ("sadness", r"sad|heartbroken|devastat\w*"),
    ("impatience", r"impatien\w*"),
    ("excitement", r"excit\w*|eager"),
)
_FEELING_RE = [(name, re.compile(rf"\b(?:{pattern})\b", re.I)) for name, pattern in _FEELINGS]


def feelings(text: str) -> set[str]:
    """Feeling groups named in `text` ("fuming" and "angry" are the same group)."""
    return {name for name, rx in _FEELING_RE if rx.search(text)}


def stated_feelings(doc: Doc, turn: TurnState) -> set[str]:
    """Feelings the customer named in any turn before `turn`."""
    out: set[str] = set()
    for prev in doc.turns[: turn.i]:
        if prev.speaker is Speaker.customer:
            out |= feelings(prev.text)
    return out


# -- the heads ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdParams:
    """Decision and fusion parameters of one id (tuned on the dev split).

    ``threshold``: the semantic tier alone says "present" at or above it; both tiers agree
    when the lexical tier has a finding and p is at or above it.
    ``emit``: without a lexical finding, the semantic tier adds one at or above it.
    ``veto``: a lexical finding is dropped when p is below it (0: never; only ids whose
    lexical precision on the dev split was weak get one).
    """

    threshold: float
    emit: float
    veto: float = 0.0

    def out(self) -> dict[str, float]:
        return {"threshold": self.threshold, "emit": self.emit, "veto": self.veto}


@dataclass(frozen=True, slots=True)
class Evidence:
    """The semantic tier's best sentence for one id in one turn."""

    id: str
    p: float
    start: int
    end: int
    example: str

    def explanation(self) -> str:
        return f"semantic: close to '{self.example}' examples, p={self.p:.2f}"


def weights_present(weights_dir: Path | None = None) -> bool:
    root = weights_dir or weights_root()
    return (root / NPZ_FILE).is_file() and (root / META_FILE).is_file()


class TechniqueHeads:
    """The heads for :data:`HEAD_IDS` plus the example sentences they explain with.

    Build with :meth:`load`; :meth:`predict` takes embeddings from the encoder named in
    ``encoder`` (L2-normalised MiniLM vectors).
    """

    def __init__(
        self,
        ids: Sequence[str],
        layers: Sequence[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]],
        params: Mapping[str, IdParams],
        examples: npt.NDArray[np.float32],
        example_ids: npt.NDArray[np.int64],
        example_texts: Sequence[str],
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        self.ids = tuple(ids)
        self.index = {id: k for k, id in enumerate(self.ids)}
        #: (weight (in, out), bias (out,)) per layer; ReLU between layers, sigmoid at the end
        self.layers = [(w, b) for w, b in layers]
        if self.layers[-1][0].shape[1] != len(self.ids):
            raise ModelUnavailable("technique heads: the output layer does not match the ids")
        self.params = dict(params)
        self.examples = examples
        self.example_ids = example_ids
        self.example_texts = list(example_texts)
        self.meta: dict[str, Any] = dict(meta or {})
        self.encoder = str(self.meta.get("encoder", "all-MiniLM-L6-v2"))
        self.version = int(self.meta.get("version", 1))

    # ------------------------------------------------------------------ io
    @classmethod
    def load(cls, weights_dir: Path | str | None = None) -> TechniqueHeads:
        """Load shipped heads (or a training run's ``out_dir``). numpy only, no torch."""
        import numpy as np

        root = Path(weights_dir) if weights_dir is not None else weights_root()
        if not weights_present(root):
            raise ModelUnavailable(
                f"technique heads not found in {root}",
                hint="train them with heard.semantic.train_techniques.train_techniques",
            )
        meta = json.loads((root / META_FILE).read_text("utf-8"))
        if meta.get("format_version") != FORMAT_VERSION:
            raise ModelUnavailable(
                f"technique heads in {root} have format {meta.get('format_version')}, "
                f"this heard reads format {FORMAT_VERSION}"
            )
        with np.load(root / NPZ_FILE) as arrays:
            layers = [
                (
                    np.asarray(arrays[f"w{k}"], dtype=np.float32),
                    np.asarray(arrays[f"b{k}"], dtype=np.float32),
                )
                for k in range(int(meta["layers"]))
            ]
            examples = np.asarray(arrays["examples"], dtype=np.float32)
            example_ids = np.asarray(arrays["example_ids"], dtype=np.int64)
        params = {id: IdParams(**p) for id, p in meta["params"].items()}
        return cls(meta["ids"], layers, params, examples, example_ids, meta["examples"], meta)

    def save(self, out_dir: Path) -> None:
        import numpy as np

        out_dir.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {}
        for k, (w, b) in enumerate(self.layers):
            arrays[f"w{k}"] = w.astype(np.float16)
            arrays[f"b{k}"] = b.astype(np.float16)
        np.savez_compressed(
            out_dir / NPZ_FILE,
            examples=self.examples.astype(np.float16),
            example_ids=self.example_ids.astype(np.int16),
            **arrays,
        )
        meta = dict(self.meta)
        meta.update(
            format_version=FORMAT_VERSION,
            layers=len(self.layers),
            ids=list(self.ids),
            params={id: p.out() for id, p in self.params.items()},
            examples=self.example_texts,
        )
        (out_dir / META_FILE).write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")

    # ------------------------------------------------------------------ scoring
    def predict(self, embeddings: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Probabilities ``(n, len(ids))`` for ``n`` sentence embeddings."""
        import numpy as np

        z = embeddings
        last = len(self.layers) - 1
        for k, (w, b) in enumerate(self.layers):
            z = z @ w + b
            if k < last:
                z = np.maximum(z, 0.0)
        return cast("npt.NDArray[np.float32]", 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0))))

    def nearest_example(self, id: str, embedding: npt.NDArray[np.float32]) -> str:
        """The shipped example sentence of `id` closest to `embedding` (cosine)."""
        import numpy as np

        k = self.index[id]
        rows = np.flatnonzero(self.example_ids == k)
        if rows.size == 0:
            return id
        sims = self.examples[rows] @ embedding
        return self.example_texts[int(rows[int(np.argmax(sims))])]


# -- turn-level reading ------------------------------------------------------------------------


def outcome_question_pending(doc: Doc, turn: TurnState) -> bool:
    from heard.detectors.antipatterns import outcome_question_pending as pending

    return pending(doc, turn)


def gate(id: str, doc: Doc, turn: TurnState, evidence_text: str) -> bool:
    """Whether `id` may be read in `turn` at all (the context conditions of ANNOTATION.md)."""
    if id == "X.process_answer":
        return outcome_question_pending(doc, turn)
    if id == "T.label":
        named = feelings(evidence_text)
        return not named or not named <= stated_feelings(doc, turn)
    return True


@dataclass(slots=True)
class TurnReading:
    """Per-id best sentence of one agent turn (all ids, gated ids included)."""

    turn: int
    best: dict[str, Evidence]

    def p(self, id: str) -> float:
        ev = self.best.get(id)
        return ev.p if ev is not None else 0.0


def read_turns(
    heads: TechniqueHeads,
    turns: Iterable[tuple[TurnState, list[Unit]]],
    embeddings: Mapping[str, npt.NDArray[np.float32]],
    doc: Doc,
) -> list[TurnReading]:
    """Score the units of each turn and keep, per id, the best sentence that passes the gate.

    ``embeddings`` maps each unit text to its vector (one batch for the whole
    conversation, see :mod:`heard.semantic.detectors`).
    """
    import numpy as np

    out: list[TurnReading] = []
    for turn, unit_list in turns:
        if not unit_list:
            out.append(TurnReading(turn.i, {}))
            continue
        matrix = np.stack([embeddings[u.text] for u in unit_list])
        probs = heads.predict(matrix)
        best: dict[str, Evidence] = {}
        for k, id in enumerate(heads.ids):
            order = np.argsort(-probs[:, k])
            for j in order:
                unit = unit_list[int(j)]
                if gate(id, doc, turn, turn.text[unit.start : unit.end]):
                    p = float(probs[int(j), k])
                    example = heads.nearest_example(id, matrix[int(j)]) if p >= 0.2 else id
                    best[id] = Evidence(id, p, unit.start, unit.end, example)
                    break
        out.append(TurnReading(turn.i, best))
    return out


def semantic_labels(heads: TechniqueHeads, reading: TurnReading) -> set[str]:
    """The ids the semantic tier alone reads in a turn: p >= threshold, then YIELDS."""
    found = {
        id
        for id, ev in reading.best.items()
        if id in heads.params and ev.p >= heads.params[id].threshold
    }
    return apply_yields(found)


def apply_yields(ids: set[str]) -> set[str]:
    for anti, better in YIELDS.items():
        if anti in ids and any(b in ids for b in better):
            ids.discard(anti)
    return ids


__all__ = [
    "HEAD_IDS",
    "YIELDS",
    "Evidence",
    "IdParams",
    "TechniqueHeads",
    "TurnReading",
    "Unit",
    "apply_yields",
    "clean",
    "feelings",
    "read_turns",
    "semantic_labels",
    "turn_units",
    "units",
    "weights_present",
]
