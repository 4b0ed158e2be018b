"""Importers: every format, detection, speakers, TWCS threads, bad input, strictness,
property tests, and the real files under ../shared when they are there."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import random
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import heard
from heard.errors import FormatError, InputError, RowError
from heard.importers import (
    ImportResult,
    RowRepaired,
    detect_format,
    formats,
    rank,
    read,
    read_bytes,
    read_stream,
)
from heard.importers import registry as registry_module
from heard.importers.speakers import parse_speaker
from heard.importers.timestamps import parse_timestamp
from heard.importers.transcript import parse_transcript
from heard.importers.twcs import split_mentions, split_signature
from heard.model import MAX_TURN_CHARS, Conversation, Speaker

DATA = Path(__file__).parent / "data" / "importers"


def load(name: str, **kw: Any) -> tuple[ImportResult, list[Conversation]]:
    result = read(DATA / name, **kw)
    return result, list(result.conversations())


def by_id(convs: list[Conversation]) -> dict[str, Conversation]:
    return {c.id: c for c in convs}


def said(conv: Conversation) -> list[tuple[str, str]]:
    return [(t.speaker.value, t.text) for t in conv.turns]


# --------------------------------------------------------------------------- each format


def test_jsonl_reads_conversations_with_extras_and_aliases() -> None:
    result, convs = load("chats.jsonl")
    assert result.format == "jsonl"
    assert result.problems == [] and result.skipped == 0
    c1, c2, c3 = convs
    assert c1.id == "c-1" and c1.meta == {"team": "billing"}
    first = c1.turns[0]
    assert first.ts == datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    assert first.model_extra == {"labels": ["C.demand"], "emotion": ["frustration"], "energy": 1}
    assert c1.turns[1].agent_id == "a-7"
    assert c1.turns[1].ts is not None and c1.turns[1].ts.utcoffset() == timedelta(hours=1)
    # Aliases in any case, a numeric agent id, HTML kept verbatim as text.
    assert [t.speaker for t in c2.turns] == [Speaker.customer, Speaker.agent, Speaker.system]
    assert c2.turns[1].agent_id == "42"
    assert "<script>alert(1)</script>" in c2.turns[0].text
    # A numeric id, an epoch ts, a Twitter-form ts, a conversation-level extra.
    assert c3.id == "17" and c3.channel == "email" and c3.model_extra == {"source": "demo"}
    assert c3.turns[0].ts == datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    assert c3.turns[1].ts == datetime(2026, 1, 2, 10, 5, tzinfo=UTC)


def test_json_array_is_read_by_the_jsonl_importer() -> None:
    result, convs = load("chats.json")
    assert result.format == "jsonl"
    assert [c.id for c in convs] == ["j-1", "j-2"]
    assert convs[1].channel == "voice"
    assert said(convs[1])[0] == ("customer", "The engineer never came.")


def test_json_array_problems_name_the_line_of_their_element() -> None:
    data = b'[\n {"id": "a", "turns": []},\n {"id": "b"},\n {"id": "c", "turns": [}\n]'
    result = read_bytes(data, name="x.json")
    convs = list(result.conversations())
    assert [c.id for c in convs] == ["a"]
    assert [(p.line, p.field) for p in result.problems] == [(3, "turns"), (4, None)]
    assert "invalid JSON" in result.problems[1].message


def test_long_csv_streams_grouped_rows() -> None:
    result, convs = load("long.csv")
    assert result.format == "csv" and result.problems == []
    c1, c2 = convs
    assert said(c1) == [
        ("customer", "I was charged twice, and nobody answers."),
        ("agent", "I'm sorry. I can see both charges."),
        ("customer", "Please refund one.\nToday."),
    ]
    assert c1.turns[1].agent_id == "a-7"
    assert c1.turns[0].ts == datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    assert c1.turns[0].model_extra == {"sentiment": "neg"}
    assert c1.turns[1].model_extra == {}  # empty cells are not kept
    assert [t.speaker for t in c2.turns] == [Speaker.customer, Speaker.agent, Speaker.system]


def test_long_csv_groups_rows_that_are_not_together() -> None:
    _, convs = load("long_ungrouped.csv")
    got = {c.id: [t.text for t in c.turns] for c in convs}
    assert got == {
        "a": ["first in a", "second in a", "third in a"],
        "b": ["first in b", "second in b"],
        "c": ["only c"],
    }
    assert [c.id for c in convs] == ["a", "b", "c"]  # order of first appearance


def test_long_csv_from_a_stream_that_cannot_rewind_still_groups() -> None:
    data = (DATA / "long_ungrouped.csv").read_bytes()
    result = read_stream(_Pipe(data), name="pipe.csv")
    got = {c.id: len(c.turns) for c in result.conversations()}
    assert got == {"a": 3, "b": 2, "c": 1}
    assert len(list(result.conversations())) == 3  # spooled, so it can be read again


def test_long_csv_semicolons_header_aliases_and_naive_times() -> None:
    result, convs = load("long_semicolon.csv")
    assert result.format == "csv"
    (conv,) = convs
    assert conv.id == "x-1"
    assert [t.speaker for t in conv.turns] == [Speaker.customer, Speaker.agent]
    assert conv.turns[0].ts == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # naive means UTC


def test_twcs_rebuilds_threads_in_time_order() -> None:
    result, convs = load("twcs.csv")
    assert result.format == "twcs"
    threads = by_id(convs)
    assert list(threads) == ["11", "21", "31"]
    bag = threads["11"]
    # Rows were out of order (12 before 11, 15 before 14); the thread is by created_at.
    assert [t.model_extra["tweet_id"] for t in bag.turns] == ["11", "12", "13", "14", "15"]
    assert [t.speaker.value for t in bag.turns] == [
        "customer",
        "agent",
        "customer",
        "agent",
        "agent",
    ]
    assert bag.channel == "twitter"
    assert bag.meta == {"company": "AirlineCo", "customer": "200"}
    assert all(t.agent_id == "AirlineCo" for t in bag.turns if t.speaker is Speaker.agent)
    assert bag.turns[0].agent_id is None
    # Mentions and sign-offs leave the text for extra fields.
    assert bag.turns[0].text == "Waited 3 hours at the gate and still no bag"
    assert bag.turns[0].model_extra["mentions"] == ["AirlineCo", "200x"]
    assert bag.turns[1].text.endswith("we will check.")
    assert bag.turns[1].model_extra["signature"] == "KC"
    assert bag.turns[3].model_extra["signature"] == "MT"
    assert bag.turns[3].model_extra["in_response_to"] == "13"  # '13.0' read as an id
    assert bag.turns[4].model_extra["signature"] == "Becky"
    assert bag.turns[4].text.endswith("Anything else? https://t.co/abc")  # link kept


def test_twcs_reply_to_a_missing_tweet_starts_its_own_thread() -> None:
    _, convs = load("twcs.csv")
    orphan = by_id(convs)["31"]
    assert orphan.meta["missing_parent"] == "999"
    assert orphan.meta["company"] == "ShopCo"
    assert "signature" not in orphan.turns[0].model_extra  # 'T-Mobile' is not a sign-off


def test_twcs_bad_date_and_mention_only_tweet_are_problems() -> None:
    result, convs = load("twcs.csv")
    late = by_id(convs)["21"]
    assert late.turns[0].text == "my order is late"  # '.@ShopCo' stripped too
    assert late.turns[1].ts is None and late.turns[1].model_extra["signature"] == "JW"
    assert [(p.line, p.field, type(p)) for p in result.problems] == [
        (8, "created_at", RowRepaired),
        (10, "text", RowError),
    ]
    assert result.skipped == 1  # the repaired row was kept
    assert "41" not in by_id(convs)  # a thread whose only tweet had no text


def test_twcs_thread_order_does_not_depend_on_row_order() -> None:
    lines = (DATA / "twcs.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    expected = {c.id: said(c) for c in load("twcs.csv")[1]}
    rng = random.Random(7)
    for _ in range(5):
        rng.shuffle(rows)
        data = "\n".join([header, *rows]).encode()
        got = {c.id: said(c) for c in read_bytes(data, name="t.csv").conversations()}
        assert got == expected


def test_twcs_reply_cycle_is_reported_not_lost_silently() -> None:
    data = textwrap.dedent("""\
        tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id
        1,9,True,Tue Oct 31 10:00:00 +0000 2017,@Co one,,2
        2,Co,False,Tue Oct 31 10:01:00 +0000 2017,@9 two,,1
        """).encode()
    result = read_bytes(data, name="cycle.csv")
    assert list(result.conversations()) == []
    assert {p.line for p in result.problems} == {2, 3}
    assert all(p.field == "in_response_to_tweet_id" for p in result.problems)


def test_transcript_txt_with_separators_continuations_and_labels() -> None:
    result, convs = load("calls.txt")
    assert result.format == "transcript"
    assert result.problems == []
    first, second = convs
    assert first.id == "calls-1" and second.id == "calls-2"
    assert first.meta == {"preamble": "Call recorded 2026-01-05, queue: billing"}
    assert said(first) == [
        ("customer", "Hi, I've been charged twice\nfor the same month."),
        ("agent", "I'm sorry about that. Let me look.\nI can see both payments."),
        ("customer", "So can you refund one?"),
        ("agent", "Yes, the refund goes out today."),
    ]
    assert first.turns[1].agent_id == "Sam"
    assert first.turns[2].ts == datetime(2026, 1, 5, 10, 3, tzinfo=UTC)
    assert second.turns[0].model_extra == {"time": "10:02"}
    # 'Name:' is no speaker: the line continues the agent's turn.
    assert second.turns[1].text.endswith("Name: Alliyha (this is a continuation line)")
    assert second.turns[2].speaker is Speaker.system


def test_parse_transcript_and_from_text() -> None:
    text = "\tCustomer:\tMy order?\n\tAgent:\tOn its way.\n---\nclient: thanks"
    assert [(t.speaker.value, t.text) for t in parse_transcript(text)] == [
        ("customer", "My order?"),
        ("agent", "On its way."),
        ("customer", "thanks"),
    ]
    assert parse_transcript("just one angry message") == []
    conv = Conversation.from_text("Customer: Where is it?!\nAgent: Checking.")
    assert [t.speaker for t in conv.turns] == [Speaker.customer, Speaker.agent]
    assert Conversation.from_text("no labels here").turns[0].text == "no labels here"


def test_transcript_lines_true_false_are_text_not_speakers() -> None:
    turns = parse_transcript("Customer: is it broken?\nTrue: it was\nFalse: alarm")
    assert len(turns) == 1 and turns[0].text == "is it broken?\nTrue: it was\nFalse: alarm"


def test_transcript_csv_reads_one_conversation_per_row() -> None:
    result, convs = load("dialogs.csv")
    assert result.format == "transcript_csv"
    d1, d2 = convs
    assert d1.id == "d-1"
    assert d1.meta == {"summary": "late order", "split": "valid"}
    assert said(d1) == [
        ("customer", "@Shop my order never arrived"),
        ("agent", "@123 Sorry! Can you DM the order number? ^AB"),  # verbatim: not TWCS
        ("customer", "@Shop done\nsecond line"),
    ]
    assert d2.meta == {"split": "train"}  # the empty summary is left out


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_one_column_transcript_csv_is_read_as_one(newline: str) -> None:
    # a 'text' column alone, each cell a quoted transcript: nothing may be lost to the
    # plain transcript reader (which read the header as a preamble, the first speaker
    # line with its quote as more preamble and kept the closing quote in the text)
    data = newline.join(
        [
            "text",
            '"Customer: where is my order',
            'Agent: let me check"',
            '"Customer: hi',
            'Agent: hello"',
            "",
        ]
    ).encode()
    result = read_bytes(data, name="export.csv")
    assert result.format == "transcript_csv"
    first, second = result.conversations()
    assert said(first) == [("customer", "where is my order"), ("agent", "let me check")]
    assert said(second) == [("customer", "hi"), ("agent", "hello")]
    assert not result.problems


def test_a_plain_transcript_is_not_taken_for_a_one_column_csv() -> None:
    data = b'Customer: "where" is it\nAgent: "here"\nCustomer: thanks\n'
    result = read_bytes(data, name="chat.csv")
    assert result.format == "transcript"
    (conv,) = result.conversations()
    assert said(conv)[0] == ("customer", '"where" is it')


def test_transcript_csv_problems_name_record_column_and_transcript_line() -> None:
    rows = [["id", "text"], ["r1", "Customer: hi\nAgent:\nCustomer: hello?"]]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    result = read_bytes(buf.getvalue().encode(), name="t.csv", format="transcript_csv")
    (conv,) = result.conversations()
    assert said(conv) == [("customer", "hi"), ("customer", "hello?")]
    (problem,) = result.problems
    assert (problem.line, problem.field) == (2, "text")
    assert "transcript line 2" in str(problem)


def test_abcd_dialogues() -> None:
    result, convs = load("abcd.json")
    assert result.format == "abcd"
    (conv,) = convs
    assert conv.id == "101"
    assert conv.meta["flow"] == "product_defect" and conv.meta["subflow"] == "return_size"
    assert [t.speaker.value for t in conv.turns] == ["agent", "customer", "system", "agent"]


def test_abcd_full_release_shape_with_splits() -> None:
    dialogue = json.loads((DATA / "abcd.json").read_text())[0]
    data = json.dumps({"train": [dialogue], "test": [dict(dialogue, convo_id=7)]}).encode()
    convs = list(read_bytes(data, name="abcd_v1.1.json").conversations())
    assert [(c.id, c.meta["split"]) for c in convs] == [("101", "train"), ("7", "test")]


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("fixture", "fmt"),
    [
        ("chats.jsonl", "jsonl"),
        ("chats.json", "jsonl"),
        ("long.csv", "csv"),
        ("long_semicolon.csv", "csv"),
        ("twcs.csv", "twcs"),
        ("calls.txt", "transcript"),
        ("dialogs.csv", "transcript_csv"),
        ("abcd.json", "abcd"),
    ],
)
def test_detect_format_from_path_and_from_head(fixture: str, fmt: str) -> None:
    path = DATA / fixture
    assert detect_format(path) == fmt
    assert detect_format(path.read_bytes(), "upload") == fmt  # content alone is enough


def test_detection_does_not_need_the_extension() -> None:
    data = (DATA / "long.csv").read_bytes()
    assert read_bytes(data, name="export.dat").format == "csv"
    assert rank(data, "export.dat")[0] == ("csv", 0.9)


def test_explicit_format_overrides_detection() -> None:
    data = (DATA / "twcs.csv").read_bytes()
    with pytest.raises(FormatError, match="no 'conversation_id' column"):
        list(read_bytes(data, name="t.csv", format="csv").conversations())
    assert read_bytes(b"Customer: hi", name="x", format="TXT").format == "transcript"


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(FormatError) as info:
        read(DATA / "long.csv", format="xml")
    assert info.value.code == "E003"
    for name in ("jsonl", "csv", "twcs", "transcript", "transcript_csv"):
        assert name in str(info.value)


def test_unrecognisable_input_is_a_format_error() -> None:
    with pytest.raises(FormatError, match="cannot tell the format") as info:
        read_bytes(b"\x00\x01 binary \xff\xfe\x07 stuff", name="blob.bin")
    # binary data is named as such, not echoed to the terminal as mojibake
    assert "it is not text" in str(info.value)
    assert "\ufffd" not in str(info.value) and "\x00" not in str(info.value)


def test_unrecognisable_text_is_quoted() -> None:
    with pytest.raises(FormatError, match="it starts with 'hello there") as info:
        read_bytes(b"hello there\nfoo bar\n", name="notes.dat")
    assert "not text" not in str(info.value)


def test_missing_column_names_it() -> None:
    with pytest.raises(FormatError, match="no 'speaker' column") as info:
        load("missing_column.csv")
    assert "conversation_id, text" in str(info.value)


def test_missing_twcs_column_names_it() -> None:
    data = b"tweet_id,author_id,inbound,text,in_response_to_tweet_id\n1,a,True,hi,\n"
    with pytest.raises(FormatError, match="no 'created_at' column"):
        list(read_bytes(data, name="t.csv").conversations())


# --------------------------------------------------------------------------- speakers, times


@pytest.mark.parametrize(
    ("value", "speaker"),
    [
        *[
            (w, Speaker.customer)
            for w in (
                "customer",
                "CLIENT",
                " User ",
                "caller",
                "consumer",
                "member",
                "guest",
                "inbound",
                "True",
            )
        ],
        *[
            (w, Speaker.agent)
            for w in (
                "Agent",
                "rep",
                "representative",
                "support",
                "advisor",
                "staff",
                "operator",
                "assistant",
                "outbound",
                "false",
            )
        ],
        *[(w, Speaker.system) for w in ("system", "BOT", "auto")],
        (True, Speaker.customer),
        (False, Speaker.agent),
    ],
)
def test_speaker_aliases(value: object, speaker: Speaker) -> None:
    assert parse_speaker(value) is speaker


@pytest.mark.parametrize("value", ["manager", "", "customers", 3, None])
def test_unknown_speakers(value: object) -> None:
    assert parse_speaker(value) is None


def test_unknown_speaker_in_csv_names_the_value() -> None:
    result, _ = load("bad.csv")
    problem = result.problems[0]
    assert (problem.line, problem.field) == (3, "speaker")
    assert "'manager'" in str(problem)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T10:00:00Z", datetime(2026, 1, 2, 10, tzinfo=UTC)),
        ("2026-01-02 10:00:00+02:00", datetime(2026, 1, 2, 8, tzinfo=UTC)),
        ("2026-01-02", datetime(2026, 1, 2, tzinfo=UTC)),
        ("Tue Oct 31 22:10:47 +0000 2017", datetime(2017, 10, 31, 22, 10, 47, tzinfo=UTC)),
        ("Tue Oct 31 22:10:47 -0500 2017", datetime(2017, 11, 1, 3, 10, 47, tzinfo=UTC)),
        ("Tue, 31 Oct 2017 22:10:47 +0000", datetime(2017, 10, 31, 22, 10, 47, tzinfo=UTC)),
        ("1509487847", datetime(2017, 10, 31, 22, 10, 47, tzinfo=UTC)),
        (1509487847000, datetime(2017, 10, 31, 22, 10, 47, tzinfo=UTC)),
    ],
)
def test_timestamps_are_timezone_aware(text: object, expected: datetime) -> None:
    got = parse_timestamp(text)
    assert got.tzinfo is not None
    assert got == expected


@pytest.mark.parametrize(
    "text", ["yesterday", "31/31/2026", "Tue Foo 31 22:10:47 +0000 2017", "", True, -5, [2026]]
)
def test_bad_timestamps_raise_value_error(text: object) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_twcs_offsets_are_kept() -> None:
    got = parse_timestamp("Tue Oct 31 22:10:47 +0530 2017")
    assert got.utcoffset() == timedelta(hours=5, minutes=30)
    assert got.tzinfo == timezone(timedelta(hours=5, minutes=30))


@pytest.mark.parametrize(
    ("text", "mentions", "rest"),
    [
        ("@sprintcare is the worst", ["sprintcare"], "is the worst"),
        ("@a @b_c, @d: hello @e", ["a", "b_c", "d"], "hello @e"),
        (".@VerizonSupport help", ["VerizonSupport"], "help"),
        ("hey @Co help", [], "hey @Co help"),
    ],
)
def test_split_mentions(text: str, mentions: list[str], rest: str) -> None:
    assert split_mentions(text) == (mentions, rest)


@pytest.mark.parametrize(
    ("text", "signature", "rest"),
    [
        ("We'll DM you. ^KC", "KC", "We'll DM you."),
        ("Sorry to hear that -AB", "AB", "Sorry to hear that"),
        ("Try this /MT https://t.co/x", "MT", "Try this https://t.co/x"),
        ("Have a good day! - Mike", "Mike", "Have a good day!"),
        ("Thanks!^Jo", "Jo", "Thanks!"),
        ("We'll look into it. *JohnWard", "JohnWard", "We'll look into it."),
        ("More soon ^Kit 2/2", "Kit", "More soon 2/2"),
        ("Switch to T-Mobile", None, "Switch to T-Mobile"),
        ("Part one 1/2", None, "Part one 1/2"),
        ("Use the Wi-Fi", None, "Use the Wi-Fi"),
        ("^KC", None, "^KC"),  # nothing would be left
    ],
)
def test_split_signature(text: str, signature: str | None, rest: str) -> None:
    assert split_signature(text) == (signature, rest)


# --------------------------------------------------------------------------- bad input


def test_bad_jsonl_rows_name_file_line_and_field() -> None:
    result, convs = load("bad.jsonl")
    assert [c.id for c in convs] == ["ok-1", "empty-turn", "bad-ts"]
    where = [(p.source.rsplit("/", 1)[-1], p.line, p.field) for p in result.problems]
    assert where == [
        ("bad.jsonl", 2, None),
        ("bad.jsonl", 3, "turns"),
        ("bad.jsonl", 4, "turns[2].speaker"),
        ("bad.jsonl", 5, "turns[0].text"),
        ("bad.jsonl", 6, "turns[0].ts"),
        ("bad.jsonl", 7, None),
    ]
    assert str(result.problems[2]).startswith("E002: ")
    assert "bad.jsonl:4 field 'turns[2].speaker'" in str(result.problems[2])
    assert result.problem_count == 6 and result.skipped == 5  # the bad ts was repaired
    empty = by_id(convs)["empty-turn"]
    assert said(empty) == [("agent", "kept")]  # empty turn dropped, conversation kept
    assert by_id(convs)["bad-ts"].turns[0].ts is None


def test_bad_csv_rows() -> None:
    result, convs = load("bad.csv")
    (conv,) = convs
    assert [t.text for t in conv.turns] == ["hello", "when was this", "short row ok"]
    assert conv.turns[1].ts is None
    assert [(p.line, p.field) for p in result.problems] == [
        (3, "speaker"),
        (4, None),  # ragged: 6 fields
        (5, "conversation_id"),
        (6, "ts"),
        (7, "text"),
        (9, None),  # too short: no text
    ]
    assert "6 fields but the header has 4" in str(result.problems[1])
    assert "'text' is missing" in str(result.problems[5])


def _csv_rows(text: str, **kw: Any) -> tuple[ImportResult, list[tuple[str, str, str]]]:
    result = read_bytes(textwrap.dedent(text).encode(), name="chat.csv", **kw)
    rows = [(c.id, t.speaker.value, t.text) for c in result.conversations() for t in c.turns]
    return result, rows


def test_a_stray_quote_that_never_closes_loses_only_its_own_row() -> None:
    # the csv module alone reads every line after the quote into that one text
    result, rows = _csv_rows(
        """\
        conversation_id,speaker,text
        c1,customer,my parcel is late
        c2,customer,"the box was crushed
        c3,customer,the app logs me out
        c3,agent,which phone do you use?
        """
    )
    assert rows == [
        ("c1", "customer", "my parcel is late"),
        ("c3", "customer", "the app logs me out"),
        ("c3", "agent", "which phone do you use?"),
    ]
    (problem,) = result.problems
    assert problem.line == 3 and "chat.csv:3" in str(problem)
    assert "runs on over lines 3-5" in str(problem) and "stray" in str(problem)


def test_a_stray_quote_closed_by_a_later_quote_is_reported_and_the_rows_after_it_read() -> None:
    result, rows = _csv_rows(
        """\
        conversation_id,speaker,text
        c2,customer,"the box was crushed
        c3,customer,the app logs me out
        c3,agent,"sorry, which phone
        do you use?"
        c4,customer,thanks
        """
    )
    assert rows == [
        ("c3", "customer", "the app logs me out"),
        ("c3", "agent", "sorry, which phone\ndo you use?"),  # a proper multi-line field
        ("c4", "customer", "thanks"),
    ]
    assert [p.line for p in result.problems] == [2]
    with pytest.raises(RowError) as info:
        _csv_rows('conversation_id,speaker,text\nc2,customer,"open\nc3,agent,hi\n', strict=True)
    assert info.value.line == 2


def test_quoted_fields_over_several_lines_are_not_stray_quotes() -> None:
    result, rows = _csv_rows(
        "conversation_id,speaker,text\n"
        'c1,customer,"line one\nline two, with a comma and ""quotes"""\n'
        'c1,agent,"ok"\n'
    )
    assert rows == [
        ("c1", "customer", 'line one\nline two, with a comma and "quotes"'),
        ("c1", "agent", "ok"),
    ]
    assert result.problems == []


