"""Plain transcripts: ``Customer: ...`` / ``Agent: ...`` lines.

A line that starts with a speaker label begins a turn; any other line continues the turn
before it (a message can span lines). A turn's lines are stripped and blank ones dropped,
as the labelled TweetSumm data has them. Labels are matched case-insensitively against the
speaker aliases (``Client:``, ``Rep:``, ``Bot:``...; the CSV flags true/false/inbound/
outbound are not labels here). Around a label the format allows:

- leading spaces or tabs (TweetSumm writes ``\\tCustomer:\\t...``);
- a bracketed time first: ``[2026-01-02T10:00:00Z] Agent: ...`` sets the turn's ``ts``;
  a clock time without a date (``[10:02]``) is kept as the turn's ``time`` field;
- a name in parentheses: ``Agent (Sam): ...`` sets ``agent_id`` on an agent turn and
  ``name`` on any other.

In a ``.txt`` file a line ``---`` separates conversations, whose ids are the file's stem
and a number (``calls-1``, ``calls-2``). Text before the first label is kept in the
conversation's ``meta["preamble"]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from heard.errors import RowError
from heard.importers.base import Item, Where, build_turn, extension, raising, stem
from heard.importers.lines import BOM, LineReader
from heard.importers.speakers import TRANSCRIPT_ALIASES
from heard.importers.timestamps import parse_timestamp
from heard.model import Conversation, Speaker, Turn

_LABELS = "|".join(sorted(TRANSCRIPT_ALIASES, key=len, reverse=True))
SPEAKER_LINE = re.compile(
    r"^[ \t]*(?:\[(?P<stamp>[^\]\n]{1,40})\][ \t]*)?"
    rf"(?P<who>{_LABELS})[ \t]*(?:\((?P<name>[^)\n]{{1,60}})\)[ \t]*)?:[ \t]*(?P<text>.*?)\s*$",
    re.IGNORECASE,
)
#: The same label anywhere at a line start in a larger text (used by ``detect``).
HAS_SPEAKER_LINE = re.compile(
    r"^[ \t]*(?:\[[^\]\n]{1,40}\][ \t]*)?"
    rf"(?:{_LABELS})[ \t]*(?:\([^)\n]{{1,60}}\)[ \t]*)?:",
    re.IGNORECASE | re.MULTILINE,
)
SEPARATOR = re.compile(r"^\s*-{3,}\s*$")
_DATED = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{10}|[A-Za-z]{3} [A-Za-z]{3} \d")


class _Pending:
    """A turn being read: its label line and the continuation lines after it."""

    __slots__ = ("lines", "name", "speaker", "stamp", "start")

    def __init__(
        self, speaker: Speaker, text: str, start: int, stamp: str | None, name: str | None
    ) -> None:
        self.speaker = speaker
        self.lines = [text]
        self.start = start
        self.stamp = stamp
        self.name = name


def parse_lines(
    lines: Iterable[tuple[int, str]], where: Callable[[int], Where]
) -> tuple[list[Turn], list[str], list[RowError]]:
    """Turns, preamble lines and problems of one conversation's ``(line number, text)``."""
    turns: list[Turn] = []
    preamble: list[str] = []
    problems: list[RowError] = []
    pending: _Pending | None = None

    def close(p: _Pending) -> None:
        text = "\n".join(t for t in (line.strip() for line in p.lines) if t)
        at = where(p.start)
        extra: dict[str, Any] = {}
        ts: object = None
        if p.stamp is not None:
            try:
                ts = parse_timestamp(p.stamp)
            except ValueError as exc:
                if _DATED.search(p.stamp):
                    problems.append(
                        at.repaired(f"{exc}; the turn is kept without a timestamp", "ts")
                    )
                else:
                    extra["time"] = p.stamp.strip()
        agent_id = None
        if p.name:
            if p.speaker is Speaker.agent:
                agent_id = p.name.strip()
            else:
                extra["name"] = p.name.strip()
        turn, found = build_turn(p.speaker, text, at, ts=ts, agent_id=agent_id, extra=extra)
        problems.extend(found)
        if turn is not None:
            turns.append(turn)

    for number, raw in lines:
        line = raw.rstrip("\r\n")
        m = SPEAKER_LINE.match(line)
        if m:
            if pending is not None:
                close(pending)
            speaker = TRANSCRIPT_ALIASES[m.group("who").lower()]
            pending = _Pending(speaker, m.group("text"), number, m.group("stamp"), m.group("name"))
        elif pending is not None:
            pending.lines.append(line)
        elif line.strip() or preamble:
            preamble.append(line)
    if pending is not None:
        close(pending)
    while preamble and not preamble[-1].strip():
        preamble.pop()
    return turns, preamble, problems


def parse_transcript(text: str) -> list[Turn]:
    """The turns of a transcript text (``---`` lines are ignored; problems are dropped).

    Returns an empty list when no line carries a speaker label, so callers can decide
    what unlabelled text means (``Conversation.from_text`` makes it one customer turn).
    """
    numbered = (
        (i, line) for i, line in enumerate(text.splitlines(), 1) if not SEPARATOR.match(line)
    )
    turns, _, _ = parse_lines(numbered, lambda n: Where("<text>", n))
    return turns


class TranscriptImporter:
    """Plain-text transcripts, several per file separated by '---' lines."""

    name = "transcript"
    description = "Plain text 'Customer: ...' / 'Agent: ...' lines; '---' between conversations"

    def detect(self, head: bytes, name: str) -> float:
        body = head[len(BOM) :] if head.startswith(BOM) else head
        text = body.decode("utf-8", "replace")
        txt = extension(name) == ".txt"
        for line in text.splitlines():
            if line.strip() and not SEPARATOR.match(line):
                if SPEAKER_LINE.match(line):
                    return 0.8 + (0.1 if txt else 0.0)
                break
        if HAS_SPEAKER_LINE.search(text):
            return 0.5 + (0.1 if txt else 0.0)
        return 0.1 if txt else 0.0

    def read(self, stream: IO[bytes], name: str, strict: bool) -> Iterator[Item]:
        return raising(self._read(stream, name), strict)

    def _read(self, stream: IO[bytes], name: str) -> Iterator[Item]:
        lines = LineReader(stream, name)
        base = stem(name, "transcript")
        section: list[tuple[int, str]] = []
        count = 0
        for line in lines:
            yield from lines.drain()
            if SEPARATOR.match(line):
                if any(t.strip() for _, t in section):
                    count += 1
                    yield from _section(section, name, f"{base}-{count}")
                section = []
            else:
                section.append((lines.line, line))
        yield from lines.drain()
        if any(t.strip() for _, t in section):
            count += 1
            yield from _section(section, name, f"{base}-{count}")


def _section(section: list[tuple[int, str]], name: str, cid: str) -> Iterator[Item]:
    turns, preamble, problems = parse_lines(section, lambda n: Where(name, n))
    yield from problems
    if not turns:
        first = next(n for n, t in section if t.strip())
        if not problems:
            yield Where(name, first).error(
                "no speaker lines ('Customer: ...' / 'Agent: ...') in this conversation; skipped"
            )
        return
    meta: dict[str, Any] = {"preamble": "\n".join(preamble)} if preamble else {}
    yield Conversation(id=cid, channel="text", meta=meta, turns=turns)


importer = TranscriptImporter()
