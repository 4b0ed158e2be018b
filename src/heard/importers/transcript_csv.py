"""A CSV holding one transcript per row (TweetSumm's dialog CSVs, helpdesk exports).

The transcript column is the one whose cells hold ``Customer: ...`` / ``Agent: ...``
lines (read as in the ``transcript`` format); a column named text, transcript, dialog...
is preferred on a tie. The conversation id comes from an id column (dialog_id,
conversation_id, id...), or is made from the file name and line. Every other column goes
to the conversation's meta as a string (empty cells are left out), except ``channel``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import IO

from heard.errors import FormatError, RowError
from heard.importers.base import Item, Where, raising, stem
from heard.importers.lines import LineReader
from heard.importers.tabular import Header, Records, not_csv_penalty, ragged, sniff_head
from heard.importers.transcript import HAS_SPEAKER_LINE, parse_lines
from heard.model import Conversation

TEXT_COLUMNS = (
    "text",
    "transcript",
    "dialog",
    "dialogue",
    "conversation",
    "content",
    "body",
    "messages",
    "chat",
)
ID_COLUMNS = (
    "dialog_id",
    "dialogue_id",
    "conversation_id",
    "convo_id",
    "conv_id",
    "chat_id",
    "ticket_id",
    "thread_id",
    "id",
    "conversation",
)
#: Rows read before choosing the transcript column.
LOOKAHEAD = 20


def _is_transcript(cell: str) -> bool:
    """A cell holding at least two labelled lines (one label alone is a message)."""
    found = HAS_SPEAKER_LINE.finditer(cell)
    return next(found, None) is not None and next(found, None) is not None


def choose_column(header: Header, rows: Sequence[Sequence[str]]) -> tuple[int | None, int]:
    """The transcript column and how many of ``rows`` hold a labelled transcript in it."""
    best, best_hits = None, 0
    for i in range(len(header.names)):
        hits = sum(1 for r in rows if i < len(r) and _is_transcript(r[i]))
        named = header.keys[i] in TEXT_COLUMNS
        if hits > best_hits or (
            hits == best_hits
            and hits
            and named
            and best is not None
            and header.keys[best] not in TEXT_COLUMNS
        ):
            best, best_hits = i, hits
    if best is None:
        best = header.find(TEXT_COLUMNS)
    return best, best_hits


class TranscriptCsvImporter:
    """CSV whose rows each hold a whole transcript."""

    name = "transcript_csv"
    description = "CSV with one transcript per row (a text column of 'Customer: ...' lines)"

    def detect(self, head: bytes, name: str) -> float:
        sniffed = sniff_head(head)
        if sniffed is None:
            return 0.0
        header, rows = sniffed
        if not rows:
            return 0.0
        column, hits = choose_column(header, rows)
        if hits == 0:
            return 0.0
        if len(header.names) < 2 and header.keys[column or 0] not in TEXT_COLUMNS:
            # one column: only a header naming it ('text', 'transcript', ...) says CSV, as
            # a plain transcript's first line would otherwise read as a header
            return 0.0
        score = 0.85 if hits * 2 >= len(rows) else 0.6
        if {"speaker", "role"} & set(header.keys):
            score = 0.4  # a per-turn CSV whose texts quote transcripts: let 'csv' win
        return score * not_csv_penalty(name)

    def read(self, stream: IO[bytes], name: str, strict: bool) -> Iterator[Item]:
        return raising(self._read(stream, name), strict)

    def _read(self, stream: IO[bytes], name: str) -> Iterator[Item]:
        records = Records(LineReader(stream, name))
        yield from records.problems
        if records.header is None:
            return
        header = records.header
        it = iter(records)
        ahead: list[tuple[int, list[str]] | RowError] = []
        for item in it:
            ahead.append(item)
            if sum(1 for a in ahead if not isinstance(a, RowError)) >= LOOKAHEAD:
                break
        text_idx, _ = choose_column(header, [a[1] for a in ahead if not isinstance(a, RowError)])
        if text_idx is None:
            have = ", ".join(header.names) or "none"
            raise FormatError(
                f"{name}: no column holds transcripts (its columns: {have})",
                hint="name the column 'text' or 'transcript', with 'Customer: ...' lines",
            )
        rest = [i for i in range(len(header.names)) if i != text_idx]
        id_idx = next((i for k in ID_COLUMNS for i in rest if header.keys[i] == k), None)
        channel_idx = next((i for i in rest if header.keys[i] == "channel"), None)
        needed = {header.keys[text_idx]: text_idx}
        column = header.names[text_idx] or header.keys[text_idx]
        base = stem(name)
        for item in [*ahead, *it]:
            if isinstance(item, RowError):
                yield item
                continue
            line, row = item
            where = Where(name, line)
            why = ragged(row, header, needed)
            if why is not None:
                yield where.error(f"{why}; row skipped")
                continue
            cid = row[id_idx].strip() if id_idx is not None and id_idx < len(row) else ""
            cid = cid or f"{base}-{line}"
            cell = row[text_idx].splitlines()
            turns, preamble, problems = parse_lines(
                enumerate(cell, 1), _in_cell(name, line, column)
            )
            yield from problems
            if not turns:
                if not problems:
                    yield where.error(
                        "no speaker lines ('Customer: ...') in the transcript; row skipped", column
                    )
                continue
            meta: dict[str, str] = {
                header.keys[i] or f"column_{i + 1}": row[i]
                for i in rest
                if i < len(row) and row[i] != "" and i not in (channel_idx, id_idx)
            }
            if preamble:
                meta["preamble"] = "\n".join(preamble)
            channel = ""
            if channel_idx is not None and channel_idx < len(row):
                channel = row[channel_idx].strip()
            yield Conversation(id=cid, channel=channel or "chat", meta=meta, turns=turns)


def _in_cell(name: str, line: int, column: str) -> Callable[[int], Where]:
    """Problems inside a transcript cell name the record's line, the column and the
    line within the transcript."""

    def where(n: int) -> Where:
        return Where(name, line, field=column, note=f"transcript line {n}: ")

    return where


importer = TranscriptCsvImporter()
