"""Draft flags: the anti-patterns in the reply an agent is about to send, and rewrites.

The draft is run through the detectors as the agent's next turn (so context rules apply:
a process narrative is only X.process_answer after an outcome question). Each X.* finding
becomes a `DraftFlag` with its span, the better move from the catalog, advice and a
rewrite from ``rewrites.yaml``, filled with this conversation's specifics and with the
draft's own words where that helps (the action a why-question asks about, the team a cold
hand-off points to, the rule a bare policy states, the company policy it matches).

One more check is the coach's own: a draft that offers a remedy above the agent's
authority is flagged X.overpromise (detector ``coach.authority``) if the detectors did not
already flag it.
"""

from __future__ import annotations

import re

from heard.catalog import catalog
from heard.coach.authority import beyond_authority, mentions
from heard.coach.context import CoachContext
from heard.coach.data import rewrite_book
from heard.coach.schemas import DraftFlag
from heard.coach.suggest import policy_slots
from heard.coach.templates import first_filled, mid_sentence, placeholders
from heard.commitments import describe_promise
from heard.detectors.base import TurnState
from heard.model import Finding, Speaker

AUTHORITY_DETECTOR = "coach.authority@1"

_WHY = re.compile(
    r"\b(?:why|how come)\s+(?P<aux>didn'?t|did not|did|haven'?t|have not|hadn'?t|wasn'?t|"
    r"weren'?t|don'?t|do not|do|does|doesn'?t|won'?t|wouldn'?t|can'?t|couldn'?t|are|is|"
    r"would|were|was|have)?\s*(?P<who>you|u)\s+(?P<neg>never\s+|not\s+|even\s+)*"
    r"(?P<vp>[^?.!;]+)",
    re.I,
)
_PAST_AUX = re.compile(r"^(?:did|didn|haven|have|hadn|wasn|weren|were|was)", re.I)
_BLAME_TAIL = re.compile(
    r"(?<!\s)\s*(?:\b(?:like|as) (?:everyone|everybody|other people|you should|"
    r"you were (?:told|asked))\b.*|\bfirst\b.*|\binstead\b.*)$",
    re.I,
)
_PAST_TO_BASE = {
    "sent": "send",
    "told": "tell",
    "made": "make",
    "kept": "keep",
    "paid": "pay",
    "left": "leave",
    "brought": "bring",
    "bought": "buy",
    "read": "read",
    "put": "put",
}
_GUARANTEE = re.compile(
    r"\b(?:i|we)\s+(?:can\s+)?(?:guarantee|promise)\s+(?:you\s+)?(?:that\s+)?"
    r"(?P<what>(?:[^.!?;]|\.(?=\d))+)",
    re.I,
)
_POLICY_WORDS = re.compile(
    r"\b(?:it'?s|it is|that'?s|that is)\s+(?:our|company|the)\s+(?:company\s+)?"
    r"(?:policy|rule|procedure)(?:\s+to)?\b|\b(?:as per|per|according to|under)\s+(?:our|the)?"
    r"\s*(?:policy|terms(?: and conditions)?|rules|t&cs?)\b,?|\brules are rules\b,?|"
    r"\bi'?m afraid\b,?|\bunfortunately\b,?|\b(?:company|store) policy\b|\blike we said\b,?",
    re.I,
)


#: "... and contact you", "... and get back to you": the rewrite adds its own update
_REPORT_TAIL = re.compile(
    r"(?<!\s)\s+(?:and|then)\s+(?:contact|get back to|update|call|email|message|ring|let|write to|"
    r"reply to)\b.*$",
    re.I,
)


def _sentence(text: str, span: tuple[int, int]) -> str:
    s, e = TurnState(i=0, speaker=Speaker.agent, text=text).sentence_at(span[0])
    return text[s:e].strip()


