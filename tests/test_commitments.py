"""Commitments: due-time parsing (zones, relative dates), owners, vague promises, closing loops.

Most tests build the findings by hand (the words of the promise, as a detector would mark
them), so they test the tracker alone; the last ones run the real pipeline on the bundled
examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import heard
from heard import commitments as cm
from heard.cli.commands_core import example_path
from heard.commitments import (
    close,
    describe_promise,
    extract_commitments,
    find_due_expressions,
    parse_due,
    status_at,
)
from heard.model import Analysis, Commitment, Conversation, Finding, Speaker, Turn, TurnAnalysis

# Wednesday 4 March 2026, 14:00 UTC
WED = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)
FRI = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)


def due(text: str, base: datetime = WED, tz: str | None = None) -> datetime | None:
    found = find_due_expressions(text)
    assert found, f"no time expression found in {text!r}"
    return parse_due(found[0].text, base, tz=ZoneInfo(tz) if tz else None)


# -- due times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("I'll call you by 5pm EST.", datetime(2026, 3, 4, 22, 0, tzinfo=UTC)),
        ("by 17:00 CET", datetime(2026, 3, 4, 16, 0, tzinfo=UTC)),
        ("by 9am PT tomorrow", datetime(2026, 3, 5, 17, 0, tzinfo=UTC)),
        ("at 9am Europe/London tomorrow", datetime(2026, 3, 5, 9, 0, tzinfo=UTC)),
        ("I'll have it sorted tomorrow morning", datetime(2026, 3, 5, 12, 0, tzinfo=UTC)),
        ("within 24 hours", datetime(2026, 3, 5, 14, 0, tzinfo=UTC)),
        ("within the hour", datetime(2026, 3, 4, 15, 0, tzinfo=UTC)),
        ("in five minutes", datetime(2026, 3, 4, 14, 5, tzinfo=UTC)),
        ("by Friday", datetime(2026, 3, 6, 23, 59, tzinfo=UTC)),
        ("on Monday at 10", datetime(2026, 3, 9, 10, 0, tzinfo=UTC)),
        ("by end of day", datetime(2026, 3, 4, 17, 0, tzinfo=UTC)),
        ("tonight", datetime(2026, 3, 4, 23, 59, tzinfo=UTC)),
        ("by 3 pm today", datetime(2026, 3, 4, 15, 0, tzinfo=UTC)),
        ("first thing tomorrow", datetime(2026, 3, 5, 10, 0, tzinfo=UTC)),
        ("by half twelve", datetime(2026, 3, 5, 12, 30, tzinfo=UTC)),
        ("by 12", datetime(2026, 3, 5, 12, 0, tzinfo=UTC)),
    ],
)
def test_due_times(text: str, want: datetime) -> None:
    assert due(text) == want


def test_ambiguous_clock_times_take_the_next_occurrence() -> None:
    # said at 14:00: "by 8" is this evening, "by 1:15" is tonight's 13:15 already gone -> 01:15
    assert due("by 8") == datetime(2026, 3, 4, 20, 0, tzinfo=UTC)
    assert due("by 1:15", base=FRI) == datetime(2026, 3, 6, 13, 15, tzinfo=UTC)
    late = datetime(2026, 3, 4, 23, 14, tzinfo=UTC)
    assert due("by 8", base=late) == datetime(2026, 3, 5, 8, 0, tzinfo=UTC)


def test_a_weekday_said_on_that_day_is_today() -> None:
    assert due("by Friday", base=FRI) == datetime(2026, 3, 6, 23, 59, tzinfo=UTC)
    assert due("by Thursday", base=FRI) == datetime(2026, 3, 12, 23, 59, tzinfo=UTC)


def test_working_days_skip_the_weekend() -> None:
    # Friday 10:00 + two working days = Tuesday 10:00
    assert due("within two working days", base=FRI) == datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    # a range takes its upper end
    assert due("within 2-3 working days", base=FRI) == datetime(2026, 3, 11, 10, 0, tzinfo=UTC)


def test_local_zone_of_the_conversation() -> None:
    # 14:00 UTC is 09:00 in New York (EST in early March): "by 5pm" is 17:00 New York time
    got = due("by 5pm", tz="America/New_York")
    assert got == datetime(2026, 3, 4, 22, 0, tzinfo=UTC)
    # a zone written in the text wins over the conversation's zone
    assert due("by 5pm GMT", tz="America/New_York") == datetime(2026, 3, 4, 17, 0, tzinfo=UTC)
    # and the day rolls over in the local zone, not in UTC
    evening = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)  # 18:30 in New York
    assert due("tomorrow morning", base=evening, tz="America/New_York") == datetime(
        2026, 3, 5, 17, 0, tzinfo=UTC
    )


def test_calendar_dates_use_dateparser() -> None:
    assert due("no later than Monday 16 March") == datetime(2026, 3, 16, 23, 59, tzinfo=UTC)
    assert due("by the 16th") == datetime(2026, 3, 16, 23, 59, tzinfo=UTC)
    assert due("on 9 April at 10am") == datetime(2026, 4, 9, 10, 0, tzinfo=UTC)


def test_without_dateparser_the_builtin_parser_still_reads_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cm._calendar_date.cache_clear()
    monkeypatch.setattr(cm, "_dateparser", lambda: None)
    try:
        assert due("no later than Monday 16 March") is None  # a calendar date: unresolved
        assert due("within 24 hours") == WED + timedelta(hours=24)
        assert due("tomorrow") == datetime(2026, 3, 5, 23, 59, tzinfo=UTC)
        assert due("today by 4pm") == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    finally:
        cm._calendar_date.cache_clear()


def test_a_clock_time_used_as_a_name_is_not_a_deadline() -> None:
    text = "I'll check the scan myself when the 14:05 lands and message you by 16:00."
    found = find_due_expressions(text)
    assert [d.text for d in found] == ["by 16:00"]


def test_no_time_words_no_deadline() -> None:
    assert find_due_expressions("We'll look into it and get back to you.") == []
    assert find_due_expressions("That's 10 percent off.") == []


# -- extraction -----------------------------------------------------------------------


def finding(id: str, turn: int, text: str, words: str) -> Finding:
    start = text.index(words)
    return Finding(
        id=id,
        turn=turn,
        span=(start, start + len(words)),
        text=words,
        confidence=0.8,
        detector="test@1",
        explanation="test",
    )


TurnSpec = tuple[str, str, str | None, datetime | None]


def analysis(
    turns: Sequence[TurnSpec],
    marks: Sequence[tuple[str, int, str]],
    meta: dict[str, str] | None = None,
) -> Analysis:
    """Turns as (speaker, text, agent_id, ts); marks as (id, turn, words in that turn)."""
    conv = Conversation(
        id="t",
        meta=meta or {},
        turns=[Turn(speaker=Speaker(s), text=t, agent_id=a, ts=ts) for s, t, a, ts in turns],
    )
    per_turn: list[TurnAnalysis] = [
        TurnAnalysis(i=i, speaker=t.speaker) for i, t in enumerate(conv.turns)
    ]
    for id, i, words in marks:
        per_turn[i].findings.append(finding(id, i, conv.turns[i].text, words))
    return Analysis(id="t", conversation=conv, turns=per_turn)


def at(minutes: int) -> datetime:
    return WED + timedelta(minutes=minutes)


def test_a_specific_commitment() -> None:
    a = analysis(
        [
            ("customer", "When will my refund arrive?", None, at(0)),
            ("agent", "I'll check with the bank and email you by 5pm EST.", "a-7", at(1)),
        ],
        [("T.commit", 1, "I'll check with the bank")],
    )
    (c,) = extract_commitments(a)
    assert (c.turn, c.kind, c.finding, c.owner) == (1, "commit", "T.commit", "a-7")
    assert c.what == "check with the bank and email you"
    assert c.due == datetime(2026, 3, 4, 22, 0, tzinfo=UTC)
    assert c.due_text == "by 5pm EST"
    assert c.status == "open"


def test_every_promise_in_a_turn_is_tracked() -> None:
    # a turn keeps one T.commit finding; the pipeline passes the others as `more`
    text = "I'll email the label by noon. If it doesn't come, I'll ring you at 3pm."
    a = analysis(
        [("customer", "Where is my return label?", None, at(0)), ("agent", text, "a-2", at(1))],
        [("T.commit", 1, "I'll email the label")],
    )
    (only,) = extract_commitments(a)
    more = {1: [finding("T.commit", 1, text, "I'll ring you")]}
    first, second = extract_commitments(a, more=more)
    assert first == only
    assert (second.turn, second.what, second.due_text) == (1, "ring you", "at 3pm")
    assert second.due == datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    # a second mark in a sentence that already has a commitment adds nothing
    same = {1: [finding("T.commit", 1, text, "the label by noon")]}
    assert extract_commitments(a, more=same) == [only]
    # a further promise of an id the turn no longer has a finding of (it yielded) is not one
    gone = {1: [finding("X.vague_commit", 1, text, "I'll ring you")]}
    assert extract_commitments(a, more=gone) == [only]


def test_the_pipeline_tracks_two_promises_of_one_turn() -> None:
    conv = Conversation(
        id="two",
        turns=[
            Turn(speaker=Speaker.customer, text="My sofa arrived torn.", ts=at(0)),
            Turn(
                speaker=Speaker.agent,
                agent_id="a-3",
                ts=at(1),
                text=(
                    "I'm so sorry. I'll book a collection for Friday. "
                    "I'll also call you tomorrow at 10am to agree the replacement."
                ),
            ),
        ],
    )
    a = heard.Pipeline(fast=True, playbooks=[]).analyze(conv)
    assert [f.id for f in a.turns[1].findings].count("T.commit") == 1
    made = [(c.what, c.due) for c in a.commitments]
    assert made == [
        ("book a collection", datetime(2026, 3, 6, 23, 59, tzinfo=UTC)),
        ("call you to agree the replacement", datetime(2026, 3, 5, 10, 0, tzinfo=UTC)),
    ]


def test_what_keeps_an_event_time_and_drops_the_deadline() -> None:
    # "soon" inside "as soon as it lands" is not a vague time to cut; the deadline after it
    # is cut at its own place (it was cut at offsets of the uncut text)
    text = "I will send you the report as soon as it lands, and no later than Monday 16 March."
    a = analysis([("agent", text, "a-1", at(0))], [("T.commit", 0, "I will send")])
    (c,) = extract_commitments(a)
    assert c.what == "send you the report as soon as it lands"


def test_a_named_person_owns_what_they_will_do() -> None:
    a = analysis(
        [("agent", "Helen will call you tomorrow morning to book the visit.", "a-1", at(0))],
        [("T.commit", 0, "Helen will call you")],
    )
    (c,) = extract_commitments(a)
    assert c.owner == "Helen"
    assert c.what.startswith("call you")
    assert c.due == datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def test_vague_promises_say_what_to_add() -> None:
    a = analysis(
        [
            ("customer", "Where is it?", None, at(0)),
            ("agent", "We'll look into it.", "a-2", at(1)),
            ("agent", "You'll need to write to our complaints department.", "a-2", at(2)),
        ],
        [
            ("X.vague_commit", 1, "We'll look into it"),
            ("X.vague_commit", 2, "You'll need to write to our complaints department"),
        ],
    )
    vague, cold = extract_commitments(a)
    assert vague.kind == "vague" and vague.due is None and vague.status == "open"
    assert vague.what == "look into it"
    assert "when" in vague.explanation and "who" in vague.explanation
    assert cold.kind == "vague"
    assert cold.explanation.startswith("Cold hand-off")


def test_a_vague_promise_with_a_time_asks_only_for_the_owner() -> None:
    a = analysis(
        [("agent", "We'll look into it by Friday.", "a-2", at(0))],
        [("X.vague_commit", 0, "We'll look into it")],
    )
    (c,) = extract_commitments(a)
    assert c.due is not None
    assert "who" in c.explanation and "when:" not in c.explanation


def test_warm_handoff_stays_open_until_the_receiver_picks_it_up() -> None:
    turns: list[TurnSpec] = [
        ("customer", "I want a manager.", None, at(0)),
        (
            "agent",
            "I'm putting you through to Grace, our team lead, now, and I'll stay on the line.",
            "a-2",
            at(1),
        ),
        ("system", "Call transferred", None, at(2)),
        ("agent", "Hi, this is Grace, I lead the billing team.", "a-9", at(3)),
    ]
    marks = [("T.warm_handoff", 1, "I'm putting you through to Grace")]
    (c,) = extract_commitments(analysis(turns, marks))
    assert (c.kind, c.owner, c.status, c.closed_turn) == ("handoff", "Grace", "done", 3)
    # without Grace's turn the hand-off is still open
    (c,) = extract_commitments(analysis(turns[:3], marks))
    assert c.status == "open" and c.closed_turn is None
    assert "Grace" in c.explanation


def test_the_handing_agent_cannot_close_their_own_handoff() -> None:
    turns: list[TurnSpec] = [
        (
            "agent",
            "I've asked Priya on the data team to send the files by 12:00 UTC.",
            "a-6",
            at(0),
        ),
        ("agent", "Still waiting on it, sorry.", "a-6", at(30)),
    ]
    marks = [("T.warm_handoff", 0, "I've asked Priya")]
    (c,) = extract_commitments(analysis(turns, marks))
    assert c.owner == "Priya"
    assert c.due == datetime(2026, 3, 4, 12, 0, tzinfo=UTC) + timedelta(days=1)
    assert c.status == "open"
    # a colleague reporting that Priya did it closes the loop
    done = [*turns, ("agent", "Priya has sent both files now.", "a-6", at(40))]
    (c,) = extract_commitments(analysis(done, marks))
    assert c.status == "done" and c.closed_turn == 2


def test_a_handoff_to_a_team_is_closed_by_anyone_from_it() -> None:
    turns: list[TurnSpec] = [
        ("agent", "I'm passing you to our delivery team, they'll pick this chat up.", "a-1", at(0)),
        ("agent", "Hello, deliveries here. I can book Friday.", "a-5", at(4)),
    ]
    (c,) = extract_commitments(
        analysis(turns, [("T.warm_handoff", 0, "I'm passing you to our delivery team")])
    )
    assert c.owner == "delivery team" and c.status == "done"


def test_a_report_back_closes_the_promise() -> None:
    turns: list[TurnSpec] = [
        ("agent", "I'll check the scan and message you by 16:00.", "a-1", at(0)),
        ("customer", "ok thanks", None, at(5)),
        ("agent", "As promised: the bag is on the 14:05 and lands at 15:10.", "a-1", at(100)),
    ]
    (c,) = extract_commitments(analysis(turns, [("T.commit", 0, "I'll check the scan")]))
    assert c.status == "done" and c.closed_turn == 2


def test_the_customer_confirming_receipt_closes_the_promise() -> None:
    turns: list[TurnSpec] = [
        ("agent", "I'll send both exports by 12:00.", "a-1", at(0)),
        ("customer", "Both files arrived, thank you.", None, at(60)),
    ]
    (c,) = extract_commitments(analysis(turns, [("T.commit", 0, "I'll send both exports")]))
    assert c.status == "done" and c.closed_turn == 1


def test_a_promise_past_due_and_not_kept_is_overdue() -> None:
    turns: list[TurnSpec] = [
        ("agent", "I'll ring you within the hour.", "a-1", at(0)),
        ("customer", "Still nothing from you?", None, at(180)),
    ]
    (c,) = extract_commitments(analysis(turns, [("T.commit", 0, "I'll ring you")]))
    assert c.due == at(60)
    assert c.status == "overdue"  # "now" is the last timestamp of the conversation


def test_status_at_now() -> None:
    c = Commitment(turn=1, what="ring you", due=at(60))
    assert status_at(c, at(30)) == "open"
    assert status_at(c, at(61)) == "overdue"
    assert status_at(c, (at(61)).replace(tzinfo=None)) == "overdue"  # naive means UTC
    assert status_at(Commitment(turn=1, what="look into it", kind="vague"), at(10**6)) == "open"
    done = close(c, turn=4, note="closed by the service")
    assert done.status == "done" and done.closed_turn == 4
    assert status_at(done, at(10**6)) == "done"
    assert c.status == "open"  # close() returns a copy


def test_extract_with_an_explicit_now() -> None:
    turns: list[TurnSpec] = [("agent", "I'll ring you within the hour.", "a-1", at(0))]
    a = analysis(turns, [("T.commit", 0, "I'll ring you")])
    assert extract_commitments(a, now=at(30))[0].status == "open"
    assert extract_commitments(a, now=at(90))[0].status == "overdue"


def test_no_timestamps_no_due_time_but_the_words_are_kept() -> None:
    turns: list[TurnSpec] = [("agent", "I'll ring you by 5pm.", "a-1", None)]
    (c,) = extract_commitments(analysis(turns, [("T.commit", 0, "I'll ring you")]))
    assert c.due is None and c.due_text == "by 5pm" and c.status == "open"


def test_one_commitment_per_sentence_handoff_first() -> None:
    text = "I'm passing you to Kemi, who will message you within five minutes."
    turns: list[TurnSpec] = [("agent", text, "a-1", at(0))]
    marks = [
        ("T.commit", 0, "who will message you"),
        ("T.warm_handoff", 0, "I'm passing you to Kemi"),
    ]
    (c,) = extract_commitments(analysis(turns, marks))
    assert c.kind == "handoff" and c.owner == "Kemi" and c.due == at(5)


def test_customer_turns_and_other_ids_are_ignored() -> None:
    turns: list[TurnSpec] = [("customer", "I'll call back tomorrow.", None, at(0))]
    assert extract_commitments(analysis(turns, [("T.commit", 0, "I'll call back")])) == []
    turns = [("agent", "I'm sorry.", "a-1", at(0))]
    assert extract_commitments(analysis(turns, [("T.apologize", 0, "I'm sorry")])) == []


def test_describe_promise() -> None:
    what, who, when = describe_promise(
        "You'll need to contact your reseller, they handle resets.", (0, 10)
    )
    assert who == "your reseller" and when is None
    what, who, when = describe_promise("We will look into your claim in due course.", (0, 12))
    assert what == "look into your claim" and who is None


# -- with the real pipeline -------------------------------------------------------------

EXAMPLES = list(heard.load(example_path(), format="jsonl"))


@pytest.fixture(scope="module")
def analyses() -> list[Analysis]:
    pipe = heard.Pipeline(fast=True, playbooks=[])
    return [pipe.analyze(c) for c in EXAMPLES]


def test_every_promise_finding_becomes_a_commitment(analyses: list[Analysis]) -> None:
    for a in analyses:
        promised = {
            (t.i, f.id) for t in a.turns if t.speaker is Speaker.agent for f in t.findings
        } & {(t.i, id) for t in a.turns for id in cm.KINDS}
        made = {(c.turn, c.finding) for c in a.commitments}
        assert made <= promised, a.id
        # every promise turn yields at least one commitment (same-sentence ones merge)
        assert {t for t, _ in promised} == {t for t, _ in made}, a.id


def test_commitments_are_well_formed(analyses: list[Analysis]) -> None:
    for a in analyses:
        last = cm.last_time(a.conversation)
        for c in a.commitments:
            assert a.conversation.turns[c.turn].speaker is Speaker.agent
            assert c.kind == cm.KINDS[c.finding]
            assert c.what.strip()
            assert c.owner.strip()
            if c.due is not None:
                assert c.due.tzinfo is not None and c.due.utcoffset() == timedelta(0)
            if c.status == "done":
                assert c.closed_turn is not None and c.closed_turn > c.turn
            if c.status == "overdue":
                assert c.due is not None and last is not None and c.due < last
            if c.kind == "vague":
                assert c.explanation


def test_the_pipeline_fills_commitments_deterministically(analyses: list[Analysis]) -> None:
    again = heard.Pipeline(fast=True, playbooks=[]).analyze(EXAMPLES[0])
    assert again.commitments == analyses[0].commitments
