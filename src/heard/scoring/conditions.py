"""The `applies_when` language of playbook steps: when a step is worth judging at all.

A condition is decided by the customer's half of the conversation (signals, energy,
emotions), never by how the customer reacted to the agent's words being scored: that is
the METHOD.md principle "score the agent's half only". The one exception is ``seen``,
which asks whether the agent did the thing the step is about at all (a step on quoting
policy applies only when the agent quoted a policy), so it also never penalises the agent
for the customer.

Grammar (a string, or a list of strings meaning *any of*):

- ``always``: the step applies to every conversation with an agent reply.
- ``seen``: applies when one of the step's own ``satisfied_by``/``broken_by`` ids occurs.
- a customer signal id such as ``C.outcome_question``: some customer turn carries it.
- ``energy>=2`` (operators ``>= > == <= <``, values 0-3): some customer turn's energy.
- ``anger>=0.5``: some customer turn's score for a service emotion (DESIGN.md list).
- a named condition, which expands to a list of the above (``NAMED``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from heard.catalog import catalog
from heard.model import SERVICE_EMOTIONS, Speaker, TurnAnalysis

#: Named conditions and what they stand for. Teams may use either form.
NAMED: dict[str, tuple[str, ...]] = {
    "customer_emotion": ("C.emotion", "energy>=2"),
    "outcome_question": ("C.outcome_question",),
    "demand": ("C.demand",),
    "risk": ("C.risk",),
    "unheard": ("C.unheard",),
    "recovery": ("C.risk", "C.demand", "C.unheard", "energy>=2"),
}

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
    "<=": operator.le,
    "<": operator.lt,
}
_COMPARISON = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|==|>|<)\s*([0-9]+(?:\.[0-9]+)?)\s*$")


class ConditionSyntaxError(ValueError):
    """An `applies_when` value that is not in the grammar above."""


@dataclass(frozen=True, slots=True)
class Atom:
    """One test: ``kind`` is always | seen | signal | energy | emotion."""

    kind: str
    name: str = ""
    op: str = ""
    value: float = 0.0

    def text(self) -> str:
        if self.kind in ("always", "seen"):
            return self.kind
        if self.kind == "signal":
            return self.name
        return f"{self.name}{self.op}{self.value:g}"


@dataclass(frozen=True, slots=True)
class Condition:
    """Any of `atoms` holds. `source` is the text the playbook used."""

    atoms: tuple[Atom, ...]
    source: str

    @property
    def always(self) -> bool:
        return any(a.kind == "always" for a in self.atoms)


@dataclass(frozen=True, slots=True)
class Applicability:
    applies: bool
    #: plain-language reasons it applies (or, when it does not, what was looked for)
    because: tuple[str, ...]


def _atom(text: str) -> list[Atom]:
    word = text.strip()
    if word in ("always", "seen"):
        return [Atom(word)]
    if word in NAMED:
        return [a for part in NAMED[word] for a in _atom(part)]
    if word.startswith("C."):
        if word not in catalog():
            raise ConditionSyntaxError(f"unknown customer signal '{word}'")
        return [Atom("signal", word)]
    m = _COMPARISON.match(word)
    if m is None and "." in word:
        raise ConditionSyntaxError(
            f"'{word}' is not a customer signal; conditions read customer signals (C.*), "
            "while the agent's own ids belong in satisfied_by or broken_by (or use 'seen')"
        )
    if m:
        name, op, raw = m.group(1), m.group(2), m.group(3)
        value = float(raw)
        if name == "energy":
            if not value.is_integer() or not 0 <= value <= 3:
                raise ConditionSyntaxError(f"energy is a whole number from 0 to 3, got {raw}")
            return [Atom("energy", "energy", op, value)]
        if name in SERVICE_EMOTIONS:
            if not 0.0 <= value <= 1.0:
                raise ConditionSyntaxError(f"emotion scores run from 0 to 1, got {raw}")
            return [Atom("emotion", name, op, value)]
        raise ConditionSyntaxError(
            f"cannot compare '{name}': only energy or a service emotion "
            f"({', '.join(SERVICE_EMOTIONS)})"
        )
    names = ", ".join(["always", "seen", *NAMED])
    raise ConditionSyntaxError(
        f"'{word}' is not a condition; use one of {names}, a C.* id, 'energy>=2' or 'anger>=0.5'"
    )


def parse_condition(value: str | Sequence[str]) -> Condition:
    """Parse an `applies_when` value; raises ConditionSyntaxError with a fix-it message."""
    if isinstance(value, str):
        parts: list[str] = [value]
        source = value
    else:
        parts = list(value)
        if not parts:
            raise ConditionSyntaxError("an empty list never applies; write 'always' or a signal")
        source = ", ".join(str(p) for p in parts)
    atoms: list[Atom] = []
    for p in parts:
        if not isinstance(p, str):
            raise ConditionSyntaxError(f"each condition is text, got {p!r}")
        atoms.extend(_atom(p))
    return Condition(tuple(atoms), source)


#: The applicability of a condition that opens with ``always``.
ALWAYS = Applicability(True, ("it always applies",))


def evaluate(
    condition: Condition,
    turns: Sequence[TurnAnalysis],
    step_ids: Iterable[str] = (),
    *,
    customer: Sequence[TurnAnalysis] | None = None,
) -> Applicability:
    """Decide whether a step applies, from customer turns (and, for `seen`, its own ids).

    `customer`: the customer turns of `turns`, when the caller has them already.
    """
    atoms = condition.atoms
    if atoms and atoms[0].kind == "always":
        return ALWAYS
    reasons: list[str] = []
    looked: list[str] = []
    ordered = list(dict.fromkeys(step_ids))
    own = set(ordered)
    if customer is None:
        customer = [t for t in turns if t.speaker == Speaker.customer]
    for atom in atoms:
        if atom.kind == "always":
            return Applicability(True, ("it always applies",))
        if atom.kind == "seen":
            hit = next(
                (f for t in turns if t.speaker == Speaker.agent for f in t.findings if f.id in own),
                None,
            )
            if hit is not None:
                reasons.append(f"{hit.id} in turn {hit.turn}")
            else:
                looked.append(f"none of {', '.join(ordered) or 'its ids'} came up")
        elif atom.kind == "signal":
            turn = next((t for t in customer if any(f.id == atom.name for f in t.findings)), None)
            if turn is not None:
                reasons.append(f"{atom.name} in turn {turn.i}")
            else:
                looked.append(f"no {atom.name}")
        elif atom.kind == "energy":
            test = _OPS[atom.op]
            turn = next(
                (t for t in customer if t.energy is not None and test(t.energy, atom.value)), None
            )
            if turn is not None:
                reasons.append(f"customer energy {turn.energy} in turn {turn.i}")
            else:
                looked.append(f"no customer turn with {atom.text()}")
        else:  # emotion
            test = _OPS[atom.op]
            turn = next(
                (t for t in customer if test(t.emotions.get(atom.name, 0.0), atom.value)), None
            )
            if turn is not None:
                score = turn.emotions.get(atom.name, 0.0)
                reasons.append(f"{atom.name} {score:.2f} in turn {turn.i}")
            else:
                looked.append(f"no customer turn with {atom.text()}")
    if reasons:
        return Applicability(True, tuple(reasons))
    return Applicability(False, tuple(looked))
