"""Customer-side context rules and detectors (C.*), emotion and energy (lexical tier)."""

from __future__ import annotations

from heard.detectors.base import Detector


def detectors() -> list[Detector]:
    return []
