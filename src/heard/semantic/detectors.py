"""The semantic tier as detectors, fused with the lexical tier.

:func:`semantic_detectors` is what :func:`heard.detectors.registry.builtin` calls when the
pipeline is not ``fast``: it takes the lexical detector list and returns it with two
detectors added, both running after the lexical ones they read:

``semantic.techniques`` (agent turns)
    Embeds every sentence of every agent turn of the conversation in one batch
    (:class:`heard.semantic.encoder.Encoder`, whose text cache makes repeats free), scores
    them with the learned heads (:mod:`heard.semantic.techniques`) and fuses the result
    with the lexical findings of the same ids, per id and per turn:

    - both tiers agree (a lexical finding and ``p >= threshold``): the lexical span is
      kept, confidence rises to ``1 - (1 - c_lexical)(1 - p)``, the finding is re-signed
      ``semantic.techniques@1`` and its explanation says both;
    - lexical only: kept unchanged, unless ``p < veto`` (a veto exists only for ids whose
      lexical precision on the dev split was weak), then removed;
    - semantic only: added when ``p >= emit`` (a stricter threshold), with the best
      sentence as the span and the nearest shipped example in the explanation; an
      anti-pattern is not added from a sentence holding one of the lexical tier's
      disavowal cues ("I'm not going to tell you to calm down").

    Afterwards the catalog's pairings are re-applied to the fused turn (an anti-pattern
    yields to its better move in the same turn; ``T.label`` implies ``T.acknowledge``).
    The detector requires the ids it fuses and produces only the ``semantic`` feature:
    declaring the ids as produced too would make a cycle with the lexical rules that read
    them (``X.hands_tied`` reads ``T.boundary``).

``semantic.emotion`` (customer turns)
    Blends the learned GoEmotions model (:mod:`heard.semantic.emotions`, service taxonomy)
    with the lexical emotion scores already on the turn, and re-decides ``C.emotion``.
    Each learned score is first rescaled so that its tuned threshold sits at 0.5 (the
    lexical tier's "expressed" line). The blend is
    ``max(lexical, mean(lexical, learned), learned - 0.25)``: the learned model, trained
    on Reddit comments (GoEmotions), never lowers the lexical reading; it raises a
    moderate lexical score it agrees with, and adds a feeling the lexicon has no word for
    only when it is clearly above its own threshold (0.75 after rescaling), and never a
    positive one (gratitude, relief, happiness: telling real thanks from a polite sign-off
    or sarcasm is the lexical tier's convention). ``impatience`` has no GoEmotions label
    and stays the lexical cue score. Rules that let the model lower lexical scores, or add
    any feeling alone, lost F1 on real support tweets (figures in docs/semantic.md).

When the models extra or the weights are missing, the lexical list comes back unchanged
and the pipeline reports the lexical tier alone.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from heard.detectors import case
from heard.detectors.base import BaseDetector, Detector, Doc, TurnState
from heard.detectors.lexicon import is_question
from heard.model import SERVICE_EMOTIONS, Finding, Speaker
from heard.semantic.techniques import (
    HEAD_IDS,
    YIELDS,
    Evidence,
    TechniqueHeads,
    Unit,
    clean,
    read_turns,
    semantic_labels,
    turn_units,
    weights_present,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from heard.semantic.emotions import EmotionModel

#: Ids the fusion reads besides its own: gates and the pairings of YIELDS.
CONTEXT_IDS: tuple[str, ...] = ("C.outcome_question", "T.outcome_answer", "X.bare_policy")
#: The lexical tier's "expressed" line (heard.detectors.customer.EXPRESSED).
EXPRESSED = 0.5
#: The learned reading alone counts for its score less this margin (alone it needs 0.75).
SINGLE_VOICE_MARGIN = 0.25
#: Positive feelings the learned model may strengthen once expressed but never add: whether a
#: "thanks" is gratitude, a polite sign-off or sarcasm is an annotation convention the
#: lexical tier encodes (ANNOTATION.md) and GoEmotions does not.
LEXICAL_ONLY_ADDS = frozenset({"gratitude", "relief", "happiness"})
READINGS_KEY = "semantic.techniques"
EVIDENCE_KEY = "semantic.techniques.evidence"


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]: ...


@functools.cache
def shared_encoder() -> Any:
    """One MiniLM per process, shared by every pipeline (loading it costs seconds)."""
    from heard.semantic.encoder import Encoder

    return Encoder.load()


@functools.cache
def shared_emotion_model() -> EmotionModel:
    from heard.semantic.emotions import EmotionModel

    return EmotionModel.load()


#: Batches smaller than this run on one torch thread: a conversation's handful of sentences
#: is too little work to split, and two threads waiting on each other cost more than they
#: save (measured several times slower on a busy 2-core machine, benchmarks/semantic.py).
SMALL_BATCH = 16


@contextmanager
def threads_for(batch: int) -> Iterator[None]:
    """One torch thread for a small batch, the configured count otherwise."""
    torch = sys.modules.get("torch")
    if torch is None or batch >= SMALL_BATCH:
        yield
        return
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class LazyEncoder:
    """Loads the shared encoder on the first ``encode`` call, not when a pipeline is built."""

    def __init__(self) -> None:
        self._encoder: Any | None = None

    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            self._encoder = shared_encoder()
        return self._encoder

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]:
        encoder = self.encoder
        with threads_for(len(texts)):
            result: npt.NDArray[np.float32] = encoder.encode(texts, batch_size=batch_size)
        return result


# -- techniques ------------------------------------------------------------------------------


class SemanticTechniqueDetector(BaseDetector):
    """Learned technique / anti-pattern heads fused with the lexical findings."""

    name: ClassVar[str] = "semantic.techniques"
    version: ClassVar[int] = 1
    speakers = frozenset({Speaker.agent})
    produces: tuple[str, ...] = ("semantic",)

    def __init__(
        self,
        heads: TechniqueHeads,
        *,
        encoder: TextEncoder | None = None,
        lexical_ids: Iterable[str] = (),
    ) -> None:
        self.heads = heads
        self.encoder: TextEncoder = encoder if encoder is not None else LazyEncoder()
        available = set(lexical_ids)
        self.requires = tuple(i for i in (*heads.ids, *CONTEXT_IDS) if i in available)

    def readings(self, doc: Doc) -> dict[int, set[str]]:
        """What the semantic tier alone read in each agent turn (before fusion)."""
        found = doc.cache.get(READINGS_KEY)
        return dict(found) if isinstance(found, dict) else {}

    def evidence(self, doc: Doc) -> dict[int, dict[str, Evidence]]:
        """Per agent turn and id, the best sentence and its probability (gates applied)."""
        found = doc.cache.get(EVIDENCE_KEY)
        return dict(found) if isinstance(found, dict) else {}

    def detect(self, doc: Doc) -> None:
        self.detect_many([doc])

    def detect_many(self, docs: Sequence[Doc]) -> None:
        """Every agent sentence of every Doc embedded in one batch, then fused per Doc."""
        work: list[tuple[Doc, list[TurnState], list[list[Unit]]]] = []
        for doc in docs:
            turns = [t for t in doc.turns if t.speaker in self.speakers and t.text.strip()]
            if turns:
                work.append((doc, turns, [turn_units(t) for t in turns]))
        texts = sorted({u.text for _, _, unit_lists in work for us in unit_lists for u in us})
        if not texts:
            return
        matrix = self.encoder.encode(texts)
        vectors = dict(zip(texts, matrix, strict=True))
        for doc, turns, unit_lists in work:
            if any(us for us in unit_lists):
                self._apply(doc, turns, unit_lists, vectors)

    def prefetch(self, texts: Sequence[str]) -> None:
        """Embed the sentences of candidate agent turns in one batch, into the encoder's
        cache, so that checking each of them (the live coach checks its suggested replies
        and the draft) finds its sentences already embedded."""
        units = {
            u.text
            for text in texts
            for u in turn_units(TurnState(i=0, speaker=Speaker.agent, text=text))
        }
        if units:
            self.encoder.encode(sorted(units))

    def _apply(
        self,
        doc: Doc,
        turns: list[TurnState],
        unit_lists: list[list[Unit]],
        vectors: Mapping[str, npt.NDArray[np.float32]],
    ) -> None:
        alone: dict[int, set[str]] = {}
        best: dict[int, dict[str, Evidence]] = {}
        for reading in read_turns(self.heads, zip(turns, unit_lists, strict=True), vectors, doc):
            alone[reading.turn] = semantic_labels(self.heads, reading)
            best[reading.turn] = reading.best
            turn = doc.turns[reading.turn]
            for id in self.heads.ids:
                self._fuse(doc, turn, id, reading.best.get(id))
            self._pairings(doc, turn)
        doc.cache[READINGS_KEY] = alone
        doc.cache[EVIDENCE_KEY] = best

    def _fuse(self, doc: Doc, turn: TurnState, id: str, ev: Evidence | None) -> None:
        params = self.heads.params.get(id)
        if params is None:
            return
        p = ev.p if ev is not None else 0.0
        lexical = turn.get(id)
        if lexical is not None:
            if p < params.veto:
                doc.remove(turn.i, id)
            elif p >= params.threshold and ev is not None:
                confidence = 1.0 - (1.0 - lexical.confidence) * (1.0 - p)
                doc.remove(turn.i, id)
                doc.add(
                    self.finding(
                        id,
                        turn,
                        lexical.span,
                        f"{lexical.explanation}; semantic agrees: close to "
                        f"'{ev.example}' examples, p={p:.2f}",
                        confidence=min(0.99, confidence),
                    )
                )
        elif (
            ev is not None
            and p >= params.emit
            and _may_stand_alone(doc, turn, id, ev)
            and not _disavowed(turn, id, ev)
            and _context_allows(doc, turn, id, ev)
        ):
            doc.add(
                self.finding(
                    id, turn, (ev.start, ev.end), ev.explanation(), confidence=min(0.95, p)
                )
            )

    def _pairings(self, doc: Doc, turn: TurnState) -> None:
        for anti, better in YIELDS.items():
            if turn.has(anti) and any(turn.has(b) for b in better):
                doc.remove(turn.i, anti)
        label = turn.get("T.label")
        if label is not None and not turn.has("T.acknowledge"):
            doc.add(
                Finding(
                    id="T.acknowledge",
                    turn=turn.i,
                    span=label.span,
                    text=label.text,
                    confidence=label.confidence,
                    detector=self.tag,
                    explanation="names the customer's feeling (T.label), which acknowledges it",
                )
            )


#: Fewer words than this in a sentence (a sign-off such as "^Lolly" or "-EG", "Noted.")
#: are too little for an embedding to stand on: the semantic tier adds nothing from them.
MIN_WORDS_ALONE = 3
_WORDS = re.compile(r"[A-Za-z][A-Za-z'\u2019]*")
#: Techniques whose lexical rule judges the sentence, not the strength of a pattern: a
#: T.explore is a question (or an invitation to tell more) and not an accusing one.
QUESTION_RULED = frozenset({"T.explore"})
#: Ids that are statements by nature: helplessness is said, not asked ("could you tell me
#: what you are unable to do?" is a question about the customer's problem).
STATEMENT_ONLY = frozenset({"X.hands_tied"})


#: A promise has someone who will do it (the agent, a colleague, a team) or, for a cold
#: hand-off, someone the customer is sent to; an instruction to the customer ("use the
#: app's chat", "make sure to vote for the idea", "do let us know") is neither.
_PROMISER = re.compile(
    # the agent or someone else doing it: "ive sent it", "we'll ...", "our team will ..."
    r"\b(?:i|we|ive|weve|ill|theyll|someone|somebody|they|he|she)\b"
    r"|\b(?!you\b)\w+(?:'ll|\u2019ll| will| shall| is going to| are going to)\b"
    # a cold hand-off: "you could try contacting the seller"
    r"|\b(?:contact|call|ring|phon|e-?mail|reach(?:ing)? out|in touch|speak|writ(?:e|ing) to)",
    re.IGNORECASE,
)
#: "... so we can assist": the purpose of a request, not a promise (as the lexical rule)
_PURPOSE = re.compile(r"\bso (?:that )?(?:we|i) (?:can|could|may)\b[^.!?]*", re.IGNORECASE)


def _may_stand_alone(doc: Doc, turn: TurnState, id: str, ev: Evidence) -> bool:
    """Whether the sentence the heads read can carry a semantic-only finding of `id`.

    Found by reading the semantic tier's own additions on real support dialogs (each
    rule kept the macro-F1 on heard's held-out written phrasings as it was): a sentence
    needs `MIN_WORDS_ALONE` words; `STATEMENT_ONLY` ids are not read from questions;
    ``X.vague_commit`` needs someone who would keep the promise, or someone the customer is
    sent to (`_PROMISER`, outside a "so we can ..." purpose): an instruction to the
    customer is not a promise; ``T.explore`` passes its lexical rule (a question or an
    invitation to tell more, not an accusing question); and ``T.mirror`` (saying the
    customer's words back) must echo at least one of them (`heard.detectors.case`) when
    the customer has said anything before the turn.
    """
    sentence = turn.text[ev.start : ev.end]
    if len(_WORDS.findall(clean(sentence))) < MIN_WORDS_ALONE:
        return False
    if id in STATEMENT_ONLY and is_question(turn.text, (ev.start, ev.end)):
        return False
    if id == "X.vague_commit" and not _PROMISER.search(_PURPOSE.sub(" ", sentence)):
        return False
    if id in QUESTION_RULED and not _context_allows(doc, turn, id, ev, techniques=True):
        return False
    if id == "T.mirror" and any(t.speaker is Speaker.customer for t in doc.turns[: turn.i]):
        return any(ev.start <= sp.start < ev.end for sp in case.specifics_in(doc, turn))
    return True


#: The lexical tier's disavowal cues ("I'm not going to", "I won't say"): a sentence with
#: one is not read as an anti-pattern by the semantic tier alone (embeddings are weak at
#: negation; the lexical tier's own rule does the same for its hits).
DISAVOW_SET = "antipattern_disavow"


def _context_allows(
    doc: Doc, turn: TurnState, id: str, ev: Evidence, *, techniques: bool = False
) -> bool:
    """Whether the lexical tier's context rule of anti-pattern `id`, if it has one, keeps
    a finding on the evidence sentence.

    The anti-pattern rules carry annotation conventions that a sentence embedding cannot
    see: "Can you send a screenshot? We'll take a look" is the purpose of a request, not
    a vague promise; a limit said with what the agent can do is not helplessness; "if you
    didn't book through us" is a condition, not blame. An anti-pattern the semantic tier
    adds on its own must pass them as a lexical hit would (where both tiers agree, the
    lexical hit already has). Technique rules are not applied, unless `techniques` is
    set (for `QUESTION_RULED` ids, whose rule judges the sentence): most judge the
    strength of a lexical pattern (a weak reason word needs a policy nearby), which a
    sentence the heads read does not have.
    """
    if not (id.startswith("X.") or techniques):
        return True
    from heard.detectors.lexical import RULES
    from heard.detectors.lexicon import Hit

    spec = RULES.get(id)
    if spec is None:
        return True
    return spec.fn(doc, turn, Hit(id, ev.start, ev.end, ev.p, ev.explanation())) is not None


def _disavowed(turn: TurnState, id: str, ev: Evidence) -> bool:
    if not id.startswith("X.") or turn.scan is None:
        return False
    return any(ev.start <= s < ev.end for s, _ in turn.scan.sets.get(DISAVOW_SET, ()))


# -- emotions --------------------------------------------------------------------------------


def rescale(score: float, threshold: float) -> float:
    """Map a learned score so that its tuned threshold lands on EXPRESSED (0.5)."""
    t = min(max(threshold, 1e-3), 1.0 - 1e-3)
    if score < t:
        return 0.5 * score / t
    return 0.5 + 0.5 * (score - t) / (1.0 - t)


def blend(
    lexical: Mapping[str, float], learned: Mapping[str, float], thresholds: Mapping[str, float]
) -> dict[str, float]:
    """Service-emotion scores from the lexical reading and the learned one (module doc)."""
    out: dict[str, float] = {}
    for emotion in SERVICE_EMOTIONS:
        if emotion == "neutral":
            continue
        lex = float(lexical.get(emotion, 0.0))
        model = rescale(float(learned.get(emotion, 0.0)), float(thresholds.get(emotion, 0.5)))
        if emotion == "impatience":  # no GoEmotions label: the lexical cues alone
            out[emotion] = lex
        elif emotion in LEXICAL_ONLY_ADDS:  # strengthened when expressed, never added
            out[emotion] = max(lex, 0.5 * (lex + model)) if lex >= EXPRESSED else lex
        else:
            out[emotion] = max(lex, 0.5 * (lex + model), model - SINGLE_VOICE_MARGIN)
    return out


class SemanticEmotionDetector(BaseDetector):
    """Learned service emotions blended with the lexical cues; re-decides C.emotion."""

    name: ClassVar[str] = "semantic.emotion"
    version: ClassVar[int] = 1
    speakers = frozenset({Speaker.customer})
    requires: tuple[str, ...] = ("emotions",)
    produces: tuple[str, ...] = ("emotions", "C.emotion")

    def __init__(self, model: EmotionModel | None = None) -> None:
        self._model = model

    @property
    def model(self) -> EmotionModel:
        if self._model is None:
            self._model = shared_emotion_model()
        return self._model

    def detect(self, doc: Doc) -> None:
        self.detect_many([doc])

    def detect_many(self, docs: Sequence[Doc]) -> None:
        """The customer turns of every Doc classified in one batch, then decided per turn."""
        work = [
            (doc, t)
            for doc in docs
            for t in doc.turns
            if t.speaker in self.speakers and t.text.strip()
        ]
        if not work:
            return
        model = self.model
        from heard.semantic.emotions import taxonomy_maps

        thresholds = dict(model.taxonomy_thresholds("service"))
        thresholds.setdefault("impatience", taxonomy_maps().impatience_threshold)
        with threads_for(len(work)):
            results = model.classify([t.text for _, t in work], "service")
        for (doc, turn), (_, learned) in zip(work, results, strict=True):
            self._decide(doc, turn, learned, thresholds)

    def _decide(
        self,
        doc: Doc,
        turn: TurnState,
        learned: Mapping[str, float],
        thresholds: Mapping[str, float],
    ) -> None:
        lexical = {e: s for e, s in turn.emotions.items() if e != "neutral"}
        scores = blend(lexical, learned, thresholds)
        emotions = {e: round(s, 3) for e, s in scores.items() if s >= 0.05}
        felt = sorted((e for e, s in scores.items() if s >= EXPRESSED), key=lambda e: -scores[e])
        top = max(scores.values(), default=0.0)
        if top < EXPRESSED:
            emotions["neutral"] = round(1.0 - top, 3)
        turn.emotions = emotions
        existing = turn.get("C.emotion")
        if not felt:
            if existing is not None:
                doc.remove(turn.i, "C.emotion")
            return
        span = existing.span if existing is not None else _evidence_span(turn, felt[0])
        names = " and ".join(felt[:2])
        first = felt[0]
        doc.remove(turn.i, "C.emotion")
        doc.add(
            self.finding(
                "C.emotion",
                turn,
                span,
                f"expresses {names} (learned {float(learned.get(first, 0.0)):.2f}, "
                f"lexical {lexical.get(first, 0.0):.2f})",
                confidence=min(0.95, scores[first]),
            )
        )


def _evidence_span(turn: TurnState, emotion: str) -> tuple[int, int]:
    """The lexical cue of `emotion` if there is one, else the turn without @handles."""
    from heard.detectors.customer import read_emotions

    cue = read_emotions(turn).strongest_cue([emotion])
    if cue is not None:
        return cue.start, cue.end
    units = turn_units(turn)
    if units:
        return units[0].start, units[-1].end
    return 0, len(turn.text)


# -- assembly --------------------------------------------------------------------------------


def semantic_detectors(lexical: list[Detector]) -> list[Detector]:
    """`lexical` plus the semantic tier, or `lexical` unchanged when it is not installed.

    Cheap: checks modules, weight files and the encoder setting; the models load on first
    use.
    """
    from heard.semantic import encoder as encoder_module

    out = list(lexical)
    if not encoder_module.available():
        return out
    from heard.semantic.onnx_backend import requested_backend

    requested_backend()  # a bad HEARD_ENCODER_BACKEND: ModelUnavailable now, not mid-run
    produced = {p for d in lexical for p in d.produces}
    if weights_present():
        heads = TechniqueHeads.load()
        out.append(SemanticTechniqueDetector(heads, lexical_ids=produced))
    if "emotions" in produced and _emotion_weights_present():
        out.append(SemanticEmotionDetector())
    return out


def _emotion_weights_present() -> bool:
    from heard.semantic import emotions

    try:
        root = emotions.weights_root()
    except Exception:  # pragma: no cover - zipped installs
        return False
    return (root / emotions.CONFIG_FILE).is_file() and (root / emotions.HEAD_FILE).is_file()


__all__ = [
    "HEAD_IDS",
    "SemanticEmotionDetector",
    "SemanticTechniqueDetector",
    "blend",
    "rescale",
    "semantic_detectors",
]
