"""Golden files: the lexical analysis of every bundled example, checked in.

A failing test prints the diff of what changed. After an intended change to detectors or
playbooks, regenerate with:  HEARD_UPDATE_GOLDEN=1 pytest tests/test_golden.py
and review the diff in git before committing it.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

import heard
from heard.cli.commands_core import example_path

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("HEARD_UPDATE_GOLDEN") == "1"
EXAMPLES = list(heard.load(example_path(), format="jsonl"))


@pytest.fixture(scope="module")
def pipeline() -> heard.Pipeline:
    return heard.Pipeline(fast=True)


def _dump(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def test_examples_are_bundled() -> None:
    assert len(EXAMPLES) >= 12


@pytest.mark.parametrize("conversation", EXAMPLES, ids=[c.id for c in EXAMPLES])
def test_golden(conversation: heard.Conversation, pipeline: heard.Pipeline) -> None:
    got = _dump(pipeline.analyze(conversation).out())
    path = GOLDEN / f"{conversation.id}.json"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"no golden file {path.name}: run with HEARD_UPDATE_GOLDEN=1 to create it")
        path.write_text(got, encoding="utf-8")
        return
    want = path.read_text(encoding="utf-8")
    if got != want:
        diff = "".join(
            difflib.unified_diff(
                want.splitlines(keepends=True),
                got.splitlines(keepends=True),
                fromfile=f"golden/{path.name}",
                tofile="now",
                n=2,
            )
        )
        pytest.fail(f"analysis of {conversation.id} changed:\n{diff[:6000]}")


def test_no_stale_golden_files() -> None:
    ids = {c.id for c in EXAMPLES}
    stale = [p.name for p in GOLDEN.glob("*.json") if p.stem not in ids]
    assert not stale, f"golden files for examples that no longer exist: {stale}"
