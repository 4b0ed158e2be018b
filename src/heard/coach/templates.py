"""Filling the coach's ``{slot}`` templates, and tidying the text that comes out.

A template is used only when every slot it names has a value: a reply never says "about
None". ``⟨…⟩`` placeholders are left for the agent (an estimate, a time only they know)
and listed so an interface can highlight them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from heard.coach.data import slots_of

_PLACEHOLDER = re.compile(r"⟨[^⟩]*⟩")
_SENTENCE_START = re.compile(r"(^|(?<!e\.g)(?<!i\.e)[.!?]\s+)([a-z])")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_LOWER_FIRST = _words(
    """your you you're you've you'll you'd it it's its that the this these those there
    there's on in at a an if when now we we're our my his her their they they're
    she he she's he's nothing everything someone"""
)


def mid_sentence(text: str) -> str:
    """`text` for use inside a sentence: "Your dad's alarm" -> "your dad's alarm"."""
    first, _, rest = text.partition(" ")
    if first.lower().replace("’", "'") in _LOWER_FIRST and first[:1].isupper():
        return first[0].lower() + first[1:] + (" " + rest if rest else "")
    return text


def lower_first(text: str) -> str:
    """Company text used mid-sentence: "Warm transfer to ..." -> "warm transfer to ..."."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[0].isupper() and first[1:].islower() and first != "I":
        return text[0].lower() + text[1:]
    return text


def tidy(text: str) -> str:
    """Collapse spaces, fix spaces before punctuation, capitalise sentence starts."""
    out = re.sub(r"\s+", " ", text).strip()
    out = re.sub(r"\s+([,.;:!?])", r"\1", out)
    out = re.sub(r"([.!?])\1+", r"\1", out)
    out = re.sub(r"\.\s*…", " …", out)
    out = _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), out)
    return out


def fill(template: str, slots: Mapping[str, str | None]) -> str | None:
    """The template with its slots filled, or None when one of them has no value."""
    values: dict[str, str] = {}
    for name in slots_of(template):
        value = slots.get(name)
        if value is None or not str(value).strip():
            return None
        values[name] = str(value)
    try:
        return tidy(template.format_map(values))
    except (KeyError, ValueError, IndexError):
        return None


def first_filled(templates: Sequence[str], slots: Mapping[str, str | None]) -> str | None:
    """The first of `templates` whose slots can all be filled."""
    for t in templates:
        got = fill(t, slots)
        if got is not None:
            return got
    return None


def placeholders(text: str) -> list[str]:
    """The ``⟨…⟩`` placeholders left in a text, in order."""
    return _PLACEHOLDER.findall(text)


__all__ = ["fill", "first_filled", "lower_first", "mid_sentence", "placeholders", "tidy"]
