"""Conversation JSONL (DESIGN.md): one conversation per line.

Also reads a ``.json`` file holding an array of conversations (or a single one, or
several objects one after another). JSONL is streamed line by line; a JSON document is
parsed as a whole, element by element, so each problem still names its line.

Every field a turn or conversation carries beyond the format's own (``labels``,
``emotion``, ``source``...) is kept as an extra field on the Turn / Conversation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from pydantic import ValidationError

from heard.errors import RowError
from heard.importers.base import (
    Item,
    Where,
    build_turn,
    extension,
    first_fatal,
    raising,
    stem,
    validation_problem,
)
from heard.importers.lines import BOM, LineReader
from heard.importers.speakers import parse_speaker, unknown_speaker_message
from heard.model import Conversation, Turn, unstorable

_TURN_KEYS = ("speaker", "text", "ts", "agent_id")
_JSON_EXTENSIONS = (".jsonl", ".ndjson", ".json")
_WS = " \t\r\n"
_TOO_DEEP = "JSON nested too deeply to read"


def _id_value(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def conversation_from_obj(
    obj: object, where: Where, default_id: str
) -> tuple[Conversation | None, list[RowError]]:
    """A Conversation from one decoded JSON value, with the problems found in it.

    When the value cannot be a conversation the result is ``(None, [the RowError that
    skips it])``. A turn with an empty text is dropped with a problem; any other bad turn
    skips the whole conversation, so turn indexes never shift silently.
    """
    if not isinstance(obj, dict):
        return None, [
            where.error(f"expected a JSON object (a conversation), found {_kind(obj)}; skipped")
        ]
    if "turns" not in obj:
        hint = ""
        if "tweet_ids_sentence_offset" in obj:
            hint = (
                " (this looks like TweetSumm annotations: tweet ids without their text; "
                "join them with the TWCS tweets first)"
            )
        return None, [where.error(f"missing 'turns'{hint}; conversation skipped", "turns")]
    raw_turns = obj["turns"]
    if not isinstance(raw_turns, list):
        return None, [where.error(f"'turns' must be a list, found {_kind(raw_turns)}", "turns")]
    fatal: list[RowError] = []
    cid = obj.get("id")
    conv_id = default_id if cid is None else _id_value(cid)
    if conv_id is None:
        fatal.append(where.error(f"'id' must be a string, found {_kind(cid)}", "id"))
    channel = obj.get("channel", "chat")
    if not isinstance(channel, str):
        fatal.append(where.error(f"'channel' must be a string, found {_kind(channel)}", "channel"))
    meta = obj.get("meta") or {}
    if not isinstance(meta, dict):
        fatal.append(where.error(f"'meta' must be an object, found {_kind(meta)}", "meta"))
    problems: list[RowError] = []
    turns: list[Turn] = []
    for i, raw in enumerate(raw_turns):
        turn, found = turn_from_obj(raw, Where(where.source, where.line, f"turns[{i}]."))
        if isinstance(turn, RowError):
            fatal.append(turn)
        elif turn is not None:
            turns.append(turn)
        problems.extend(found)
    if fatal:
        first = first_fatal(fatal, "conversation", "; conversation skipped")
        assert first is not None
        return None, [first]
    extras = {k: v for k, v in obj.items() if k not in ("id", "channel", "meta", "turns")}
    try:
        conv = Conversation.model_validate(
            {**extras, "id": conv_id, "channel": channel, "meta": meta, "turns": turns}
        )
    except ValidationError as exc:
        return None, [validation_problem(exc, where)]
    return conv, problems


def turn_from_obj(raw: object, where: Where) -> tuple[Turn | RowError | None, list[RowError]]:
    """A Turn from one value of ``turns``, with the problems found in it.

    The first element is a RowError when the turn is malformed (that skips the whole
    conversation), or None when the turn is dropped but the conversation kept (an empty
    text).
    """
    if not isinstance(raw, dict):
        return where.error(f"expected a turn object, found {_kind(raw)}"), []
    if "speaker" not in raw:
        return where.error("missing 'speaker'", "speaker"), []
    speaker = parse_speaker(raw["speaker"])
    if speaker is None:
        return where.error(unknown_speaker_message(raw["speaker"]), "speaker"), []
    text = raw.get("text")
    if not isinstance(text, str):
        found = (
            "missing 'text'" if text is None else f"'text' must be a string, found {_kind(text)}"
        )
        return where.error(found, "text"), []
    agent = raw.get("agent_id")
    agent_id = None if agent is None else _id_value(agent)
    if agent is not None and agent_id is None:
        return where.error(f"'agent_id' must be a string, found {_kind(agent)}", "agent_id"), []
    why = None if agent_id is None else unstorable(agent_id)
    if why is not None:
        return where.error(f"'agent_id' {why}", "agent_id"), []
    extra = {k: v for k, v in raw.items() if k not in _TURN_KEYS}
    return build_turn(speaker, text, where, ts=raw.get("ts"), agent_id=agent_id, extra=extra)


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    for t, n in names.items():
        if isinstance(value, t):
            return n
    return "a number" if isinstance(value, int | float) else type(value).__name__


def iter_json_values(
    text: str, source: str, first_line: int = 1
) -> Iterator[tuple[int, Any] | RowError]:
    """The values of a JSON document with the line each starts on.

    A top-level array yields its elements; otherwise the document's top-level values
    (one, or several one after another) are yielded. Invalid JSON ends the document with
    a RowError naming the line: past that point nothing can be trusted.
    """
    decoder = json.JSONDecoder()
    pos, line, counted = 0, first_line, 0

    def at(p: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, p)
        counted = p
        return line

    def skip(p: int) -> int:
        while p < len(text) and text[p] in _WS:
            p += 1
        return p

    def broken(exc: json.JSONDecodeError) -> RowError:
        return RowError(
            f"invalid JSON ({exc.msg} at column {exc.colno}); the rest of the "
            "document cannot be read",
            source=source,
            line=first_line + exc.lineno - 1,
        )

    pos = skip(pos)
    in_array = text.startswith("[", pos)
    if in_array:
        pos = skip(pos + 1)
        if text.startswith("]", pos):
            return
    while pos < len(text):
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield broken(exc)
            return
        except RecursionError:
            yield RowError(
                _TOO_DEEP + "; the rest of the document cannot be read", source=source, line=at(pos)
            )
            return
        yield at(pos), value
        pos = skip(end)
        if in_array:
            if text.startswith(",", pos):
                pos = skip(pos + 1)
                continue
            if text.startswith("]", pos):
                pos = skip(pos + 1)
                if pos < len(text):
                    yield RowError(
                        "text after the end of the JSON array ignored", source=source, line=at(pos)
                    )
                return
            yield RowError(
                "expected ',' or ']' between array elements; the rest of the "
                "document cannot be read",
                source=source,
                line=at(pos),
            )
            return


class JsonlImporter:
    """Conversation JSONL, and JSON arrays of conversations."""

    name = "jsonl"
    description = "Conversation JSONL (DESIGN.md), one conversation per line; or a .json array"

    def detect(self, head: bytes, name: str) -> float:
        ext_bonus = 0.05 if extension(name) in _JSON_EXTENSIONS else 0.0
        body = head[len(BOM) :] if head.startswith(BOM) else head
        body = body.lstrip()
        if not body:
            return 0.3 + ext_bonus if ext_bonus else 0.0
        if body[:1] not in (b"{", b"["):
            return 0.3 if ext_bonus else 0.0
        if b'"turns"' in body:
            return 0.9 + ext_bonus
        if body[:1] == b"{":
            first = body.split(b"\n", 1)[0]
            try:
                value = json.loads(first)
            except (ValueError, RecursionError):
                return 0.4 + ext_bonus
            return (0.6 if isinstance(value, dict) else 0.2) + ext_bonus
        return 0.4 + ext_bonus

    def read(self, stream: IO[bytes], name: str, strict: bool) -> Iterator[Item]:
        return raising(self._read(stream, name), strict)

    def _read(self, stream: IO[bytes], name: str) -> Iterator[Item]:
        lines = LineReader(stream, name)
        base = stem(name)
        it = iter(lines)
        for line in it:
            if line.strip():
                break
        else:
            yield from lines.drain()
            return
        if extension(name) == ".json" or line.lstrip().startswith("["):
            first = lines.line
            text = line + "".join(it)
            yield from lines.drain()
            for value in iter_json_values(text, name, first):
                if isinstance(value, RowError):
                    yield value
                    continue
                at, obj = value
                yield from self._one(obj, Where(name, at), f"{base}-{at}")
            return
        yield from self._line(line, lines, base)
        for line in it:
            if line.strip():
                yield from self._line(line, lines, base)
            else:
                yield from lines.drain()

    def _line(self, line: str, lines: LineReader, base: str) -> Iterator[Item]:
        yield from lines.drain()
        where = Where(lines.source, lines.line)
        try:
            obj = json.loads(line.strip())
        except json.JSONDecodeError as exc:
            yield where.error(f"not valid JSON ({exc.msg} at column {exc.colno}); line skipped")
            return
        except RecursionError:
            yield where.error(_TOO_DEEP + "; line skipped")
            return
        yield from self._one(obj, where, f"{base}-{lines.line}")

    @staticmethod
    def _one(obj: object, where: Where, default_id: str) -> Iterator[Item]:
        conv, problems = conversation_from_obj(obj, where, default_id)
        yield from problems
        if conv is not None:
            yield conv


importer = JsonlImporter()
