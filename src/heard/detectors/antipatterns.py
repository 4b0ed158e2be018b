"""Agent anti-pattern context rules and detectors (X.*), lexical tier.

The phrases live in ``heard/lexicons/agent_antipatterns.yaml`` and are matched by the one
shared scan of each turn; what is here is the context a pattern cannot see, kept cheap
(a few comparisons per hit, bounded look-backs, no regex loops):

- Every X id: negation as the generic rule (a cue in the four words before the hit,
  same clause) except that a cue inside a benign phrase does not count ("Don't worry,
  we'll look into it" is still a vague promise); a *disavowal* earlier in the clause
  cancels the hit ("I'm not going to tell you to calm down", "I'm not saying it's your
  fault"), and so does a phrase in single quotes (a mention, not a use). Double quotes
  are the generic rule's.
- Pairs agree with the techniques: when the same turn has the better move the catalog
  names for an anti-pattern, the technique wins. X.process_answer yields to
  T.outcome_answer, X.bare_policy to T.policy_benefit, X.hands_tied to T.boundary and
  T.plan_b, X.vague_commit to T.commit and T.warm_handoff, X.canned to T.personal (and
  to any technique that carries case content).
- X.process_answer exists only as an answer: it needs a customer outcome question
  (C.outcome_question) since the agent last spoke, and no estimate or result in the turn.
- X.canned is a detector of its own (`CannedDetector`): a turn made only of stock
  phrases that echoes none of the customer's specifics (`heard.detectors.case`).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import islice
from typing import ClassVar

from heard.detectors.base import BaseDetector, Detector, Doc, TurnState
from heard.detectors.case import addressed_names, specifics_used
from heard.detectors.lexical import rule, turn_hits
from heard.detectors.lexicon import Hit, Lexicon, builtin_lexicon
from heard.model import Finding, Speaker

#: Cue sets of agent_antipatterns.yaml read here.
DISAVOW = "antipattern_disavow"
BENIGN_NEGATION = "antipattern_benign_negation"
NEGATION = "negation"  # the shared cue set of common.yaml
WHEN = "antipattern_when"
RESULT = "antipattern_result"
CANNED_PREFIX = "canned_"
NOISE = "canned_noise"
CONTACT_REQUEST = "canned_contact_request"

_OPEN_QUOTES = frozenset("'\u2018")
_CLOSE_QUOTES = frozenset("'\u2019")
#: Words before an X.blame hit that make it a condition, not an accusation.
_CONDITIONAL = frozenset({"if", "when", "unless", "whether", "case", "incase", "should"})
_LAST_WORD = re.compile(r"([A-Za-z']+)\W*$")
_WORD = re.compile(r"[\w']+")
_OFFER_BEFORE = re.compile(r"\b(?:happy|glad|like|love|pleased|willing|able) to\s*$", re.I)
_LOOK = re.compile(r"look|check|investigat|see what", re.I)
#: "so we can look into it" is a purpose; "so we'll look into it" is a promise.
_CAN = re.compile(r"(?:we|i) (?:can|could|may)\b", re.I)
#: "Did you call the store?" asks what the customer did; it hands nothing off.
_ASKED_BEFORE = re.compile(
    r"\b(?:(?:did|have|had|do) (?:you|u)(?: already| ever| manage to)?|you'?ve(?: already)?"
    r"|chance to|able to|tried to)\s*$",
    re.I,
)
#: How many words before a hit a negation cue may stand (as the generic rule), and the
#: characters looked back at most for negation and disavowal cues.
_NEG_WINDOW_WORDS = 4
_NEG_WINDOW_CHARS = 60
_DISAVOW_WINDOW_CHARS = 120


def _set_spans(turn: TurnState, name: str) -> list[tuple[int, int]]:
    scan = turn.scan
    if scan is None:
        return []
    return scan.sets.get(name, [])


def _cues_between(cues: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """The cue spans lying wholly inside [lo, hi); `cues` is sorted by start (as scanned)."""
    out: list[tuple[int, int]] = []
    for s, e in islice(cues, bisect_left(cues, (lo, -1)), None):
        if s >= hi:
            break
        if e <= hi:
            out.append((s, e))
    return out


def _disavowed(turn: TurnState, hit: Hit) -> bool:
    """A disavowal cue ("not going to", "I'm not saying") earlier in the hit's clause."""
    cues = _set_spans(turn, DISAVOW)
    if not cues:
        return False
    lo = max(turn.clause_start(hit.start), hit.start - _DISAVOW_WINDOW_CHARS)
    return bool(_cues_between(cues, lo, hit.start))


