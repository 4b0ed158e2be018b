"""Matching a rule an agent quotes to the company policy behind it, so the coach can give
the reason (safety, efficiency or fairness) and the benefit to the customer.

Matching is by shared content words between the agent's sentence (plus the customer's
latest message, which often names the thing the rule is about) and the policy's name and
text; a policy needs at least `MIN_SHARED` shared words, counted on a light stem, so a
stray "refund" alone does not pick a refund policy for a question about something else.
"""

from __future__ import annotations

import re

from heard.scoring.playbook import Company, Policy

MIN_SHARED = 2

_WORD = re.compile(r"[a-z][a-z'-]{2,}")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOP = _words(
    """the and for our your you are can not but with this that have has had was were will
    would could should any all its it's from into onto than then them they their there what
    when where which who how why one each only also just more most some such very here
    policy policies rule rules terms company afraid sorry unfortunately please thank thanks
    we'll we're i'm i've don't can't won't isn't handle handled handles handling process
    processed deal dealt take taken make made give given get got send sent apply applied ask
    asked need needs needed use used done doing per via off out"""
)


def _stems(text: str) -> set[str]:
    return {w[:6] for w in _WORD.findall(text.lower()) if w not in _STOP}


def match_policy(company: Company, *texts: str) -> Policy | None:
    """The company policy the texts are most likely about, or None below `MIN_SHARED`."""
    words: set[str] = set()
    for t in texts:
        words |= _stems(t)
    best: tuple[int, Policy] | None = None
    for p in company.policies:
        shared = len(words & _stems(f"{p.name} {p.text} {p.id.replace('_', ' ')}"))
        if shared >= MIN_SHARED and (best is None or shared > best[0]):
            best = (shared, p)
    return best[1] if best else None


def reason_words(policy: Policy) -> str:
    """The policy's reason as a noun phrase: "your safety", "speed", "fairness"."""
    return {"safety": "your safety", "efficiency": "speed", "fairness": "fairness"}[policy.reason]


__all__ = ["MIN_SHARED", "match_policy", "reason_words"]
