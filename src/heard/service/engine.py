"""The analysis engine the service shares between requests: one pipeline, its playbooks.

Detectors are compiled once per process. Analyses run one at a time: the lexicon's
compiled scanner keeps one scratch area, which two threads must not use together (the
API serves requests from a thread pool). An analysis takes milliseconds, so waiting for
the lock costs far less than compiling a scanner per thread.
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

    @cached_property
    def pipeline(self) -> Pipeline:
        return Pipeline(fast=self.fast, playbooks=[])

    @property
    def tiers(self) -> list[str]:
        return list(self.pipeline.tiers)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the analysis lock (for anything else that runs the detectors: the coach)."""
        with self._lock:
            yield

    def analyze(self, conversation: Conversation, playbooks: Sequence[Keyed]) -> Analysis:
        with self._lock:
            analysis = self.pipeline.analyze(conversation)
        for key, playbook in playbooks:
            analysis.scorecards[key] = self.score(analysis, playbook)
        return analysis

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
