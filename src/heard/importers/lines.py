"""Reading a UTF-8 byte stream line by line, repairing what does not decode.

Importers read text through a LineReader so that every one of them handles a BOM and
invalid UTF-8 the same way: the bad bytes become U+FFFD and a problem names the line.
Lines are split on b"\\n" only (a UTF-8 continuation byte is never 0x0A), and keep their
line ending so the csv module sees quoted line breaks unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from heard.errors import RowError
from heard.importers.base import RowRepaired

BOM = b"\xef\xbb\xbf"


class LineReader:
    """Iterate decoded lines; ``line`` is the number of the last line handed out.

    Problems found while decoding wait in a queue; importers ``drain()`` it and yield
    them next to the rows they belong to.
    """

    def __init__(self, stream: IO[bytes], source: str) -> None:
        self._stream = stream
        self.source = source
        self.line = 0
        self._pending: list[RowError] = []

    def __iter__(self) -> Iterator[str]:
        for raw in self._stream:
            self.line += 1
            if self.line == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self._pending.append(
                    RowRepaired(
                        f"invalid UTF-8 at byte {exc.start + 1} of the line; "
                        "undecodable bytes replaced with U+FFFD",
                        source=self.source,
                        line=self.line,
                    )
                )
                yield raw.decode("utf-8", "replace")

    def drain(self) -> list[RowError]:
        """The decoding problems found since the last call."""
        out, self._pending = self._pending, []
        return out

    def read_all(self) -> str:
        """The rest of the stream as one string (for formats parsed as a whole)."""
        return "".join(self)
