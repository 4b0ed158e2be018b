"""Long-format CSV: one turn per row (conversation_id, speaker, text[, ts, agent_id]).

Rows of one conversation are usually together, and then the file is streamed: a
conversation is yielded as soon as the next one starts. When the same conversation id
comes back after another one, rows are grouped in memory instead (in the order each
conversation first appears). Which of the two applies is found by a quick first pass
over the ids when the stream can be rewound; a stream that cannot is always grouped.

A ``channel`` column sets the conversation's channel. Any other column is kept on each
turn as an extra field named after the (normalised) header, when the cell is not empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from heard.errors import RowError
from heard.importers.base import Item, Where, build_turn, raising
from heard.importers.lines import LineReader
from heard.importers.speakers import parse_speaker, unknown_speaker_message
from heard.importers.tabular import Header, Records, not_csv_penalty, ragged, sniff_head
from heard.model import Conversation, Turn

#: Canonical column -> accepted header names (after normalising), in order of preference.
COLUMNS: dict[str, tuple[str, ...]] = {
    "conversation_id": (
        "conversation_id",
        "conversation",
        "conv_id",
        "chat_id",
        "ticket_id",
        "thread_id",
        "dialog_id",
        "dialogue_id",
    ),
    "speaker": ("speaker", "role", "sender"),
    "text": ("text", "message", "body", "content", "utterance"),
    "ts": ("ts", "timestamp", "time", "created_at", "date", "datetime"),
    "agent_id": ("agent_id",),
    "channel": ("channel",),
}
REQUIRED = ("conversation_id", "speaker", "text")
WHAT = "a long-format CSV (one turn per row)"


class CsvImporter:
    """CSV with one row per turn."""

    name = "csv"
    description = "CSV with one turn per row: conversation_id, speaker, text[, ts, agent_id]"

    def detect(self, head: bytes, name: str) -> float:
        sniffed = sniff_head(head)
        if sniffed is None:
            return 0.0
        header, _ = sniffed
        have = {c for c, aliases in COLUMNS.items() if header.find(aliases) is not None}
        if set(REQUIRED) <= have:
            return 0.9 * not_csv_penalty(name)
        if len(have & set(REQUIRED)) == 2 and len(header.names) > 1:
            return 0.35 * not_csv_penalty(name)  # close enough to name the missing column
        return 0.0

    def read(self, stream: IO[bytes], name: str, strict: bool) -> Iterator[Item]:
        return raising(self._read(stream, name), strict)

    def _read(self, stream: IO[bytes], name: str) -> Iterator[Item]:
        grouped = False
        if stream.seekable():
            start = stream.tell()
            grouped = _ids_are_grouped(stream, name)
            stream.seek(start)
        records = Records(LineReader(stream, name))
        yield from records.problems
        if records.header is None:
            return
        header = records.header
        cols = header.require(COLUMNS, REQUIRED, name, WHAT)
        extra_cols = [
            (i, key) for i, key in enumerate(header.keys) if i not in cols.values() and key
        ]
        needed = {c: cols[c] for c in REQUIRED}
        current: str | None = None
        turns: list[Turn] = []
        channel: dict[str, str] = {}
        groups: dict[str, list[Turn]] = {}
        for item in records:
            if isinstance(item, RowError):
                yield item
                continue
            line, row = item
            where = Where(name, line)
            why = ragged(row, header, needed)
            if why is not None:
                yield where.error(f"{why}; row skipped")
                continue
            cid = row[cols["conversation_id"]].strip()
            if not cid:
                yield where.error("empty conversation id; row skipped", "conversation_id")
                continue
            turn, problems = _turn(row, cols, extra_cols, where)
            yield from problems
            if grouped and cid != current:
                if current is not None and turns:
                    yield _conversation(current, turns, channel)
                current, turns = cid, []
            if "channel" in cols and cid not in channel:
                value = _cell(row, cols["channel"]).strip()
                if value:
                    channel[cid] = value
            if turn is None:
                continue
            if grouped:
                turns.append(turn)
            else:
                groups.setdefault(cid, []).append(turn)
        if grouped:
            if current is not None and turns:
                yield _conversation(current, turns, channel)
            return
        for cid, group in groups.items():
            yield _conversation(cid, group, channel)


def _cell(row: list[str], idx: int | None) -> str:
    return row[idx] if idx is not None and idx < len(row) else ""


def _turn(
    row: list[str], cols: dict[str, int], extra_cols: list[tuple[int, str]], where: Where
) -> tuple[Turn | None, list[RowError]]:
    raw_speaker = row[cols["speaker"]]
    speaker = parse_speaker(raw_speaker)
    if speaker is None:
        return None, [
            where.error(unknown_speaker_message(raw_speaker.strip()) + "; row skipped", "speaker")
        ]
    agent_id = _cell(row, cols.get("agent_id")).strip() or None
    extra = {key: row[i] for i, key in extra_cols if i < len(row) and row[i] != ""}
    return build_turn(
        speaker,
        row[cols["text"]],
        where,
        ts=_cell(row, cols.get("ts")),
        agent_id=agent_id,
        extra=extra,
    )


def _conversation(cid: str, turns: list[Turn], channel: dict[str, str]) -> Conversation:
    return Conversation(id=cid, channel=channel.get(cid, "chat"), turns=turns)


def _ids_are_grouped(stream: IO[bytes], name: str) -> bool:
    """True when every conversation's rows are contiguous (a first pass over the ids)."""
    records = Records(LineReader(stream, name))
    header: Header | None = records.header
    if header is None:
        return True
    idx = header.find(COLUMNS["conversation_id"])
    if idx is None:
        return True  # the real pass raises the FormatError
    done: set[str] = set()
    current: str | None = None
    for item in records:
        if isinstance(item, RowError):
            continue
        row = item[1]
        if idx >= len(row):
            continue
        cid = row[idx].strip()
        if cid == current or not cid:
            continue
        if cid in done:
            return False
        if current is not None:
            done.add(current)
        current = cid
    return True


importer = CsvImporter()
