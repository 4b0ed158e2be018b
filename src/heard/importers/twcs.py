"""The Kaggle "Customer Support on Twitter" (TWCS) tweet CSV.

Columns: tweet_id, author_id, inbound, created_at, text, response_tweet_id,
in_response_to_tweet_id. A conversation is a thread: a root tweet (one that replies to
nothing) and every tweet that replies to it, directly or not, ordered by created_at.
The whole file is read before the first thread is yielded, since replies may come
before the tweets they answer.

- A reply whose parent is not in the file starts its own thread; the thread's meta
  names the missing tweet (``missing_parent``), since the sample files are cut.
- ``inbound`` True is the customer; other tweets are the company's agents, whose
  ``agent_id`` is the author (the company handle).
- Leading ``@handle`` mentions are taken out of the text into the turn's ``mentions``;
  an agent's sign-off (``^AB``, ``-AB``, ``/AB``, ``*AB``, ``- Name``) goes to
  ``signature``. Each turn also keeps ``tweet_id`` (and ``in_response_to``).
- The conversation id is the root tweet id; meta holds the ``company`` handle and the
  ``customer`` (the root's author when the root is the customer's).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from heard.errors import RowError
from heard.importers.base import Item, Where, build_turn, raising, read_ts
from heard.importers.lines import LineReader
from heard.importers.tabular import Records, not_csv_penalty, ragged, sniff_head
from heard.model import Conversation, Speaker, Turn

COLUMNS: dict[str, tuple[str, ...]] = {
    c: (c,)
    for c in ("tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id")
}
REQUIRED = tuple(COLUMNS)
WHAT = "a TWCS tweet CSV"

_MENTIONS = re.compile(r"^\.?(?:@(\w+)[\s,:]*)+")
_HANDLE = re.compile(r"@(\w+)")
#: A sign-off at the end of an agent tweet, possibly followed by links or a part counter
#: ('2/2'). '^' may touch the word before it; '-', '/', '*', '~' need a space or
#: punctuation before them and a capital after (so 'T-Mobile' or '1/2' are not signatures).
_SIGNATURE = re.compile(
    r"(?:\^[ ]?(?P<caret>[A-Za-z]{1,25})|(?<![\w@#])[-–—/*~][ ]?(?P<sig>[A-Z][A-Za-z]{0,24}))"
    r"(?P<tail>(?:\s+(?:https?://\S+|\d/\d))*)\s*$"
)
_TRUE = frozenset({"true", "1", "yes", "t"})
_FALSE = frozenset({"false", "0", "no", "f"})


def split_mentions(text: str) -> tuple[list[str], str]:
    """The leading ``@handle`` mentions of a tweet, and the text after them."""
    m = _MENTIONS.match(text)
    if not m:
        return [], text
    return _HANDLE.findall(m.group(0)), text[m.end() :]


def split_signature(text: str) -> tuple[str | None, str]:
    """An agent's trailing sign-off (``^KC`` -> ``KC``), and the text without it."""
    m = _SIGNATURE.search(text)
    if not m:
        return None, text
    body = (text[: m.start()].rstrip() + m.group("tail")).strip()
    if not body:
        return None, text
    return m.group("caret") or m.group("sig"), body


def tweet_id(value: str) -> str:
    """A tweet id as written, minus a float export's '.0' ('3.0' -> '3')."""
    value = value.strip()
    return value[:-2] if value.endswith(".0") and value[:-2].isdigit() else value


@dataclass(slots=True)
class _Tweet:
    id: str
    author: str
    speaker: Speaker
    ts: datetime | None
    text: str
    parent: str
    line: int
    order: int


