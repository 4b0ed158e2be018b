"""The importers heard knows: those registered under the ``heard.importers`` entry point
group (the built-in ones are registered there too, in pyproject.toml), and how a file's
format is chosen among them.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from importlib import import_module
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import TYPE_CHECKING

from heard.errors import FormatError
from heard.importers.base import Importer

if TYPE_CHECKING:
    from collections.abc import Mapping

ENTRY_POINT_GROUP = "heard.importers"

#: Built-in importers, in the order that breaks ties between equal detection scores.
BUILTIN: tuple[tuple[str, str], ...] = (
    ("twcs", "heard.importers.twcs"),
    ("abcd", "heard.importers.abcd"),
    ("transcript_csv", "heard.importers.transcript_csv"),
    ("csv", "heard.importers.long_csv"),
    ("jsonl", "heard.importers.jsonl"),
    ("transcript", "heard.importers.transcript"),
)

#: Other names people use for a format.
ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "json": "jsonl",
        "ndjson": "jsonl",
        "txt": "transcript",
        "text": "transcript",
        "tweets": "twcs",
    }
)


def _usable(obj: object) -> Importer | None:
    if isinstance(obj, type):
        try:
            obj = obj()
        except Exception:  # a plugin's constructor can fail any way; skip it, say why below
            return None
    return obj if isinstance(obj, Importer) and isinstance(obj.name, str) else None


@lru_cache(maxsize=1)
def formats() -> Mapping[str, Importer]:
    """Every importer by name: built-ins first (in BUILTIN order), then plugins by name.

    Each ``heard.importers`` entry point names an importer object (or a class making
    one). When the package runs from a source tree without metadata the built-ins are
    imported directly. A plugin that fails to load, or reuses a taken name, is skipped
    with a warning rather than breaking every import.
    """
    found: dict[str, Importer] = {}
    eps = {
        ep.name: ep for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    }
    for name, module in BUILTIN:
        ep = eps.pop(name, None)
        obj = _load(ep) if ep is not None else None
        if obj is None:
            obj = _usable(import_module(module).importer)
        if obj is not None:
            found[name] = obj
    for name, ep in eps.items():
        obj = _load(ep)
        if obj is None:
            continue
        if obj.name != name or name in found:
            warnings.warn(
                f"importer entry point '{name}' ({ep.value}) is named '{obj.name}' or reuses a "
                "taken name; skipped",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        found[name] = obj
    return MappingProxyType(found)


def _load(ep: EntryPoint) -> Importer | None:
    try:
        obj = _usable(ep.load())
    except Exception as exc:  # a broken plugin must not stop the built-in importers
        warnings.warn(
            f"importer entry point '{ep.name}' failed to load: {exc}", RuntimeWarning, stacklevel=3
        )
        return None
    if obj is None:
        warnings.warn(
            f"importer entry point '{ep.name}' ({ep.value}) is not an importer (it needs name, "
            "detect and read); skipped",
            RuntimeWarning,
            stacklevel=3,
        )
    return obj


def known() -> str:
    return ", ".join(formats())


def get(name: str) -> Importer:
    """The importer for a format name (or alias); FormatError (E003) listing the known ones."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    found = formats().get(key)
    if found is None:
        raise FormatError(f"unknown format '{name}'; known formats: {known()}")
    return found


def rank(head: bytes, name: str) -> list[tuple[str, float]]:
    """Every format with its detection confidence, best first (ties in registry order)."""
    scores: list[tuple[str, float]] = []
    for fmt, imp in formats().items():
        try:
            score = float(imp.detect(head, name))
        except Exception:  # a plugin's detect that breaks only loses the vote
            score = 0.0
        scores.append((fmt, max(0.0, min(1.0, score))))
    order = {fmt: i for i, fmt in enumerate(formats())}
    return sorted(scores, key=lambda s: (-s[1], order[s[0]]))


def choose(head: bytes, name: str) -> str:
    """The format of a file from its head and name; FormatError when nothing fits."""
    ranked = rank(head, name)
    if ranked and ranked[0][1] > 0.0:
        return ranked[0][0]
    shown = head[:60].decode("utf-8", "replace")
    if _binary(shown):
        what = "it is not text: binary data, or an encoding other than UTF-8/UTF-16"
    else:
        what = f"it starts with {shown!r}"  # repr shows a newline as \n
    raise FormatError(
        f"cannot tell the format of '{name or '<data>'}' ({what}); known formats: {known()}",
        hint="pass format= (CLI: --input-format) to choose one",
    )


def _binary(sample: str) -> bool:
    """Whether a file's first characters (decoded with replacement) are not text: more than
    a couple of undecodable bytes or control characters."""
    odd = sum(1 for c in sample[:-1] if c == "\ufffd" or (c < " " and c not in "\t\r\n"))
    return odd > 2
