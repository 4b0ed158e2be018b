"""Helpers to test detectors the way heard tests its own (for plugin authors too).

    from heard.testing import assert_finds, assert_not_finds
    assert_finds("X.bare_policy", [("customer", "Why?"), ("agent", "It's our policy.")])
    assert_not_finds("X.bare_policy", [("agent", "I won't hide behind policy.")])

A conversation is a list of (speaker, text) pairs or of "Speaker: text" strings; the turn
checked defaults to the last one.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from heard.detectors.base import Detector, Doc
from heard.model import Conversation, Finding, Speaker, Turn
from heard.pipeline import Pipeline

TurnSpec = tuple[str, str] | str


def conversation(turns: Sequence[TurnSpec] | str, id: str = "test") -> Conversation:
    if isinstance(turns, str):
        turns = [("customer", turns)]
    out: list[Turn] = []
    for t in turns:
        if isinstance(t, str):
            who, _, text = t.partition(":")
            speaker, body = who.strip().lower(), text.strip()
        else:
            speaker, body = t
        out.append(Turn(speaker=Speaker(speaker), text=body))
    return Conversation(id=id, turns=out)


@lru_cache(maxsize=1)
def lexical_pipeline() -> Pipeline:
    return Pipeline(fast=True, playbooks=[])


def run(turns: Sequence[TurnSpec] | str, detectors: Sequence[Detector] | None = None) -> Doc:
    pipe = Pipeline(detectors, playbooks=[]) if detectors is not None else lexical_pipeline()
    return pipe.run(conversation(turns))


def findings(
    turns: Sequence[TurnSpec] | str, *, turn: int = -1, detectors: Sequence[Detector] | None = None
) -> list[Finding]:
    doc = run(turns, detectors)
    return list(doc.turns[turn].findings)


def assert_finds(
    id: str,
    turns: Sequence[TurnSpec] | str,
    *,
    turn: int = -1,
    text: str | None = None,
    detectors: Sequence[Detector] | None = None,
) -> Finding:
    """Assert that `id` is found in the given turn (and, if given, that its span holds `text`)."""
    found = findings(turns, turn=turn, detectors=detectors)
    for f in found:
        if f.id == id:
            if text is not None:
                assert text.lower() in f.text.lower(), f"{id} matched {f.text!r}, not {text!r}"
            return f
    got = ", ".join(f"{f.id}({f.text!r})" for f in found) or "nothing"
    raise AssertionError(f"expected {id} in turn {turn}; found {got}")


def assert_not_finds(
    id: str,
    turns: Sequence[TurnSpec] | str,
    *,
    turn: int = -1,
    detectors: Sequence[Detector] | None = None,
) -> None:
    for f in findings(turns, turn=turn, detectors=detectors):
        if f.id == id:
            raise AssertionError(f"did not expect {id} in turn {turn}: {f.text!r} ({f.detector})")