class TwcsImporter:
    """Twitter customer-support threads (Kaggle TWCS)."""

    name = "twcs"
    description = "Kaggle TWCS tweet CSV; threads rebuilt from in_response_to_tweet_id"

    def detect(self, head: bytes, name: str) -> float:
        sniffed = sniff_head(head)
        if sniffed is None:
            return 0.0
        keys = set(sniffed[0].keys)
        if set(REQUIRED) <= keys:
            return 0.99 * not_csv_penalty(name)
        if {"tweet_id", "inbound"} <= keys and len(keys & set(REQUIRED)) >= 4:
            return 0.6 * not_csv_penalty(name)  # a TWCS file missing a column: say which
        return 0.0

    def read(self, stream: IO[bytes], name: str, strict: bool) -> Iterator[Item]:
        return raising(self._read(stream, name), strict)

    def _read(self, stream: IO[bytes], name: str) -> Iterator[Item]:
        records = Records(LineReader(stream, name))
        yield from records.problems
        if records.header is None:
            return
        header = records.header
        cols = header.require(COLUMNS, REQUIRED, name, WHAT)
        tweets: dict[str, _Tweet] = {}
        for item in records:
            if isinstance(item, RowError):
                yield item
                continue
            line, row = item
            where = Where(name, line)
            why = ragged(row, header, cols)
            if why is not None:
                yield where.error(f"{why}; row skipped")
                continue
            tid = tweet_id(row[cols["tweet_id"]])
            if not tid:
                yield where.error("empty tweet_id; row skipped", "tweet_id")
                continue
            if tid in tweets:
                first = tweets[tid].line
                yield where.error(
                    f"duplicate tweet_id {tid} (first on line {first}); row skipped", "tweet_id"
                )
                continue
            flag = row[cols["inbound"]].strip().lower()
            if flag in _TRUE:
                speaker = Speaker.customer
            elif flag in _FALSE:
                speaker = Speaker.agent
            else:
                yield where.error(
                    f"inbound must be True or False, found {flag!r}; row skipped", "inbound"
                )
                continue
            ts, problems = read_ts(row[cols["created_at"]], where, "created_at")
            yield from problems
            tweets[tid] = _Tweet(
                id=tid,
                author=row[cols["author_id"]].strip(),
                speaker=speaker,
                ts=ts,
                text=row[cols["text"]],
                parent=tweet_id(row[cols["in_response_to_tweet_id"]]),
                line=line,
                order=len(tweets),
            )
        yield from _threads(tweets, name)


def _threads(tweets: dict[str, _Tweet], name: str) -> Iterator[Item]:
    children: dict[str, list[_Tweet]] = {}
    roots: list[_Tweet] = []
    for t in tweets.values():
        if t.parent and t.parent in tweets and t.parent != t.id:
            children.setdefault(t.parent, []).append(t)
        else:
            roots.append(t)
    seen: set[str] = set()
    for root in roots:
        # Depth-first, remembering for each tweet the time to sort it by: its own, or
        # (when it has none) its parent's, so an undated reply stays after what it answers.
        order: list[tuple[float, int, _Tweet]] = []
        stack: list[tuple[_Tweet, float]] = [(root, float("-inf"))]
        while stack:
            t, parent_time = stack.pop()
            if t.id in seen:
                continue
            seen.add(t.id)
            when = t.ts.timestamp() if t.ts is not None else parent_time
            order.append((when, len(order), t))
            stack.extend((c, when) for c in reversed(children.get(t.id, ())))
        order.sort(key=lambda x: (x[0], x[1]))
        yield from _conversation(root, [t for _, _, t in order], name)
    for t in tweets.values():
        if t.id not in seen:
            yield Where(name, t.line).error(
                f"tweet {t.id} replies in a cycle that reaches no first tweet; row skipped",
                "in_response_to_tweet_id",
            )


def _conversation(root: _Tweet, thread: list[_Tweet], name: str) -> Iterator[Item]:
    turns: list[Turn] = []
    company: list[str] = []
    for t in thread:
        extra: dict[str, Any] = {"tweet_id": t.id}
        if t.parent:
            extra["in_response_to"] = t.parent
        mentions, text = split_mentions(t.text)
        if mentions:
            extra["mentions"] = mentions
        agent_id = None
        if t.speaker is Speaker.agent:
            signature, text = split_signature(text)
            if signature:
                extra["signature"] = signature
            agent_id = t.author or None
            if t.author and t.author not in company:
                company.append(t.author)
        elif t.author:
            extra["author_id"] = t.author
        if mentions and not text.strip():
            yield Where(name, t.line).error("the tweet holds only @mentions; turn skipped", "text")
            continue
        turn, problems = build_turn(
            t.speaker, text, Where(name, t.line), ts=t.ts, agent_id=agent_id, extra=extra
        )
        yield from problems
        if turn is not None:
            turns.append(turn)
    if not turns:
        return
    meta: dict[str, Any] = {}
    if company:
        meta["company"] = company[0]
        if len(company) > 1:
            meta["companies"] = company
    customer = next((t.author for t in thread if t.speaker is Speaker.customer and t.author), None)
    if customer:
        meta["customer"] = customer
    if root.parent:
        meta["missing_parent"] = root.parent
    yield Conversation(id=root.id, channel="twitter", meta=meta, turns=turns)


importer = TwcsImporter()
