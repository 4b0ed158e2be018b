"""Commitments: promises found in agent turns (T.commit, X.vague_commit, T.warm_handoff)."""

from __future__ import annotations

from heard.model import Analysis, Commitment


def extract_commitments(analysis: Analysis) -> list[Commitment]:
    return []