def test_strict_raises_the_first_bad_row() -> None:
    with pytest.raises(RowError) as info:
        load("bad.jsonl", strict=True)
    assert info.value.line == 2 and info.value.code == "E002"
    with pytest.raises(RowError) as info:
        load("bad.csv", strict=True)
    assert (info.value.line, info.value.field) == (3, "speaker")


def test_strict_raises_on_a_bad_timestamp_too() -> None:
    data = b'{"id": "a", "turns": [{"speaker": "customer", "text": "x", "ts": "soon"}]}\n'
    assert len(list(read_bytes(data, name="a.jsonl").conversations())) == 1
    with pytest.raises(RowRepaired) as info:
        list(read_bytes(data, name="a.jsonl", strict=True).conversations())
    assert info.value.field == "turns[0].ts"


def test_clean_files_pass_strict() -> None:
    for name in ("chats.jsonl", "chats.json", "long.csv", "calls.txt", "dialogs.csv", "abcd.json"):
        assert load(name, strict=True)[1]


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.csv", "empty.txt", "empty"])
@pytest.mark.parametrize("data", [b"", b"\n \n", codecs.BOM_UTF8])
def test_empty_input_holds_no_conversations(name: str, data: bytes) -> None:
    result = read_bytes(data, name=name)
    assert list(result.conversations()) == [] and result.problems == []


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"[" * 100_000, "deep.json"),
        (b'{"a":' * 100_000, "deep.jsonl"),
        (b'[{"convo_id": 1, "original": ' + b"[" * 100_000, "abcd.json"),
    ],
)
def test_absurdly_nested_json_is_a_row_problem(data: bytes, name: str) -> None:
    result = read_bytes(data, name=name)
    assert list(result.conversations()) == []
    (problem,) = result.problems
    assert "nested too deeply" in str(problem) and problem.line == 1


