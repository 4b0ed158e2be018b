"""Timestamps as exports write them, read into timezone-aware datetimes.

Accepted forms:

- ISO 8601 (``2026-01-02T10:00:00Z``, ``2026-01-02 10:00:00+01:00``, ``2026-01-02``);
- the Twitter / TWCS form ``Tue Oct 31 22:10:47 +0000 2017``;
- RFC 2822 e-mail dates (``Tue, 31 Oct 2017 22:10:47 +0000``);
- Unix epoch seconds (or milliseconds) as a number or a string of 10 or 13 digits.

A timestamp without a zone is taken as UTC, so every datetime heard holds can be compared
with every other. Anything else raises ValueError; importers turn that into a problem and
keep the turn with ``ts=None``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_TWITTER = re.compile(
    r"^[A-Za-z]{3} ([A-Za-z]{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$"
)
_EPOCH = re.compile(r"^\d{10}(?:\d{3})?(?:\.\d+)?$")
#: Epoch values above this are taken as milliseconds (1e11 s is the year 5138).
_MS_THRESHOLD = 100_000_000_000


@lru_cache(maxsize=64)
def _zone(sign: str, hours: int, minutes: int) -> timezone:
    if hours == 0 and minutes == 0:
        return UTC
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if sign == "-" else delta)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _from_epoch(seconds: float) -> datetime:
    if seconds > _MS_THRESHOLD:
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"epoch value {seconds!r} is out of range") from exc


def parse_timestamp(value: object) -> datetime:
    """A timezone-aware datetime from a string, number or datetime; ValueError otherwise."""
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, bool):
        raise ValueError("a boolean is not a timestamp")
    if isinstance(value, int | float):
        if value != value or value < 0:  # NaN or before 1970: not a plausible epoch
            raise ValueError(f"{value!r} is not a plausible epoch timestamp")
        return _from_epoch(float(value))
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp string, found {type(value).__name__}")
    text = value.strip()
    if not text:
        raise ValueError("empty timestamp")
    m = _TWITTER.match(text)
    if m:
        mon, day, hh, mm, ss, sign, oh, om, year = m.groups()
        month = _MONTHS.get(mon.lower())
        if month is None:
            raise ValueError(f"unknown month {mon!r} in {text!r}")
        return datetime(
            int(year),
            month,
            int(day),
            int(hh),
            int(mm),
            int(ss),
            tzinfo=_zone(sign, int(oh), int(om)),
        )
    if _EPOCH.match(text):
        return _from_epoch(float(text))
    try:
        return _aware(datetime.fromisoformat(text))
    except ValueError:
        pass
    if "," in text or text[:3].isalpha():
        try:
            return _aware(parsedate_to_datetime(text))
        except (TypeError, ValueError, IndexError):
            pass
    shown = text if len(text) <= 40 else text[:37] + "..."
    raise ValueError(
        f"unreadable timestamp {shown!r} (use ISO 8601 such as 2026-01-02T10:00:00Z, "
        "or the Twitter form 'Tue Oct 31 22:10:47 +0000 2017')"
    )
