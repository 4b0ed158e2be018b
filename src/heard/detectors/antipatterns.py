"""Agent anti-pattern context rules and detectors (X.*)."""

from __future__ import annotations

from heard.detectors.base import Detector


def detectors() -> list[Detector]:
    return []