def test_bom_is_ignored() -> None:
    data = codecs.BOM_UTF8 + (DATA / "long.csv").read_bytes()
    result = read_bytes(data, name="bom.csv")
    assert result.format == "csv"
    assert [c.id for c in result.conversations()] == ["c-1", "c-2"]
    data = codecs.BOM_UTF8 + (DATA / "chats.jsonl").read_bytes()
    assert len(list(read_bytes(data, name="bom.jsonl").conversations())) == 3


def test_invalid_utf8_is_replaced_and_its_line_named() -> None:
    data = b"conversation_id,speaker,text\nc,customer,caf\xe9 au lait\nc,agent,ok\n"
    result = read_bytes(data, name="latin.csv")
    (conv,) = result.conversations()
    assert conv.turns[0].text == "caf\ufffd au lait"
    (problem,) = result.problems
    assert isinstance(problem, RowRepaired) and problem.line == 2
    assert result.skipped == 0


def test_other_encodings_gzip_and_utf16() -> None:
    text = "conversation_id,speaker,text\nc,customer,café\n"
    for data, kw in [
        (text.encode("cp1252"), {"encoding": "cp1252"}),
        (text.encode("utf-16"), {}),  # found by its byte-order mark
        (gzip.compress(text.encode()), {}),
    ]:
        result = read_bytes(data, name="x.csv", **kw)
        assert [t.text for c in result.conversations() for t in c.turns] == ["café"]
        assert result.problems == []
    with pytest.raises(InputError, match="encoding"):
        read_bytes(b"x", name="x.csv", encoding="klingon")