def _negated(turn: TurnState, hit: Hit) -> bool:
    """The generic negation rule (a cue among the four words before the hit, same clause),
    except that a cue inside a benign phrase ("don't worry", "no problem") negates
    nothing: "Don't worry, we'll look into it" is still a vague promise."""
    cues = _set_spans(turn, NEGATION)
    if not cues:
        return False
    # only the end of a long clause matters: bounded, so a huge turn stays linear
    lo = max(turn.clause_start(hit.start), hit.start - _NEG_WINDOW_CHARS)
    before = list(_WORD.finditer(turn.text, lo, hit.start))
    window = before[-_NEG_WINDOW_WORDS:][0].start() if before else hit.start
    found = _cues_between(cues, window, hit.start)
    if not found:
        return False
    benign = _set_spans(turn, BENIGN_NEGATION)
    near = _cues_between(benign, max(0, window - _NEG_WINDOW_CHARS), hit.start + 1)
    return any(not any(bs <= s and e <= be for bs, be in near) for s, e in found)


def _single_quoted(text: str, hit: Hit) -> bool:
    """'calm down' in single quotes is the phrase being mentioned, not said."""
    s, e = hit.start, hit.end
    before = text[s - 1] if s > 0 else ""
    after = text[e] if e < len(text) else ""
    return before in _OPEN_QUOTES and after in _CLOSE_QUOTES


def _said(turn: TurnState, hit: Hit) -> bool:
    """True when the agent is actually saying the phrase: not negating, disavowing or
    quoting it."""
    return not (_negated(turn, hit) or _disavowed(turn, hit) or _single_quoted(turn.text, hit))


