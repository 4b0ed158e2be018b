"""Detectors: units that read turns and emit findings (DESIGN.md, layer 3)."""

from heard.detectors.base import BaseDetector, Detector, Doc, TurnState

__all__ = ["BaseDetector", "Detector", "Doc", "TurnState"]
