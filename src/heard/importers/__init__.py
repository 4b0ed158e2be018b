"""Importers: files in the formats teams have, read into Conversations.

    from heard.importers import read
    result = read(Path("tweets.csv"))          # format detected: "twcs"
    for conversation in result.conversations():
        ...
    print(result.format, result.summary())     # '41 conversations, 2 problems (1 skipped)'
    for problem in result.problems:            # RowError (E002) naming file, line, field
        print(problem)

Formats (``format=`` names; detection picks one when it is not given):

==============  ==========================================================================
jsonl           Conversation JSONL (DESIGN.md); also a ``.json`` array of conversations
csv             one turn per row: conversation_id, speaker, text[, ts, agent_id]
twcs            the Kaggle TWCS tweet CSV, threads rebuilt from in_response_to_tweet_id
transcript      plain text ``Customer: ...`` / ``Agent: ...`` lines, ``---`` between
transcript_csv  a CSV with one transcript per row (TweetSumm's dialog CSVs)
abcd            ASAPP ABCD dialogues (JSON)
==============  ==========================================================================

Plugins add formats by registering an importer object (``name``, ``detect``, ``read``;
see `Importer`) under the ``heard.importers`` entry point group, as the built-ins do.

Bad input is reported, not fatal: a row that cannot be read is skipped and becomes a
RowError in ``result.problems`` (``strict=True`` raises the first one instead). A bad
timestamp keeps its turn with ``ts=None`` and records a problem; an empty text drops its
turn (the conversation is kept); invalid UTF-8 is replaced with U+FFFD and recorded. An
input that no importer recognises, an unknown ``format=`` or a CSV without a required
column raises FormatError (E003). Text is kept verbatim (HTML and scripts included): it
is never rendered or interpreted. An empty input holds no conversations.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

from heard.importers.base import HEAD_BYTES, Importer, RowRepaired
from heard.importers.lines import BOM
from heard.importers.registry import ALIASES, choose, formats, get, rank
from heard.importers.result import (
    ImportResult,
    Opener,
    opener_for_bytes,
    opener_for_path,
    opener_for_stream,
    read_head,
)

_BY_EXTENSION = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "transcript",
    ".json": "jsonl",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def read(
    path: str | Path,
    *,
    format: str | None = None,
    strict: bool = False,
    encoding: str = "utf-8",
) -> ImportResult:
    """Conversations from a file (``-`` is standard input), its format detected unless given.

    Raises InputError (E001) when the file cannot be opened and FormatError (E003) when
    its format is unknown; the rows themselves are read lazily by ``conversations()``.
    """
    if str(path) == "-":
        return read_stream(
            sys.stdin.buffer, name="<stdin>", format=format, strict=strict, encoding=encoding
        )
    name = str(path)
    return _result(name, opener_for_path(name, encoding), format, strict)


def read_bytes(
    data: bytes,
    *,
    name: str,
    format: str | None = None,
    strict: bool = False,
    encoding: str = "utf-8",
) -> ImportResult:
    """Conversations from bytes held in memory (an upload); ``name`` is used in detection
    (its extension) and in problems."""
    return _result(name, opener_for_bytes(data, encoding), format, strict)


def read_stream(
    fileobj: IO[bytes],
    *,
    name: str,
    format: str | None = None,
    strict: bool = False,
    encoding: str = "utf-8",
) -> ImportResult:
    """Conversations from a binary file object, read from its current position.

    A seekable stream is read in place (and must stay open while conversations are
    read); any other is first copied to a spooled temporary file.
    """
    return _result(name, opener_for_stream(fileobj, encoding), format, strict)


def detect_format(
    source: str | Path | bytes, name: str | None = None, *, encoding: str = "utf-8"
) -> str:
    """The format of a file (a path) or of its first bytes (with the file's name).

    Raises FormatError (E003), listing the known formats, when none fits.
    """
    if isinstance(source, bytes):
        label = name or ""
        head = read_head(opener_for_bytes(source, encoding), label)
    else:
        label = name or str(source)
        head = read_head(opener_for_path(str(source), encoding), label)
    return _detect(head, label)


def _blank(head: bytes) -> bool:
    return len(head) < HEAD_BYTES and not head.removeprefix(BOM).strip()


def _detect(head: bytes, name: str) -> str:
    if _blank(head):
        lower = name.lower().removesuffix(".gz")
        return next((f for ext, f in _BY_EXTENSION.items() if lower.endswith(ext)), "jsonl")
    return choose(head, name)


def _result(name: str, opener: Opener, format: str | None, strict: bool) -> ImportResult:
    head = read_head(opener, name)
    importer = get(format) if format is not None else get(_detect(head, name))
    return ImportResult(
        name=name, importer=importer, opener=opener, strict=strict, empty=_blank(head)
    )


__all__ = [
    "ALIASES",
    "ImportResult",
    "Importer",
    "RowRepaired",
    "detect_format",
    "formats",
    "get",
    "rank",
    "read",
    "read_bytes",
    "read_stream",
]
