"""ASAPP's ABCD dialogues (Action-Based Conversations Dataset), as JSON.

The sample file is an array of dialogues; the full release is an object of splits
(``{"train": [...], "dev": [...], "test": [...]}``). Each dialogue has ``convo_id``,
``scenario`` and ``original``, a list of ``[speaker, text]`` pairs whose speaker is
customer, agent or action. Action lines (what the agent did in the tools) become system
turns. The conversation's meta keeps ``flow``, ``subflow`` and the whole ``scenario``
(and ``split`` for the full release); the ``delexed`` copy is left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from heard.errors import RowError
from heard.importers.base import Item, Where, build_turn, raising
from heard.importers.jsonl import iter_json_values
from heard.importers.lines import BOM, LineReader
from heard.importers.speakers import parse_speaker, unknown_speaker_message
from heard.model import Conversation, Speaker, Turn


class AbcdImporter:
    """ABCD dialogues (JSON)."""

    name = "abcd"
    description = "ASAPP ABCD dialogues (JSON with convo_id and original [speaker, text] pairs)"

    def detect(self, head: bytes, name: str) -> float:
        body = (head[len(BOM) :] if head.startswith(BOM) else head).lstrip()
        if body[:1] not in (b"[", b"{"):
            return 0.0
        if b'"original"' in body and b'"convo_id"' in body:
            return 0.97
        return 0.0

    def read(self, stream: IO[bytes], name: str, strict: bool) -> Iterator[Item]:
        return raising(self._read(stream, name), strict)

    def _read(self, stream: IO[bytes], name: str) -> Iterator[Item]:
        lines = LineReader(stream, name)
        text = lines.read_all()
        yield from lines.drain()
        for value in iter_json_values(text, name):
            if isinstance(value, RowError):
                yield value
                continue
            line, obj = value
            if isinstance(obj, dict) and "original" not in obj:
                splits = [(k, v) for k, v in obj.items() if isinstance(v, list)]
                if splits:
                    for split, dialogues in splits:
                        for d in dialogues:
                            yield from _dialogue(d, Where(name, line), split)
                    continue
            yield from _dialogue(obj, Where(name, line), None)


def _dialogue(obj: object, where: Where, split: str | None) -> Iterator[Item]:
    if not isinstance(obj, dict):
        yield where.error("expected an ABCD dialogue object; skipped")
        return
    cid = obj.get("convo_id")
    if cid is None or isinstance(cid, bool) or not isinstance(cid, str | int):
        yield where.error("missing 'convo_id'; dialogue skipped", "convo_id")
        return
    original = obj.get("original")
    if not isinstance(original, list):
        yield where.error("'original' must be a list of [speaker, text] pairs", "original")
        return
    turns: list[Turn] = []
    for i, pair in enumerate(original):
        at = Where(where.source, where.line, f"original[{i}].")
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str)):
            yield at.error("expected a [speaker, text] pair; dialogue skipped")
            return
        who, text = pair
        speaker = Speaker.system if who == "action" else parse_speaker(who)
        if speaker is None:
            yield at.error(unknown_speaker_message(who) + "; dialogue skipped")
            return
        turn, problems = build_turn(speaker, text, at, text_field="text")
        yield from problems
        if turn is not None:
            turns.append(turn)
    scenario = obj.get("scenario")
    meta: dict[str, Any] = {}
    if isinstance(scenario, dict):
        for key in ("flow", "subflow"):
            if key in scenario:
                meta[key] = scenario[key]
        meta["scenario"] = scenario
    if split is not None:
        meta["split"] = split
    yield Conversation(id=str(cid), channel="chat", meta=meta, turns=turns)


importer = AbcdImporter()