def test_huge_fields_are_read_and_cut_to_the_turn_limit() -> None:
    big = "word " * (2 * 2**20)  # a 10 MB field
    data = f'conversation_id,speaker,text\nc,customer,"{big}"\nc,agent,short\n'.encode()
    result = read_bytes(data, name="big.csv")
    (conv,) = result.conversations()
    assert len(conv.turns[0].text) == MAX_TURN_CHARS
    assert conv.turns[1].text == "short"
    (problem,) = result.problems
    assert isinstance(problem, RowRepaired) and "cut" in problem.message


def test_html_and_script_stay_verbatim_in_every_format() -> None:
    html = '<img src=x onerror="alert(1)"> <b>bold</b> &amp;'
    cases = {
        "a.jsonl": json.dumps({"id": "a", "turns": [{"speaker": "customer", "text": html}]}),
        "a.csv": _csv([["conversation_id", "speaker", "text"], ["a", "customer", html]]),
        "a.txt": f"Customer: {html}",
    }
    for name, text in cases.items():
        (conv,) = read_bytes(text.encode(), name=name).conversations()
        assert conv.turns[0].text == html, name


def test_text_stream_is_refused_and_seekable_stream_read_in_place() -> None:
    with pytest.raises(InputError, match="binary mode"):
        read_stream(io.StringIO("x"), name="x.csv")  # type: ignore[arg-type]
    buf = io.BytesIO(b"ignored prefix\n" + (DATA / "calls.txt").read_bytes())
    buf.seek(len(b"ignored prefix\n"))
    result = read_stream(buf, name="calls.txt")
    assert [c.id for c in result.conversations()] == ["calls-1", "calls-2"]
    assert not buf.closed


