"""The pipeline: orders detectors by what they require and produce, runs them, and turns
their findings into an Analysis (with scorecards, risk and commitments).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from heard.detectors.base import FEATURES, Detector, Doc, TurnState
from heard.errors import PipelineError
from heard.model import Analysis, Conversation, Finding, Speaker, TurnAnalysis, trusted

if TYPE_CHECKING:
    from heard.scoring.playbook import Playbook

ENTRY_POINT_GROUP = "heard.detectors"
#: Conversations per :meth:`Pipeline.analyze_many` batch: enough sentences to keep the
#: encoder's batches full and its length-sorted batches tight (measured: 128 beat 32 and 512
#: on the TWCS sample), few enough that results stream out steadily.
BATCH_SIZE = 128


def _finding_order(f: Finding) -> tuple[int, str]:
    return (f.span[0], f.id)


def _turn_analysis(t: TurnState) -> TurnAnalysis:
    findings = sorted(t.findings, key=_finding_order) if len(t.findings) > 1 else list(t.findings)
    emotions = t.emotions
    energy = t.energy
    if (
        (energy is None or type(energy) is int)
        and type(t.i) is int
        and type(t.speaker) is Speaker
        and all(type(f) is Finding for f in findings)
        and all(type(v) is float and type(k) is str for k, v in emotions.items())
    ):
        # the values a detector left are of the fields' types already: skip validation
        return trusted(
            TurnAnalysis,
            {
                "i": t.i,
                "speaker": t.speaker,
                "findings": findings,
                "emotions": dict(emotions),
                "energy": energy,
            },
        )
    return TurnAnalysis(
        i=t.i, speaker=t.speaker, findings=findings, emotions=emotions, energy=energy
    )


def order_detectors(detectors: Sequence[Detector]) -> list[Detector]:
    """Topologically order detectors so each runs after those producing what it requires.

    Raises PipelineError (E102) naming the detector and the id nobody produces, or the
    detectors caught in a cycle.
    """
    producers: dict[str, list[int]] = {}
    for k, d in enumerate(detectors):
        for p in d.produces:
            producers.setdefault(p, []).append(k)
    deps: list[set[int]] = []
    for k, d in enumerate(detectors):
        need: set[int] = set()
        for r in d.requires:
            if r not in producers:
                raise PipelineError(
                    f"detector '{d.name}' requires '{r}', which no configured detector produces",
                    hint="add a detector that produces it, or remove the requirement",
                )
            need.update(j for j in producers[r] if j != k)
        deps.append(need)
    done: list[int] = []
    placed: set[int] = set()
    pending = list(range(len(detectors)))
    while pending:
        ready = [k for k in pending if deps[k] <= placed]
        if not ready:
            names = ", ".join(detectors[k].name for k in pending)
            raise PipelineError(f"detectors require each other in a cycle: {names}")
        for k in ready:
            done.append(k)
            placed.add(k)
        pending = [k for k in pending if k not in placed]
    return [detectors[k] for k in done]


def builtin_detectors(*, fast: bool = False) -> list[Detector]:
    """Every detector registered under the `heard.detectors` entry point group.

    Built-in detectors are registered the same way as third-party ones (pyproject.toml).
    Each entry point names a callable taking ``fast`` and returning detectors.
    """
    out: list[Detector] = []
    eps = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name != "builtin", e.name))
    if not any(e.name == "builtin" for e in eps):  # running from a source tree without metadata
        from heard.detectors.registry import builtin

        out.extend(builtin(fast=fast))
    for ep in eps:
        factory = ep.load()
        out.extend(factory(fast=fast))
    return out


class Pipeline:
    """Runs detectors over conversations and builds analyses.

    >>> import heard
    >>> analysis = heard.Pipeline().analyze("Customer: Where is my order?!")
    """

    def __init__(
        self,
        detectors: Sequence[Detector] | None = None,
        *,
        fast: bool = False,
        playbooks: Sequence[Playbook | str] | None = None,
    ) -> None:
        self.fast = fast
        raw = list(detectors) if detectors is not None else builtin_detectors(fast=fast)
        for d in raw:
            for r in d.requires:
                if not (r in FEATURES or "." in r):
                    raise PipelineError(f"detector '{d.name}' requires unknown '{r}'")
        self.detectors = order_detectors(raw)
        self.tiers = sorted({d.name.split(".", 1)[0] for d in self.detectors})
        self._playbook_specs = playbooks
        self._playbooks: list[Playbook] | None = None

    @property
    def playbooks(self) -> list[Playbook]:
        if self._playbooks is None:
            from heard.scoring.playbook import builtin_playbooks, resolve

            specs = self._playbook_specs
            if specs is None:
                self._playbooks = builtin_playbooks()
            else:
                self._playbooks = [resolve(p) for p in specs]
        return self._playbooks

    def run(self, conversation: Conversation) -> Doc:
        """Run the detectors only (no scoring): the working Doc, for tests and plugins."""
        doc = Doc(conversation)
        for d in self.detectors:
            d.detect(doc)
        return doc

    def analyze(self, conversation: Conversation | str) -> Analysis:
        if isinstance(conversation, str):
            conversation = Conversation.from_text(conversation)
        elif not isinstance(conversation, Conversation):
            hint = " (decode bytes first)" if isinstance(conversation, bytes | bytearray) else ""
            raise TypeError(
                "analyze() takes a Conversation or a text (str), "
                f"not {type(conversation).__name__}{hint}"
            )
        return self.analysis_of(self.run(conversation))

    def analysis_of(self, doc: Doc) -> Analysis:
        """The Analysis of a Doc this pipeline has run (for callers that keep the Doc too)."""
        conversation = doc.conversation
        turns = [_turn_analysis(t) for t in doc.turns]
        # every value is already of its field's type (checked above for the turns): no
        # validation needed; the fields set are those the constructor would have been given
        analysis = trusted(
            Analysis,
            {
                "id": conversation.id,
                "conversation": conversation,
                "turns": turns,
                "scorecards": {},
                "risk": None,
                "commitments": [],
                "tiers": list(self.tiers),
            },
            {"id", "conversation", "turns", "tiers"},
        )
        from heard.commitments import extract_commitments
        from heard.detectors.lexical import more_findings
        from heard.scoring.risk import assess_risk
        from heard.scoring.scorecard import Facts, score

        analysis.risk = assess_risk(analysis)
        analysis.commitments = extract_commitments(analysis, more=more_findings(doc))
        facts = Facts(analysis)  # shared by the playbooks (scoring changes no finding)
        for pb in self.playbooks:
            analysis.scorecards[pb.framework or pb.name] = score(analysis, pb, facts)
        return analysis

    def run_many(self, conversations: Sequence[Conversation]) -> list[Doc]:
        """:meth:`run` over several conversations at once, detector by detector.

        A detector with a ``detect_many(docs)`` method gets the whole batch in one call:
        the semantic tier encodes every sentence of the batch together, which is several
        times faster than a few sentences per call. Conversations do not see each other:
        each Doc ends exactly as :meth:`run` would leave it.
        """
        docs = [Doc(c) for c in conversations]
        for d in self.detectors:
            detect_many = getattr(d, "detect_many", None)
            if callable(detect_many):
                detect_many(docs)
            else:
                for doc in docs:
                    d.detect(doc)
        return docs

    def analyze_many(
        self, conversations: Iterable[Conversation], *, batch_size: int = BATCH_SIZE
    ) -> Iterator[Analysis]:
        """Analyses of `conversations`, in order, run `batch_size` conversations at a time."""
        batch: list[Conversation] = []
        for c in conversations:
            batch.append(c)
            if len(batch) >= batch_size:
                yield from (self.analysis_of(doc) for doc in self.run_many(batch))
                batch = []
        if batch:
            yield from (self.analysis_of(doc) for doc in self.run_many(batch))
