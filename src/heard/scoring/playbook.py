"""Playbooks: a team's rubric, remedies, policies and escalation paths, as YAML data.

A playbook file (see ``docs/playbooks.md`` and ``playbooks/playbook.schema.json``) names
the steps of a rubric built on the catalog, the remedies an agent may offer and who may
grant them, the policies with the benefit behind each, and how a case escalates. The six
seed frameworks ship as built-in playbooks; ``company`` is a worked example of a
company's own, built on ``F.toister``.

Public API::

    from heard.scoring.playbook import resolve, builtin_playbooks, load_company

    pb = resolve("F.jerk")            # a built-in by framework id or name ("jerk")
    pb = resolve("team.yaml")         # a file; raises PlaybookError (E201) with problems
    for pb in builtin_playbooks():    # the six frameworks the pipeline scores by default
        print(pb.name, [s.id for s in pb.steps])

    company = load_company()          # the built-in example; or load_company("team.yaml")
    company.remedies_for("agent")     # what an agent may give, lowest authority first
    company.may_grant("agent", "goodwill_credit", amount=30)   # False: over the $25 limit
    company.policy("id_check").benefit                         # plain words for the coach
    company.escalations_from("agent")  # [EscalationPath(from_level='agent', ...)]
    company.next_level("agent")        # 'supervisor'

``Company`` is the part of a playbook the live coach needs: ``authority_levels`` (lowest
first), ``remedies`` (``authority`` = lowest level that may grant it, ``limits``),
``policies`` (``reason`` safety | efficiency | fairness, ``benefit``) and ``escalation``
paths (``from_level`` -> ``to_level``, ``how``, ``within_hours``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from heard.errors import PlaybookError

#: Built-in playbooks in METHOD.md order; the first six are the seed frameworks.
FRAMEWORK_PLAYBOOKS: tuple[str, ...] = (
    "compassion",
    "secrets",
    "jerk",
    "send",
    "five_step",
    "toister",
)
#: Every built-in playbook name (the frameworks plus the example company).
BUILTIN_PLAYBOOKS: tuple[str, ...] = (*FRAMEWORK_PLAYBOOKS, "company")

DEFAULT_AUTHORITY_LEVELS: tuple[str, ...] = ("agent", "supervisor", "manager")

PolicyReason = Literal["safety", "efficiency", "fairness"]


def _text_version(value: Any) -> Any:
    # `version: 2` and `version: "2024-05"` are both common; keep one type (text).
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return value


Version = Annotated[
    str,
    BeforeValidator(_text_version),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}], "default": "1"}),
]

_ID = r"^[A-Za-z][A-Za-z0-9_-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Step(_Strict):
    """One step of a rubric: which agent ids satisfy it, which break it, when it applies."""

    id: str = Field(pattern=_ID, description="Stable step id, unique in the playbook.")
    name: str = Field(description="Short name shown on scorecards.")
    description: str = Field("", description="What the step asks of the agent, in plain words.")
    satisfied_by: list[str] = Field(
        default_factory=list,
        description="Agent technique ids (T.*); any one of them in an agent turn meets the step.",
    )
    broken_by: list[str] = Field(
        default_factory=list,
        description="Agent ids (usually X.*); any one of them in an agent turn misses the step.",
    )
    weight: float = Field(1.0, gt=0, description="Relative weight in the overall score.")
    applies_when: str | list[str] = Field(
        "always",
        description=(
            "When the step is judged: 'always', 'seen', a named condition "
            "(customer_emotion, outcome_question, demand, risk, unheard, recovery), a C.* id, "
            "'energy>=2', 'anger>=0.5', or a list of these meaning any of them."
        ),
    )
    observable: bool = Field(
        True, description="False for steps text cannot show (eye contact); they are never scored."
    )
    note: str | None = Field(
        None, description="Why the step cannot be observed (required when observable is false)."
    )
    within_agent_turns: int | None = Field(
        None,
        ge=1,
        description="Evidence counts only in the first N agent replies (for 'resolve quickly').",
    )
    reply_within_seconds: float | None = Field(
        None,
        gt=0,
        description=(
            "Judge timely attention from reply timestamps: every agent reply within this many "
            "seconds of the customer's message. Not observable when timestamps are absent."
        ),
    )

    def ids(self) -> list[str]:
        return [*self.satisfied_by, *self.broken_by]


class RemedyLimits(_Strict):
    max_amount: float | None = Field(None, gt=0, description="Largest amount one grant may be.")
    currency: str | None = Field(None, description="Currency of max_amount, e.g. USD.")
    per: str | None = Field(None, description="What the limit counts per: order, customer, ...")
    text: str | None = Field(None, description="Any other limit, in plain words.")


class Remedy(_Strict):
    """Something the company lets its people give, and the lowest level that may give it."""

    id: str = Field(pattern=_ID)
    name: str
    description: str = ""
    authority: str = Field(description="Lowest authority level that may grant it.")
    limits: RemedyLimits = Field(default_factory=RemedyLimits)


class Policy(_Strict):
    """A rule, the reason for it and its benefit to the customer, for the coach to explain."""

    id: str = Field(pattern=_ID)
    name: str
    text: str = Field(description="What the rule says.")
    reason: PolicyReason = Field(description="safety, efficiency or fairness.")
    benefit: str = Field(description="The benefit to the customer, in plain words.")


class EscalationPath(_Strict):
    """How a case moves up: from one authority level to a higher one."""

    from_level: str = Field(alias="from")
    to_level: str = Field(alias="to")
    how: str = Field(description="What happens, e.g. 'supervisor callback within 2 hours'.")
    within_hours: float | None = Field(None, gt=0, description="When the customer hears back.")


class _Body(_Strict):
    name: str = Field(pattern=_ID, description="Playbook name, e.g. 'jerk' or 'acme_returns'.")
    framework: str | None = Field(
        None, description="The F.* framework this playbook implements, or null for a team's own."
    )
    description: str = ""
    version: Version = "1"
    authority_levels: list[str] = Field(
        default_factory=lambda: list(DEFAULT_AUTHORITY_LEVELS),
        description="Authority levels, lowest first.",
    )
    steps: list[Step] = Field(default_factory=list)
    remedies: list[Remedy] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)
    escalation: list[EscalationPath] = Field(default_factory=list)


class PlaybookFile(_Body):
    """A playbook as written in YAML: may extend a built-in and drop some of its steps."""

    model_config = ConfigDict(title="heard playbook")

    extends: str | None = Field(
        None, description="A built-in playbook to start from (e.g. 'F.toister' or 'toister')."
    )
    drop_steps: list[str] = Field(
        default_factory=list, description="Ids of the extended playbook's steps to leave out."
    )


class Company(BaseModel):
    """Remedies, policies and escalation paths: what the live coach may suggest."""

    name: str
    authority_levels: list[str]
    remedies: list[Remedy] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)
    escalation: list[EscalationPath] = Field(default_factory=list)

    def rank(self, level: str) -> int:
        """Position of `level` (0 = lowest); PlaybookError for an unknown level."""
        try:
            return self.authority_levels.index(level)
        except ValueError:
            raise PlaybookError(
                f"unknown authority level '{level}'; "
                f"{self.name} has {', '.join(self.authority_levels)}"
            ) from None

    def remedy(self, id: str) -> Remedy:
        for r in self.remedies:
            if r.id == id:
                return r
        raise PlaybookError(f"{self.name} has no remedy '{id}'")

    def policy(self, id: str) -> Policy:
        for p in self.policies:
            if p.id == id:
                return p
        raise PlaybookError(f"{self.name} has no policy '{id}'")

    def remedies_for(self, level: str) -> list[Remedy]:
        """Remedies someone at `level` may grant themselves, lowest authority first."""
        rank = self.rank(level)
        allowed = [r for r in self.remedies if self.rank(r.authority) <= rank]
        return sorted(allowed, key=lambda r: self.rank(r.authority))

    def may_grant(self, level: str, remedy_id: str, amount: float | None = None) -> bool:
        """Whether `level` may grant the remedy (and, if given, this amount of it)."""
        remedy = self.remedy(remedy_id)
        if self.rank(level) < self.rank(remedy.authority):
            return False
        limit = remedy.limits.max_amount
        return amount is None or limit is None or amount <= limit

    def escalations_from(self, level: str) -> list[EscalationPath]:
        self.rank(level)
        return [e for e in self.escalation if e.from_level == level]

    def next_level(self, level: str) -> str | None:
        """The level above `level`, or None at the top."""
        rank = self.rank(level)
        return self.authority_levels[rank + 1] if rank + 1 < len(self.authority_levels) else None


class Playbook(_Body):
    """A resolved playbook (any `extends` already applied): what scoring reads."""

    based_on: str | None = Field(None, description="The built-in this one extended, if any.")

    @model_validator(mode="after")
    def _check(self) -> Playbook:
        from heard.scoring.validate import semantic_problems

        problems = semantic_problems(self.model_dump(by_alias=True), source=f"playbook {self.name}")
        if problems:
            raise ValueError("; ".join(str(p) for p in problems))
        return self

    @property
    def key(self) -> str:
        """The name scorecards are filed under: the framework id, else the playbook name."""
        return self.framework or self.name

    def step(self, id: str) -> Step:
        for s in self.steps:
            if s.id == id:
                return s
        raise PlaybookError(f"playbook '{self.name}' has no step '{id}'")

    def company(self) -> Company:
        return Company(
            name=self.name,
            authority_levels=list(self.authority_levels),
            remedies=[r.model_copy(deep=True) for r in self.remedies],
            policies=[p.model_copy(deep=True) for p in self.policies],
            escalation=[e.model_copy(deep=True) for e in self.escalation],
        )

    @classmethod
    def from_yaml(cls, text: str, source: str = "<text>") -> Playbook:
        """Validate and resolve YAML text; PlaybookError (E201) lists every problem."""
        from heard.scoring.validate import validate

        problems = validate(text, source)
        if problems:
            raise _error(source, [str(p) for p in problems])
        from heard import yamltext

        return _resolve_file(PlaybookFile.model_validate(yamltext.load(text)))

    @classmethod
    def from_file(cls, path: str | Path) -> Playbook:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PlaybookError(f"cannot read playbook '{p}': {exc}") from None
        return cls.from_yaml(text, str(p))


def _error(source: str, problems: list[str]) -> PlaybookError:
    n = len(problems)
    return PlaybookError(
        f"playbook {source} has {n} problem{'s' if n != 1 else ''} "
        f"(run 'heard playbook check {source}'): {problems[0]}"
        + (f" (and {n - 1} more)" if n > 1 else ""),
        problems=problems,
    )


_M = TypeVar("_M", bound=BaseModel)


def _merge(parent: Sequence[_M], child: Iterable[_M], key: str, drop: set[str]) -> list[_M]:
    """Parent items (minus `drop`), child items replacing same-key ones in place, new appended."""
    out = [p.model_copy(deep=True) for p in parent if getattr(p, key) not in drop]
    where = {getattr(p, key): k for k, p in enumerate(out)}
    for c in child:
        k = where.get(getattr(c, key))
        if k is None:
            where[getattr(c, key)] = len(out)
            out.append(c)
        else:
            out[k] = c
    return out


def _resolve_file(file: PlaybookFile) -> Playbook:
    try:
        return _merged(file)
    except ValidationError as exc:  # validate() should have caught it; say so plainly
        raise _error(file.name, [str(e["msg"]) for e in exc.errors()]) from None


def _merged(file: PlaybookFile) -> Playbook:
    given = file.model_fields_set
    body: dict[str, Any] = file.model_dump(exclude={"extends", "drop_steps"})
    if file.extends is None:
        return Playbook.model_validate(body)
    parent = builtin(file.extends)
    if "authority_levels" not in given:
        body["authority_levels"] = list(parent.authority_levels)
    if "description" not in given:
        body["description"] = parent.description
    drop = set(file.drop_steps)
    body["steps"] = _merge(parent.steps, file.steps, "id", drop)
    body["remedies"] = _merge(parent.remedies, file.remedies, "id", set())
    body["policies"] = _merge(parent.policies, file.policies, "id", set())
    paths = {(e.from_level, e.to_level): e for e in parent.escalation}
    for e in file.escalation:
        paths[(e.from_level, e.to_level)] = e
    body["escalation"] = list(paths.values())
    body["based_on"] = parent.name
    return Playbook.model_validate(
        {
            **body,
            "steps": [s.model_dump() for s in body["steps"]],
            "remedies": [r.model_dump() for r in body["remedies"]],
            "policies": [p.model_dump() for p in body["policies"]],
            "escalation": [e.model_dump(by_alias=True) for e in body["escalation"]],
        }
    )


def builtin_name(spec: str) -> str | None:
    """The built-in playbook `spec` names ('F.jerk', 'jerk', 'five-step'), or None."""
    word = spec.strip().lower().replace("-", "_")
    if word.startswith("f."):
        word = word[2:]
    return word if word in BUILTIN_PLAYBOOKS else None


def builtin_text(name: str) -> str:
    """The YAML source of a built-in playbook."""
    return resources.files("heard.playbooks").joinpath(f"{name}.yaml").read_text(encoding="utf-8")


@cache
def _builtin(name: str) -> Playbook:
    return Playbook.from_yaml(builtin_text(name), f"built-in {name}.yaml")


def builtin(spec: str) -> Playbook:
    """A built-in playbook by framework id or name (a fresh copy: callers may change it)."""
    name = builtin_name(spec)
    if name is None:
        raise PlaybookError(
            f"unknown built-in playbook '{spec}'; built-ins are {', '.join(BUILTIN_PLAYBOOKS)}"
        )
    return _builtin(name).model_copy(deep=True)


def builtin_playbooks() -> list[Playbook]:
    """The six seed-framework playbooks, the ones the pipeline scores by default."""
    return [builtin(n) for n in FRAMEWORK_PLAYBOOKS]


def resolve(spec: Playbook | str | Path) -> Playbook:
    """A Playbook from itself, a built-in name ('F.jerk' or 'jerk') or a YAML file path.

    Raises PlaybookError (E201) with every numbered problem when a file does not validate.
    """
    if isinstance(spec, Playbook):
        return spec
    if isinstance(spec, str) and builtin_name(spec) is not None:
        return builtin(spec)
    path = Path(spec)
    if path.is_file():
        return Playbook.from_file(path)
    raise PlaybookError(
        f"no playbook '{spec}': not a built-in ({', '.join(BUILTIN_PLAYBOOKS)}) "
        "and no such file; 'heard playbook list' shows the built-ins"
    )


def load_company(spec: Playbook | str | Path | None = None) -> Company:
    """Remedies, policies and escalation of a playbook (default: the built-in example)."""
    return resolve("company" if spec is None else spec).company()


def playbook_json_schema() -> dict[str, Any]:
    """The JSON Schema of a playbook file (shipped as ``playbooks/playbook.schema.json``)."""
    schema = PlaybookFile.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    return json.dumps(playbook_json_schema(), indent=2, ensure_ascii=False) + "\n"


def as_mapping(playbook: Playbook) -> dict[str, Any]:
    """The resolved playbook as file data (a valid playbook file with `extends` applied)."""
    data = playbook.model_dump(by_alias=True, exclude_none=True, exclude={"based_on"})
    data["framework"] = playbook.framework  # null is meaningful: a team's own rubric
    return data