def test_dash_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (DATA / "calls.txt").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(_Pipe(data)))  # type: ignore[arg-type]
    result = read("-")
    assert result.name == "<stdin>" and result.format == "transcript"
    assert len(list(result.conversations())) == 2


def test_gzipped_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "tweets.csv.gz"
    path.write_bytes(gzip.compress((DATA / "twcs.csv").read_bytes()))
    assert detect_format(path) == "twcs"
    assert [c.id for c in read(path).conversations()] == ["11", "21", "31"]


def test_missing_file_is_an_input_error() -> None:
    with pytest.raises(InputError, match="cannot read"):
        read(DATA / "nope.jsonl")


def test_problems_are_counted_past_the_kept_limit() -> None:
    from heard.importers.result import MAX_PROBLEMS

    lines = ["not json"] * (MAX_PROBLEMS + 5)
    result = read_bytes("\n".join(lines).encode(), name="x.jsonl")
    assert list(result.conversations()) == []
    assert len(result.problems) == MAX_PROBLEMS
    assert result.problem_count == result.skipped == MAX_PROBLEMS + 5


def test_reading_again_resets_the_counts() -> None:
    result = read(DATA / "bad.csv")
    first = list(result.conversations())
    again = list(result.conversations())
    assert len(first) == len(again) == 1
    assert result.problem_count == 6
    assert result.summary() == "1 conversation, 6 problems (5 skipped)"


