"""What an importer is, and the pieces every importer shares.

An importer is any object with a ``name``, a ``detect(head, name)`` that says how sure it
is that a file is its format, and a ``read(stream, name, strict)`` that turns a UTF-8 byte
stream into Conversations, yielding a RowError (instead of raising) for each row it has
to skip or repair. Built-in importers register under the ``heard.importers`` entry point
group exactly as third-party ones do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import IO, Any, Protocol, runtime_checkable

from pydantic import ValidationError

from heard.errors import RowError
from heard.importers.timestamps import parse_timestamp
from heard.model import MAX_TURN_CHARS, Conversation, Speaker, Turn

#: How much of a file ``detect`` is shown.
HEAD_BYTES = 64 * 1024

#: What an importer's ``read`` yields.
Item = Conversation | RowError


@runtime_checkable
class Importer(Protocol):
    """The interface of an importer (built-in or registered by a plugin).

    ``stream`` is binary and holds UTF-8 (possibly behind a BOM): the caller has already
    decompressed and transcoded it. ``detect`` gets at most the first 64 KiB of it and
    the file name (it may be empty) and returns a confidence between 0 and 1.
    """

    name: str

    def detect(self, head: bytes, name: str) -> float: ...

    def read(self, stream: IO[bytes], name: str, strict: bool) -> Iterator[Item]: ...


class RowRepaired(RowError):
    """A row that was read after a repair: bytes replaced, a bad timestamp dropped, a text
    cut to length. It is a problem worth reporting, but nothing was skipped.
    """


def raising(items: Iterable[Item], strict: bool) -> Iterator[Item]:
    """Pass items through, raising the first RowError instead when ``strict``."""
    for item in items:
        if strict and isinstance(item, RowError):
            raise item
        yield item


def stem(name: str, default: str = "conversation") -> str:
    """The base of a file name, used to make ids for conversations that carry none."""
    base = PurePath(name).name if name else ""
    for suffix in (".gz", ".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".txt"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
    return base or default


def extension(name: str) -> str:
    """The lower-case format extension of a name, ignoring a trailing .gz."""
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    dot = lower.rfind(".")
    return lower[dot:] if dot >= 0 and "/" not in lower[dot:] else ""


@dataclass(frozen=True, slots=True)
class Where:
    """Where a row came from, so a problem can name file, line and field.

    ``prefix`` is put before field names (``turns[2].``); ``field`` overrides every field
    name (a transcript cell reports its column); ``note`` starts every message.
    """

    source: str
    line: int
    prefix: str = ""
    field: str | None = None
    note: str = ""

    def field_name(self, field: str | None) -> str | None:
        if self.field is not None:
            return self.field
        if field is None:
            return self.prefix.rstrip(".") or None
        return self.prefix + field

    def error(self, message: str, field: str | None = None) -> RowError:
        return RowError(
            self.note + message, source=self.source, line=self.line, field=self.field_name(field)
        )

    def repaired(self, message: str, field: str | None = None) -> RowRepaired:
        return RowRepaired(
            self.note + message, source=self.source, line=self.line, field=self.field_name(field)
        )


def read_ts(
    value: object, where: Where, field: str = "ts"
) -> tuple[datetime | None, list[RowError]]:
    """A timestamp value (None when empty), with a problem if it could not be read."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, []
    try:
        return parse_timestamp(value), []
    except ValueError as exc:
        return None, [where.repaired(f"{exc}; the turn is kept without a timestamp", field)]


def build_turn(
    speaker: Speaker,
    text: str,
    where: Where,
    *,
    ts: object = None,
    agent_id: str | None = None,
    extra: Mapping[str, Any] | None = None,
    text_field: str = "text",
    ts_field: str = "ts",
) -> tuple[Turn | None, list[RowError]]:
    """A Turn, or None when it must be skipped; plus the problems found on the way.

    An empty (or blank) text skips the turn. A bad timestamp keeps the turn with
    ``ts=None``. A text longer than MAX_TURN_CHARS is cut there (the model does the cut;
    this records it).
    """
    if not text.strip():
        return None, [where.error("empty text; turn skipped", text_field)]
    when, problems = read_ts(ts, where, ts_field)
    if len(text) > MAX_TURN_CHARS:
        problems.append(
            where.repaired(f"text of {len(text)} characters cut to {MAX_TURN_CHARS}", text_field)
        )
    data: dict[str, Any] = dict(extra) if extra else {}
    data.update(speaker=speaker, text=text, ts=when, agent_id=agent_id)
    try:
        return Turn.model_validate(data), problems
    except ValidationError as exc:
        return None, [*problems, validation_problem(exc, where)]


def validation_problem(exc: ValidationError, where: Where) -> RowError:
    """The first pydantic error as a RowError naming its field."""
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or None
    message = first["msg"].removeprefix("Value error, ")  # a validator's own words
    return where.error(f"{message}; row skipped", loc)


def first_fatal(problems: list[RowError], what: str = "row", then: str = "") -> RowError | None:
    """The first problem that skips the row (``then`` added to its message), counting the
    others; None when every problem is only a repair."""
    fatal = [p for p in problems if not isinstance(p, RowRepaired)]
    if not fatal:
        return None
    head, more = fatal[0], len(fatal) - 1
    note = f" (and {more} more problem{'s' if more > 1 else ''} in this {what})" if more else ""
    return RowError(
        bare_message(head) + then + note, source=head.source, line=head.line, field=head.field
    )


def bare_message(err: RowError) -> str:
    """A RowError's own message, without the 'source:line field' prefix it was built with."""
    where = f"{err.source}:{err.line}" + (f" field '{err.field}'" if err.field else "") + ": "
    text = err.message
    return text[len(where) :] if text.startswith(where) else text
