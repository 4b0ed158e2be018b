"""Agent-side context rules and detectors (T.*)."""

from __future__ import annotations

from heard.detectors.base import Detector


def detectors() -> list[Detector]:
    return []