def test_heard_load_uses_the_importers() -> None:
    convs = list(heard.load(DATA / "long.csv"))
    assert [c.id for c in convs] == ["c-1", "c-2"]


# --------------------------------------------------------------------------- registry


def test_builtins_are_registered_through_entry_points() -> None:
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group=registry_module.ENTRY_POINT_GROUP)}
    assert {"jsonl", "csv", "twcs", "transcript", "transcript_csv", "abcd"} <= names
    assert list(formats()) == [name for name, _ in registry_module.BUILTIN]


def test_builtins_work_without_entry_point_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [])
    registry_module.formats.cache_clear()
    try:
        assert set(formats()) == {name for name, _ in registry_module.BUILTIN}
        assert read(DATA / "twcs.csv").format == "twcs"
    finally:
        monkeypatch.undo()
        registry_module.formats.cache_clear()


PLUGIN = '''
from heard.errors import RowError
from heard.model import Conversation, Speaker, Turn


class PipeImporter:
    """Lines 'who|text'; a line '==' ends a conversation."""

    name = "pipes"

    def detect(self, head, name):
        return 0.95 if head.startswith(b"PIPES") else 0.0

    def read(self, stream, name, strict):
        turns, n = [], 0
        for i, raw in enumerate(stream, 1):
            line = raw.decode().strip()
            if line == "PIPES":
                continue
            if line == "==":
                n += 1
                yield Conversation(id=f"p{n}", turns=turns)
                turns = []
            elif "|" in line:
                who, text = line.split("|", 1)
                turns.append(Turn(speaker=Speaker(who), text=text))
            else:
                yield RowError("no bar", source=name, line=i)


class NotAnImporter:
    pass
'''


def test_third_party_importer_registers_like_the_builtins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "heard_pipes_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    group = registry_module.ENTRY_POINT_GROUP
    eps = [
        EntryPoint("pipes", "heard_pipes_plugin:PipeImporter", group),
        EntryPoint("broken", "heard_pipes_plugin:NotAnImporter", group),
        EntryPoint("missing", "no_such_module_here:thing", group),
    ]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: eps)
    registry_module.formats.cache_clear()
    try:
        with pytest.warns(RuntimeWarning) as caught:
            names = list(formats())
        assert names[-1] == "pipes" and "broken" not in names and "missing" not in names
        assert len(caught) == 2
        result = read_bytes(b"PIPES\ncustomer|hi\nagent|hello\n==\noops\n", name="x")
        assert result.format == "pipes"
        (conv,) = result.conversations()
        assert said(conv) == [("customer", "hi"), ("agent", "hello")]
        assert [p.line for p in result.problems] == [5]
    finally:
        monkeypatch.undo()
        registry_module.formats.cache_clear()


# --------------------------------------------------------------------------- properties

