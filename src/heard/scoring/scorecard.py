"""Scorecards: a playbook's rubric applied to one analysis."""

from __future__ import annotations

from heard.model import Analysis, Scorecard
from heard.scoring.playbook import Playbook


def score(analysis: Analysis, playbook: Playbook) -> Scorecard:
    return Scorecard(playbook=playbook.name, framework=playbook.framework)
