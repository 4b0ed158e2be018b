"""Lexicons: pattern sets kept as data (YAML), compiled once into one multi-pattern engine.

Every pattern of every lexicon file goes into a single Hyperscan database, scanned once
per turn as a prefilter: it says which few patterns can match, and only those run as
Python regexes to find the exact spans. Without Hyperscan every regex runs (same results,
slower). The compiled database is cached on disk (see `cache_dir`).

Generic context rules are then applied to each hit, as the lexicon entry
asks:

- ``negation``: a negation cue ("not", "never", "won't" ...) in the few words before the
  hit, inside the same clause, cancels it ("I won't tell you it's our policy").
- ``quotes``: a hit inside quotation marks is someone being quoted, not said.
- ``mood``: ``question`` or ``statement`` keeps hits only in sentences of that kind.
- ``unless``: veto patterns; a hit is dropped when one matches in the same sentence.

Detectors add id-specific rules (conversation context) on top, in Python.

Lexicon file format (see ``heard/lexicons/*.yaml``)::

    version: 1
    speakers: [agent]     # whose turns this file's cue sets are scanned on (default all)
    sets:                 # named cue sets, used by rules and other detectors
      negation: ["\\bnot\\b", ...]
    ids:
      X.bare_policy:
        speakers: [agent]
        explanation: cites a policy without its reason
        confidence: 0.75  # default for this id's patterns
        negation: true    # default true
        quotes: true      # default true
        mood: any         # any | statement | question
        patterns:
          - "\\bit'?s (?:our|company) policy\\b"
          - {re: "\\bpolicy (?:says|states)\\b", confidence: 0.6, explanation: ...}
        unless: ["\\bbecause\\b", "\\bso that\\b"]
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import threading
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import yaml

from heard import yamltext
from heard.errors import LexiconError
from heard.files import replaced
from heard.model import Speaker

log = logging.getLogger(__name__)

_hs: Any
try:  # Hyperscan is the fast path; Python's re is the portable fallback.
    import hyperscan as _hs
except ImportError:  # pragma: no cover - exercised only where the wheel is unavailable
    _hs = None

Mood = Literal["any", "statement", "question"]

#: Characters folded before scanning (same length, so spans stay valid).
_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})
_NEG_WINDOW_WORDS = 4
NEG_WINDOW_CHARS = 120  # the few words before a hit lie within this many characters
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True, slots=True)
class Pattern:
    """One compiled lexicon pattern and what a hit of it means."""

    index: int
    kind: Literal["id", "unless", "set"]
    key: str  # catalog id (kind id/unless) or set name (kind set)
    source: str
    confidence: float
    explanation: str
    origin: str  # file:entry, for error messages


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    speakers: frozenset[Speaker]
    explanation: str
    negation: bool
    quotes: bool
    mood: Mood


@dataclass(slots=True)
class Hit:
    """A lexicon hit that survived the generic rules."""

    id: str
    start: int
    end: int
    confidence: float
    explanation: str


@dataclass(slots=True)
class Scan:
    """All raw matches of one text: id hits, veto hits and cue-set hits, by key."""

    ids: dict[str, list[tuple[int, int, Pattern]]] = field(default_factory=dict)
    unless: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    sets: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


class Lexicon:
    """All lexicon files, compiled into one engine."""

    def __init__(self, documents: Sequence[tuple[str, dict[str, Any]]]) -> None:
        self.patterns: list[Pattern] = []
        self.entries: dict[str, Entry] = {}
        self.set_names: set[str] = set()
        self.set_speakers: dict[str, frozenset[Speaker]] = {}
        for origin, doc in documents:
            self._add_document(origin, doc)
        if not self.patterns:
            raise LexiconError("no lexicon patterns were loaded")
        self._compile()

    # -- loading -------------------------------------------------------------------
    def _add_document(self, origin: str, doc: dict[str, Any]) -> None:
        if not isinstance(doc, dict) or doc.get("version") != 1:
            raise LexiconError(f"{origin}: expected a mapping with 'version: 1'")
        # A file's cue sets are scanned on the turns of its `speakers` (default: all).
        doc_speakers = frozenset(Speaker(x) for x in doc.get("speakers") or list(Speaker))
        for name, items in (doc.get("sets") or {}).items():
            self.set_names.add(name)
            known = self.set_speakers.get(name, frozenset())
            self.set_speakers[name] = known | doc_speakers
            for src in _as_list(items, f"{origin}: sets.{name}"):
                self._pattern("set", name, src, 1.0, "", f"{origin}: sets.{name}")
        for id, spec in (doc.get("ids") or {}).items():
            where = f"{origin}: ids.{id}"
            if not isinstance(spec, dict):
                raise LexiconError(f"{where}: expected a mapping")
            unknown = set(spec) - {
                "speakers",
                "explanation",
                "confidence",
                "negation",
                "quotes",
                "mood",
                "patterns",
                "unless",
                "notes",
            }
            if unknown:
                raise LexiconError(f"{where}: unknown keys {sorted(unknown)}")
            speakers = frozenset(Speaker(s) for s in spec.get("speakers", ["customer", "agent"]))
            explanation = str(spec.get("explanation", id))
            mood = spec.get("mood", "any")
            if mood not in ("any", "statement", "question"):
                raise LexiconError(f"{where}: mood must be any, statement or question")
            if id in self.entries:
                # a second file may extend an id (e.g. a team's own phrases)
                base = self.entries[id]
                speakers = base.speakers | speakers
            self.entries[id] = Entry(
                id=id,
                speakers=speakers,
                explanation=explanation,
                negation=bool(spec.get("negation", True)),
                quotes=bool(spec.get("quotes", True)),
                mood=mood,
            )
            default_conf = float(spec.get("confidence", 0.75))
            for item in spec.get("patterns") or []:
                if isinstance(item, str):
                    self._pattern("id", id, item, default_conf, explanation, where)
                elif isinstance(item, dict) and "re" in item:
                    self._pattern(
                        "id",
                        id,
                        str(item["re"]),
                        float(item.get("confidence", default_conf)),
                        str(item.get("explanation", explanation)),
                        where,
                    )
                else:
                    raise LexiconError(f"{where}: a pattern must be a string or {{re: ...}}")
            for src in _as_list(spec.get("unless") or [], f"{where}.unless"):
                self._pattern("unless", id, src, 1.0, "", f"{where}.unless")

    def _pattern(
        self,
        kind: Literal["id", "unless", "set"],
        key: str,
        src: str,
        conf: float,
        explanation: str,
        origin: str,
    ) -> None:
        try:
            re.compile(src)
        except re.error as exc:
            raise LexiconError(f"{origin}: pattern {src!r} does not compile: {exc}") from None
        if "(?=" in src or "(?!" in src or "(?<" in src:
            raise LexiconError(
                f"{origin}: pattern {src!r} uses a look-around",
                hint="use an 'unless' veto pattern or a negation rule instead",
            )
        self.patterns.append(Pattern(len(self.patterns), kind, key, src, conf, explanation, origin))

    def _compile(self) -> None:
        # Python regexes give the exact spans (and are the whole engine without
        # Hyperscan); Hyperscan, when present, is a prefilter telling which few
        # patterns can match a text at all, so only those regexes run. Each speaker has
        # its own database of the patterns that can apply to its turns.
        self._regexes: list[re.Pattern[str]] = [re.compile(p.source, re.I) for p in self.patterns]
        # On an ASCII text, a pattern with no upper-case letter (and nothing else whose
        # meaning depends on case) finds the same spans case-sensitively in the lower-cased
        # text as case-insensitively in the text, and several times faster.
        lower_regexes: list[re.Pattern[str] | None] = [
            re.compile(p.source) if _lower_safe(p.source) else None for p in self.patterns
        ]
        # Per pattern, what `scan` needs, in one tuple (one index instead of several):
        # its key's group number, kind (0 id, 1 unless, 2 set), key, the pattern, the regex
        # to run on an ASCII text and whether it runs on the lower-cased text (True) or
        # the text itself, the regex for other texts, and whether it can match empty.
        kinds = {"id": 0, "unless": 1, "set": 2}
        self._group_ids: tuple[dict[str, int], dict[str, int], dict[str, int]] = ({}, {}, {})
        self._plans: list[
            tuple[int, int, str, Pattern, re.Pattern[str], bool, re.Pattern[str], bool]
        ] = []
        for p, fast, slow in zip(self.patterns, lower_regexes, self._regexes, strict=True):
            kind = kinds[p.kind]
            numbers = self._group_ids[kind]
            if p.key not in numbers:
                numbers[p.key] = sum(len(g) for g in self._group_ids)
            self._plans.append(
                (
                    numbers[p.key],
                    kind,
                    p.key,
                    p,
                    fast or slow,
                    fast is not None,
                    slow,
                    _may_match_empty(slow),
                )
            )
        self._by_speaker: dict[Speaker, list[Pattern]] = {
            sp: [p for p in self.patterns if sp in self.pattern_speakers(p)] for sp in Speaker
        }
        self._dbs: dict[Speaker, Any] = {}
        self._local = threading.local()
        self._lock = threading.Lock()
        if _hs is not None:  # compile (or load) now, so errors surface at load time
            for sp in Speaker:
                self._database(sp)

    def pattern_speakers(self, p: Pattern) -> frozenset[Speaker]:
        if p.kind == "set":
            return self.set_speakers.get(p.key, frozenset(Speaker))
        return self.entries[p.key].speakers

    @property
    def engine(self) -> str:
        return "hyperscan" if _hs is not None else "re"

    def _database(self, speaker: Speaker) -> Any:
        db = self._dbs.get(speaker)
        if db is None and self._by_speaker[speaker]:
            with self._lock:
                db = self._dbs.get(speaker)
                if db is None:
                    db = _hyperscan_database(self._by_speaker[speaker])
                    self._dbs[speaker] = db
        return db

    def _scratch(self, speaker: Speaker, db: Any) -> Any:
        # Hyperscan scratch space is per thread (the API server scans from worker threads).
        cache: dict[Speaker, Any] | None = getattr(self._local, "scratch", None)
        if cache is None:
            cache = self._local.scratch = {}
        scratch = cache.get(speaker)
        if scratch is None:
            scratch = cache[speaker] = _hs.Scratch(db)
        return scratch

    # -- scanning ------------------------------------------------------------------
    def candidates(self, folded: str, speaker: Speaker | None = None) -> list[int]:
        """Indexes of the patterns that may match `folded` in a turn by `speaker`, in
        increasing order (lexicon order: the order `scan` breaks ties in).

        Without Hyperscan: every pattern that applies to the speaker. With it, the order
        Hyperscan reports matches in is its own (not by pattern, and free to change with
        any lexicon edit or Hyperscan version), so the reported indexes are sorted: the
        results must not depend on it, and equal the ones without Hyperscan.
        """
        if speaker is None:
            return sorted({i for sp in Speaker for i in self.candidates(folded, sp)})
        if _hs is None:
            return [p.index for p in self._by_speaker[speaker]]
        db = self._database(speaker)
        if db is None:
            return []
        ids: list[int] = []
        db.scan(
            folded.encode("utf-8", "replace"),
            match_event_handler=lambda pid, s, e, f, c: ids.append(pid),
            scratch=self._scratch(speaker, db),
        )
        ids.sort()
        return ids

    def scan(self, text: str, speaker: Speaker | None = None) -> Scan:
        """Every match in `text` of the patterns for `speaker` (all when None)."""
        ascii = text.isascii()
        folded = text if ascii else _fold(text)
        out = Scan()
        if not folded:
            return out  # nothing can match (empty matches are never kept)
        pids = self.candidates(folded, speaker)
        if not pids:
            return out
        lowered = folded.lower() if ascii else folded
        plans = self._plans
        ids = out.ids
        others = (out.unless, out.unless, out.sets)  # by kind; kind 0 (id) uses `ids`
        span = _SPAN
        # The matches of one pattern (finditer) do not overlap and come in text order, so
        # all are kept. As if all matches were sorted by (start, longest first; ties in
        # lexicon order, the first pattern first) and then grouped: each key's list is put
        # in that order and the keys are ordered by their first match. So of two patterns
        # matching the same span, the one earlier in the lexicon files (file name order,
        # then YAML order) comes first, and its hit is the one a detector keeps.
        first: dict[int, tuple[int, int, int]] = {}
        several = False  # a key got matches of more than one pattern
        for rank, pid in enumerate(pids):
            group_id, kind, key, p, ascii_regex, on_lowered, regex, empty = plans[pid]
            # map(Match.span, ...) runs in C: no Python frame per match
            if ascii:
                spans = list(map(span, ascii_regex.finditer(lowered if on_lowered else folded)))
            else:
                spans = list(map(span, regex.finditer(folded)))
            if empty:
                spans = [sp for sp in spans if sp[1] > sp[0]]
            if not spans:
                continue
            head = (spans[0][0], -spans[0][1], rank)
            old = first.get(group_id)
            if old is None:
                first[group_id] = head
                if kind == 0:
                    ids[key] = [(s, e, p) for s, e in spans]
                else:
                    others[kind][key] = spans
                continue
            several = True
            if head < old:
                first[group_id] = head
            if kind == 0:
                ids[key].extend([(s, e, p) for s, e in spans])
            else:
                others[kind][key].extend(spans)
        if several:
            for matches in ids.values():
                if len(matches) > 1:
                    matches.sort(key=_id_order)
            for group in (out.unless, out.sets):
                for found_spans in group.values():
                    if len(found_spans) > 1:
                        found_spans.sort(key=_span_order)
        if len(first) > 1:
            group_ids = self._group_ids
            if len(ids) > 1:
                _order_keys(ids, group_ids[0], first)
            if len(out.unless) > 1:
                _order_keys(out.unless, group_ids[1], first)
            if len(out.sets) > 1:
                _order_keys(out.sets, group_ids[2], first)
        return out


_SPAN = re.Match.span


def _may_match_empty(regex: re.Pattern[str]) -> bool:
    """Whether `regex` may match the empty string somewhere (its empty matches are then
    filtered out; the others skip that filter). Conservative: True when unsure."""
    parser: Any = getattr(re, "_parser", None)  # the parser `re` itself uses (3.11+)
    if parser is None:  # pragma: no cover - a Python without it
        return True
    try:
        return bool(parser.parse(regex.pattern, regex.flags).getwidth()[0] == 0)
    except Exception:  # pragma: no cover - defensive: never fail a load over this
        return True


_FOLD_PAIRS = tuple((chr(k), v) for k, v in _FOLD.items())


def _fold(text: str) -> str:
    """``text.translate(_FOLD)``, by a few C-level replaces (translate walks each char)."""
    for old, new in _FOLD_PAIRS:
        if old in text:
            text = text.replace(old, new)
    return text


def _order_keys(group: dict[str, Any], ids: dict[str, int], first: dict[int, Any]) -> None:
    """Put the keys of `group` in the order of their first match."""
    if len(group) < 2:
        return
    keys = list(group)
    ordered = sorted(keys, key=lambda k: first[ids[k]])
    if ordered != keys:
        items = [(k, group[k]) for k in ordered]
        group.clear()
        group.update(items)


#: Escapes whose meaning does not depend on case (classes, anchors, escaped punctuation).
_CASELESS_ESCAPES = frozenset("bBwWsSdDAZnrtfv") | frozenset("\\.^$*+?{}[]()|-/'\" ,:;!@#%&=<>~`_")


def _lower_safe(source: str) -> bool:
    """Whether `source` (compiled case-insensitively) can run case-sensitively on
    lower-cased ASCII text with the same matches: ASCII only, no inline flags or other
    ``(?`` groups but ``(?:``, no escape that stands for a letter (hex, octal, named), and no
    upper-case letter outside the case-independent escapes (``\\S``, ``\\W``, ``\\B``...)."""
    if not source.isascii():
        return False
    if source.replace("(?:", "").find("(?") >= 0:
        return False
    i = 0
    n = len(source)
    while i < n:
        c = source[i]
        if c == "\\":
            if i + 1 >= n or source[i + 1] not in _CASELESS_ESCAPES:
                return False
            i += 2
            continue
        if "A" <= c <= "Z":
            return False
        i += 1
    return True


def _id_order(m: tuple[int, int, Pattern]) -> tuple[int, int]:
    return (m[0], -m[1])


def _span_order(m: tuple[int, int]) -> tuple[int, int]:
    return (m[0], -m[1])


def _as_list(items: Any, where: str) -> list[str]:
    if isinstance(items, str):
        return [items]
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise LexiconError(f"{where}: expected a list of pattern strings")
    return list(items)


def _failing_index(message: str) -> int | None:
    m = re.search(r"(?:expression|pattern)\D*(\d+)", message, re.I)
    return int(m.group(1)) if m else None


#: Hyperscan flags: caseless, one report per pattern per scan, prefilter semantics (a
#: superset of the regex's matches; Python's re then finds the exact spans).
def _hs_flags() -> int:
    # UTF8: a non-ASCII character (in a class such as [£€] or matched by '.') is one
    # character, as for Python's re; without it the prefilter would miss such matches.
    return int(
        _hs.HS_FLAG_CASELESS | _hs.HS_FLAG_SINGLEMATCH | _hs.HS_FLAG_PREFILTER | _hs.HS_FLAG_UTF8
    )


def cache_dir() -> Path:
    """Where compiled pattern databases are cached (HEARD_CACHE_DIR overrides)."""
    env = os.environ.get("HEARD_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("heard"))


def _hyperscan_database(patterns: Sequence[Pattern]) -> Any:
    """Compile (or load from the on-disk cache) one Hyperscan database of all patterns.

    Compiling some thousand patterns takes seconds, so the serialised database is cached,
    keyed by the patterns with the ids they report (their index in the whole lexicon: an
    edit elsewhere shifts the indexes of patterns whose text did not change), the flags and
    the Hyperscan version; a damaged or unwritable cache only costs a recompile.
    """
    flags = _hs_flags()
    key = hashlib.sha256()
    key.update(f"{getattr(_hs, '__version__', '?')}|{flags}|".encode())
    for p in patterns:
        key.update(f"{p.index}:".encode() + p.source.encode("utf-8") + b"\x00")
    path = cache_dir() / f"lexicon-{key.hexdigest()[:24]}.hsdb"
    with contextlib.suppress(Exception):
        if path.is_file():
            return _hs.loadb(path.read_bytes(), _hs.HS_MODE_BLOCK)
    log.info(
        "compiling %d lexicon patterns into a Hyperscan database (once; cached in %s)",
        len(patterns),
        path.parent,
    )
    db = _hs.Database()
    try:
        db.compile(
            expressions=[p.source.encode("utf-8") for p in patterns],
            ids=[p.index for p in patterns],
            elements=len(patterns),
            flags=[flags] * len(patterns),
        )
    except Exception as exc:  # hyperscan.error names the failing expression's index
        bad = _failing_index(str(exc))
        where = patterns[bad].origin if bad is not None and bad < len(patterns) else "a lexicon"
        raise LexiconError(f"{where}: Hyperscan could not compile: {exc}") from None
    with contextlib.suppress(OSError), replaced(path) as tmp:
        tmp.write_bytes(_hs.dumpb(db))
    return db


def builtin_documents() -> list[tuple[str, dict[str, Any]]]:
    """The lexicon files shipped in ``heard/lexicons``, in name order."""
    root = resources.files("heard.lexicons")
    docs = []
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if item.name.endswith((".yaml", ".yml")):
            docs.append((item.name, yaml.safe_load(item.read_text(encoding="utf-8"))))
    return docs


def load_documents(paths: Iterable[Path]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in paths:
        try:
            out.append((str(path), yamltext.load(path.read_text(encoding="utf-8"))))
        except yaml.YAMLError as exc:
            raise LexiconError(f"{path}: not valid YAML: {exc}") from None
    return out


@lru_cache(maxsize=1)
def builtin_lexicon() -> Lexicon:
    """The shipped lexicons, compiled once per process."""
    return Lexicon(builtin_documents())


# -- generic context rules --------------------------------------------------------------


def inside_quotes(text: str, start: int, sent_start: int) -> bool:
    """True when `start` lies inside a double-quoted passage of its sentence or turn.

    Straight quotes pair by count (an odd number before `start` means one is open).
    Curly quotes say which way they face, so an opening one left unclosed earlier in the
    turn ('he said \u201cin a year, then later \u201cthat'll be $560\u201d') does not flip
    every later passage inside out: `start` is inside when the last curly quote before it
    opens. Text that uses only closing marks (\u201d...\u201d, as some keyboards write)
    pairs them by count.
    """
    # counted in place (no folded copy of the prefix): cheap for every hit of a long turn
    if text.count('"', 0, start) % 2 == 1:
        return True
    opened = text.rfind("\u201c", 0, start)
    if opened < 0:
        return text.count("\u201d", 0, start) % 2 == 1
    return opened > text.rfind("\u201d", 0, start)


def is_question(text: str, sent: tuple[int, int]) -> bool:
    return text[sent[0] : sent[1]].rstrip().endswith("?")


def negated(scan: Scan, text: str, start: int, clause_start: int) -> bool:
    """A negation cue among the few words before `start` in the same clause."""
    cues = scan.sets.get("negation")
    if not cues:
        return False
    window_start = start
    lo = max(clause_start, start - NEG_WINDOW_CHARS)  # in a long clause only its end matters
    for words, m in enumerate(reversed(list(_WORD.finditer(text, lo, start))), 1):
        window_start = m.start()
        if words >= _NEG_WINDOW_WORDS:
            break
    # cues are sorted by start: bisect to the window instead of testing every cue
    for s, e in islice(cues, bisect_left(cues, (window_start, -1)), None):
        if s >= start:
            return False
        if e <= start:
            return True
    return False