NAMES = st.sampled_from(["x.jsonl", "x.json", "x.csv", "x.txt", "x", "x.csv.gz", "upload.bin"])
FORMATS = st.sampled_from([None, "jsonl", "csv", "twcs", "transcript", "transcript_csv", "abcd"])
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
#: HEARD_HYPOTHESIS_EXAMPLES=5000 for a longer hunt than the everyday run.
SETTINGS = settings(
    max_examples=int(os.environ.get("HEARD_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _drain(data: bytes, name: str, fmt: str | None, strict: bool) -> None:
    """Read everything; only the documented errors may escape."""
    try:
        result = read_bytes(data, name=name, format=fmt, strict=strict)
        for conv in result.conversations():
            assert isinstance(conv, Conversation)
    except (FormatError, InputError) as exc:
        assert exc.code in ("E001", "E002", "E003")
        if isinstance(exc, RowError):
            assert strict, "a RowError escaped in non-strict mode"
        return
    assert all(isinstance(p, RowError) for p in result.problems)
    assert result.skipped <= result.problem_count


#: Starts of real formats, so random bytes get past detection and into the readers.
PREFIXES = st.sampled_from(
    [
        b"",
        b"\xef\xbb\xbf",
        b"\x1f\x8b",
        b"\xff\xfe",
        b"conversation_id,speaker,text,ts\n",
        b"conversation_id;speaker;text\nc;customer;",
        b"tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n",
        b"tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"
        b"\n1,Co,False,Tue Oct 31 22:10:47 +0000 2017,@1 hi,,",
        b'dialog_id,text\nd,"Customer: a\nAgent: b',
        b'{"id": "a", "turns": [{"speaker": "customer", "text": "',
        b'[{"id": "a", "turns": [',
        b'[{"convo_id": 1, "original": [["agent", "',
        b"Customer: hello\nAgent: ",
        b"[2026-01-02T10:00:00Z] Agent (Sam): ",
    ]
)


@SETTINGS
@given(PREFIXES, st.binary(max_size=600), NAMES, FORMATS, st.booleans())
def test_random_bytes_never_crash(
    prefix: bytes, data: bytes, name: str, fmt: str | None, strict: bool
) -> None:
    _drain(prefix + data, name, fmt, strict)


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    return buf.getvalue()


HEADERS = st.sampled_from(
    [
        ["conversation_id", "speaker", "text"],
        ["conversation_id", "speaker", "text", "ts", "agent_id"],
        [
            "tweet_id",
            "author_id",
            "inbound",
            "created_at",
            "text",
            "response_tweet_id",
            "in_response_to_tweet_id",
        ],
        ["dialog_id", "text", "summary"],
        ["id", "notes"],
    ]
)
CELL = st.one_of(
    TEXT,
    st.sampled_from(
        [
            "customer",
            "Agent",
            "True",
            "False",
            "",
            "1",
            "c-1",
            "Tue Oct 31 22:10:47 +0000 2017",
            "Customer: hi\nAgent: yo",
        ]
    ),
)


@SETTINGS
@given(HEADERS, st.lists(st.lists(CELL, max_size=8), max_size=12), FORMATS, st.booleans())
def test_random_csv_cells_never_crash(
    header: list[str], rows: list[list[str]], fmt: str | None, strict: bool
) -> None:
    _drain(_csv([header, *rows]).encode(), "x.csv", fmt, strict)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
#: JSON that survives a round trip exactly (no infinities: JSON has none).
PLAIN_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
TURNISH = st.fixed_dictionaries(
    {},
    optional={
        "speaker": st.one_of(JSON, st.sampled_from(["customer", "agent", "bot"])),
        "text": st.one_of(JSON, TEXT),
        "ts": JSON,
        "agent_id": JSON,
        "labels": JSON,
    },
)
CONVISH = st.fixed_dictionaries(
    {},
    optional={
        "id": JSON,
        "channel": JSON,
        "meta": JSON,
        "turns": st.one_of(JSON, st.lists(st.one_of(TURNISH, JSON), max_size=4)),
    },
)


@SETTINGS
@given(st.lists(st.one_of(CONVISH, JSON), max_size=5), st.booleans(), st.booleans())
def test_random_json_never_crashes(values: list[Any], as_array: bool, strict: bool) -> None:
    if as_array:
        data, name = json.dumps(values, indent=1), "x.json"
    else:
        data, name = "\n".join(json.dumps(v) for v in values), "x.jsonl"
    _drain(data.encode(), name, None, strict)


# A text a turn can hold: not blank, no NUL, and short of the model's cut.
TURN_TEXT = TEXT.filter(lambda s: bool(s.strip()))
WHEN = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
)
IDS = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)
SPEAKERS = st.sampled_from(list(Speaker))
EXTRA_KEY = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).filter(
    lambda k: k not in ("speaker", "text", "ts", "agent_id")
)
TURNS = st.lists(
    st.fixed_dictionaries(
        {"speaker": SPEAKERS.map(str), "text": TURN_TEXT},
        optional={
            "ts": WHEN.map(lambda d: d.isoformat()),
            "agent_id": IDS,
            "extra": st.dictionaries(EXTRA_KEY, PLAIN_JSON, max_size=3),
        },
    ),
    min_size=1,
    max_size=5,
)


def _flat(turn: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in turn.items() if k != "extra"}
    out.update(turn.get("extra", {}))
    return out


def _dumped(turn: Any) -> dict[str, Any]:
    data: dict[str, Any] = turn.model_dump(mode="json", exclude_none=True)
    if turn.ts is not None:
        data["ts"] = turn.ts  # compared as instants
    return data


@SETTINGS
@given(st.dictionaries(IDS, TURNS, min_size=1, max_size=4), st.sampled_from(["x.jsonl", "x.json"]))
def test_valid_jsonl_round_trips(convs: dict[str, list[dict[str, Any]]], name: str) -> None:
    objs = [
        {"id": cid, "channel": "chat", "meta": {"n": i}, "turns": [_flat(t) for t in turns]}
        for i, (cid, turns) in enumerate(convs.items())
    ]
    if name.endswith(".json"):
        data = json.dumps(objs, indent=2)
    else:
        data = "\n".join(json.dumps(o) for o in objs)
    result = read_bytes(data.encode(), name=name, strict=True)
    got = list(result.conversations())
    assert [c.id for c in got] == list(convs)
    for obj, conv in zip(objs, got, strict=True):
        assert conv.meta == obj["meta"]
        want = []
        for t in obj["turns"]:
            w = dict(t)
            if "ts" in w:
                w["ts"] = datetime.fromisoformat(w["ts"])
            want.append({k: v for k, v in w.items() if v is not None})
        assert [_dumped(t) for t in conv.turns] == want


