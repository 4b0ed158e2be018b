"""Hostile text: the library, the importers and the REST API on odd Unicode, markup,
control characters, empty and huge turns.

The standard: bad input gets a clear error and loses nothing; stored text is never
altered. Every finding's span lies inside its turn and its text is exactly that slice;
every analysis survives its own JSON form. Findings may differ with an injected
zero-width character or an HTML wrapper; crashes and bad spans may not.

API tests run on SQLite and (marked postgres) on PostgreSQL, which refuses NULs in text.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from pydantic import ValidationError

import heard
from heard.api import create_app
from heard.coach import coach
from heard.detectors.base import lower
from heard.errors import HeardError, InputError, RowError
from heard.importers import read
from heard.model import MAX_TURN_CHARS, Analysis, Conversation, Speaker, Turn, clean_text
from heard.semantic import encoder as encoder_module
from heard.service import Service
from service_fixtures import *  # noqa: F403  (the fixtures)
from service_fixtures import SYSTEM, Keys, auth

#: Named hostile texts. Each is a whole turn; most carry a keyword a detector knows, so
#: the odd characters sit next to (or inside) real matches.
HOSTILE: dict[str, str] = {
    "empty": "",
    "whitespace": " \t\n\r\u00a0\u3000 ",
    "huge": ("I am so angry, why is your policy like this? I'm sorry. " * 4000)[:200_000],
    "lone_high_surrogate": "I am \ud800 angry about the refund",
    "lone_low_surrogate": "\udfff why \udc00",
    "nul": "why\x00 is my refund late\x00?",
    "controls": "why is my\x01\x02\x07\x08\x0b\x0c refund \x1b[31mlate\x1b[0m\x7f\x85?",
    "emoji_modifiers_zwj": "I'm 👍🏽 sorry 👨‍👩‍👧‍👦 about the refund 🏳️‍🌈 🤦🏻‍♀️!!",
    "combining_marks": "I'm fu\u0301rious, the re\u0308fund is Z\u0335\u0321a\u0336lgo",
    "bidi_overrides": "\u202eI want a refund\u202c now \u2067why\u2069 \u200fsorry\u200e",
    "zero_width_in_keywords": "your pol\u200bicy is a joke, I want a re\u200bfund, sor\u200dry",
    "full_width": "ＷＨＹ is my ｒｅｆｕｎｄ late? I am ａｎｇｒｙ ！",
    "turkish_dotted_i": "İ AM ANGRY İİİ, why İS my refund ı late? İ'm sorry, İstanbul",
    "ligatures": "ﬁx this, I'm ﬁnished, this is ridiculous ﬀ ﬃ",
    "curly_quotes": "“I’m sorry” she said, ‘why’ don’t you just refund it",
    "html_script": "<script>alert(1)</script> I'm sorry &lt;b&gt;why&lt;/b&gt; &amp; <b>refund</b>",
    "rich_markdown": "[bold]I am angry[/bold] **why** _policy_ `refund` [link](x) # sorry",
    "sql_and_formats": "'; DROP TABLE turns; -- why ../../etc/passwd %s %n {0} ${x} \\u0000",
    "case_expanding": "ß" * 50 + "İ" * 50 + "ﬁ" * 50 + " I'm sorry, I understand why you are upset",
    "line_separators": "why?\u2028I want a refund\u2029\r\nnow\rplease",
}

#: The texts a turn keeps exactly: not blank, no NUL or lone surrogate (which cannot be
#: stored), within the turn limit.
STORABLE = {k: v for k, v in HOSTILE.items() if v.strip() and clean_text(v) == v}
STORABLE = {k: v for k, v in STORABLE.items() if len(v) <= MAX_TURN_CHARS}

FAST = heard.Pipeline(fast=True)


def assert_valid(analysis: Analysis) -> None:
    """The invariants every analysis keeps, whatever the text."""
    turns = analysis.conversation.turns
    assert [t.i for t in analysis.turns] == list(range(len(turns)))
    for ta in analysis.turns:
        assert ta.speaker is turns[ta.i].speaker
        for f in ta.findings:
            assert f.turn == ta.i, f
            text = turns[f.turn].text
            start, end = f.span
            assert 0 <= start < end <= len(text), (f, len(text))
            assert text[start:end] == f.text, f
            assert 0.0 <= f.confidence <= 1.0
    for c in analysis.commitments:
        assert 0 <= c.turn < len(turns)
    for card in analysis.scorecards.values():
        for step in card.steps:
            for f in (*step.evidence, *step.breaks):
                assert turns[f.turn].text[f.span[0] : f.span[1]] == f.text, f
    assert Analysis.model_validate_json(analysis.model_dump_json()) == analysis
    out = analysis.out()
    assert json.loads(json.dumps(out, ensure_ascii=False)) == out


def conversation(*turns: tuple[str, str], id: str = "h-1") -> Conversation:
    return Conversation(id=id, turns=[Turn(speaker=Speaker(s), text=t) for s, t in turns])


# -- the library: one hostile text at a time -------------------------------------------------


@pytest.mark.parametrize("name", list(HOSTILE))
def test_analyze_text_keeps_spans_inside_the_text(name: str) -> None:
    analysis = heard.analyze(HOSTILE[name], fast=True)
    assert analysis.conversation.turns, "a text is at least one customer turn"
    assert_valid(analysis)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_pipeline_on_every_speaker_keeps_spans_inside_the_text(name: str) -> None:
    text = HOSTILE[name]
    conv = conversation(
        ("customer", text),
        ("agent", text),
        ("customer", "Why? " + text),
        ("agent", "I'm sorry. " + text + " I will call you by 5pm tomorrow."),
        ("system", text),
    )
    analysis = FAST.analyze(conv)
    assert_valid(analysis)
    assert len(analysis.turns) == 5


def test_an_agent_echoing_a_turkish_capital_i_does_not_crash() -> None:
    # "İ".lower() is two characters: offsets into a lower-cased copy used to run past the
    # text (IndexError in the case-detail detector behind T.apologize / T.personal).
    conv = conversation(
        ("customer", "İstanbul İİİ order İ4471 never arrived"),
        ("agent", "İİİ I'm so sorry about İstanbul and order İ4471."),
    )
    assert_valid(FAST.analyze(conv))
    text = "İİ İstanbul"
    assert len(lower(text)) == len(text) and lower(text) == "ii istanbul"


@pytest.mark.parametrize("piece", ["1", "1,", "why ", "!", "İ", "\u200b", "<b>", "I will call "])
def test_a_full_turn_of_one_repeated_piece_is_analysed_in_linear_time(piece: str) -> None:
    # a regex that backtracks over a long run (digits, punctuation) would take minutes
    text = (piece * (MAX_TURN_CHARS // len(piece) + 1))[:MAX_TURN_CHARS]
    conv = conversation(("customer", text), ("agent", text), ("customer", text))
    started = time.perf_counter()
    assert_valid(FAST.analyze(conv))
    assert time.perf_counter() - started < 5.0


@pytest.mark.parametrize(("value", "said"), [(b"Customer: hi", "bytes (decode bytes first)"),
                                             (None, "NoneType"), (42, "int")])  # fmt: skip
def test_analyze_names_a_value_that_is_not_a_conversation(value: object, said: str) -> None:
    with pytest.raises(
        TypeError, match=re.escape(f"takes a Conversation or a text (str), not {said}")
    ):
        heard.analyze(value)  # type: ignore[arg-type]


def _whitespace_led() -> dict[str, re.Pattern[str]]:
    from heard import commitments
    from heard.coach import drafts, specifics

    return {
        "commitments._CUT": commitments._CUT,
        "commitments._TRAILING": commitments._TRAILING,
        "commitments._VAGUE_TIME": commitments._VAGUE_TIME,
        "specifics._SUBJECT_NEXT": specifics._SUBJECT_NEXT,
        "drafts._BLAME_TAIL": drafts._BLAME_TAIL,
        "drafts._REPORT_TAIL": drafts._REPORT_TAIL,
    }


@pytest.mark.parametrize("name", list(_whitespace_led()))
@pytest.mark.parametrize("gap", [" ", "\t", " \n"])
def test_patterns_led_by_whitespace_read_a_long_run_in_linear_time(name: str, gap: str) -> None:
    # a pattern starting with \s* or \s+ retried a whitespace run at each of its characters:
    # 2,000 spaces took 0.2-0.7 s, a 20,000-character turn a minute
    pattern = _whitespace_led()[name]
    text = "so" + gap * (MAX_TURN_CHARS // len(gap)) + "x"
    started = time.perf_counter()
    list(pattern.finditer(text))
    pattern.sub("", text)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("piece", ["1", "1,", "1.1", "$1", "why ", "İ", "I will call "])
def test_the_coach_reads_a_full_turn_and_draft_of_one_repeated_piece_in_linear_time(
    piece: str,
) -> None:
    # the coach's amount patterns retried a long run of digits at every digit: a draft of
    # 20,000 digits took about a minute, a customer turn of "1,1,1,..." about 12 s
    text = (piece * (MAX_TURN_CHARS // len(piece) + 1))[:MAX_TURN_CHARS]
    conv = conversation(("customer", text), ("agent", "I'm sorry."), ("customer", text))
    started = time.perf_counter()
    response = coach(conv, draft=text, pipeline=FAST)
    assert time.perf_counter() - started < 5.0
    assert response.draft == text


@pytest.mark.skipif(
    not encoder_module.available(),
    reason="needs the heard[models] extra (torch, sentence-transformers, MiniLM weights)",
)
@pytest.mark.model
def test_the_default_tiers_keep_spans_inside_the_text() -> None:
    for name, text in HOSTILE.items():
        analysis = heard.analyze(text)
        assert_valid(analysis)
        assert "lexical" in analysis.tiers, name


def test_turn_text_is_cleaned_only_where_it_cannot_be_kept() -> None:
    # NULs and lone surrogates cannot be stored or encoded: removed / replaced ...
    assert Turn(speaker=Speaker.customer, text=HOSTILE["nul"]).text == "why is my refund late?"
    cleaned = Turn(speaker=Speaker.customer, text="a\ud800b").text
    assert cleaned == "a?b" and cleaned.encode("utf-8")
    # ... a turn over the limit is cut at it ...
    assert len(Turn(speaker=Speaker.customer, text=HOSTILE["huge"]).text) == MAX_TURN_CHARS
    # ... and everything else is kept verbatim, markup and odd Unicode included.
    for name, text in STORABLE.items():
        assert Turn(speaker=Speaker.agent, text=text).text == text, name


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id": "a\ud800"}, "id"),
        ({"id": "a\x00"}, "id"),
        ({"id": "a", "channel": "\udc00"}, "channel"),
        ({"id": "a", "channel": "chat\x00"}, "channel"),
    ],
)
def test_ids_that_cannot_be_stored_are_refused_not_changed(
    fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        Conversation(**fields)
    assert info.value.errors()[0]["loc"] == (field,)
    assert "must not contain" in str(info.value)
    with pytest.raises(ValidationError, match="must not contain"):
        Turn(speaker=Speaker.agent, text="hi", agent_id=fields.get("channel", fields["id"]))


def test_meta_and_extra_fields_are_cleaned_like_text() -> None:
    conv = Conversation(
        id="m",
        meta={"note": "a\ud800b", "tags": ["x\x00", {"k\udc00": "<b>v</b>"}], "n": 1},
        source="\ud800",
        turns=[Turn(speaker=Speaker.customer, text="hi", label="\x00why")],
    )
    assert conv.meta == {"note": "a?b", "tags": ["x", {"k?": "<b>v</b>"}], "n": 1}
    assert conv.model_extra == {"source": "?"}
    assert conv.turns[0].model_extra == {"label": "why"}
    analysis = FAST.analyze(conv)
    assert_valid(analysis)
    assert Conversation.model_validate_json(conv.model_dump_json()) == conv


#: Pieces conversations are built from: detector keywords and the characters that trip
#: offsets up (case changes that change length, zero-width, surrogates, markup).
FRAGMENTS = st.sampled_from(
    [
        "I'm sorry", "I understand how frustrating", "why did you", "our policy",
        "pol\u200bicy", "refund", "I will call you by 5pm tomorrow", "my hands are tied",
        "calm down", "let me transfer you", "thank you", "this is the worst", "lawyer",
        "THIS IS UNACCEPTABLE", "Customer:", "Agent:", "Hi Sam,", "@acme", "^AB", "$50",
        "order 4471", "İ", "İstanbul", "ı", "ﬁ", "ß", "\u202e", "\u200b", "\u200d",
        "👨‍👩‍👧", "👍🏽", "e\u0301", "\ud800", "\x00", "\x1b", "\r\n", "\n",
        "<script>alert(1)</script>", "&lt;b&gt;", "[bold]", "**x**", "“", "”", "’",
        "ＷＨＹ", "!!!", "???", " ",
    ]
)  # fmt: skip
TEXTS = st.lists(st.one_of(FRAGMENTS, st.text(max_size=6)), max_size=10).map("".join)
TURNS = st.lists(
    st.tuples(st.sampled_from(["customer", "agent", "system"]), TEXTS), min_size=1, max_size=5
)
#: HEARD_HYPOTHESIS_EXAMPLES=5000 for a longer hunt than the everyday run.
SETTINGS = hypothesis.settings(
    max_examples=int(os.environ.get("HEARD_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(TURNS)
def test_random_hostile_conversations_keep_every_invariant(turns: list[tuple[str, str]]) -> None:
    assert_valid(FAST.analyze(conversation(*turns)))
    transcript = "\n".join(f"{s.title()}: {t}" for s, t in turns)
    assert_valid(heard.analyze(transcript, fast=True))


@SETTINGS
@given(TEXTS, st.sampled_from(["\u200b", "<b>", "</b>", "\u202e", "**", "\u00ad", "İ"]), st.data())
def test_an_injected_character_never_breaks_spans(
    text: str, junk: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(text)))
    for t in (text, text[:at] + junk + text[at:], f"<p>{text}</p>"):
        assert_valid(FAST.analyze(conversation(("customer", t), ("agent", t))))


@SETTINGS
@given(TURNS, st.one_of(st.none(), TEXTS))
def test_coach_evidence_indexes_the_text_it_quotes(
    turns: list[tuple[str, str]], draft: str | None
) -> None:
    conv = conversation(*turns)
    response = coach(conv, draft=draft, pipeline=FAST)  # the draft as given: NULs and all
    response.model_dump_json()
    for flag in response.draft_flags:
        assert response.draft is not None
        assert response.draft[flag.span[0] : flag.span[1]] == flag.text, flag
    state = response.customer
    evidence = [*state.stated_demand, *state.open_questions, *state.real_problem_evidence]
    for ev in [*evidence, *(e for cue in response.cues for e in cue.evidence)]:
        assert conv.turns[ev.turn].text[ev.span[0] : ev.span[1]] == ev.text, ev


# -- importers: files of hostile rows ----------------------------------------------------------


def _jsonl_rows(texts: list[str]) -> str:
    rows = [
        {"id": f"c-{i}", "turns": [{"speaker": "customer", "text": text},
                                   {"speaker": "agent", "text": "I'm sorry.", "agent_id": "a-1"}]}
        for i, text in enumerate(texts)
    ]  # fmt: skip
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_jsonl_file_of_hostile_texts_loads_or_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    texts = list(HOSTILE.values())
    path.write_text(_jsonl_rows(texts), encoding="utf-8")
    result = read(path)
    convs = {c.id: c for c in result.conversations()}
    assert {c.id: c for c in heard.load(path)} == convs
    for i, text in enumerate(texts):
        conv = convs[f"c-{i}"]  # every row loads: a blank turn is dropped, not the row
        if text.strip():
            assert conv.turns[0].text == Turn(speaker=Speaker.customer, text=text).text
        assert_valid(FAST.analyze(conv))
    blank = {i + 1 for i, t in enumerate(texts) if not t.strip()}
    huge = {i + 1 for i, t in enumerate(texts) if len(t) > MAX_TURN_CHARS}
    for p in result.problems:
        assert isinstance(p, RowError) and p.source.endswith("hostile.jsonl")
        assert p.field == "turns[0].text", p
    assert {p.line for p in result.problems} == blank | huge
    with pytest.raises(RowError) as info:
        list(heard.load(path, strict=True))
    assert info.value.line == min(blank) and info.value.field == "turns[0].text"


def test_jsonl_rows_with_unstorable_ids_are_reported_with_line_and_field(tmp_path: Path) -> None:
    rows = [
        {"id": "ok-1", "turns": [{"speaker": "customer", "text": "why?"}]},
        {"id": "bad\ud800", "turns": [{"speaker": "customer", "text": "why?"}]},
        {"id": "bad\x00", "turns": [{"speaker": "customer", "text": "why?"}]},
        {"id": "ok-2", "channel": "\udc00", "turns": [{"speaker": "customer", "text": "why?"}]},
        {"id": "ok-3", "turns": [{"speaker": "agent", "text": "sorry", "agent_id": "a\x00"}]},
        {"id": "ok-4", "meta": {"k": "\ud800"}, "turns": [{"speaker": "customer", "text": "a"}]},
    ]
    path = tmp_path / "ids.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="ascii")
    result = read(path)
    convs = {c.id: c for c in result.conversations()}
    # a malformed turn skips its conversation (turn numbers must not shift)
    assert sorted(convs) == ["ok-1", "ok-4"]
    assert convs["ok-4"].meta == {"k": "?"}
    assert all(
        t.agent_id is None or "\x00" not in t.agent_id for c in convs.values() for t in c.turns
    )
    where = sorted((p.line, p.field) for p in result.problems)
    assert where == [(2, "id"), (3, "id"), (4, "channel"), (5, "turns[0].agent_id")]
    assert all("must not contain" in p.message for p in result.problems)
    assert not any("Value error" in p.message for p in result.problems)
    assert "'agent_id' must not contain NUL" in result.problems[-1].message
    assert "conversation skipped" in result.problems[-1].message


def test_csv_file_of_hostile_texts_loads_or_names_the_row(tmp_path: Path) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["conversation_id", "speaker", "text"])
    names = list(HOSTILE)
    for name in names:
        writer.writerow([f"c-{name}", "customer", clean_text(HOSTILE[name])])
        writer.writerow([f"c-{name}", "agent", "I'm sorry <b>really</b>"])
    path = tmp_path / "hostile.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    result = read(path)
    convs = {c.id: c for c in result.conversations()}
    assert sorted(convs) == sorted(f"c-{n}" for n in names)
    for name, text in STORABLE.items():
        assert convs[f"c-{name}"].turns[0].text == text, name
    for conv in convs.values():
        assert_valid(FAST.analyze(conv))
    for p in result.problems:
        assert isinstance(p, RowError) and p.source.endswith("hostile.csv")
        assert p.line > 1 and p.field == "text", p


def test_unreadable_files_raise_the_documented_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(b"\x00\xff\xfe<script>" * 10)
    with pytest.raises(HeardError) as info:
        list(heard.load(path))
    assert isinstance(info.value, InputError) and info.value.message


# -- the REST API ------------------------------------------------------------------------------

JSON = {"content-type": "application/json"}
NDJSON = {"content-type": "application/x-ndjson"}


@pytest.fixture
def admin(client: TestClient, keys: Keys) -> dict[str, str]:
    return auth(keys.admin)


@pytest.fixture
def lenient(service: Service) -> Iterator[TestClient]:
    """A client that answers a server error with its 500 (instead of raising it)."""
    with TestClient(create_app(service=service), raise_server_exceptions=False) as c:
        yield c


def api_error(response: Any, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()["error"]
    assert set(body) >= {"code", "message", "field"} and body["message"], body
    assert body["code"].startswith("E")
    return body


def assert_valid_out(out: dict[str, Any], texts: list[str]) -> None:
    """An `AnalysisOut` body: every span inside the turn it names, its text that slice."""
    assert [t["i"] for t in out["turns"]] == list(range(len(texts)))
    for turn in out["turns"]:
        text = texts[turn["i"]]
        for f in turn["findings"]:
            start, end = f["span"]
            assert 0 <= start < end <= len(text) and text[start:end] == f["text"], f


def raw(body: Any) -> bytes:
    """JSON with every non-ASCII character escaped (lone surrogates included)."""
    return json.dumps(body, ensure_ascii=True).encode("ascii")


def test_api_analyze_and_coach_never_500(lenient: TestClient, keys: Keys) -> None:
    headers = {**auth(keys.agent_1), **JSON}
    for name, text in HOSTILE.items():
        turns = [{"speaker": "customer", "text": text}, {"speaker": "agent", "text": text}]
        r = lenient.post("/analyze", headers=headers, content=raw({"id": "h", "turns": turns}))
        if r.status_code == 200:
            sent = [Turn(speaker=Speaker.customer, text=text).text] * 2
            assert_valid_out(r.json(), sent)
        else:
            assert api_error(r, 422)["field"] in ("turns[0].text", "turns[1].text"), name
        body = {"conversation": {"id": "h", "turns": turns[:1]}, "draft": text[:MAX_TURN_CHARS]}
        r = lenient.post("/coach", headers=headers, content=raw(body))
        if r.status_code == 200:
            out = r.json()
            for flag in out["draft_flags"]:
                assert out["draft"][flag["span"][0] : flag["span"][1]] == flag["text"], flag
        else:
            assert api_error(r, 422)["field"] in ("conversation.turns[0].text", "draft"), name


def test_api_coach_draft_flags_index_the_draft_it_echoes(client: TestClient, keys: Keys) -> None:
    body = {"conversation": {"turns": [{"speaker": "customer", "text": "Why is it late?"}]},
            "draft": "\x00\x00It's our policy, calm down.\x00"}  # fmt: skip
    r = client.post("/coach", headers=auth(keys.agent_1), json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["draft"] == "It's our policy, calm down."
    assert out["draft_flags"]
    for flag in out["draft_flags"]:
        assert out["draft"][flag["span"][0] : flag["span"][1]] == flag["text"], flag


#: Request bodies with characters no file or database can hold, outside the turn text too.
UNENCODABLE: list[dict[str, Any]] = [
    {"id": "\ud800", "turns": [{"speaker": "customer", "text": "why?"}]},
    {"id": "x", "channel": "\udc00", "turns": [{"speaker": "customer", "text": "why?"}]},
    {"id": "x", "meta": {"k\ud800": "\ud800"}, "turns": [{"speaker": "customer", "text": "a"}]},
    {"id": "x", "turns": [{"speaker": "agent", "text": "Sorry.", "agent_id": "\ud800"}]},
    {"id": "x", "turns": [{"speaker": "customer", "text": "\ud800\udfff\ud800"}]},
    {"id": "x\x00", "turns": [{"speaker": "customer", "text": "why?"}]},
    {"id": "x", "turns": [{"speaker": "customer", "text": "\x00\x00"}]},
]


def test_api_unencodable_characters_anywhere_never_500(lenient: TestClient, keys: Keys) -> None:
    headers = {**auth(keys.agent_1), **JSON}
    for body in UNENCODABLE:
        for path, payload in (("/analyze", body), ("/coach", {"conversation": body})):
            r = lenient.post(path, headers=headers, content=raw(payload))
            if r.status_code != 200:
                assert api_error(r, 422)["code"] == "E001", (path, r.text)


def test_api_bodies_that_are_not_json_get_the_error_shape(client: TestClient, keys: Keys) -> None:
    headers = {**auth(keys.agent_1), **JSON}
    for content in (b"", b"\xff\xfe\x00", b'{"turns": [', b"null", b"[]", b'"text"',
                    b'{"turns": [{"speaker": "customer", "text": 5}]}',
                    b'{"turns": [{"speaker": "robot", "text": "hi"}]}',
                    b'{"turns": [{"speaker": "customer", "text": "   "}]}'):  # fmt: skip
        for path in ("/analyze", "/coach"):
            r = client.post(path, headers=headers, content=content)
            assert api_error(r, 400, 422)["code"] == "E001", (path, content)


def test_api_turn_over_the_limit_is_422_naming_the_field(client: TestClient, keys: Keys) -> None:
    body = {"turns": [{"speaker": "customer", "text": HOSTILE["huge"]}]}
    err = api_error(client.post("/analyze", headers=auth(keys.agent_1), json=body), 422)
    assert err["field"] == "turns[0].text" and "20000" in err["message"]


def test_api_body_over_the_limit_is_413_with_a_clear_error(
    small_client: TestClient, keys: Keys
) -> None:
    headers = auth(keys.admin)
    text = "<script>alert(1)</script> 👨‍👩‍👧 İ " * 200
    for path, body in (
        ("/analyze", {"turns": [{"speaker": "customer", "text": text}]}),
        ("/coach", {"conversation": {"turns": [{"speaker": "customer", "text": "hi"}]},
                    "draft": text}),
    ):  # fmt: skip
        err = api_error(small_client.post(path, headers=headers, json=body), 413)
        assert err["code"] == "E413" and "2,000 bytes" in err["message"], err
    upload = jsonl_of({"big": text})
    err = api_error(small_client.post("/conversations/import", headers={**headers, **NDJSON},
                                      content=upload), 413)  # fmt: skip
    assert err["code"] == "E413"
    assert small_client.get("/conversations", headers=headers).json()["total"] == 0


def jsonl_of(texts: dict[str, str]) -> bytes:
    lines = []
    for name, text in texts.items():
        turns = [
            {"speaker": "customer", "text": text},
            {"speaker": "agent", "text": f"I'm sorry. {text}", "agent_id": "a-1"},
        ]
        lines.append(json.dumps({"id": f"h-{name}", "turns": turns}, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_api_stored_text_comes_back_byte_identical(
    client: TestClient, admin: dict[str, str]
) -> None:
    upload = jsonl_of(STORABLE)
    r = client.post("/conversations/import", headers={**admin, **NDJSON}, content=upload)
    assert r.status_code == 200, r.text
    assert sorted(r.json()["imported"]) == sorted(f"h-{n}" for n in STORABLE), r.text
    for name, text in STORABLE.items():
        r = client.get(f"/conversations/h-{name}", headers=admin)
        assert r.status_code == 200, r.text
        body = r.json()
        got = [t["text"] for t in body["turns"]]
        assert [t.encode("utf-8") for t in got] == [
            text.encode("utf-8"),
            f"I'm sorry. {text}".encode(),
        ], name
        assert body["analysis"] is not None
        assert_valid_out(body["analysis"], got)
    listed = client.get("/conversations", headers=admin, params={"q": "<script>"}).json()
    assert [c["id"] for c in listed["items"]] == ["h-html_script"]


def test_api_csv_upload_of_hostile_texts_keeps_them(
    client: TestClient, admin: dict[str, str]
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["conversation_id", "speaker", "text"])
    for name, text in STORABLE.items():
        writer.writerow([f"h-{name}", "customer", text])
    r = client.post("/conversations/import", headers={**admin, "content-type": "text/csv"},
                    content=buf.getvalue().encode("utf-8"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert sorted(r.json()["imported"]) == sorted(f"h-{n}" for n in STORABLE)
    for name, text in STORABLE.items():
        turns = client.get(f"/conversations/h-{name}", headers=admin).json()["turns"]
        assert turns[0]["text"] == text, name


def test_api_import_of_unstorable_ids_is_reported_and_writes_nothing_bad(
    lenient: TestClient, keys: Keys
) -> None:
    headers = {**auth(keys.admin), **NDJSON}
    rows = [
        {"id": "a\ud800", "turns": [{"speaker": "customer", "text": "why?"}]},
        {"id": "b\x00", "turns": [{"speaker": "customer", "text": "why?"}]},
        {"id": "c", "channel": "\ud800", "turns": [{"speaker": "customer", "text": "why?"}]},
        {"id": "d", "turns": [{"speaker": "agent", "text": "sorry", "agent_id": "\udc00"}]},
        {"id": "e", "turns": [{"speaker": "agent", "text": "sorry", "agent_id": "a\x00"}]},
    ]
    for row in rows:
        r = lenient.post("/conversations/import", headers=headers, content=raw(row))
        err = api_error(r, 422)
        assert err["line"] == 1 and err["field"] in ("id", "channel", "turns[0].agent_id"), err
    good = [
        {"id": "f", "meta": {"k": "\ud800", "n": "x\x00y"},
         "turns": [{"speaker": "customer", "text": "why?", "label": "\ud800"}]},
        {"id": "g", "turns": [{"speaker": "customer", "text": "\ud800 why\x00?"}]},
    ]  # fmt: skip
    content = b"".join(raw(row) + b"\n" for row in good)
    r = lenient.post("/conversations/import", headers=headers, content=content)
    assert r.status_code == 200 and sorted(r.json()["imported"]) == ["f", "g"], r.text
    listed = lenient.get("/conversations", headers=auth(keys.admin))
    assert listed.status_code == 200 and listed.json()["total"] == 2
    f = lenient.get("/conversations/f", headers=auth(keys.admin))
    assert f.status_code == 200 and f.json()["meta"] == {"k": "?", "n": "xy"}, f.text
    g = lenient.get("/conversations/g", headers=auth(keys.admin))
    assert g.status_code == 200 and g.json()["turns"][0]["text"] == "? why?"


#: Requests with a NUL in a query, path or body value (PostgreSQL text cannot hold one).
WITH_NUL: list[tuple[str, str, Any]] = [
    ("get", "/conversations?q=%00", None),
    ("get", "/conversations?agent=a%00&team=%00&finding=%00", None),
    ("get", "/conversations/n%00", None),
    ("get", "/commitments?conversation_id=%00", None),
    ("get", "/playbooks/x%00", None),
    ("post", "/analyze?playbook=%00", {"turns": [{"speaker": "customer", "text": "hi"}]}),
    ("post", "/coach", {"conversation": {"turns": [{"speaker": "customer", "text": "hi"}]},
                        "playbook": "x\x00"}),
    ("post", "/commitments", {"conversation_id": "s-1", "what": "call\x00 back", "owner": "a\x00"}),
    ("post", "/users", {"name": "eve\x00", "role": "admin"}),
    ("post", "/users", {"name": "eve", "role": "lead", "team": "t\x00"}),
    ("post", "/playbooks", {"yaml": "name: x\x00\nsteps: []\n"}),
]  # fmt: skip


def test_api_nul_in_any_parameter_never_500(
    loaded: Service, lenient: TestClient, keys: Keys
) -> None:
    headers = {**auth(keys.admin), **JSON}
    for method, path, body in WITH_NUL:
        content = raw(body) if body is not None else None
        r = lenient.request(method, path, headers=headers, content=content)
        assert r.status_code < 500, (path, r.text)
        if r.status_code >= 400:
            api_error(r, 400, 403, 404, 409, 422)
    assert lenient.get("/health").status_code == 200  # the database is still usable
    assert lenient.get("/conversations", headers=headers).json()["total"] == 4


def test_a_nul_in_the_search_text_does_not_match_everything(
    loaded: Service, lenient: TestClient, keys: Keys
) -> None:
    # SQLite ends a LIKE pattern at a NUL: '\0zzqx' became '%', every conversation, and
    # PostgreSQL refused it; NULs are dropped, as they are from stored text
    headers = auth(keys.admin)
    r = lenient.get("/conversations", params={"q": "\x00zzqx"}, headers=headers)
    assert r.status_code == 200 and r.json()["total"] == 0, r.text


def test_service_stores_hostile_conversations_verbatim(loaded: Service) -> None:
    convs = [conversation(("customer", t), ("agent", t), id=f"s-{n}") for n, t in STORABLE.items()]
    report = loaded.import_conversations(SYSTEM, convs)
    assert sorted(report.imported) == sorted(c.id for c in convs)
    for c in convs:
        stored = loaded.get_conversation(SYSTEM, c.id)
        assert [t.text for t in stored.conversation.turns] == [t.text for t in c.turns]
        assert stored.analysis is not None
        assert_valid(stored.analysis)
