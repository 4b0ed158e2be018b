"""Agent techniques (T.*): context rules on lexicon hits, and detectors that need the case.

The patterns live in ``heard/lexicons/agent_techniques.yaml`` and are matched in the one
multi-pattern scan of each turn. What a pattern cannot see - the rest of the conversation,
a second cue elsewhere in the sentence - is decided here, cheaply, per hit:

- T.outcome_answer only answers an outcome question the customer asked (C.outcome_question)
  that no agent turn has answered yet;
- T.commit needs a time it can be held to, or a concrete action the agent will take (a
  vague "soon" leaves it to X.vague_commit);
- T.boundary needs an alternative after the limit; T.remedy needs the agent to offer it;
- T.refocus ("acknowledge and refocus") needs an acknowledgement or apology first;
- T.apologize says whether the apology names this customer's problem or is generic;
- T.label needs a feeling the customer did not name themselves;
- T.warm_handoff needs who takes over and when, or that the agent keeps ownership;
- T.explore hits count in questions (or open invitations to tell more), T.mirror check
  frames only in questions, T.ask_commitment bare verbs only where a command starts;
- T.thank drops a bare "thanks" that only signs a reply off.

Two detectors work above single hits: `FollowUpDetector` (T.follow_up, counting exploring
questions across agent turns) and `PersonalDetector` (T.personal, from the case details of
`heard.detectors.case`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from heard.detectors import case
from heard.detectors.base import BaseDetector, Detector, Doc, TurnState
from heard.detectors.lexical import AGENT, CUSTOMER, rule, turn_hits
from heard.detectors.lexicon import Hit, Lexicon, builtin_lexicon, is_question

# -- helpers -----------------------------------------------------------------------------


def _set_spans(turn: TurnState, name: str) -> Sequence[tuple[int, int]]:
    """Spans of a cue set in `turn` (from the turn's single scan)."""
    if turn.scan is None:
        return ()
    return turn.scan.sets.get(name, ())


def _within(spans: Iterable[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    """The first span starting inside [start, end), if any."""
    for s, e in spans:
        if start <= s < end:
            return s, e
    return None


def _overlaps(spans: Iterable[tuple[int, int]], hit: Hit) -> bool:
    return any(s < hit.end and hit.start < e for s, e in spans)


def _next_sentence_end(turn: TurnState, pos: int) -> int:
    """End of the sentence after the one holding `pos` (or of that one, if it is last)."""
    sentences = turn.sentences()
    for k, (s, e) in enumerate(sentences):
        if s <= pos < e:
            return sentences[k + 1][1] if k + 1 < len(sentences) else e
    return len(turn.text)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _with(hit: Hit, explanation: str, confidence: float | None = None) -> Hit:
    hit.explanation = explanation
    if confidence is not None:
        hit.confidence = confidence
    return hit


# -- T.outcome_answer --------------------------------------------------------------------

#: How many turns back an unanswered outcome question is still looked for.
_OUTCOME_LOOKBACK = 8


def open_outcome_question(doc: Doc, i: int) -> tuple[TurnState, bool] | None:
    """The customer turn whose outcome question is still open at turn `i`, if any.

    Returns the turn and whether it is *direct* (asked since the previous agent turn).
    An older question still counts while no agent turn has answered one
    (T.outcome_answer) since: customers often give the details an agent asked for
    before the agent can answer ("when will my refund arrive?" - "what's the booking?" -
    "ABC123" - "it will reach you by Friday").
    """
    direct = True
    for j in range(i - 1, max(-1, i - 1 - _OUTCOME_LOOKBACK), -1):
        t = doc.turns[j]
        if t.speaker is CUSTOMER:
            if t.has("C.outcome_question"):
                return t, direct
        elif t.speaker is AGENT:
            if t.has("T.outcome_answer"):
                return None
            if doc.turns[j + 1].speaker is not AGENT:  # not the first half of a split reply
                direct = False
    return None


@rule("T.outcome_answer", requires=("C.outcome_question",))
def _outcome_answer(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    found = open_outcome_question(doc, turn.i)
    if found is None:
        return None
    question, direct = found
    return _with(
        hit,
        f"answers the outcome question of turn {question.i} with an estimate or a result",
        hit.confidence if direct else hit.confidence - 0.15,
    )


# -- T.commit ----------------------------------------------------------------------------


#: Actions concrete enough to hold an owner to without a time ("I'll call the store").
_CONCRETE_ACTIONS = (
    "call",
    "ring",
    "phone",
    "email",
    "e-mail",
    "text",
    "refund",
    "credit",
    "send",
    "book",
    "arrange",
    "cancel",
    "replace",
    "issue",
    "give you",
    "get a",
    "get the",
    "get your",
    "visit",
)


@rule("T.commit")
def _commit(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    if _overlaps(_set_spans(turn, "agent_commit_reach"), hit):
        return _with(hit, "commits to reaching the customer and asks how or when", 0.7)
    said = turn.lower[hit.start : hit.end]
    offer = " can " in said or " could " in said
    # a time in the next sentence still belongs to "I'll email you. You'll have it by 5",
    # but an offer ("we can have a look") is only held to a time in its own sentence
    end = turn.sentence_at(hit.start)[1] if offer else _next_sentence_end(turn, hit.start)
    when = _within(_set_spans(turn, "agent_time_specific"), hit.start, end)
    if when is not None:
        due = turn.text[when[0] : when[1]]
        return _with(hit, f"commits to a specific action with an owner and a time ({due})")
    s, e = turn.sentence_at(hit.start)
    if _within(_set_spans(turn, "agent_time_vague"), s, e) is not None:
        return None  # "we'll get back to you soon": X.vague_commit
    past = "'ve " in said or " have " in said
    if not (offer or past) and any(action in said for action in _CONCRETE_ACTIONS):
        return _with(hit, "commits to a specific action it owns (no time given)", 0.6)
    return None


# -- T.boundary --------------------------------------------------------------------------


@rule("T.boundary")
def _boundary(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    alternative = _within(
        _set_spans(turn, "agent_alternative"), hit.start, _next_sentence_end(turn, hit.start)
    )
    if alternative is None:
        return None  # a limit alone is X.hands_tied territory, not a boundary
    return hit


# -- T.policy_benefit --------------------------------------------------------------------

#: Reasons below this confidence count only with a policy or limit in the same turn.
_WEAK_REASON = 0.6


@rule("T.policy_benefit")
def _policy_benefit(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    if hit.confidence >= _WEAK_REASON:
        return hit
    if _set_spans(turn, "agent_policy_context"):
        return hit
    return None


# -- T.remedy ----------------------------------------------------------------------------


@rule("T.remedy")
def _remedy(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    s, e = turn.sentence_at(hit.start)
    if _within(_set_spans(turn, "agent_offer"), s, e) is None:
        return None
    return hit


# -- T.label -----------------------------------------------------------------------------

#: Feeling families: a label names a family the customer's own words did not.
_FEELINGS: dict[str, tuple[str, ...]] = {
    "frustration": ("frustrat", "fed up", "exasperat"),
    "anger": ("anger", "angry", "furious", "livid", "infuriat", "mad ", "pissed", "rage"),
    "annoyance": ("annoy", "irritat", "aggravat"),
    "disappointment": ("disappoint", "let down", "gutted", "disheart", "discourag", "demorali"),
    "upset": ("upset", "distress", "devastat", "unhappy"),
    "worry": ("worr", "anxi", "stress", "scared", "scary", "frighten", "concern", "nerve-"),
    "confusion": ("confus",),
    "excitement": ("excit", "eager", "keen"),
    "exhaustion": ("exhaust", "tired", "overwhelm", "helpless"),
    "impatience": ("impatien",),
    "embarrassment": ("embarrass", "humiliat"),
}


def _feeling_of(text: str) -> str | None:
    low = text.lower()
    for family, stems in _FEELINGS.items():
        if any(stem in low for stem in stems):
            return family
    return None


def _customer_said(doc: Doc, before: int, stems: tuple[str, ...]) -> bool:
    for t in doc.turns[:before]:
        if t.speaker is CUSTOMER and any(stem in t.lower for stem in stems):
            return True
    return False


@rule("T.label")
def _label(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    family = _feeling_of(turn.text[hit.start : hit.end])
    if family is None:
        return None
    if _customer_said(doc, turn.i, _FEELINGS[family]):
        return None  # naming the feeling they stated is acknowledging, not labelling
    return _with(hit, f"names a feeling the customer has not stated ({family})")


# -- T.warm_handoff ----------------------------------------------------------------------


def _named_person(turn: TurnState, start: int) -> bool:
    """A capitalised name after the hand-off words, within the sentence ("... Priya ...")."""
    _, end = turn.sentence_at(start)
    words = turn.text[start:end].split()
    return any(
        len(w) > 1 and w[0].isupper() and w[1:].strip(".,;:!?").islower() and w != "I"
        for w in words[1:]
    )


@rule("T.warm_handoff")
def _warm_handoff(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    who = bool(_set_spans(turn, "agent_handoff_who")) or _named_person(turn, hit.start)
    if not who:
        return None
    when = bool(_set_spans(turn, "agent_time_specific"))
    # the hand-over words themselves ("I've briefed Tom on everything") are not a sign of
    # keeping ownership: that needs words of its own ("I'll stay your contact")
    owns = any(not _overlaps([span], hit) for span in _set_spans(turn, "agent_handoff_own"))
    if not (when or owns):
        return None  # a cold hand-off (X.vague_commit)
    how = " and ".join(part for part, ok in (("says when", when), ("keeps ownership", owns)) if ok)
    return _with(hit, f"hands over to a named colleague or team, {how}")


# -- T.refocus --------------------------------------------------------------------------


#: T.refocus patterns whose explanation starts so name the move away from blame or the
#: past ("let's leave the blame aside and ..."): a refocus by themselves.
RESETS = "sets blame or the past aside"


@rule("T.refocus", requires=("T.acknowledge", "T.apologize"))
def _refocus(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    # "Acknowledge and refocus": the move to next steps counts when the same reply has
    # first recognised the feeling or apologised; alone it is just a plan, unless it says
    # in so many words that it leaves the blame or the past aside.
    if hit.explanation.startswith(RESETS):
        return hit
    if turn.has("T.acknowledge") or turn.has("T.apologize"):
        return hit
    return None


# -- T.explore, T.mirror, T.ask_commitment -----------------------------------------------


@rule("T.explore")
def _explore(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    sentence = turn.sentence_at(hit.start)
    if _accusing(turn, sentence):
        return None  # "what did you expect would happen if ...?" interrogates (X.why)
    if is_question(turn.text, sentence):
        return hit
    if _overlaps(_set_spans(turn, "agent_explore_request"), hit):
        return hit  # "tell us a bit more about what happened"
    return None


def _accusing(turn: TurnState, sentence: tuple[int, int]) -> bool:
    """Whether the sentence holds an X.why pattern (before X.why's own rule)."""
    if turn.scan is None:
        return False
    s, e = sentence
    return any(s <= start < e for start, _, _ in turn.scan.ids.get("X.why", ()))


@rule("T.mirror")
def _mirror(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    if _overlaps(_set_spans(turn, "agent_check_frame"), hit) and not is_question(
        turn.text, turn.sentence_at(hit.start)
    ):
        return None  # "to confirm, your refund is on its way." is not listening back
    return hit


#: Words that may precede a command at the start of its clause ("Hi Sam, please restart").
_COMMAND_LEAD = frozenset(
    (
        "please",
        "pls",
        "plz",
        "kindly",
        "just",
        "then",
        "also",
        "now",
        "first",
        "next",
        "and",
        "so",
        "ok",
        "okay",
        "alright",
        "great",
        "perfect",
        "thanks",
        "thank",
        "you",
        "hi",
        "hey",
        "hello",
        "there",
        "simply",
        "maybe",
        "perhaps",
        "lastly",
        "finally",
        "afterwards",
        "after",
        "that",
        "secondly",
        "step",
        "1",
        "2",
        "3",
        "4",
        "5",
        "1:",
        "2:",
        "3:",
        "1)",
        "2)",
        "3)",
        "-",
        "*",
        "•",
        ">",
        "&gt;",
    )
)


def _starts_command(turn: TurnState, start: int) -> bool:
    lead = turn.lower[turn.clause_start(start) : start]
    return all(w.startswith("@") or w.strip(".,:;!") in _COMMAND_LEAD for w in lead.split())


@rule("T.ask_commitment")
def _ask_commitment(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    verbs = _set_spans(turn, "agent_imperative")
    if any(s == hit.start for s, _ in verbs) and not _starts_command(turn, hit.start):
        return None  # "we tried restarting it" is not a request to the customer
    return hit


# -- T.thank -----------------------------------------------------------------------------

_THANKS_OBJECT = ("for", " 4", "appreciat", "in advance")


def _signature_only(rest: str) -> bool:
    """True when `rest` is just a sign-off: a name, initials, a part marker, a link."""
    words = [
        w
        for w in rest.split()
        if not w.startswith(("http://", "https://", "@", "^", "*", "#"))
        and not any(c.isdigit() for c in w)
    ]
    return len(words) <= 3 and "?" not in rest


@rule("T.thank")
def _thank(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    said = turn.lower[hit.start : hit.end]
    if any(k in said for k in _THANKS_OBJECT):
        return hit
    before = turn.text[: hit.start].split()
    content_before = [w for w in before if not w.startswith("@")]
    if len(content_before) >= 3 and _signature_only(turn.text[hit.end :]):
        return None  # "..., thanks - Sam": a closing, not thanks for something
    return hit


# -- T.apologize -------------------------------------------------------------------------


@rule("T.apologize")
def _apologize(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    s, e = turn.sentence_at(hit.start)
    specific = any(s <= a < e for a, _ in case.specifics_used(doc, turn))
    if specific:
        return _with(hit, "apologises for this customer's specific problem", 0.9)
    return _with(hit, "apologises (a generic line; a bigger problem needs more)")


# -- detectors ---------------------------------------------------------------------------

#: Ids whose presence in an agent turn means a fix has been proposed.
_FIX_IDS = ("T.ask_commitment", "T.remedy", "T.plan_b", "T.commit")


class FollowUpDetector(BaseDetector):
    """T.follow_up: an exploring question after an earlier agent reply already explored.

    Exploring questions are counted per agent reply (consecutive agent messages with no
    customer message between them are one reply, so the second half of a split tweet is
    not a follow-up to its first half).
    """

    name = "lexical.T.follow_up"
    version = 1
    speakers = frozenset({AGENT})
    requires: tuple[str, ...] = ("T.explore", *_FIX_IDS)
    produces: tuple[str, ...] = ("T.follow_up",)

    def detect(self, doc: Doc) -> None:
        explored_replies = 0
        explored_this_reply = False
        fix_turn: int | None = None
        for turn in doc.turns:
            if turn.speaker is CUSTOMER:
                if explored_this_reply:
                    explored_replies += 1
                explored_this_reply = False
            if turn.speaker is not AGENT:
                continue
            explore = turn.get("T.explore")
            if explore is not None and not explored_this_reply:
                if explored_replies >= 1:
                    n = explored_replies + 1
                    when = (
                        "before a fix"
                        if fix_turn is None
                        else f"after the fix proposed in turn {fix_turn}"
                    )
                    doc.add(
                        self.finding(
                            "T.follow_up",
                            turn,
                            explore.span,
                            f"{_ordinal(n)} exploring question {when}",
                            min(0.9, 0.6 + 0.1 * n),
                        )
                    )
                explored_this_reply = True
            if fix_turn is None and any(turn.has(i) for i in _FIX_IDS):
                fix_turn = turn.i


# "the left channel", "this Kettle 3000": the customer's thing, named as the one at hand
_DEFINITE_BEFORE = re.compile(r"(?:^|\W)(?:the|this|that)\s$")


def _about_their_case(turn: TurnState, echoes: Sequence[case.Specific]) -> bool:
    """Whether a reply echoing the customer's words is about their case: it speaks to them
    or to the people in it ("you", "your son", "his flight"), echoes a number or a date
    they gave, or names one of their things as the one at hand ("the left channel"). A
    reply with none of these is mostly a general statement of how things work
    ("delivery slots open three weeks ahead", "members can pay in full"), measured on the
    annotated support dialogs: it removed 11 false echoes for 2 true ones.
    """
    if _set_spans(turn, "agent_case_person"):
        return True
    if any(sp.kind == "number" or sp.kind == "date" for sp in echoes):
        return True
    low = turn.lower
    return any(_DEFINITE_BEFORE.search(low, max(0, sp.start - 6), sp.start) for sp in echoes)


class PersonalDetector(BaseDetector):
    """T.personal: the reply is about this customer's case, not only stock lines.

    In a statement (not a question: asking which device they use is diagnosis) of a reply
    that speaks to the customer or the people in their case ("you", "your son", "his
    flight"), the agent echoes a number, date or name the customer gave, or two of their
    content words; or gives particulars of the case (an amount, a reference, a place, a
    person; not a duration or a step number); or reports what it found or did on the
    case ("I can see the refund was requested", "I've spoken to the store"). The
    customer's name alone does not count, nor do their words in a general statement of
    how things work that addresses no one ("delivery slots open three weeks ahead").
    """

    name = "lexical.T.personal"
    version = 2
    speakers = frozenset({AGENT})
    requires: tuple[str, ...] = ()
    produces: tuple[str, ...] = ("T.personal",)

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or builtin_lexicon()

    def detect(self, doc: Doc) -> None:
        for turn in doc.turns:
            if turn.speaker is not AGENT or not turn.text:
                continue
            turn_hits(self.lexicon, turn)  # the turn's one scan (cached), for its cue sets
            found = self._evidence(doc, turn)
            if found is not None:
                span, explanation, confidence = found
                doc.add(self.finding("T.personal", turn, span, explanation, confidence))

    @staticmethod
    def _in_statement(turn: TurnState, spans: Iterable[case.Specific]) -> list[case.Specific]:
        return [sp for sp in spans if not is_question(turn.text, turn.sentence_at(sp.start))]

    def _evidence(self, doc: Doc, turn: TurnState) -> tuple[tuple[int, int], str, float] | None:
        echoes = self._in_statement(turn, case.specifics_in(doc, turn))
        if echoes and not _about_their_case(turn, echoes):
            echoes = []
        strong = [sp for sp in echoes if sp.kind != "word"]
        words = {sp.key for sp in echoes if sp.kind == "word"}
        if strong or len(words) >= 2:
            first = strong[0] if strong else echoes[0]
            shown = ", ".join(
                repr(k)
                for k in list(dict.fromkeys(turn.text[sp.start : sp.end] for sp in echoes))[:3]
            )
            confidence = min(0.9, 0.6 + 0.1 * len(strong) + 0.05 * len(words))
            return (
                (first.start, first.end),
                f"echoes this customer's specifics: {shown}",
                confidence,
            )
        own = self._in_statement(turn, case.particulars_in(doc, turn))
        if own:
            shown = ", ".join(repr(turn.text[sp.start : sp.end]) for sp in own[:3])
            return (own[0].start, own[0].end), f"gives particulars of this case: {shown}", 0.6
        lookup = _set_spans(turn, "agent_case_lookup")
        if lookup:
            return lookup[0], "reports what it found or did on this customer's case", 0.6
        return None


def detectors() -> list[Detector]:
    return [FollowUpDetector(), PersonalDetector()]