CSV_TEXT = TURN_TEXT.filter(lambda s: "\r" not in s)  # csv itself folds a lone CR


@SETTINGS
@given(
    st.dictionaries(
        IDS,
        st.lists(
            st.tuples(SPEAKERS, CSV_TEXT, st.none() | WHEN, st.none() | IDS), min_size=1, max_size=5
        ),
        min_size=1,
        max_size=4,
    ),
    st.booleans(),
    st.sampled_from([",", ";", "\t"]),
    st.booleans(),
)
def test_valid_csv_rows_round_trip(
    convs: dict[str, list[tuple[Speaker, str, datetime | None, str | None]]],
    shuffle: bool,
    delimiter: str,
    upper: bool,
) -> None:
    rows = [
        [
            cid,
            s.value.upper() if upper else s.value,
            text,
            ts.isoformat() if ts else "",
            agent or "",
        ]
        for cid, turns in convs.items()
        for s, text, ts, agent in turns
    ]
    if shuffle:
        random.Random(len(rows)).shuffle(rows)
    header = ["conversation_id", "speaker", "text", "ts", "agent_id"]
    data = _csv([header, *rows], delimiter).encode()
    result = read_bytes(data, name="x.csv", format="csv", strict=True)
    got = {
        c.id: [(t.speaker, t.text, t.ts, t.agent_id) for t in c.turns]
        for c in result.conversations()
    }
    want: dict[str, list[tuple[Speaker, str, datetime | None, str | None]]] = {}
    for cid, s, text, ts, agent in rows:
        want.setdefault(cid, []).append(
            (Speaker(s.lower()), text, datetime.fromisoformat(ts) if ts else None, agent or None)
        )
    assert got == want


LINE = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\x85"),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() and not s.strip().startswith("---"))


@SETTINGS
@given(
    st.lists(st.tuples(SPEAKERS, st.lists(LINE, min_size=1, max_size=3)), min_size=1, max_size=6)
)
def test_valid_transcripts_round_trip(turns: list[tuple[Speaker, list[str]]]) -> None:
    from heard.importers.transcript import SPEAKER_LINE

    # Continuation lines that look like a label would start a turn: not valid input here.
    turns = [
        (s, [ln for ln in lines if not SPEAKER_LINE.match(ln)] or ["ok"]) for s, lines in turns
    ]
    text = "\n".join(
        f"{s.value.title()}: {lines[0]}\n" + "\n".join(lines[1:]) for s, lines in turns
    )
    got = [(t.speaker, t.text) for t in parse_transcript(text)]
    assert got == [(s, "\n".join(ln.strip() for ln in lines)) for s, lines in turns]


class _Pipe(io.RawIOBase):
    """A stream that cannot seek (a pipe or a socket)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


# --------------------------------------------------------------------------- real files


def test_real_twcs_sample(shared_dir: Path) -> None:
    result = read(shared_dir / "data" / "twcs" / "twcs_sample.csv")
    convs = list(result.conversations())
    assert result.format == "twcs"
    tweets = sum(len(c.turns) for c in convs) + result.skipped
    assert tweets == 4998  # every data row is a turn or a counted problem
    assert len(convs) > 1000
    assert result.skipped < 10
    sprint = by_id(convs)["8"]
    assert sprint.meta["company"] == "sprintcare"
    assert [t.model_extra["tweet_id"] for t in sprint.turns] == ["8", "6", "5", "4", "3", "1", "2"]
    assert sprint.turns[0].text == "is the worst customer service"
    signed = [t for c in convs for t in c.turns if "signature" in (t.model_extra or {})]
    assert len(signed) > 1000


def test_real_tweetsumm_dialog_csv_matches_the_labelled_turns(shared_dir: Path) -> None:
    data = shared_dir / "data"
    result = read(data / "tweetsumm" / "tweetsumm_dialogs_with_summaries.csv")
    dialogs = by_id(list(result.conversations()))
    assert result.format == "transcript_csv" and result.problems == []
    assert len(dialogs) == 989
    labelled = list(read(data / "labeled" / "tweetsumm_valid.jsonl").conversations())
    assert len(labelled) == 110
    for conv in labelled:
        assert said(dialogs[conv.id]) == said(conv), conv.id
        assert dialogs[conv.id].meta["data_split"] == "valid"


def test_real_labelled_file_keeps_per_turn_labels(shared_dir: Path) -> None:
    result = read(shared_dir / "data" / "labeled" / "tweetsumm_valid.jsonl", strict=True)
    convs = list(result.conversations())
    assert sum(len(c.turns) for c in convs) == 1092
    turns = [t for c in convs for t in c.turns]
    assert all(isinstance((t.model_extra or {}).get("labels"), list) for t in turns)
    assert any(t.model_extra and t.model_extra["labels"] for t in turns)
    assert convs[0].model_extra == {"source": "tweetsumm-valid"}


def test_real_tweetsumm_annotation_jsonl_is_not_conversations(shared_dir: Path) -> None:
    result = read(shared_dir / "data" / "tweetsumm" / "final_valid_tweetsum.jsonl")
    assert list(result.conversations()) == []
    assert result.skipped == 110
    assert "TweetSumm annotations" in str(result.problems[0])


def test_real_abcd_sample(shared_dir: Path) -> None:
    result = read(shared_dir / "data" / "abcd" / "abcd_sample.json", strict=True)
    convs = list(result.conversations())
    assert result.format == "abcd" and len(convs) == 3
    assert all(any(t.speaker is Speaker.system for t in c.turns) for c in convs)
