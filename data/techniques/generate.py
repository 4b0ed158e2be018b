"""Generate heard's technique / anti-pattern training data from templates and fillers.

    python data/techniques/generate.py            # writes train/dev/test.jsonl here
    python data/techniques/generate.py --check    # regenerate in memory, compare

Rows are ``{"text", "context", "labels", "kind", "template", "register"}``:

- ``text``: one agent utterance (one or more sentences);
- ``context``: the customer turn before it, or null;
- ``labels``: the catalog ids the utterance carries (ANNOTATION.md conventions);
- ``kind``: ``positive`` (written for an id and carrying it), ``near_miss`` (written to look
  like an id and labelled without it), ``negation`` (the id disavowed), ``other``;
- ``template``: the template family (``T.boundary/pos/3``, ``T.boundary/hand/7``), so a
  family never spans two splits;
- ``register``: chat, email, phone (a transcript with disfluencies) or tweet.

Splits are by template family, not by row: about 60% of each id's families go to train,
20% to dev (threshold tuning) and 20% to test, so dev and test measure phrasings the heads
never saw. Everything is seeded; the output is byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from content import (  # noqa: E402
    AGENT_NAMES,
    COLLEAGUES,
    CUSTOMER_NAMES,
    FEELINGS,
    INDUSTRIES,
    PHONES,
    TIMES,
    VAGUE_TIMES,
    Industry,
)
from templates import FEELING_CONTEXTS, HANDWRITTEN, OTHER, TEMPLATES  # noqa: E402

SEED = 13
SPLITS = ("train", "train", "train", "dev", "test")

#: Rows generated per (id, group); families are cycled so each is used about equally.
PER_GROUP = {"pos": 430, "near": 170, "neg": 110}
N_OTHER = 4200
N_YIELD = 70
P_PARTNER = 0.28  # a positive gets a second technique / anti-pattern sentence
P_FILLER = 0.25  # ... or a greeting / closing / request around it
P_TYPO = 0.14
P_CONTEXT = 0.35

#: Anti-patterns that the better move in the same turn cancels (as in the lexical tier).
YIELDS = {
    "X.hands_tied": ("T.boundary", "T.plan_b"),
    "X.vague_commit": ("T.commit", "T.warm_handoff"),
    "X.bare_policy": ("T.policy_benefit",),
    "X.process_answer": ("T.outcome_answer",),
}

REGISTERS = (("chat", 0.35), ("tweet", 0.3), ("phone", 0.2), ("email", 0.15))


@dataclass
class Unit:
    text: str
    labels: frozenset[str]
    ctx: str | None  # the context the template asks for


@dataclass
class Row:
    text: str
    context: str | None
    labels: list[str]
    kind: str
    template: str
    register: str

    def out(self) -> dict[str, object]:
        return {
            "text": self.text,
            "context": self.context,
            "labels": self.labels,
            "kind": self.kind,
            "template": self.template,
            "register": self.register,
        }


def split_of(key: str, index: int) -> str:
    """Family `index` of group `key` goes to a split; the offset rotates per group."""
    offset = int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(SPLITS)
    return SPLITS[(index + offset) % len(SPLITS)]


def parse(entry: str) -> tuple[frozenset[str], str, str | None]:
    labels, _, text = entry.partition(" | ")
    ctx = None
    m = re.search(r"\s@(\w+)$", text)
    if m:
        ctx = m.group(1)
        text = text[: m.start()]
    ids = frozenset() if labels.strip() == "-" else frozenset(labels.strip().split("+"))
    return ids, text, ctx


def lower_first(s: str) -> str:
    return s[:1].lower() + s[1:] if s[:1].isupper() and not s.startswith("I ") else s


def slots(ind: Industry, rng: random.Random) -> dict[str, str]:
    complaint, restate, problem = rng.choice(ind.cases)
    limit, alt = rng.choice(ind.limits)
    rule, benefit = rng.choice(ind.policies)
    blame, should = rng.choice(ind.blames)
    feel_p, feel_n, feel_s = rng.choice(FEELINGS)
    colleague, pron, obj = rng.choice(COLLEAGUES)
    process = rng.choice(ind.process)
    return {
        "complaint": complaint,
        "restate": restate,
        "problem": problem,
        "outcome_q": rng.choice(ind.outcome_questions),
        "howto_q": rng.choice(ind.howto_questions),
        "task": rng.choice(ind.tasks),
        "symptom": rng.choice(ind.symptoms),
        "action": rng.choice(ind.actions),
        "done": rng.choice(ind.done),
        "planb": rng.choice(ind.plan_b),
        "team": rng.choice(ind.teams),
        "limit": limit,
        "alt": alt,
        "rule": rule,
        "rule_lc": lower_first(rule),
        "benefit": benefit,
        "blame": blame,
        "should": should,
        "minor": rng.choice(ind.minor),
        "process": process,
        "process_lc": lower_first(process),
        "outcome": rng.choice(ind.outcomes),
        "didnt": rng.choice(ind.didnt),
        "did": rng.choice(ind.did),
        "goal": rng.choice(ind.goals),
        "elsewhere": rng.choice(ind.elsewhere),
        "item": rng.choice(ind.items) if ind.items else "account",
        "feel_p": feel_p,
        "feel_n": feel_n,
        "feel_s": feel_s,
        "time": rng.choice(TIMES),
        "vtime": rng.choice(VAGUE_TIMES),
        "colleague": colleague,
        "pron": pron,
        "obj": obj,
        "cname": rng.choice(CUSTOMER_NAMES),
        "aname": rng.choice(AGENT_NAMES),
        "phone": rng.choice(PHONES),
        "digits": str(rng.randint(10, 99)),
    }


_SENT_START = re.compile(r"(^|[.!?]\s+)([a-z])")


def sentence_case(text: str) -> str:
    return _SENT_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def fill(text: str, values: dict[str, str]) -> str:
    return sentence_case(text.format_map(values))


# -- registers ---------------------------------------------------------------------------

_CONTRACTION = re.compile(r"\b(\w+)'(ll|t|s|re|ve|d|m)\b", re.I)
_FILLERS = ("um", "uh", "erm", "like", "you know", "so")


def as_tweet(text: str, rng: random.Random, agent: bool) -> str:
    if rng.random() < 0.35:
        text = _CONTRACTION.sub(lambda m: m.group(1) + m.group(2), text)
    if rng.random() < 0.2:
        text = re.sub(r"\byou\b", "u", text)
        text = re.sub(r"\byour\b", "ur", text)
    if rng.random() < 0.3:
        text = re.sub(r"\b[Pp]lease\b", "pls", text)
        text = re.sub(r"\b[Tt]hanks\b", "thx", text)
    if agent:
        if rng.random() < 0.85:
            text = f"@{rng.randint(100000, 999999)} {text}"
        r = rng.random()
        initials = "".join(rng.choice("ABCDEGHJKLMNPRSTW") for _ in range(2))
        if r < 0.25:
            text += f" ^{initials}"
        elif r < 0.4:
            text += f" -{rng.choice(AGENT_NAMES)}"
        elif r < 0.5:
            text += f" /{initials}"
        elif r < 0.55:
            text += " 1/2"
    else:
        brand = rng.choice(["@AcmeHelp", "@NorthRail", "@BrightBank", "@ShopCo", "@SkyNetCare"])
        text = f"{brand} {text}" if rng.random() < 0.6 else f"{text} {brand}"
    return text


def as_phone(text: str, rng: random.Random) -> str:
    words = text.split()
    out: list[str] = []
    if rng.random() < 0.4:
        out.append(rng.choice(["okay so", "yeah so", "right", "um", "so"]))
    for w in words:
        if rng.random() < 0.05 and len(w) > 1:
            out.append(w.rstrip(",.") + "-")
        out.append(w)
        if rng.random() < 0.07:
            out.append(rng.choice(_FILLERS) + ",")
    text = " ".join(out)
    if rng.random() < 0.7:
        text = text.lower()
    if rng.random() < 0.5:
        text = text.rstrip(".!")
    return text


def as_email(text: str, rng: random.Random, values: dict[str, str]) -> tuple[str, bool]:
    thanked = False
    parts: list[str] = []
    if rng.random() < 0.6:
        parts.append(rng.choice(["Hi", "Dear", "Hello"]) + f" {values['cname']},\n\n")
    if rng.random() < 0.3:
        parts.append("Thank you for your email. ")
        thanked = True
    parts.append(text)
    if rng.random() < 0.6:
        sign = rng.choice(["Kind regards", "Best wishes", "Many thanks", "Regards"])
        parts.append(f"\n\n{sign},\n{values['aname']}")
        if rng.random() < 0.3:
            parts.append("\nCustomer Care")
    return "".join(parts), thanked


def as_chat(text: str, rng: random.Random, values: dict[str, str]) -> str:
    if rng.random() < 0.15:
        text = f"Hi {values['cname']}! {text}"
    if rng.random() < 0.1:
        text = text.rstrip(".") + rng.choice([" :)", "!", " 🙂"])
    if rng.random() < 0.2:
        text = text.lower()
    return text


def typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    for i in rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 2)))):
        w = words[i]
        k = rng.randrange(1, len(w) - 1)
        op = rng.choice(("swap", "drop", "double", "near"))
        if op == "swap":
            w = w[: k - 1] + w[k] + w[k - 1] + w[k + 1 :]
        elif op == "drop":
            w = w[:k] + w[k + 1 :]
        elif op == "double":
            w = w[:k] + w[k] + w[k:]
        else:
            w = w[:k] + rng.choice("aeiounrst") + w[k + 1 :]
        words[i] = w
    return " ".join(words)


def pick_register(rng: random.Random) -> str:
    r = rng.random()
    acc = 0.0
    for name, p in REGISTERS:
        acc += p
        if r < acc:
            return name
    return REGISTERS[-1][0]


# -- rows --------------------------------------------------------------------------------


class Generator:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.rows: dict[str, list[Row]] = {s: [] for s in ("train", "dev", "test")}
        self.seen: set[str] = set()
        # positive families per split, for partners of composite rows
        self.families: dict[str, list[tuple[str, str]]] = {s: [] for s in self.rows}
        for id, groups in TEMPLATES.items():
            for i, entry in enumerate(groups["pos"]):
                if id != "X.process_answer":
                    self.families[split_of(f"{id}/pos", i)].append((id, entry))

    def context(
        self, want: str | None, ind: Industry, values: dict[str, str], labels: frozenset[str]
    ) -> str | None:
        rng = self.rng
        if want is None:
            if rng.random() >= P_CONTEXT:
                return None
            choices = ["complaint", "complaint", "howto"]
            if "T.label" not in labels:
                choices.append("feeling")
            want = rng.choice(choices)
        if want == "complaint":
            return values["complaint"] + rng.choice([".", "!", "", "?!", ". Again."])
        if want == "feeling":
            return fill(rng.choice(FEELING_CONTEXTS), values)
        if want == "outcome":
            q = values["outcome_q"]
            if rng.random() < 0.4:
                q = values["complaint"] + ". " + q
            return q
        if want == "howto":
            return values["howto_q"]
        return None

    def finish(
        self,
        units: list[Unit],
        values: dict[str, str],
        context: str | None,
        kind: str,
        template: str,
        split: str,
    ) -> None:
        rng = self.rng
        labels = set().union(*(u.labels for u in units))
        for anti, better in YIELDS.items():
            if anti in labels and any(b in labels for b in better):
                labels.discard(anti)
        text = " ".join(fill(u.text, values) for u in units)
        register = pick_register(rng)
        if register == "tweet":
            text = as_tweet(text, rng, agent=True)
            if context:
                context = as_tweet(context, rng, agent=False)
        elif register == "phone":
            text = as_phone(text, rng)
            if context:
                context = as_phone(context, rng)
        elif register == "email":
            text, thanked = as_email(text, rng, values)
            if thanked:
                labels.add("T.thank")
        else:
            text = as_chat(text, rng, values)
        if rng.random() < P_TYPO:
            text = typo(text, rng)
        key = " ".join(text.lower().split())
        if key in self.seen:
            return
        self.seen.add(key)
        self.rows[split].append(Row(text, context, sorted(labels), kind, template, register))

    def unit(self, entry: str) -> Unit:
        labels, text, ctx = parse(entry)
        return Unit(text, labels, ctx)

    def group(self, id: str, name: str, entries: list[str], n: int, kind: str) -> None:
        if not entries:
            return
        rng = self.rng
        order: list[int] = []
        while len(order) < n:
            block = list(range(len(entries)))
            rng.shuffle(block)
            order.extend(block)
        for i in order[:n]:
            split = split_of(f"{id}/{name}", i)
            main = self.unit(entries[i])
            ind = rng.choice(INDUSTRIES)
            values = slots(ind, rng)
            units = [main]
            if kind == "positive" and main.ctx != "outcome":
                r = rng.random()
                if r < P_PARTNER:
                    partner = self.partner(split, main)
                    if partner is not None:
                        units = [partner, main] if partner_first(partner) else [main, partner]
                elif r < P_PARTNER + P_FILLER:
                    units = self.with_filler(split, main)
            labels = frozenset().union(*(u.labels for u in units))
            context = self.context(main.ctx, ind, values, labels)
            self.finish(units, values, context, kind, f"{id}/{name}/{i}", split)

    def partner(self, split: str, main: Unit) -> Unit | None:
        rng = self.rng
        for _ in range(10):
            _other_id, entry = rng.choice(self.families[split])
            unit = self.unit(entry)
            if unit.labels & main.labels or unit.ctx == "outcome":
                continue
            joined = main.labels | unit.labels
            if any(a in joined and any(b in joined for b in bs) for a, bs in YIELDS.items()):
                continue
            return unit
        return None

    def with_filler(self, split: str, main: Unit) -> list[Unit]:
        rng = self.rng
        fillers = [self.unit(e) for i, e in enumerate(OTHER) if split_of("other", i) == split]
        filler = rng.choice(fillers)
        greeting = filler.text.startswith(("Hi ", "Hello", "Good morning", "Thanks for reach"))
        return [filler, main] if greeting or rng.random() < 0.3 else [main, filler]

    def yields(self) -> None:
        """Anti-patterns cancelled by the better move in the same turn (near misses)."""
        rng = self.rng
        pairs = [
            ("X.hands_tied", "T.plan_b"),
            ("X.hands_tied", "T.boundary"),
            ("X.vague_commit", "T.commit"),
            ("X.vague_commit", "T.warm_handoff"),
        ]
        for anti, better in pairs:
            antis = TEMPLATES[anti]["pos"]
            betters = TEMPLATES[better]["pos"]
            for _ in range(N_YIELD):
                i = rng.randrange(len(antis))
                j = rng.randrange(len(betters))
                split = split_of(f"{anti}/pos", i)
                if split_of(f"{better}/pos", j) != split:
                    continue
                ind = rng.choice(INDUSTRIES)
                values = slots(ind, rng)
                units = [self.unit(antis[i]), self.unit(betters[j])]
                self.finish(
                    units,
                    values,
                    self.context(None, ind, values, frozenset()),
                    "near_miss",
                    f"{anti}/yield/{i}",
                    split,
                )

    def handwritten(self) -> None:
        for id, entries in HANDWRITTEN.items():
            for i, entry in enumerate(entries):
                split = split_of(f"{id}/hand", i)
                unit = self.unit(entry)
                for _ in range(3):  # the sentence as written plus register variants
                    ind = self.rng.choice(INDUSTRIES)
                    values = slots(ind, self.rng)
                    context = self.context(unit.ctx, ind, values, unit.labels)
                    kind = "positive" if id in unit.labels else "near_miss"
                    self.finish([unit], values, context, kind, f"{id}/hand/{i}", split)

    def other(self) -> None:
        rng = self.rng
        for k in range(N_OTHER):
            i = k % len(OTHER)
            split = split_of("other", i)
            ind = rng.choice(INDUSTRIES)
            values = slots(ind, rng)
            units = [self.unit(OTHER[i])]
            if rng.random() < 0.3:
                j = rng.randrange(len(OTHER))
                if split_of("other", j) == split and j != i:
                    units.append(self.unit(OTHER[j]))
            self.finish(
                units,
                values,
                self.context(None, ind, values, frozenset()),
                "other",
                f"other/{i}",
                split,
            )

    def run(self) -> dict[str, list[Row]]:
        kinds = {"pos": "positive", "near": "near_miss", "neg": "negation"}
        for id, groups in TEMPLATES.items():
            for name, entries in groups.items():
                self.group(id, name, entries, PER_GROUP[name], kinds[name])
        self.yields()
        self.handwritten()
        self.other()
        for rows in self.rows.values():
            self.rng.shuffle(rows)
        return self.rows


def partner_first(unit: Unit) -> bool:
    return bool(unit.labels & {"T.apologize", "T.acknowledge", "T.label", "T.audit"})


def dump(rows: list[Row]) -> str:
    return "".join(json.dumps(r.out(), ensure_ascii=False) + "\n" for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--check", action="store_true", help="fail if the files are stale")
    args = parser.parse_args(argv)
    rows = Generator().run()
    stale = False
    for split, items in rows.items():
        path = args.out / f"{split}.jsonl"
        text = dump(items)
        if args.check:
            if not path.exists() or path.read_text("utf-8") != text:
                print(f"{path} is out of date; run {Path(__file__).name}", file=sys.stderr)
                stale = True
        else:
            path.write_text(text, "utf-8")
    report: Callable[[str], None] = print
    for split, items in rows.items():
        pos = Counter(lab for r in items for lab in r.labels)
        kinds = Counter(r.kind for r in items)
        report(f"{split}: {len(items)} rows, kinds {dict(kinds)}")
        report("  " + ", ".join(f"{k}={v}" for k, v in sorted(pos.items())))
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