def _why_slots(sentence: str) -> dict[str, str | None]:
    m = _WHY.search(sentence)
    if m is None:
        return {}
    vp = _BLAME_TAIL.sub("", m.group("vp")).strip(" ,")
    words = vp.split()
    if not words or len(words) > 14:
        return {}
    aux = m.group("aux") or ""
    if _PAST_AUX.match(aux) and words:
        words[0] = _PAST_TO_BASE.get(words[0].lower(), words[0])
        return {"vp_past": " ".join(words)}
    if not aux:  # "how come you never send ..." : present tense, drop the -s
        first = words[0].lower()
        if first.endswith("s") and not first.endswith("ss"):
            words[0] = first[:-1]
    return {"vp_present": " ".join(words)}


def _rule_clause(sentence: str) -> str | None:
    rest = _POLICY_WORDS.sub("", sentence).strip(" ,.;:-")
    rest = re.sub(r"^(?:that|to|and|so)\s+", "", rest, flags=re.I).strip()
    if len(rest.split()) < 3:
        return None
    if rest.split()[0].lower() in ("cancel", "refund", "charge", "keep", "ask", "need", "check"):
        rest = "we " + rest
    return rest[0].upper() + rest[1:]


def _flag_slots(ctx: CoachContext, f: Finding, draft: str) -> dict[str, str | None]:
    sentence = _sentence(draft, f.span)
    slots: dict[str, str | None] = {}
    if f.id == "X.why":
        slots.update(_why_slots(sentence))
    elif f.id == "X.vague_commit":
        what, named, _ = describe_promise(draft, f.span)
        low = what.lower()
        first_person = not low.startswith(("need", "have to", "be ", "please"))
        what = _REPORT_TAIL.sub("", what).strip(" ,")
        slots["what"] = what if first_person and len(what.split()) >= 2 else None
        slots["team"] = named if named and not named.startswith("a-") else None
    elif f.id == "X.overpromise":
        m = _GUARANTEE.search(sentence)
        slots["promise"] = m.group("what").strip() if m else None
    elif f.id == "X.bare_policy":
        slots["rule_clause"] = _rule_clause(sentence)
        slots.update(policy_slots(ctx, sentence, with_customer=False))
    return slots


def _flag(ctx: CoachContext, f: Finding, draft: str, slots: dict[str, str | None]) -> DraftFlag:
    book = rewrite_book().rewrites
    spec = book.get(f.id)
    entry = catalog().get(f.id)
    better = list(spec.better if spec else (entry.better if entry else ()))
    values = {**slots, **_flag_slots(ctx, f, draft)}
    rewrite = first_filled(spec.say, values) if spec else None
    advice = spec.advice if spec else (entry.description if entry else f.explanation)
    return DraftFlag(
        id=f.id,
        span=f.span,
        text=f.text,
        explanation=f.explanation,
        detector=f.detector,
        better=better,
        advice=advice,
        rewrite=rewrite or "",
        slots=placeholders(rewrite or ""),
    )


def draft_flags(ctx: CoachContext, draft: str, slots: dict[str, str | None]) -> list[DraftFlag]:
    """Flags for every anti-pattern in `draft` as the agent's next turn."""
    state = ctx.next_agent_turn(draft)
    found = sorted((f for f in state.findings if f.id.startswith("X.")), key=lambda f: f.span)
    flags = [_flag(ctx, f, draft, slots) for f in found]
    if not any(f.id == "X.overpromise" for f in flags):
        problems = beyond_authority(draft, ctx.company, ctx.authority)
        offered = [m for m in mentions(draft, ctx.company) if m.offered]
        if problems and offered:
            m = offered[0]
            s, e = m.start, m.end
            finding = Finding(
                id="X.overpromise",
                turn=len(ctx.conversation.turns),
                span=(s, e),
                text=draft[s:e],
                confidence=0.9,
                detector=AUTHORITY_DETECTOR,
                explanation=problems[0],
            )
            flags.append(_flag(ctx, finding, draft, {**slots, "promise": mid_sentence(draft[s:e])}))
    return flags


__all__ = ["AUTHORITY_DETECTOR", "draft_flags"]
