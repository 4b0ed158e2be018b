"""The playbook validator: every problem in a playbook file, numbered, with its line.

``validate(text_or_data, source)`` returns a list of `Problem`; it never raises on bad
input. Problem codes are stable (``PROBLEMS``; the table is in ``docs/playbooks.md``) so a
team can look one up. Lines come from the YAML node marks, so a problem points at the key
or list item at fault. Catalog ids are checked against ``heard.catalog``.

Checks run in two passes that do not repeat each other: the *structural* pass is the
pydantic schema (types, required and unknown keys, weights, policy reasons); the
*semantic* pass reads the raw data for what a schema cannot say (catalog ids and their
kinds, conditions, duplicates, authority levels, escalation direction, ``extends``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from heard import yamltext
from heard.catalog import catalog
from heard.scoring.conditions import ConditionSyntaxError, parse_condition
from heard.scoring.playbook import (
    BUILTIN_PLAYBOOKS,
    DEFAULT_AUTHORITY_LEVELS,
    EscalationPath,
    Playbook,
    PlaybookFile,
    Policy,
    Remedy,
    RemedyLimits,
    Step,
    builtin,
    builtin_name,
)

#: Every problem code and what it means (stable; documented in docs/playbooks.md).
PROBLEMS: dict[str, str] = {
    "P001": "not YAML (or not UTF-8 text, or a YAML alias): the parser's message and line",
    "P002": "a value of the wrong type or form, or a file that is not a mapping",
    "P003": "an unknown catalog id, with the closest known one",
    "P004": "an unknown key, with the closest allowed one",
    "P005": "a required key is missing",
    "P006": "a duplicate: step, remedy or policy id, escalation path, or YAML key",
    "P007": "a weight that is not a positive number",
    "P008": "authority_levels is empty or repeats a level",
    "P009": "a remedy or escalation path names an authority level the playbook does not have",
    "P010": "extends names a playbook that is not built in",
    "P011": "an applies_when condition heard cannot read",
    "P012": "an id of the wrong kind in a step (steps read agent ids only)",
    "P013": "a step that cannot be judged as written",
    "P014": "an escalation path that does not go up",
    "P015": "framework is not a known F.* id",
    "P016": "a policy reason other than safety, efficiency or fairness",
    "P017": "drop_steps names a step the extended playbook does not have",
    "P018": "the playbook has no steps",
}

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One numbered, actionable problem in a playbook."""

    code: str
    message: str
    line: int | None = None
    source: str = "<playbook>"

    def __str__(self) -> str:
        where = f" line {self.line}" if self.line is not None else ""
        return f"{self.code}{where}: {self.message}"

    def out(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "line": self.line,
            "source": self.source,
            "message": self.message,
        }


# -- YAML positions ------------------------------------------------------------------------


