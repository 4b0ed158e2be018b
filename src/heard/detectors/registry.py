"""The built-in detector set, registered under the `heard.detectors` entry point."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from heard.detectors.base import Detector


def builtin(*, fast: bool = False) -> list[Detector]:
    """Lexical detectors for every catalog id, plus the semantic tier unless `fast`.

    The semantic tier is used only when the `heard[models]` extra and its weights are
    installed; otherwise the lexical tier runs alone (the analysis says which tiers ran).
    """
    from heard.detectors import agent, antipatterns, customer
    from heard.detectors.lexical import lexicon_detectors

    out: list[Detector] = [
        *lexicon_detectors(),
        *customer.detectors(),
        *agent.detectors(),
        *antipatterns.detectors(),
    ]
    if not fast:
        # Imported by name: the semantic tier is an optional layer (and extra); without it
        # the lexical tier runs alone and `Pipeline.tiers` says so.
        try:
            semantic = importlib.import_module("heard.semantic.detectors")
        except ImportError:
            return out
        add: Callable[[list[Detector]], list[Detector]] = semantic.semantic_detectors
        out = add(out)
    return out
