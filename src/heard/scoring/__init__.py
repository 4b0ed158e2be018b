"""Scoring: playbooks (rubrics as data), scorecards and the one-star risk score.

This layer only reads findings and playbooks (DESIGN.md). The pieces:

- `heard.scoring.playbook`: the playbook models, the built-ins, `resolve`, `load_company`;
- `heard.scoring.validate`: `validate` and its numbered `Problem`s (`heard playbook check`);
- `heard.scoring.conditions`: the `applies_when` language;
- `heard.scoring.scorecard`: `score(analysis, playbook) -> Scorecard`;
- `heard.scoring.risk`: `assess_risk(analysis) -> Risk`, weights in ``risk.yaml``.
"""

from __future__ import annotations

from heard.scoring.playbook import (
    Company,
    Playbook,
    builtin_playbooks,
    load_company,
    resolve,
)
from heard.scoring.risk import assess_risk
from heard.scoring.scorecard import score
from heard.scoring.validate import Problem, validate

__all__ = [
    "Company",
    "Playbook",
    "Problem",
    "assess_risk",
    "builtin_playbooks",
    "load_company",
    "resolve",
    "score",
    "validate",
]
