"""CSV plumbing shared by the csv, twcs and transcript_csv importers.

Headers are matched after normalising (``Conversation ID`` is ``conversation_id``); the
delimiter is taken from the header line (comma, tab, semicolon or bar); rows are read
record by record with the line each one starts on, so problems can name it.
"""

from __future__ import annotations

import csv
import itertools
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from heard.errors import FormatError, RowError
from heard.importers.base import HEAD_BYTES, extension
from heard.importers.lines import BOM, LineReader

#: Fields up to this many characters are read (the csv default of 128 KiB is too small
#: for long transcripts and pasted e-mails; 10 MB fields must read).
FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)
DELIMITERS = (",", "\t", ";", "|")
#: How many data rows ``detect`` looks at.
SNIFF_ROWS = 20


def raise_field_limit() -> None:
    """Let the csv module read very large fields (a process-wide csv setting)."""
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)


def normalize(column: str) -> str:
    """A header cell as a key: lower case, BOM and spaces stripped, words joined by '_'."""
    return re.sub(r"[\s\-]+", "_", column.replace("\ufeff", "").strip().lower())


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header line into the most cells (comma on ties)."""
    best, count = ",", 0
    for d in DELIMITERS:
        try:
            n = len(next(csv.reader([header_line], delimiter=d), []))
        except csv.Error:  # a stray CR or quote: this delimiter tells nothing
            n = 0
        if n > count:
            best, count = d, n
    return best


@dataclass(frozen=True, slots=True)
class Header:
    """The columns of a CSV file: names as written, normalised keys, and the delimiter."""

    names: tuple[str, ...]
    keys: tuple[str, ...]
    delimiter: str

    def find(self, aliases: Sequence[str]) -> int | None:
        """The index of the first column whose key is one of ``aliases`` (in their order)."""
        for alias in aliases:
            if alias in self.keys:
                return self.keys.index(alias)
        return None

    def require(
        self, columns: Mapping[str, Sequence[str]], required: Sequence[str], source: str, what: str
    ) -> dict[str, int]:
        """Indexes of the named columns; FormatError naming the first required one missing."""
        found: dict[str, int] = {}
        for canon, aliases in columns.items():
            idx = self.find(aliases)
            if idx is not None:
                found[canon] = idx
        for canon in required:
            if canon not in found:
                have = ", ".join(self.names) or "none"
                raise FormatError(
                    f"{source}: the CSV has no '{canon}' column (its columns: {have})",
                    hint=f"{what} needs the columns {', '.join(required)}",
                )
        return found


def header_of(row: Sequence[str], delimiter: str) -> Header:
    names = tuple(c.replace("\ufeff", "").strip() for c in row)
    return Header(names, tuple(normalize(c) for c in names), delimiter)


class Records:
    """CSV records of a LineReader: first the header, then ``(line, cells)`` or RowErrors.

    Blank lines are skipped. A record that the csv module cannot parse becomes a RowError
    and reading goes on with the next line.
    """

    def __init__(self, lines: LineReader, delimiter: str | None = None) -> None:
        raise_field_limit()
        self.lines = lines
        it = iter(lines)
        first = ""
        for first in it:
            if first.strip():
                break
        else:
            first = ""
        self.empty = not first.strip()
        self.delimiter = delimiter or sniff_delimiter(first)
        #: the number of the last line handed to the csv reader, and the lines of the
        #: record it is reading (the reader pulls lines only as a record needs them)
        self._line = lines.line - 1 if first else lines.line
        self._before = self._line
        self._record: list[str] = []
        self._rest: Iterator[str] = itertools.chain([first] if first else [], it)
        self._reader = self._csv(self._rest)
        self.header: Header | None = None
        #: Problems met before the header was read (yield them first).
        self.problems: list[RowError] = []
        if not self.empty:
            for item in self:
                if isinstance(item, RowError):
                    self.problems.append(item)
                    continue
                self.header = header_of(item[1], self.delimiter)
                break

    def _csv(self, lines: Iterator[str]) -> Iterator[list[str]]:
        def fed() -> Iterator[str]:
            for line in lines:
                self._line += 1
                self._record.append(line)
                yield line

        return csv.reader(fed(), delimiter=self.delimiter)

    def __iter__(self) -> Iterator[tuple[int, list[str]] | RowError]:
        while True:
            try:
                row = next(self._reader)
            except StopIteration:
                yield from self.lines.drain()
                return
            except csv.Error as exc:
                start, self._before = self._before + 1, self._line
                self._record = []
                yield from self.lines.drain()
                yield RowError(
                    f"unreadable CSV record ({exc}); row skipped",
                    source=self.lines.source,
                    line=start,
                )
                continue
            start, self._before = self._before + 1, self._line
            record, self._record = self._record, []
            yield from self.lines.drain()
            if len(record) > 1 and _misquoted(record, self.delimiter):
                # a stray quote opened a field that runs on over the next lines (to the
                # next quote, or to the end of the file) and takes their rows in as text:
                # skip the line it is on and read the lines after it again as rows
                yield RowError(
                    f"a quote opened on this line runs on over lines {start}-{self._line} "
                    "and does not close where a field ends (a stray '\"'?); row skipped, "
                    "the lines after it read as rows",
                    source=self.lines.source,
                    line=start,
                )
                self._line = self._before = start
                self._rest = itertools.chain(record[1:], self._rest)
                self._reader = self._csv(self._rest)
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            yield start, row


def _misquoted(record: Sequence[str], delimiter: str) -> bool:
    """Whether the lines of one record break the quoting rules (read strictly): a field
    whose quote never closes, or closes with more text after it before the delimiter.

    Only asked of records over several lines. A quoted field that holds line breaks
    properly passes; one opened by a stray quote reads on to the next quote in the file
    (or its end), and the text that follows that quote, or the end of data, fails.
    """
    try:
        for _ in csv.reader(record, delimiter=delimiter, strict=True):
            pass
    except csv.Error:
        return True
    return False


def ragged(row: Sequence[str], header: Header, needed: Mapping[str, int]) -> str | None:
    """Why a row does not fit the header, or None when it does.

    A row with more cells than the header is wrong (an unquoted delimiter in a text, most
    often). A short row is accepted when only optional trailing columns are missing.
    """
    n, m = len(row), len(header.names)
    if n > m:
        return f"row has {n} fields but the header has {m} (an unquoted '{header.delimiter}'?)"
    if n < m:
        for canon, idx in needed.items():
            if idx >= n:
                return f"row has {n} fields but the header has {m}; '{canon}' is missing"
    return None


def not_csv_penalty(name: str) -> float:
    """A factor for CSV detection scores: a name saying '.txt' or '.json' halves them."""
    return 0.5 if extension(name) in (".txt", ".json", ".jsonl", ".ndjson") else 1.0


@lru_cache(maxsize=8)
def sniff_head(head: bytes) -> tuple[Header, tuple[tuple[str, ...], ...]] | None:
    """The header and the first complete rows of a CSV head, or None if it has no header.

    Used by ``detect``: the head may end inside a record, so the last one is dropped
    unless the head is the whole file.
    """
    if head.startswith(BOM):
        head = head[len(BOM) :]
    text = head.decode("utf-8", "replace")
    lines = text.splitlines(keepends=True)
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None
    delimiter = sniff_delimiter(lines[0])
    rows: list[tuple[str, ...]] = []
    complete = False  # True when more rows followed the last one kept
    raise_field_limit()
    try:
        for row in csv.reader(lines, delimiter=delimiter):
            if len(rows) > SNIFF_ROWS:
                complete = True
                break
            if row:
                rows.append(tuple(row))
    except csv.Error:
        pass
    if not rows:
        return None
    if not complete and len(head) >= HEAD_BYTES and len(rows) > 1:
        rows.pop()  # the head's end probably cut it
    return header_of(rows[0], delimiter), tuple(rows[1:])
