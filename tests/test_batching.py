"""`Pipeline.analyze_many` runs conversations in batches; each result equals `analyze`'s.

The semantic case needs the ``models`` extra and skips with a reason without it.
"""

from __future__ import annotations

import json

import pytest

import heard
from heard.cli.commands_core import example_path
from heard.model import Conversation
from heard.semantic import encoder as encoder_module


def _examples() -> list[Conversation]:
    return list(heard.load(example_path(), format="jsonl"))


def _dumps(analysis: heard.Analysis) -> str:
    return json.dumps(analysis.out(), sort_keys=True)


@pytest.mark.parametrize("batch_size", [1, 5, 64])
def test_lexical_batches_match_one_by_one(batch_size: int) -> None:
    pipe = heard.Pipeline(fast=True)
    conversations = _examples()
    one_by_one = [_dumps(pipe.analyze(c)) for c in conversations]
    batched = [_dumps(a) for a in pipe.analyze_many(conversations, batch_size=batch_size)]
    assert batched == one_by_one  # same analyses, same order, none lost at a batch edge


def test_empty_and_blank_conversations_in_a_batch() -> None:
    pipe = heard.Pipeline(fast=True)
    blank = Conversation.from_text("Customer:    ")
    real = Conversation.from_text("Customer: My refund never arrived and nobody answers!")
    out = list(pipe.analyze_many([blank, real, blank], batch_size=2))
    assert [a.id for a in out] == [blank.id, real.id, blank.id]
    assert out[1].turns[0].findings and not out[0].turns[0].findings


@pytest.mark.skipif(
    not encoder_module.available(),
    reason="needs the heard[models] extra (torch, sentence-transformers, MiniLM weights)",
)
def test_semantic_batches_match_one_by_one() -> None:
    pipe = heard.Pipeline()
    assert "semantic" in pipe.tiers
    conversations = _examples()[:8]
    one_by_one = [pipe.analyze(c) for c in conversations]
    batched = list(pipe.analyze_many(conversations, batch_size=8))
    for a, b in zip(one_by_one, batched, strict=True):
        found_a = [(f.id, f.turn, f.span) for t in a.turns for f in t.findings]
        found_b = [(f.id, f.turn, f.span) for t in b.turns for f in t.findings]
        assert found_a == found_b, a.id
        for ta, tb in zip(a.turns, b.turns, strict=True):  # padding in a batch: float noise
            assert ta.emotions.keys() == tb.emotions.keys()
            for k, v in ta.emotions.items():
                assert tb.emotions[k] == pytest.approx(v, abs=2e-3)
