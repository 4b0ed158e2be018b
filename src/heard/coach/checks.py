"""The gate every suggested reply passes before an agent sees it.

A candidate (from a template or an LLM) is run through the detectors as the agent's next
turn, with the conversation so far as context. It is dropped when the detectors find an
anti-pattern (X.*) in it, or when it offers a remedy above the agent's authority (see
`heard.coach.authority`). What survives carries the technique ids the detectors found in
it, so a suggestion never claims a technique it does not show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from heard.coach.authority import beyond_authority, mentions
from heard.coach.context import CoachContext

#: A reply longer than this is not a chat reply (and an LLM that rambles is dropped).
MAX_REPLY_CHARS = 900


@dataclass(slots=True)
class Verdict:
    ok: bool
    reasons: list[str] = field(default_factory=list)
    detected: list[str] = field(default_factory=list)
    remedies: list[str] = field(default_factory=list)


def check_reply(ctx: CoachContext, text: str) -> Verdict:
    """Whether `text` may be shown as a suggestion, and what the detectors saw in it."""
    reasons: list[str] = []
    stripped = text.strip()
    if not stripped:
        return Verdict(False, ["empty reply"])
    if len(stripped) > MAX_REPLY_CHARS:
        return Verdict(False, [f"longer than {MAX_REPLY_CHARS} characters"])
    # the authority check is cheap: a reply that fails it is not worth a detector run
    reasons.extend(beyond_authority(stripped, ctx.company, ctx.authority))
    if reasons:
        return Verdict(False, reasons)
    state = ctx.next_agent_turn(stripped)
    for f in state.findings:
        if f.id.startswith("X."):
            reasons.append(f"{f.id}: {f.explanation} (“{f.text}”)")
    detected = sorted({f.id for f in state.findings if f.id.startswith("T.")})
    offered = sorted(
        {r for m in mentions(stripped, ctx.company) if m.offered for r in m.remedies[:1]}
    )
    return Verdict(not reasons, reasons, detected, offered)


__all__ = ["MAX_REPLY_CHARS", "Verdict", "check_reply"]