def _keep(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    return hit if _said(turn, hit) else None


for _id in ("X.why", "X.dismiss", "X.self_focus", "X.overpromise", "X.match_emotion"):
    rule(_id)(_keep)


@rule("X.blame")
def _blame(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    """Not when the words are a condition: "if you didn't book through us, ..."."""
    if not _said(turn, hit):
        return None
    m = _LAST_WORD.search(turn.text, max(0, hit.start - 12), hit.start)
    if m and m.group(1).lower() in _CONDITIONAL:
        return None
    return hit


@rule("X.bare_policy", requires=("T.policy_benefit",))
def _bare_policy(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    """A policy whose benefit is given anywhere in the turn is T.policy_benefit."""
    if turn.has("T.policy_benefit") or not _said(turn, hit):
        return None
    return hit


@rule("X.hands_tied", requires=("T.boundary", "T.plan_b"))
def _hands_tied(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    """A limit said together with what the agent can do (a boundary, a plan B) is not
    helplessness."""
    if turn.has("T.boundary") or turn.has("T.plan_b") or not _said(turn, hit):
        return None
    return hit


@rule("X.vague_commit", requires=("T.commit", "T.warm_handoff"))
def _vague_commit(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    """Not when the turn holds a specific commitment or a warm hand-off; not for the
    purpose of a request ("DM us so we can look into it"; "Can you send a screenshot?
    We'll take a look" right after the question); not when the agent offers to make the
    contact ("happy to contact the store") or asks whether the customer already did ("did
    you call the store?")."""
    if turn.has("T.commit") or turn.has("T.warm_handoff") or not _said(turn, hit):
        return None
    text = turn.text
    before = text[max(0, hit.start - 24) : hit.start]
    m = _LAST_WORD.search(before)
    if m and m.group(1).lower() in ("so", "that") and _CAN.match(text, hit.start):
        return None
    if _OFFER_BEFORE.search(before) or _ASKED_BEFORE.search(before):
        return None
    if _LOOK.search(text, hit.start, hit.end) and _after_question(turn, hit.start):
        return None
    return hit


def _after_question(turn: TurnState, pos: int) -> bool:
    """Whether the sentence before the one at `pos` is a question (a request just made)."""
    start, _ = turn.sentence_at(pos)
    if start == 0:
        return False
    prev = turn.sentence_at(start - 1)
    return prev != (0, len(turn.text)) and turn.text[prev[0] : prev[1]].rstrip().endswith("?")


@rule("X.process_answer", requires=("C.outcome_question", "T.outcome_answer"))
def _process_answer(doc: Doc, turn: TurnState, hit: Hit) -> Hit | None:
    """A process narrative is an anti-pattern only as the answer to an outcome question,
    and only when the reply gives no estimate, range or result."""
    if turn.has("T.outcome_answer") or not _said(turn, hit):
        return None
    if _set_spans(turn, WHEN) or _set_spans(turn, RESULT):
        return None
    return hit if outcome_question_pending(doc, turn) else None


def outcome_question_pending(doc: Doc, turn: TurnState) -> bool:
    """Whether the customer asked an outcome question that this agent turn answers.

    Looks back over the customer turns since the agent last spoke. Agent turns right
    before this one with no customer turn between are the same reply split in parts
    (tweets "1/2", "2/2"): the question is still the one before them, unless one of
    those parts already answered it with an outcome.
    """
    seen_customer = False
    for j in range(turn.i - 1, -1, -1):
        prev = doc.turns[j]
        if prev.speaker is Speaker.customer:
            seen_customer = True
            if prev.has("C.outcome_question"):
                return True
        elif prev.speaker is Speaker.agent:
            if seen_customer:
                return False
            if prev.has("T.outcome_answer"):
                return False
    return False


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


class CannedDetector(BaseDetector):
    """X.canned: an agent turn made only of stock phrases, with nothing of the case.

    A turn is canned when every word in it falls inside a stock phrase of the
    ``canned_*`` cue sets (greetings, stock thanks and apologies, "DM us your details",
    offers of help, closings, assurances) or is noise (handles, links, part counters,
    signatures), apart from the customer's name (right after a greeting, or as the agent
    addresses them: "You're welcome, Cindy.") or a sign-off name at the end;
    when it echoes none of the customer's specifics (a detail inside "DM us your ..."
    does not count); and when no technique that carries case content (`requires`) was
    found in it. The explanation lists the stock phrases found, by kind.
    """

    name: ClassVar[str] = "lexical.X.canned"
    version: ClassVar[int] = 2
    speakers = frozenset({Speaker.agent})
    #: Techniques that put something of the case in a turn: a turn with one is not canned
    #: (thanks, apologies and generic acknowledgements are stock and do not count).
    requires: tuple[str, ...] = (
        "T.personal",
        "T.explore",
        "T.mirror",
        "T.confirm_root",
        "T.outcome_answer",
        "T.commit",
        "T.ask_commitment",
        "T.boundary",
        "T.policy_benefit",
        "T.plan_b",
        "T.warm_handoff",
        "T.remedy",
        "T.document",
    )
    produces: tuple[str, ...] = ("X.canned",)

    #: Words that carry no case content on their own (they never make a turn personal).
    FUNCTION_WORDS: ClassVar[frozenset[str]] = _wordset(
        """a an the and or but so to of for in on at by with from as is are am was were be
        been being it its it's this that these those there here we we're we've we'll we'd
        us our ours i i'm i've i'll i'd me my you you're you've you'll you'd your yours u ur
        he she they them their can could will would shall should may might must do does did
        done have has had having just also again too very really quite please pls plz kindly
        now today still any all some if then than also more further well up out off into
        about over not no yes ok okay oh hey hi hello thanks thank much lot lots able"""
    )

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or builtin_lexicon()
        self.stock_sets = tuple(
            sorted(n for n in self.lexicon.set_names if n.startswith(CANNED_PREFIX) and n != NOISE)
        )
        self._carrying = (self.requires, frozenset(self.requires))

    def detect(self, doc: Doc) -> None:
        for turn in doc.turns:
            if turn.speaker is not Speaker.agent or not turn.text.strip():
                continue
            finding = self._check(doc, turn)
            if finding is not None:
                doc.add(finding)

    def _check(self, doc: Doc, turn: TurnState) -> Finding | None:
        if self._carrying[0] is not self.requires:  # changed after construction
            self._carrying = (self.requires, frozenset(self.requires))
        carrying = self._carrying[1]
        if any(f.id in carrying for f in turn.findings):
            return None
        turn_hits(self.lexicon, turn)  # makes sure the turn was scanned
        scan = turn.scan
        if scan is None:
            return None
        stock: list[tuple[int, int, str]] = []
        for name in self.stock_sets:
            for s, e in scan.sets.get(name, ()):
                stock.append((s, e, name))
        if not stock:
            return None
        noise = _merge(list(scan.sets.get(NOISE, ())))
        covered = _merge([(s, e) for s, e, _ in stock] + noise)
        names = addressed_names(doc)
        if not _only_stock(turn.text, covered, noise, self.FUNCTION_WORDS, stock, names):
            return None
        requests = _merge(list(scan.sets.get(CONTACT_REQUEST, ())))
        if any(not _within(span, requests) for span in specifics_used(doc, turn)):
            return None  # echoes the case (a detail inside "DM us your ..." does not count)
        stock.sort()
        start = stock[0][0]
        end = max(e for _, e, _ in stock)
        return self.finding(
            "X.canned",
            turn,
            (start, end),
            _explain(turn.text, stock),
            confidence=0.7 if len(stock) > 1 else 0.6,
        )


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\u2019]*")
_GREETING_SETS = frozenset({"canned_greeting", "canned_thanks"})


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint intervals covering the same characters as `spans`."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _within(span: tuple[int, int], merged: list[tuple[int, int]]) -> bool:
    return any(s <= span[0] and span[1] <= e for s, e in merged)


def _only_stock(
    text: str,
    covered: list[tuple[int, int]],
    noise: list[tuple[int, int]],
    function_words: frozenset[str],
    stock: list[tuple[int, int, str]],
    names: frozenset[str] = frozenset(),
) -> bool:
    """Whether every content word of `text` lies inside a covered (merged) span.

    Names are forgiven: a capitalised word right after a greeting or thanks ("Hi
    Sam", "thanks, Sam"), one of `names` (those the agent addresses the customer by:
    "You're welcome, Cindy.") and a last capitalised word followed by nothing but noise
    (a sign-off such as "Rach" or "Rach 2/2").
    """
    greeting_ends = [e for _, e, name in stock if name in _GREETING_SETS]
    loose: list[re.Match[str]] = []  # content words outside every covered span
    k = 0
    n = len(covered)
    for m in _TOKEN.finditer(text):
        s, e = m.start(), m.end()
        while k < n and covered[k][1] <= s:
            k += 1
        if k < n and covered[k][0] <= s and e <= covered[k][1]:
            continue
        if m.group().lower().replace("\u2019", "'") not in function_words:
            loose.append(m)
    for idx, m in enumerate(loose):
        word, s = m.group(), m.start()
        if not word[0].isupper():
            return False
        if names and word.lower() in names:
            continue  # the customer's name, as the agent addresses them
        if idx == len(loose) - 1 and all(
            _within((t.start(), t.end()), noise) for t in _TOKEN.finditer(text, m.end())
        ):
            continue  # a sign-off name: only noise (signature, part counter) after it
        if not any(g <= s and not text[g:s].strip(" ,!.:-") for g in greeting_ends):
            return False
    return True


def _explain(text: str, stock: list[tuple[int, int, str]]) -> str:
    """'only stock phrases: greeting ("Hi there"), closing ("Have a great day")'."""
    seen: dict[str, str] = {}
    for s, e, name in stock:
        kind = name[len(CANNED_PREFIX) :].replace("_", " ")
        if kind not in seen:
            phrase = " ".join(text[s:e].split())
            seen[kind] = phrase if len(phrase) <= 40 else phrase[:37] + "..."
    parts = ", ".join(f'{kind} ("{phrase}")' for kind, phrase in seen.items())
    return f"only stock phrases, nothing from this customer's case: {parts}"


def detectors() -> list[Detector]:
    """The X.* detectors beyond the per-id lexicon detectors (which carry the rules)."""
    return [CannedDetector()]