def _index(node: yaml.Node | None, source: str) -> tuple[dict[Loc, int], list[Problem]]:
    """Line (1-based) of every key and list item, and duplicate-key problems."""
    lines: dict[Loc, int] = {}
    dups: list[Problem] = []

    def walk(n: yaml.Node, loc: Loc) -> None:
        if isinstance(n, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, v in n.value:
                key = str(k.value) if isinstance(k, yaml.ScalarNode) else "?"
                line = k.start_mark.line + 1
                if key in seen:
                    dups.append(
                        Problem(
                            "P006",
                            f"{_where(loc)}key '{key}' appears twice (lines {seen[key]} and "
                            f"{line}); YAML keeps only the last, so merge them",
                            line,
                            source,
                        )
                    )
                seen[key] = line
                lines[(*loc, key)] = line
                walk(v, (*loc, key))
        elif isinstance(n, yaml.SequenceNode):
            for j, item in enumerate(n.value):
                lines[(*loc, j)] = item.start_mark.line + 1
                walk(item, (*loc, j))

    if node is not None:
        lines[()] = node.start_mark.line + 1
        walk(node, ())
    return lines, dups


def _line(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def _where(loc: Loc, data: Any = None) -> str:
    """'step 'listen': ' for a location under a step, '' at the top level."""
    kinds = {"steps": "step", "remedies": "remedy", "policies": "policy"}
    if len(loc) >= 2 and isinstance(loc[1], int):
        section, k = str(loc[0]), loc[1]
        item: Any = None
        if isinstance(data, Mapping):
            seq = data.get(section)
            if isinstance(seq, list) and k < len(seq):
                item = seq[k]
        if section in kinds:
            ident = item.get("id") if isinstance(item, Mapping) else None
            label = f"'{ident}'" if isinstance(ident, str) else str(k + 1)
            return f"{kinds[section]} {label}: "
        if section == "escalation":
            if isinstance(item, Mapping) and isinstance(item.get("from"), str):
                return f"escalation path '{item.get('from')}' -> '{item.get('to')}': "
            return f"escalation path {k + 1}: "
    return ""


def _subject(loc: Loc, data: Any) -> str:
    """A location in words: "step 'listen', weight" or "key 'version'"."""
    base = _where(loc, data).removesuffix(": ")
    rest = loc[2:] if base else loc
    tail = ""
    for part in rest:
        if isinstance(part, int):
            tail += f" item {part + 1}"
        else:
            tail += f".{part}" if tail else str(part)
    tail = f"'{tail}'" if tail and " " not in tail else tail
    if base and tail:
        return f"{base}, {tail}"
    return base or f"key {tail}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _close(word: str, options: Sequence[str], cutoff: float = 0.6) -> str | None:
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=cutoff)
    if found:
        return found[0]
    starts = [o for o in options if len(word) >= 3 and o.lower().startswith(word.lower())]
    return starts[0] if len(starts) == 1 else None


def _mean(word: str | None) -> str:
    return f"; did you mean '{word}'?" if word else ""


@lru_cache(maxsize=1)
def _hints() -> dict[str, str]:
    text = resources.files("heard.scoring").joinpath("id_hints.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return {str(k): str(v) for k, v in raw["hints"].items()}


def suggest_id(bad: str) -> str | None:
    """The catalog id someone writing `bad` most likely meant, or None."""
    ids = [i for i, e in catalog().items() if e.kind != "framework"]
    near = _close(bad, ids, cutoff=0.8)
    if near:
        return near
    prefix, _, rest = bad.partition(".")
    stem = re.sub(r"[^a-z]", "", (rest or prefix).lower())
    for key, target in sorted(_hints().items(), key=lambda kv: -len(kv[0])):
        if stem.startswith(key):
            return target
    return _close(bad, ids, cutoff=0.6)


# -- structural pass (the schema) ---------------------------------------------------------

_MODELS: dict[str, type[BaseModel]] = {
    "steps": Step,
    "remedies": Remedy,
    "policies": Policy,
    "escalation": EscalationPath,
}

_FRIENDLY = {
    "list_type": "should be a list",
    "dict_type": "should be a mapping (key: value lines)",
    "model_type": "should be a mapping (key: value lines)",
    "model_attributes_type": "should be a mapping (key: value lines)",
    "string_type": "should be text",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "float_type": "should be a number",
    "float_parsing": "should be a number",
    "int_type": "should be a whole number",
    "int_parsing": "should be a whole number",
    "int_from_float": "should be a whole number",
}


def _model_at(loc: Loc) -> type[BaseModel]:
    if len(loc) >= 3 and str(loc[0]) in _MODELS and isinstance(loc[1], int):
        if loc[0] == "remedies" and len(loc) >= 4 and loc[2] == "limits":
            return RemedyLimits
        return _MODELS[str(loc[0])]
    return PlaybookFile


def _keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _structural(data: Mapping[str, Any], source: str, lines: Mapping[Loc, int]) -> list[Problem]:
    try:
        PlaybookFile.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    else:
        return []
    out: list[Problem] = []
    for err in errors:
        loc: Loc = tuple(err["loc"])
        kind = err["type"]
        key = str(loc[-1]) if loc else ""
        where = _where(loc, data)
        line = _line(lines, loc)
        if kind == "extra_forbidden":
            allowed = _keys(_model_at(loc))
            out.append(
                Problem(
                    "P004",
                    f"{where}unknown key '{key}'{_mean(_close(key, allowed))} "
                    f"(allowed: {', '.join(allowed)})",
                    line,
                    source,
                )
            )
        elif kind == "missing":
            out.append(Problem("P005", f"{where}missing required key '{key}'", line, source))
        elif key == "weight" and kind in ("greater_than", "float_type", "float_parsing"):
            out.append(
                Problem(
                    "P007",
                    f"{where}weight must be a positive number, got {err.get('input')!r}",
                    line,
                    source,
                )
            )
        elif key == "reason" and kind == "literal_error" and loc[0] == "policies":
            out.append(
                Problem(
                    "P016",
                    f"{where}reason must be safety, efficiency or fairness, got "
                    f"{err.get('input')!r}; say the benefit to the customer in 'benefit'",
                    line,
                    source,
                )
            )
        else:
            msg = _FRIENDLY.get(kind, str(err["msg"]))
            ctx = err.get("ctx") or {}
            if kind in ("greater_than", "greater_than_equal"):
                bound = ctx.get("gt", ctx.get("ge"))
                shown = f"{bound:g}" if isinstance(bound, int | float) else str(bound)
                msg = f"should be {'more than' if kind == 'greater_than' else 'at least'} {shown}"
            if kind == "string_pattern_mismatch":
                msg = "should be a simple id: a letter, then letters, digits, '_' or '-'"
            out.append(
                Problem(
                    "P002",
                    f"{_subject(loc, data)} {msg}, got {_show(err.get('input'))}",
                    line,
                    source,
                )
            )
    return out


# -- semantic pass -------------------------------------------------------------------------


def _strs(value: Any) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    return [(j, v) for j, v in enumerate(value) if isinstance(v, str)]


def _dicts(value: Any) -> list[tuple[int, Mapping[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(k, v) for k, v in enumerate(value) if isinstance(v, Mapping)]


def semantic_problems(
    data: Mapping[str, Any],
    source: str = "<playbook>",
    lines: Mapping[Loc, int] | None = None,
) -> list[Problem]:
    """Problems a schema cannot see: ids, conditions, duplicates, levels, `extends`."""
    at = lines or {}
    out: list[Problem] = []

    def add(code: str, loc: Loc, message: str) -> None:
        out.append(Problem(code, _where(loc, data) + message, _line(at, loc), source))

    cat = catalog()

    # framework and extends
    framework = data.get("framework")
    if isinstance(framework, str):
        frameworks = [i for i, e in cat.items() if e.kind == "framework"]
        if framework not in frameworks:
            add(
                "P015",
                ("framework",),
                f"framework '{framework}' is not a known framework"
                f"{_mean(_close(framework, frameworks))} (known: {', '.join(frameworks)}; "
                "or null for a team's own rubric)",
            )
    parent: Playbook | None = None
    extends = data.get("extends")
    if isinstance(extends, str):
        name = builtin_name(extends)
        if name is None:
            guess = _close(extends.removeprefix("F.").lower(), BUILTIN_PLAYBOOKS)
            add(
                "P010",
                ("extends",),
                f"extends '{extends}', which is not a built-in playbook{_mean(guess)} "
                f"(built-ins: {', '.join(BUILTIN_PLAYBOOKS)}; 'heard playbook list')",
            )
        else:
            parent = builtin(name)

    # authority levels
    levels: list[str] = list(parent.authority_levels if parent else DEFAULT_AUTHORITY_LEVELS)
    raw_levels = data.get("authority_levels")
    if isinstance(raw_levels, list):
        given = [v for _, v in _strs(raw_levels)]
        if not raw_levels:
            add("P008", ("authority_levels",), "authority_levels is empty; list them lowest first")
        seen_levels: set[str] = set()
        for j, level in _strs(raw_levels):
            if level in seen_levels:
                add(
                    "P008",
                    ("authority_levels", j),
                    f"authority level '{level}' is listed twice; each level once, lowest first",
                )
            seen_levels.add(level)
        if given:
            levels = list(dict.fromkeys(given))

    def check_level(loc: Loc, level: Any, what: str) -> bool:
        if not isinstance(level, str):
            return False
        if level in levels:
            return True
        add(
            "P009",
            loc,
            f"{what} '{level}', which is not an authority level"
            f"{_mean(_close(level, levels))} (levels: {', '.join(levels)})",
        )
        return False

    # steps
    step_ids: dict[str, int] = {}
    for k, step in _dicts(data.get("steps")):
        sid = step.get("id")
        label = f"'{sid}'" if isinstance(sid, str) else str(k + 1)
        if isinstance(sid, str):
            if sid in step_ids:
                add(
                    "P006",
                    ("steps", k, "id"),
                    f"id '{sid}' is already used by an earlier step"
                    + (f" (line {ln})" if (ln := _line(at, ("steps", step_ids[sid]))) else "")
                    + "; step ids must be unique",
                )
            else:
                step_ids[sid] = k
        for field in ("satisfied_by", "broken_by"):
            for j, ident in _strs(step.get(field)):
                loc: Loc = ("steps", k, field, j)
                entry = cat.get(ident)
                if entry is None:
                    out.append(
                        Problem(
                            "P003",
                            f"step {label} refers to unknown id '{ident}'"
                            f"{_mean(suggest_id(ident))} (known ids: heard catalog)",
                            _line(at, loc),
                            source,
                        )
                    )
                elif entry.kind == "signal":
                    add(
                        "P012",
                        loc,
                        f"'{ident}' is a customer signal; steps read agent findings only "
                        "(never the customer's reaction), so put it in applies_when",
                    )
                elif entry.kind == "framework":
                    add(
                        "P012",
                        loc,
                        f"'{ident}' is a framework, not something an agent says; list its "
                        "techniques, or use 'extends'",
                    )
                elif entry.kind == "anti_pattern" and field == "satisfied_by":
                    add(
                        "P012",
                        loc,
                        f"'{ident}' is an anti-pattern and cannot satisfy a step; "
                        "list it under broken_by",
                    )
        cond = step.get("applies_when")
        if isinstance(cond, str):
            items: list[tuple[Loc, str | list[str]]] = [(("steps", k, "applies_when"), cond)]
        elif isinstance(cond, list):
            items = [(("steps", k, "applies_when", j), [c]) for j, c in _strs(cond)]
            if not cond:
                items = [(("steps", k, "applies_when"), [])]
        else:
            items = []
        for where, value in items:
            try:
                parse_condition(value)
            except ConditionSyntaxError as exc:
                add("P011", where, f"applies_when: {exc}")
        observable = step.get("observable", True)
        ids = [v for f in ("satisfied_by", "broken_by") for _, v in _strs(step.get(f))]
        malformed = any(
            step.get(f) is not None and not isinstance(step.get(f), list)
            for f in ("satisfied_by", "broken_by")
        )
        timed = step.get("reply_within_seconds") is not None
        if observable is False:
            note = step.get("note")
            if not (isinstance(note, str) and note.strip()):
                add(
                    "P013",
                    ("steps", k, "observable"),
                    "observable: false needs a note saying why text cannot show this step",
                )
            if ids or timed:
                add(
                    "P013",
                    ("steps", k, "observable"),
                    "an unobservable step is never scored, so its ids or reply time would be "
                    "ignored; remove them or set observable: true",
                )
        elif observable is True:
            if not ids and not timed and not malformed:
                add(
                    "P013",
                    ("steps", k),
                    "nothing to judge: give satisfied_by, broken_by or reply_within_seconds, "
                    "or mark it observable: false with a note",
                )
            if ids and timed:
                add(
                    "P013",
                    ("steps", k, "reply_within_seconds"),
                    "a step judges either ids or reply times, not both; split it in two",
                )
        if step.get("within_agent_turns") is not None and not _strs(step.get("satisfied_by")):
            add(
                "P013",
                ("steps", k, "within_agent_turns"),
                "within_agent_turns limits when satisfied_by evidence counts, but there is none",
            )

    # drop_steps and the resulting step count
    parent_steps = [s.id for s in parent.steps] if parent else []
    dropped: set[str] = set()
    for j, sid in _strs(data.get("drop_steps")):
        if parent is None:
            if not isinstance(extends, str):
                add(
                    "P017",
                    ("drop_steps", j),
                    "drop_steps needs 'extends' (a playbook to drop from)",
                )
            continue
        if sid not in parent_steps:
            add(
                "P017",
                ("drop_steps", j),
                f"drop_steps names '{sid}', which {parent.name} does not have"
                f"{_mean(_close(sid, parent_steps))} (its steps: {', '.join(parent_steps)})",
            )
        dropped.add(sid)
    steps_value = data.get("steps")
    own = len(steps_value) if isinstance(steps_value, list) else 0
    inherited = len([s for s in parent_steps if s not in dropped and s not in step_ids])
    unknown_parent = isinstance(extends, str) and parent is None  # P010 already said why
    if isinstance(steps_value, list | type(None)) and own + inherited == 0 and not unknown_parent:
        add(
            "P018",
            ("steps",),
            "the playbook has no steps; add at least one under 'steps' (or extend a built-in)",
        )

    # remedies, policies, escalation
    for section, what in (("remedies", "remedy"), ("policies", "policy")):
        used: set[str] = set()
        for k, item in _dicts(data.get(section)):
            item_id = item.get("id")
            if isinstance(item_id, str):
                if item_id in used:
                    add(
                        "P006",
                        (section, k, "id"),
                        f"{what} id '{item_id}' is used twice; ids must be unique",
                    )
                used.add(item_id)
            if section == "remedies":
                check_level((section, k, "authority"), item.get("authority"), "may be granted by")
    paths: set[tuple[str, str]] = set()
    if parent is not None:
        out.extend(_inherited_problems(data, parent, levels, source, at))
    for k, item in _dicts(data.get("escalation")):
        src, dst = item.get("from"), item.get("to")
        ok_src = check_level(("escalation", k, "from"), src, "starts at")
        ok_dst = check_level(("escalation", k, "to"), dst, "goes to")
        if ok_src and ok_dst and isinstance(src, str) and isinstance(dst, str):
            if levels.index(dst) <= levels.index(src):
                add(
                    "P014",
                    ("escalation", k, "to"),
                    "it does not go up; levels run " + " < ".join(levels),
                )
            if (src, dst) in paths:
                add("P006", ("escalation", k), f"a second path from '{src}' to '{dst}'")
            paths.add((src, dst))
    return out


def _inherited_problems(
    data: Mapping[str, Any],
    parent: Playbook,
    levels: list[str],
    source: str,
    at: Mapping[Loc, int],
) -> list[Problem]:
    """Inherited remedies and escalation paths must still fit this playbook's levels."""
    where: Loc = ("authority_levels",) if "authority_levels" in data else ("extends",)
    line = _line(at, where)
    own_remedies = {i.get("id") for _, i in _dicts(data.get("remedies"))}
    own_paths = {(i.get("from"), i.get("to")) for _, i in _dicts(data.get("escalation"))}
    out: list[Problem] = []
    for r in parent.remedies:
        if r.id not in own_remedies and r.authority not in levels:
            out.append(
                Problem(
                    "P009",
                    f"remedy '{r.id}' inherited from {parent.name} may be granted by "
                    f"'{r.authority}', which is not an authority level here "
                    f"(levels: {', '.join(levels)}); keep the level or redefine the remedy",
                    line,
                    source,
                )
            )
    for e in parent.escalation:
        if (e.from_level, e.to_level) in own_paths:
            continue
        missing = [lv for lv in (e.from_level, e.to_level) if lv not in levels]
        if missing:
            out.append(
                Problem(
                    "P009",
                    f"escalation path '{e.from_level}' -> '{e.to_level}' inherited from "
                    f"{parent.name} names '{missing[0]}', which is not an authority level here "
                    f"(levels: {', '.join(levels)})",
                    line,
                    source,
                )
            )
        elif levels.index(e.to_level) <= levels.index(e.from_level):
            out.append(
                Problem(
                    "P014",
                    f"escalation path '{e.from_level}' -> '{e.to_level}' inherited from "
                    f"{parent.name} does not go up with levels " + " < ".join(levels),
                    line,
                    source,
                )
            )
    return out


# -- entry points --------------------------------------------------------------------------


def validate(data_or_text: str | Mapping[str, Any], source: str = "<playbook>") -> list[Problem]:
    """Every problem in a playbook given as YAML text or as already-loaded data.

    Line numbers are given for text only. An empty list means the playbook resolves.
    """
    lines: dict[Loc, int] = {}
    problems: list[Problem] = []
    if isinstance(data_or_text, str):
        try:
            node = yamltext.compose(data_or_text)
            data: Any = yamltext.load(data_or_text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark is not None else None
            what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            return [Problem("P001", f"not valid YAML: {what}", line, source)]
        lines, problems = _index(node, source)
    else:
        data = data_or_text
    if data is None:
        return [
            Problem(
                "P002", "the playbook is empty; it needs at least 'name' and 'steps'", 1, source
            )
        ]
    if not isinstance(data, Mapping):
        kind = type(data).__name__
        return [
            Problem(
                "P002",
                f"a playbook is a mapping of keys (name:, steps:, ...), not a {kind}",
                lines.get((), 1) if lines else None,
                source,
            )
        ]
    problems += _structural(data, source, lines)
    problems += semantic_problems(data, source, lines)
    return sorted(problems, key=lambda p: (p.line or 0, p.code))


def validate_file(path: str | Path) -> list[Problem]:
    """Validate a playbook file; unreadable or non-UTF-8 files give P001."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return [Problem("P001", f"not UTF-8 text ({exc.reason} at byte {exc.start})", None, str(p))]
    except OSError as exc:
        return [Problem("P001", f"cannot read the file: {exc.strerror or exc}", None, str(p))]
    return validate(text, str(p))
