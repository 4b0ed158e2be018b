"""Opening an input (file, bytes, stream) as UTF-8 bytes, and the ImportResult that reads it.

Before any importer sees a stream it is decompressed (gzip, by its magic bytes) and
transcoded to UTF-8 when it is in another encoding (the ``encoding`` argument, or a
UTF-16/32 byte-order mark, as Excel's "Unicode text" has). Importers therefore read one
encoding only. Invalid UTF-8 is repaired line by line, with a problem naming the line;
in other encodings undecodable bytes are replaced without one.
"""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, cast

from heard.errors import FormatError, InputError, RowError
from heard.importers.base import HEAD_BYTES, Importer, RowRepaired
from heard.model import Conversation

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: Problems kept in ``ImportResult.problems``; past this only the counts grow.
MAX_PROBLEMS = 1000
_UTF8 = frozenset({"utf-8", "utf-8-sig", "ascii"})
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

Opener = Callable[[], IO[bytes]]


class _Delegate(io.RawIOBase):
    """A raw stream reading from another; closing it closes only the streams it owns.

    Wraps a caller's stream (owning nothing: the caller closes it) and a GzipFile (owning
    it and the file under it, which GzipFile itself leaves open).
    """

    def __init__(self, inner: IO[bytes], *owned: IO[bytes]) -> None:
        self._inner = inner
        self._owned = owned

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._inner.read(len(view))
        view[: len(data)] = data
        return len(data)

    def seekable(self) -> bool:
        return self._inner.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def close(self) -> None:
        for stream in self._owned:
            stream.close()
        super().close()


class _Utf8(io.RawIOBase):
    """Text decoded from another encoding, served again as UTF-8 bytes."""

    def __init__(self, text: io.TextIOBase) -> None:
        self._text = text
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        while not self._buf:
            chunk = self._text.read(16384)
            if not chunk:
                return 0
            self._buf = chunk.encode("utf-8", "replace")
        n = min(len(view), len(self._buf))
        view[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        self._text.close()
        super().close()


def _encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError as exc:
        raise InputError(
            f"unknown text encoding '{name}'", hint="use e.g. utf-8 or cp1252"
        ) from exc


def prepare(raw: io.BufferedReader, encoding: str) -> IO[bytes]:
    """The stream as UTF-8 bytes: gunzipped if it is gzip, transcoded if need be."""
    stream: IO[bytes] = raw
    if raw.peek(2)[:2] == b"\x1f\x8b":
        gz = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
        unzipped = io.BufferedReader(_Delegate(gz, gz, raw))
        stream, start = unzipped, unzipped.peek(4)[:4]
    else:
        start = raw.peek(4)[:4]
    enc = _encoding(encoding)
    if enc in _UTF8:
        enc = next((e for bom, e in _BOMS if start.startswith(bom)), "utf-8")
    if enc in _UTF8:
        return stream
    text = io.TextIOWrapper(
        cast(io.BufferedReader, stream), encoding=enc, errors="replace", newline=""
    )
    return cast(IO[bytes], io.BufferedReader(_Utf8(text)))


def opener_for_bytes(data: bytes, encoding: str) -> Opener:
    return lambda: prepare(io.BufferedReader(cast(io.RawIOBase, io.BytesIO(data))), encoding)


def opener_for_path(path: str, encoding: str) -> Opener:
    def open_path() -> IO[bytes]:
        try:
            raw = open(path, "rb")  # noqa: SIM115 - the ImportResult closes it
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
        try:
            return prepare(raw, encoding)
        except Exception:
            raw.close()
            raise

    return open_path


def opener_for_stream(stream: IO[bytes], encoding: str) -> Opener:
    """Re-readable from where the stream is now (a non-seekable stream is spooled first)."""
    if isinstance(stream, io.TextIOBase):
        raise InputError("the stream is text; open the file in binary mode ('rb')")
    if not stream.seekable():
        from tempfile import SpooledTemporaryFile

        spool = SpooledTemporaryFile(max_size=16 * 2**20)  # noqa: SIM115 - lives with the result
        while chunk := stream.read(2**20):
            spool.write(chunk)
        spool.seek(0)
        stream = cast(IO[bytes], spool)
    start = stream.tell()

    def reopen() -> IO[bytes]:
        stream.seek(start)
        return prepare(io.BufferedReader(_Delegate(stream)), encoding)

    return reopen


def read_head(opener: Opener, name: str) -> bytes:
    try:
        stream = opener()
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read {name}: {exc}") from exc
    try:
        return stream.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read {name}: {exc}") from exc
    finally:
        stream.close()


class ImportResult:
    """Conversations read from one input, and what went wrong while reading them.

    ``conversations()`` is a generator: most formats stream, so a large file is read in
    constant memory (TWCS threads, JSON documents and CSVs whose turns are not grouped by
    conversation are read whole first). Problems are collected as rows are read:
    ``problems`` holds them (the first MAX_PROBLEMS), ``problem_count`` counts them all,
    ``skipped`` counts the rows, lines and turns that were dropped (a repaired row, such
    as one with a bad timestamp, is a problem but is not skipped). With ``strict`` the
    first problem raises instead. Each call of ``conversations()`` reads the input again
    from the start and resets the counts.
    """

    def __init__(
        self,
        *,
        name: str,
        importer: Importer,
        opener: Opener,
        strict: bool = False,
        empty: bool = False,
    ) -> None:
        self.name = name
        self.format = importer.name
        self.strict = strict
        self.problems: list[RowError] = []
        self.problem_count = 0
        self.skipped = 0
        self.count = 0
        self._importer = importer
        self._opener = opener
        self._empty = empty

    def __iter__(self) -> Iterator[Conversation]:
        return self.conversations()

    def __repr__(self) -> str:
        return f"<ImportResult {self.name!r} format={self.format!r} {self.summary()}>"

    def summary(self) -> str:
        """A one-line account, e.g. '12 conversations, 3 problems (2 rows skipped)'."""
        text = f"{self.count} conversation{'s' if self.count != 1 else ''}"
        if self.problem_count:
            text += f", {self.problem_count} problem{'s' if self.problem_count != 1 else ''}"
            text += f" ({self.skipped} skipped)"
        return text

    def conversations(self) -> Iterator[Conversation]:
        self.problems.clear()
        self.problem_count = self.skipped = self.count = 0
        if self._empty:
            return
        try:
            stream = self._opener()
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"cannot read {self.name}: {exc}") from exc
        try:
            for item in self._importer.read(stream, self.name, self.strict):
                if isinstance(item, Conversation):
                    self.count += 1
                    yield item
                elif isinstance(item, RowError):
                    self._problem(item)
                else:
                    raise FormatError(
                        f"importer '{self.format}' yielded a {type(item).__name__}, not a "
                        "Conversation or RowError"
                    )
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"cannot read {self.name}: {exc}") from exc
        finally:
            stream.close()

    def _problem(self, problem: RowError) -> None:
        if self.strict:
            raise problem
        self.problem_count += 1
        if not isinstance(problem, RowRepaired):
            self.skipped += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
