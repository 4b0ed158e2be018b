"""The built-in detector set, registered under the `heard.detectors` entry point."""

from __future__ import annotations

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
        try:
            from heard.semantic.detectors import semantic_detectors
        except ImportError:
            return out
        out = semantic_detectors(out)
    return out
