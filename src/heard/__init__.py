"""heard: an offline, explainable service-recovery copilot.

The public API is small and lives here; implementation is in the layer packages::

    import heard
    for conversation in heard.load("chats.jsonl"):
        analysis = heard.analyze(conversation)
        print(analysis.risk, analysis.scorecards["F.jerk"].score)
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from heard.detectors.base import Detector
from heard.errors import HeardError
from heard.model import (
    Analysis,
    Commitment,
    Conversation,
    Finding,
    Risk,
    Scorecard,
    Speaker,
    StepResult,
    Turn,
    TurnAnalysis,
)
from heard.pipeline import Pipeline
from heard.scoring.playbook import Playbook

__version__ = "0.1.0"


def load(
    path: str | Path, *, format: str | None = None, strict: bool = False
) -> Iterator[Conversation]:
    """Read conversations from a file, detecting its format (see `heard.importers`)."""
    from heard.importers import read

    return read(Path(path), format=format, strict=strict).conversations()


@lru_cache(maxsize=2)
def _default_pipeline(fast: bool) -> Pipeline:
    return Pipeline(fast=fast)


def analyze(conversation: Conversation | str, *, fast: bool = False) -> Analysis:
    """Analyse one conversation (or a transcript / a single customer message as text)."""
    return _default_pipeline(fast).analyze(conversation)


def score(analysis: Analysis, playbook: Playbook | str) -> Scorecard:
    """Apply a playbook (built-in name such as 'F.jerk', a file path, or a Playbook)."""
    from heard.scoring.playbook import resolve
    from heard.scoring.scorecard import score as _score

    return _score(analysis, resolve(playbook))


__all__ = [
    "Analysis",
    "Commitment",
    "Conversation",
    "Detector",
    "Finding",
    "HeardError",
    "Pipeline",
    "Playbook",
    "Risk",
    "Scorecard",
    "Speaker",
    "StepResult",
    "Turn",
    "TurnAnalysis",
    "analyze",
    "load",
    "score",
]
