"""Suggested replies assembled from the reply recipes (``replies.yaml``).

For each cue, in rank order, its recipes are assembled from moves filled with this
conversation's slots; each candidate then passes `heard.coach.checks.check_reply` (no
anti-pattern, no remedy above the agent's authority) or is recorded as rejected with its
reasons. At most `limit` distinct replies are returned; when no cue applies, the
``explore`` recipe is tried so the agent always has a starting point if one can be made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from heard.coach.checks import check_reply
from heard.coach.context import CoachContext
from heard.coach.data import CueRule, Recipe, reply_book, slots_of
from heard.coach.policies import match_policy, reason_words
from heard.coach.schemas import Cue, RejectedSuggestion, Suggestion
from heard.coach.slots import CASE_SLOTS
from heard.coach.templates import fill, lower_first, placeholders, tidy
from heard.model import Speaker

FALLBACK_RECIPES = ("explore", "commit")


def policy_slots(
    ctx: CoachContext, *texts: str, with_customer: bool = False
) -> dict[str, str | None]:
    """policy_text / policy_reason / policy_benefit for the policy the texts are about."""
    last = ctx.last(Speaker.customer)
    extra = [ctx.text(last.i)] if last and with_customer else []
    policy = match_policy(ctx.company, *texts, *extra)
    if policy is None:
        return {"policy_text": None, "policy_reason": None, "policy_benefit": None}
    return {
        "policy_text": policy.text.rstrip(),
        "policy_reason": reason_words(policy),
        "policy_benefit": lower_first(policy.benefit),
        "policy_id": policy.id,
    }


def assemble(recipe: Recipe, slots: Mapping[str, str | None]) -> tuple[str, list[str]] | None:
    """A recipe's text and technique ids, or None when a required move cannot be filled."""
    book = reply_book()
    parts: list[str] = []
    uses: list[str] = []
    for spec in recipe.moves:
        optional = spec.endswith("?")
        choices = spec.rstrip("?").split("|")
        done = False
        for name in choices:
            move = book.moves[name]
            template = next((t for t in move.say if fill(t, slots) is not None), None)
            if template is None:
                continue
            parts.append(fill(template, slots) or "")
            personal = bool(CASE_SLOTS.intersection(slots_of(template)))
            uses.extend(u for u in move.uses if u not in uses and (u != "T.personal" or personal))
            done = True
            break
        if not done and not optional:
            return None
    if not parts:
        return None
    return tidy(" ".join(parts)), uses


def suggestions(
    ctx: CoachContext,
    cues: Sequence[tuple[Cue, CueRule]],
    slots: Mapping[str, str | None],
    *,
    limit: int = 3,
) -> tuple[list[Suggestion], list[RejectedSuggestion]]:
    book = {r.id: r for r in reply_book().recipes}
    last_agent = ctx.last(Speaker.agent)
    values = dict(slots)
    if last_agent is not None:
        values.update(policy_slots(ctx, ctx.text(last_agent.i)))
    plan: list[tuple[str, str | None]] = []
    for cue, rule in cues:
        for r in rule.replies:
            if all(r != p for p, _ in plan):
                plan.append((r, cue.id))
    for r in FALLBACK_RECIPES:
        if all(r != p for p, _ in plan):
            plan.append((r, None))
    kept: list[Suggestion] = []
    rejected: list[RejectedSuggestion] = []
    seen: set[str] = set()
    ctx.prefetch(
        got[0]
        for recipe_id, _ in plan[: 2 * limit]
        if (got := assemble(book[recipe_id], values)) is not None
    )
    for recipe_id, cue_id in plan:
        if len(kept) >= limit:
            break
        if cue_id is None and kept:
            break  # fallbacks only when the cues gave nothing usable
        got = assemble(book[recipe_id], values)
        if got is None or any(got[0] in s or s in got[0] for s in seen):
            continue  # the same words again, or a part of a reply already offered
        text, uses = got
        seen.add(text)
        verdict = check_reply(ctx, text)
        if not verdict.ok:
            rejected.append(
                RejectedSuggestion(text=text, source="template", reasons=verdict.reasons)
            )
            continue
        kept.append(
            Suggestion(
                text=text,
                techniques=uses,
                detected=verdict.detected,
                source="template",
                recipe=recipe_id,
                cue=cue_id,
                remedies=verdict.remedies,
                slots=placeholders(text),
            )
        )
    return kept, rejected


__all__ = ["assemble", "policy_slots", "suggestions"]
