"""The analysis engine the service shares between requests: one pipeline, its playbooks.

Detectors are compiled once per process, and `warm_up` builds them (and loads the
semantic models) when the API starts, so the first request does not pay for it.

Analyses run one at a time, under one lock shared by imports, ``/analyze`` and the coach.
The lexicon scanner no longer needs it (its scratch space is per thread), but other parts
of a detector run are not safe to share between threads: dateparser, which reads the
dates of commitments, keeps module-level parser state (scrapinghub/dateparser#441), and
the semantic tier's embedding cache and torch thread setting are process-wide. The work
is CPU-bound Python, so with the GIL two analyses at once would not finish sooner anyway;
what runs outside the lock (parsing and validating the request, auth, serializing the
response) is most of what an HTTP request costs on top of the coach itself.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property

from heard.model import Analysis, Conversation, Scorecard
from heard.pipeline import Pipeline
from heard.scoring.playbook import FRAMEWORK_PLAYBOOKS, Playbook, builtin, builtin_name

#: A playbook with the key its scorecard is filed under.
Keyed = tuple[str, Playbook]


class AnalysisEngine:
    def __init__(self, *, fast: bool) -> None:
        self.fast = fast
        self._lock = threading.RLock()
        self._parsed: dict[tuple[str, str], Playbook] = {}
        self._warm = False

    @cached_property
    def pipeline(self) -> Pipeline:
        return Pipeline(fast=self.fast, playbooks=[])

    @property
    def tiers(self) -> list[str]:
        return list(self.pipeline.tiers)

    def warm_up(self) -> None:
        """Build the detectors, load the lexicon and models and read the playbooks now.

        Runs one small conversation through the analysis and the coach (with a draft), so
        every lazily built part a request needs exists before the first request. Only the
        first call does anything.
        """
        with self._lock:
            if self._warm:
                return
            from heard.coach import default_coach
            from heard.model import Speaker, Turn

            conversation = Conversation(
                id="heard-warm-up",
                turns=[
                    Turn(
                        speaker=Speaker.customer,
                        text="Third time I have called! Order 12345 never came and I was "
                        "charged twice. I want a refund by Friday.",
                    ),
                    Turn(
                        speaker=Speaker.agent,
                        text="I'm sorry about that. I'll check the order and email you "
                        "by 5pm tomorrow.",
                    ),
                    Turn(speaker=Speaker.customer, text="That is not good enough."),
                ],
            )
            self.analyze(conversation, self.builtins())
            default_coach(self.pipeline).coach(conversation, draft="It is our policy.")
            self._warm = True

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the analysis lock (for anything else that runs the detectors: the coach)."""
        with self._lock:
            yield

    def analyze(self, conversation: Conversation, playbooks: Sequence[Keyed]) -> Analysis:
        with self._lock:
            analysis = self.pipeline.analyze(conversation)
        return self._with_scorecards(analysis, playbooks)

    def _with_scorecards(self, analysis: Analysis, playbooks: Sequence[Keyed]) -> Analysis:
        """`analysis` with a scorecard per (key, playbook) added (outside the lock: scoring
        reads the analysis only)."""
        for key, playbook in playbooks:
            analysis.scorecards[key] = self.score(analysis, playbook)
        return analysis

    def analyze_many(
        self, items: Sequence[tuple[Conversation, Sequence[Keyed]]]
    ) -> list[Analysis | Exception]:
        """Analyses of a batch (imports, reanalysis), in order; a failure is returned in
        its conversation's place, so one bad conversation does not sink the others.

        The batch runs through `Pipeline.run_many` (the semantic tier embeds the
        sentences of the whole batch in one call); if that raises, the conversations
        are analysed one by one to find which one failed. A model that cannot load
        (:class:`~heard.errors.ModelUnavailable`) concerns them all and is raised.
        """
        from heard.errors import ModelUnavailable

        conversations = [c for c, _ in items]
        out: list[Analysis | Exception] = []
        with self._lock:
            try:
                docs = self.pipeline.run_many(conversations)
                out.extend(self.pipeline.analysis_of(doc) for doc in docs)
            except ModelUnavailable:
                raise  # a model that cannot load fails every conversation: stop, say why
            except Exception:
                out = []
                for conversation in conversations:
                    try:
                        out.append(self.pipeline.analyze(conversation))
                    except ModelUnavailable:
                        raise
                    except Exception as exc:
                        out.append(exc)
        for result, (_, playbooks) in zip(out, items, strict=True):
            if isinstance(result, Analysis):
                self._with_scorecards(result, playbooks)
        return out

    @staticmethod
    def score(analysis: Analysis, playbook: Playbook) -> Scorecard:
        from heard.scoring.scorecard import score

        return score(analysis, playbook)

    @staticmethod
    def builtins(names: Sequence[str] = ()) -> list[Keyed]:
        """Built-in playbooks by name (all seed frameworks when `names` is empty)."""
        chosen = list(names) or list(FRAMEWORK_PLAYBOOKS)
        out: list[Keyed] = []
        for name in chosen:
            pb = builtin(name)
            out.append((pb.key, pb))
        return out

    def parse(self, name: str, text: str) -> Playbook:
        """A stored playbook's YAML as a Playbook, parsed once per version of its text."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        key = (name, digest)
        found = self._parsed.get(key)
        if found is None:
            found = Playbook.from_yaml(text, f"stored playbook {name}")
            self._parsed[key] = found
        return found


def is_builtin(name: str) -> bool:
    return builtin_name(name) is not None
