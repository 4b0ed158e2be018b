"""The core commands as a user meets them: `heard analyze`, `score`, `catalog`, `demo`.

Every test runs the command through typer's CliRunner and checks what a user would see:
output that parses in each format, one record per conversation, findings that point at
the words that earned them, clear errors with the documented exit codes (0 success, 1 a
check failed, 2 bad usage or unreadable input, 3 a required extra or model is missing),
and hostile input (markup, scripts, odd Unicode, binary, malformed rows) that comes out
as data. Inputs are the bundled examples or small files written to tmp_path; most tests
use --fast (the lexical tier) to stay quick.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner, Result

import heard.cli  # registers every command on the app
import heard.cli.commands_core as core
from heard.cli.app import app
from heard.cli.commands_core import CSV_FIELDS, PROGRESS_AFTER, example_path
from heard.errors import ModelUnavailable
from heard.model import MAX_TURN_CHARS
from heard.pipeline import Pipeline

runner = CliRunner()
CATALOG = Path(heard.cli.__file__).resolve().parent.parent / "catalog" / "catalog.yaml"
EXAMPLES: list[dict[str, Any]] = [
    json.loads(line) for line in example_path().read_text(encoding="utf-8").splitlines() if line
]
EXAMPLE_IDS = [e["id"] for e in EXAMPLES]
BUILTIN_PLAYBOOKS = {"F.compassion", "F.secrets", "F.jerk", "F.send", "F.five_step", "F.toister"}
FINDING_KEYS = {"id", "span", "text", "confidence", "detector", "explanation"}
FORMATS = ["table", "json", "jsonl", "csv"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def invoke(*args: str | Path, stdin: str | bytes | None = None, **env: str) -> Result:
    return runner.invoke(app, [str(a) for a in args], input=stdin, env=env or None)


def flat(text: str) -> str:
    """Text without colours and panel borders, every run of whitespace as one space (Rich
    wraps long lines inside its panels)."""
    return " ".join(ANSI.sub("", text).replace("│", " ").split())


def conversation(
    id: str, *turns: tuple[str, str], **extra: Any
) -> dict[str, Any]:  # a JSONL record
    return {"id": id, "turns": [{"speaker": s, "text": t} for s, t in turns], **extra}


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


SMALL = [
    conversation(
        "s-1",
        ("customer", "This is the third time I've called and my parcel is STILL missing!!"),
        ("agent", "I'm so sorry, that sounds really frustrating. I'll call you back by 5pm."),
        ("customer", "Ok, thanks."),
    ),
    conversation(
        "s-2",
        ("customer", "Why was I charged twice? I want a refund."),
        ("agent", "That's our policy."),
    ),
]


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "small.jsonl", SMALL)


def jsonl_records(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def parsed(fmt: str, text: str) -> list[dict[str, Any]]:
    """The records of a machine format: analyses (json, jsonl) or finding rows (csv)."""
    if fmt == "jsonl":
        return jsonl_records(text)
    if fmt == "json":
        doc = json.loads(text)
        assert isinstance(doc, list)
        return doc
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == CSV_FIELDS
    return list(reader)


def check_findings(records: list[dict[str, Any]], sources: list[dict[str, Any]]) -> int:
    """Every finding names a catalog id, its turn, a span whose text is the input's, and
    the detector; returns how many findings there were."""
    texts = {s["id"]: [t["text"] for t in s["turns"]] for s in sources}
    n = 0
    for rec in records:
        assert [t["i"] for t in rec["turns"]] == list(range(len(texts[rec["id"]])))
        for ta in rec["turns"]:
            for f in ta["findings"]:
                assert f.keys() >= FINDING_KEYS
                start, end = f["span"]
                assert 0 <= start < end
                assert texts[rec["id"]][ta["i"]][start:end] == f["text"]
                assert "@" in f["detector"]
                assert f["id"][:2] in {"C.", "T.", "X."}
                n += 1
    return n


def check_csv_rows(rows: list[dict[str, Any]], sources: list[dict[str, Any]]) -> None:
    texts = {s["id"]: [t["text"] for t in s["turns"]] for s in sources}
    assert rows
    for row in rows:
        text = texts[row["conversation_id"]][int(row["turn"])]
        assert text[int(row["start"]) : int(row["end"])] == row["text"]
        assert row["id"] and "@" in row["detector"] and row["speaker"] in {"customer", "agent"}


# -- analyze: formats ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_analyze_the_bundled_examples_in_every_format(fmt: str) -> None:
    res = invoke("analyze", example_path(), "--fast", "--format", fmt)
    assert res.exit_code == 0, res.output
    if fmt == "table":
        for e in EXAMPLES:
            assert e["meta"]["title"] in flat(res.stdout)
        assert res.stdout.count("tiers: lexical") == len(EXAMPLES)
        return
    records = parsed(fmt, res.stdout)
    if fmt == "csv":
        check_csv_rows(records, EXAMPLES)
        assert {r["conversation_id"] for r in records} == set(EXAMPLE_IDS)
        return
    assert [r["id"] for r in records] == EXAMPLE_IDS  # one record each, in input order
    assert check_findings(records, EXAMPLES) > 100
    for r in records:
        assert r["tiers"] == ["lexical"]
        assert set(r["scorecards"]) == BUILTIN_PLAYBOOKS
        assert r["risk"]["level"] in {"low", "medium", "high"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_analyze_a_small_file_in_every_format(small: Path, fmt: str) -> None:
    res = invoke("analyze", small, "--fast", "-f", fmt)
    assert res.exit_code == 0, res.output
    if fmt == "table":
        out = flat(res.stdout)
        assert "s-1" in out and "s-2" in out and "STILL missing" in out
        assert "one-star risk" in out and "scorecards" in out and "F.jerk" in out
        return
    records = parsed(fmt, res.stdout)
    if fmt == "csv":
        check_csv_rows(records, SMALL)
        ids = {(r["conversation_id"], r["id"]) for r in records}
        assert ("s-1", "C.risk") in ids and ("s-1", "T.apologize") in ids
        return
    assert [r["id"] for r in records] == ["s-1", "s-2"]
    assert check_findings(records, SMALL) >= 4
    found = {f["id"] for f in records[0]["turns"][0]["findings"]}
    assert "C.risk" in found  # "third time I've called"
    assert records[0]["commitments"]  # "I'll call you back by 5pm"


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_option_writes_the_file_and_nothing_on_stdout(
    small: Path, tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / f"out.{fmt}"
    res = invoke("analyze", small, "--fast", "-f", fmt, "-o", target)
    assert res.exit_code == 0, res.output
    assert res.stdout == ""
    text = target.read_text(encoding="utf-8")
    if fmt == "table":
        assert "s-1" in text and "s-2" in text
    elif fmt == "csv":
        check_csv_rows(parsed(fmt, text), SMALL)
    else:
        assert [r["id"] for r in parsed(fmt, text)] == ["s-1", "s-2"]


def test_an_unwritable_output_is_a_clear_error(small: Path, tmp_path: Path) -> None:
    # used to end in a FileNotFoundError traceback (exit 1)
    for target in (tmp_path / "no" / "such" / "dir.jsonl", tmp_path):
        res = invoke("analyze", small, "--fast", "-f", "jsonl", "-o", target)
        assert res.exit_code == 2, res.output
        assert "cannot write" in res.stderr and str(target) in flat(res.stderr)
        assert "Traceback" not in res.output


def test_the_output_cannot_be_an_input(small: Path) -> None:
    # -o on the input itself used to truncate it before it was read: data lost, exit 0
    before = small.read_bytes()
    res = invoke("analyze", small, "--fast", "-f", "jsonl", "-o", small)
    assert res.exit_code == 2 and "is also an input" in res.stderr
    assert small.read_bytes() == before


def test_standard_input_is_read_with_a_dash() -> None:
    res = invoke("analyze", "-", "--fast", "-f", "jsonl", stdin="Customer: my order is late!!\n")
    assert res.exit_code == 0, res.output
    [record] = jsonl_records(res.stdout)
    assert record["turns"][0]["speaker"] == "customer"


def test_a_transcript_and_a_csv_read_in_one_run(tmp_path: Path) -> None:
    txt = tmp_path / "call.txt"
    txt.write_text("Customer: my parcel is late again!!\nAgent: Sorry about that.\n", "utf-8")
    long_csv = tmp_path / "turns.csv"
    long_csv.write_text(
        "conversation_id,speaker,text\nk-1,client,I was charged twice\nk-1,rep,Sorry\n", "utf-8"
    )
    res = invoke("analyze", txt, long_csv, "--fast", "-f", "jsonl")
    assert res.exit_code == 0, res.output
    records = jsonl_records(res.stdout)
    assert len(records) == 2 and records[1]["id"] == "k-1"
    assert [t["speaker"] for t in records[1]["turns"]] == ["customer", "agent"]


# -- analyze: playbooks and tiers ---------------------------------------------------------


def test_playbook_names_restrict_the_scorecards(small: Path) -> None:
    res = invoke("analyze", small, "--fast", "-f", "jsonl", "--playbook", "F.jerk")
    assert res.exit_code == 0, res.output
    assert all(list(r["scorecards"]) == ["F.jerk"] for r in jsonl_records(res.stdout))
    res = invoke("analyze", small, "--fast", "-f", "jsonl", "-p", "F.jerk", "-p", "send")
    assert res.exit_code == 0, res.output
    assert all(set(r["scorecards"]) == {"F.jerk", "F.send"} for r in jsonl_records(res.stdout))


TEAM_PLAYBOOK = """\
name: acme_returns
framework: null
version: 1
description: How the returns desk answers a late parcel.
steps:
  - id: say_sorry
    name: Say sorry
    satisfied_by: [T.apologize]
    applies_when: always
  - id: no_bare_policy
    name: Explain the rule
    broken_by: [X.bare_policy]
    applies_when: always
"""


def test_a_playbook_file_restricts_the_scorecards(small: Path, tmp_path: Path) -> None:
    book = tmp_path / "team.yaml"
    book.write_text(TEAM_PLAYBOOK, encoding="utf-8")
    assert invoke("playbook", "check", book).exit_code == 0
    res = invoke("analyze", small, "--fast", "-f", "jsonl", "--playbook", book)
    assert res.exit_code == 0, res.output
    records = jsonl_records(res.stdout)
    assert all(list(r["scorecards"]) == ["acme_returns"] for r in records)
    steps = [s["id"] for s in records[0]["scorecards"]["acme_returns"]["steps"]]
    assert steps == ["say_sorry", "no_bare_policy"]
    assert records[0]["scorecards"]["acme_returns"]["steps"][0]["status"] == "met"
    table = invoke("analyze", small, "--fast", "--playbook", book)
    assert table.exit_code == 0 and "acme_returns" in table.stdout
    assert "F.jerk" not in table.stdout


def test_an_unknown_playbook_is_a_clear_error(small: Path, tmp_path: Path) -> None:
    for name in ("F.nope", str(tmp_path / "missing.yaml")):
        res = invoke("analyze", small, "--fast", "-f", "jsonl", "--playbook", name)
        assert res.exit_code == 2, res.output
        assert "no playbook" in res.stderr and name in flat(res.stderr)
        assert "playbook list" in res.stderr
        assert res.stdout == ""


def test_a_broken_playbook_file_is_a_clear_error(small: Path, tmp_path: Path) -> None:
    book = tmp_path / "broken.yaml"
    book.write_text("name: [oops\n", encoding="utf-8")
    res = invoke("analyze", small, "--fast", "--playbook", book)
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "E201" in res.stderr and "playbook check" in res.stderr


def test_fast_runs_the_lexical_tier_only(small: Path) -> None:
    res = invoke("analyze", small, "--fast", "-f", "jsonl")
    assert res.exit_code == 0
    records = jsonl_records(res.stdout)
    assert all(r["tiers"] == ["lexical"] for r in records)
    detectors = {f["detector"] for r in records for t in r["turns"] for f in t["findings"]}
    assert detectors and all(d.startswith("lexical.") for d in detectors)


def test_without_fast_the_semantic_tier_runs_when_installed(small: Path) -> None:
    from heard.semantic.encoder import missing_requirements

    res = invoke("analyze", small, "-f", "jsonl")
    assert res.exit_code == 0, res.output
    records = jsonl_records(res.stdout)
    assert [r["id"] for r in records] == ["s-1", "s-2"]
    check_findings(records, SMALL)
    tiers = records[0]["tiers"]
    if missing_requirements():
        assert tiers == ["lexical"] and "semantic tier not installed" in res.stderr
    else:
        assert tiers == ["lexical", "semantic"]


# -- analyze: bad input -------------------------------------------------------------------


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    res = invoke("analyze", missing, "--fast")
    assert res.exit_code == 2
    assert "E001" in res.stderr and str(missing) in flat(res.stderr)
    assert "Traceback" not in res.output


def test_a_missing_second_file_fails_before_any_output(small: Path, tmp_path: Path) -> None:
    res = invoke("analyze", small, tmp_path / "nope.jsonl", "--fast", "-f", "jsonl")
    assert res.exit_code == 2 and "nope.jsonl" in res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.csv", "empty.txt", "blank.jsonl"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_file_holds_no_conversations(tmp_path: Path, name: str, fmt: str) -> None:
    path = tmp_path / name
    path.write_text("\n \n" if name.startswith("blank") else "", encoding="utf-8")
    res = invoke("analyze", path, "--fast", "-f", fmt)
    assert res.exit_code == 0, res.output
    assert "no conversations found" in res.stderr
    if fmt == "table":
        assert res.stdout == ""
    else:
        assert parsed(fmt, res.stdout) == []


BAD_CSV = (
    "conversation_id,speaker,text\n"
    "c1,customer,My order is late again!!\n"
    "c1,agent,I'm sorry about that. I'll refund it today.\n"
    "c2,martian,hello\n"  # line 4: unknown speaker
    "c2,customer,\n"  # line 5: empty text
    "c3,customer,Why was I charged twice?\n"
    "c3,agent,Let me check that for you.\n"
)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json"])
def test_malformed_csv_rows_are_skipped_and_reported(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "turns.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    res = invoke("analyze", path, "--fast", "-f", fmt)
    assert res.exit_code == 0, res.output
    records = parsed(fmt, res.stdout)
    if fmt == "csv":
        assert {r["conversation_id"] for r in records} == {"c1", "c3"}
    else:
        assert [r["id"] for r in records] == ["c1", "c3"]
        assert [len(r["turns"]) for r in records] == [2, 2]  # every good row kept
    err = flat(res.stderr)
    assert "skipped 2 bad row(s)" in err
    assert f"{path}:4 field 'speaker'" in err and "martian" in err
    assert f"{path}:5 field 'text'" in err


@pytest.mark.parametrize("fmt", FORMATS)
def test_strict_stops_at_the_first_bad_row_with_no_output(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "turns.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    res = invoke("analyze", path, "--fast", "-f", fmt, "--strict")
    assert res.exit_code == 2
    err = flat(res.stderr)
    assert f"{path}:4 field 'speaker'" in err and f"{path}:5" not in err
    assert res.stdout == ""
    target = tmp_path / f"out.{fmt}"
    res = invoke("analyze", path, "--fast", "-f", fmt, "--strict", "-o", target)
    assert res.exit_code == 2 and not target.exists()


def test_strict_writes_nothing_when_the_bad_row_comes_late(tmp_path: Path) -> None:
    # a bad line after the first batch of analyses used to leave those on stdout (and in -o)
    good = [conversation(f"g-{i}", ("customer", "My parcel is late!!")) for i in range(150)]
    path = write_jsonl(tmp_path / "late.jsonl", [*good, conversation("bad", ("martian", "x"))])
    res = invoke("analyze", path, "--fast", "-f", "jsonl", "--strict")
    assert res.exit_code == 2 and f"{path}:151" in flat(res.stderr)
    assert res.stdout == ""
    target = tmp_path / "out.jsonl"
    res = invoke("analyze", path, "--fast", "-f", "jsonl", "--strict", "-o", target)
    assert res.exit_code == 2 and not target.exists()
    res = invoke("score", path, "--fast", "-f", "jsonl", "--strict")
    assert res.exit_code == 2 and res.stdout == ""
    res = invoke("analyze", path, "--fast", "-f", "jsonl")  # without --strict: all good rows
    assert res.exit_code == 0 and len(jsonl_records(res.stdout)) == 150


def test_strict_passes_a_clean_file(small: Path) -> None:
    res = invoke("analyze", small, "--fast", "-f", "jsonl", "--strict")
    assert res.exit_code == 0 and len(jsonl_records(res.stdout)) == 2


def test_binary_garbage_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.bin"
    path.write_bytes(random.Random(0).randbytes(4096))
    res = invoke("analyze", path, "--fast", "-f", "jsonl")
    assert res.exit_code == 2 and "Traceback" not in res.output
    err = flat(res.stderr)
    assert "E003" in err and "garbage.bin" in err and "--input-format" in err
    assert res.stdout == ""


def test_binary_garbage_named_jsonl_is_skipped_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "garbage.jsonl"
    path.write_bytes(b"\x00\x01\xff\xfe garbage\n" + bytes(range(256)))
    for command in ("analyze", "score"):
        res = invoke(command, path, "--fast", "-f", "jsonl")
        # every line reported, and a failure: nothing could be read (an empty file is 0)
        assert res.exit_code == 2, res.output
        assert res.stdout == "" and "garbage.jsonl:1" in flat(res.stderr)
        assert "no conversation could be read" in flat(res.stderr)


def test_an_unknown_format_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_text("%PDF-1.4 not a conversation\n", encoding="utf-8")
    res = invoke("analyze", path, "--fast")
    assert res.exit_code == 2
    assert "cannot tell the format" in res.stderr and "known formats" in res.stderr
    res = invoke("analyze", path, "--fast", "--input-format", "docx")
    assert res.exit_code == 2 and "unknown format 'docx'" in res.stderr
    assert "jsonl" in res.stderr
    res = invoke("analyze", path, "--fast", "--format", "xml")
    assert res.exit_code == 2  # not one of table, json, jsonl, csv


MARKUP = (
    "<script>alert('x')</script> I am [bold]FURIOUS[/bold] about this [/] late "
    "<b>order</b> [link=http://evil.example]click[/link] :smile: \\[x]"
)
AGENT_MARKUP = "I'm so sorry [red]really[/] <img src=x onerror=alert(1)> &amp; [/]"


@pytest.fixture
def markup(tmp_path: Path) -> Path:
    record = conversation(
        "[/]", ("customer", MARKUP), ("agent", AGENT_MARKUP), channel="[bold]chat[/]"
    )
    record["meta"] = {"title": "[bold]Title[/] <i>x</i> [/]"}
    return write_jsonl(tmp_path / "markup.jsonl", [record])


def test_markup_and_scripts_come_out_as_data_in_machine_formats(markup: Path) -> None:
    res = invoke("analyze", markup, "--fast", "-f", "jsonl")
    assert res.exit_code == 0, res.output
    [record] = jsonl_records(res.stdout)
    assert record["id"] == "[/]"
    check_findings([record], [conversation("[/]", ("customer", MARKUP), ("agent", AGENT_MARKUP))])
    res = invoke("analyze", markup, "--fast", "-f", "csv")
    assert res.exit_code == 0
    assert all(r["conversation_id"] == "[/]" for r in parsed("csv", res.stdout))


def test_markup_in_the_table_is_shown_verbatim(markup: Path) -> None:
    # an id, title or channel with '[/]' used to crash Rich (MarkupError); '[bold]' vanished
    res = invoke("analyze", markup, "--fast")
    assert res.exit_code == 0, res.output
    out = flat(res.stdout)
    for piece in ("<script>alert('x')</script>", "[bold]FURIOUS[/bold]", "[/] late", ":smile:"):
        assert piece in out
    assert "[link=http://evil.example]click[/link]" in out
    assert "[red]really[/]" in out and "onerror=alert(1)" in out
    assert "[bold]Title[/] <i>x</i> [/]" in out and "[bold]chat[/]" in out


def test_markup_in_a_coloured_table_is_not_interpreted(markup: Path) -> None:
    res = invoke("analyze", markup, "--fast", FORCE_COLOR="1")
    assert res.exit_code == 0, res.output
    out = flat(res.stdout)
    assert "[bold]FURIOUS[/bold]" in out and "[link=http://evil.example]click[/link]" in out
    assert "\x1b]8;" not in res.stdout  # no hyperlink escape


def test_markup_in_the_score_table_and_the_problem_report(markup: Path, tmp_path: Path) -> None:
    res = invoke("score", markup, "--fast")
    assert res.exit_code == 0, res.output
    assert "[bold]Title[/] <i>x</i> [/]" in res.stdout
    path = tmp_path / "speakers.csv"
    path.write_text(
        "conversation_id,speaker,text\nc1,customer,late again!!\nc2,[/],hi\nc3,[bold]x,hi\n",
        encoding="utf-8",
    )
    res = invoke("analyze", path, "--fast", "-f", "jsonl")  # used to crash on '[/]'
    assert res.exit_code == 0, res.output
    assert [r["id"] for r in jsonl_records(res.stdout)] == ["c1"]
    err = flat(res.stderr)
    assert "unknown speaker '[/]'" in err and "unknown speaker '[bold]x'" in err


ODD = (
    "😡😡 my order 🚚 is late!! مرحبا، طلبي متأخر \u200bzero\u200dwidth\u200f "
    "e\u0301\u0301 Z\u0336a\u0336l\u0336g\u0336o 👨\u200d👩\u200d👧 \ufeff I'm furious"
)
ODD_AGENT = "I'm sorry 🙏 I understand how frustrating that is. שלום \u202eevil\u202c"


@pytest.mark.parametrize("fmt", FORMATS)
def test_odd_unicode_survives_every_format(tmp_path: Path, fmt: str) -> None:
    source = [conversation("ü-1 🧾", ("customer", ODD), ("agent", ODD_AGENT))]
    path = write_jsonl(tmp_path / "odd.jsonl", source)
    res = invoke("analyze", path, "--fast", "-f", fmt)
    assert res.exit_code == 0, res.output
    if fmt == "table":
        out = res.stdout
        assert "مرحبا" in out and "שלום" in out and "😡" in out and "ü-1 🧾" in out
        return
    records = parsed(fmt, res.stdout)
    if fmt == "csv":
        check_csv_rows(records, source)
    else:
        assert [r["id"] for r in records] == ["ü-1 🧾"]
        assert check_findings(records, source) >= 2


def test_one_very_long_turn_is_cut_and_said_so(tmp_path: Path) -> None:
    text = "I am really angry about this late order. " * 3000  # 123,000 characters
    source = [conversation("long", ("customer", text), ("agent", "I'm sorry, I understand."))]
    path = write_jsonl(tmp_path / "long.jsonl", source)
    res = invoke("analyze", path, "--fast", "-f", "jsonl")
    assert res.exit_code == 0, res.output
    [record] = jsonl_records(res.stdout)
    assert len(record["turns"]) == 2
    ends = [f["span"][1] for f in record["turns"][0]["findings"]]
    assert ends and max(ends) <= MAX_TURN_CHARS
    check_findings([record], source)
    err = flat(res.stderr)
    assert f"cut to {MAX_TURN_CHARS}" in err and "long.jsonl:1" in err
    assert "skipped 0 bad row(s) and repaired 1" in err  # a cut turn is kept, not skipped
    table = invoke("analyze", path, "--fast")
    assert table.exit_code == 0 and "angry about this" in table.stdout


# -- the progress bar ---------------------------------------------------------------------


@pytest.fixture
def many(tmp_path: Path) -> Path:
    n = PROGRESS_AFTER + 50
    records = [
        conversation(
            f"m-{i}",
            ("customer", f"Order {i} is late again!!"),
            ("agent", "I'm sorry. I'll refund it today."),
        )
        for i in range(n)
    ]
    return write_jsonl(tmp_path / "many.jsonl", records)


@pytest.fixture
def terminal_stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """stderr behaves as a terminal, so the progress bar is shown."""
    monkeypatch.setattr(core, "err", Console(stderr=True, force_terminal=True, width=100))
    yield


@pytest.mark.parametrize("command", ["analyze", "score"])
def test_many_conversations_keep_jsonl_parseable(many: Path, command: str) -> None:
    res = invoke(command, many, "--fast", "-f", "jsonl")
    assert res.exit_code == 0, res.output
    assert len(jsonl_records(res.stdout)) == PROGRESS_AFTER + 50


@pytest.mark.parametrize("command", ["analyze", "score"])
@pytest.mark.usefixtures("terminal_stderr")
def test_the_progress_bar_stays_off_stdout(many: Path, command: str) -> None:
    # with the bar on, score's lines after the 200th used to go to stderr, wrapped
    res = invoke(command, many, "--fast", "-f", "jsonl")
    assert res.exit_code == 0, res.output
    records = jsonl_records(res.stdout)
    assert [r["id"] for r in records] == [f"m-{i}" for i in range(PROGRESS_AFTER + 50)]
    assert '"id": "m-' not in res.stderr


@pytest.mark.usefixtures("terminal_stderr")
def test_the_progress_bar_keeps_every_csv_row_and_table_on_stdout(many: Path) -> None:
    res = invoke("analyze", many, "--fast", "-f", "csv")
    assert res.exit_code == 0
    rows = parsed("csv", res.stdout)
    assert len({r["conversation_id"] for r in rows}) == PROGRESS_AFTER + 50
    res = invoke("analyze", many, "--fast")
    assert res.exit_code == 0
    assert res.stdout.count("tiers: lexical") == PROGRESS_AFTER + 50
    assert "tiers: lexical" not in res.stderr


# -- score ----------------------------------------------------------------------------------


def test_score_prints_a_scorecard_table_per_conversation(small: Path) -> None:
    res = invoke("score", small, "--fast")
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "s-1" in out and "s-2" in out and out.count("scorecards") == 2
    for name in BUILTIN_PLAYBOOKS:
        assert name in out
    assert "✓" in out and "✗" in out


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_score_as_json_lines_or_a_json_document(small: Path, fmt: str) -> None:
    res = invoke("score", small, "--fast", "-f", fmt, "-p", "F.jerk")
    assert res.exit_code == 0, res.output
    records = parsed(fmt, res.stdout)  # -f json used to write JSON lines, not a document
    assert [r["id"] for r in records] == ["s-1", "s-2"]
    for r in records:
        assert set(r) == {"id", "scorecards"} and list(r["scorecards"]) == ["F.jerk"]
        steps = r["scorecards"]["F.jerk"]["steps"]
        assert {s["status"] for s in steps} <= {"met", "missed", "not_applicable"}


def test_score_matches_analyze(small: Path) -> None:
    scored = jsonl_records(invoke("score", small, "--fast", "-f", "jsonl").stdout)
    analysed = jsonl_records(invoke("analyze", small, "--fast", "-f", "jsonl").stdout)
    assert [s["scorecards"] for s in scored] == [a["scorecards"] for a in analysed]


def test_score_with_a_playbook_file_and_bad_input(small: Path, tmp_path: Path) -> None:
    book = tmp_path / "team.yaml"
    book.write_text(TEAM_PLAYBOOK, encoding="utf-8")
    res = invoke("score", small, "--fast", "-f", "jsonl", "-p", book)
    assert res.exit_code == 0
    assert all(list(r["scorecards"]) == ["acme_returns"] for r in jsonl_records(res.stdout))
    assert invoke("score", small, "--fast", "-p", "F.nope").exit_code == 2
    assert invoke("score", tmp_path / "none.jsonl", "--fast").exit_code == 2
    res = invoke("score", small, "--fast", "-f", "csv")  # used to write JSON lines instead
    assert res.exit_code == 2 and "analyze --format csv" in res.stderr and res.stdout == ""
    bad = tmp_path / "turns.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    res = invoke("score", bad, "--fast", "-f", "jsonl")
    assert res.exit_code == 0 and [r["id"] for r in jsonl_records(res.stdout)] == ["c1", "c3"]
    assert "skipped 2 bad row(s)" in res.stderr


# -- catalog ----------------------------------------------------------------------------------


def catalog_entries() -> list[dict[str, Any]]:
    entries = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))["entries"]
    assert isinstance(entries, list)
    return entries


def test_catalog_table_lists_every_id() -> None:
    res = invoke("catalog")
    assert res.exit_code == 0
    entries = catalog_entries()
    missing = [e["id"] for e in entries if e["id"] not in res.stdout]
    assert missing == []
    assert f"({len(entries)} ids)" in res.stdout


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_catalog_as_json(fmt: str) -> None:
    res = invoke("catalog", "--format", fmt)
    assert res.exit_code == 0
    rows = parsed(fmt, res.stdout)  # -f jsonl used to write an indented JSON array
    by_id = {r["id"]: r for r in rows}
    entries = catalog_entries()
    assert list(by_id) == [e["id"] for e in entries]
    for e in entries:
        assert by_id[e["id"]]["kind"] == e["kind"] and by_id[e["id"]]["name"] == e["name"]
        assert set(by_id[e["id"]]) == {"id", "kind", "name", "description", "better"}


@pytest.mark.parametrize("kind", ["signal", "technique", "anti_pattern", "framework"])
def test_catalog_by_kind(kind: str) -> None:
    res = invoke("catalog", "--kind", kind, "-f", "json")
    assert res.exit_code == 0
    expected = [e["id"] for e in catalog_entries() if e["kind"] == kind]
    assert expected and [r["id"] for r in json.loads(res.stdout)] == expected
    table = invoke("catalog", "--kind", kind)
    assert all(i in table.stdout for i in expected)


def test_catalog_errors() -> None:
    res = invoke("catalog", "--kind", "feeling")
    assert res.exit_code == 2 and "feeling" in res.stderr
    res = invoke("catalog", "-f", "csv")  # used to print the table instead
    assert res.exit_code == 2 and res.stdout == ""


# -- demo -----------------------------------------------------------------------------------


def test_demo_reports_every_example() -> None:
    res = invoke("demo", "--fast")
    assert res.exit_code == 0, res.output
    out = flat(res.stdout)
    assert f"{len(EXAMPLES)} example conversations" in out and "tiers: lexical" in out
    for e in EXAMPLES:
        assert e["meta"]["title"] in out
    assert "T.acknowledge “" in out and "C.risk “" in out  # evidence quoted by id
    assert "one-star risk" in out and "scorecards" in out


def test_demo_highlights_the_evidence() -> None:
    res = invoke("demo", "--fast", "--example", "ex-01", FORCE_COLOR="1")
    assert res.exit_code == 0
    assert "\x1b[4" in res.stdout  # evidence spans are underlined
    assert "third time" in res.stdout


def test_report_names_only_the_emotions_expressed(tmp_path: Path) -> None:
    # "!!" gives a hint of frustration (0.3), below the line C.emotion counts; next to a
    # clear thank-you the report used to list it as if it were felt
    path = tmp_path / "thanks.txt"
    path.write_text("Customer: It's here!! It's safe \U0001f48d Thank you so much.\n", "utf-8")
    res = invoke("analyze", path, "--fast")
    assert res.exit_code == 0, res.output
    out = flat(res.stdout)
    assert "gratitude" in out and "frustration" not in out and "neutral" not in out
    # a turn with only hints is shown without emotions (it used to read "neutral, ...")
    path.write_text("Customer: ok. thank you Sam.\n", "utf-8")
    out = flat(invoke("analyze", path, "--fast").stdout)
    assert "neutral" not in out and "gratitude" not in out and "[energy 0]" in out


def test_demo_options() -> None:
    res = invoke("demo", "--fast", "--example", "ex-01")
    assert res.exit_code == 0 and "1 example conversations" in res.stdout
    assert EXAMPLES[0]["meta"]["title"] in res.stdout
    assert EXAMPLES[1]["meta"]["title"] not in res.stdout
    res = invoke("demo", "--fast", "--limit", "2")
    assert res.exit_code == 0 and "2 example conversations" in res.stdout
    res = invoke("demo", "--fast", "--example", "[no such]")
    assert res.exit_code == 2 and "no bundled example matches '[no such]'" in res.stderr


def test_demo_without_fast() -> None:
    res = invoke("demo", "--example", "ex-01")
    assert res.exit_code == 0, res.output
    assert EXAMPLES[0]["meta"]["title"] in res.stdout


# -- help and exit codes ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["analyze", "score", "catalog", "demo"])
def test_help_of_each_command(command: str) -> None:
    res = invoke(command, "--help")
    assert res.exit_code == 0
    assert f"heard {command}" in res.stdout and "--help" in res.stdout


def test_help_shows_extras_in_brackets() -> None:
    # Rich read '[models]' in 'heard[models]' as a markup tag and dropped it
    import heard.cli.commands_coach  # noqa: F401  (registers `heard coach`)

    res = invoke("coach", "--help")
    assert res.exit_code == 0 and "heard[models]" in res.stdout


def test_help_of_the_app_lists_the_core_commands() -> None:
    res = invoke("--help")
    assert res.exit_code == 0
    for command in ("analyze", "score", "catalog", "demo"):
        assert command in res.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["analyze"],  # a missing argument
        ["analyze", "x.jsonl", "--nope"],  # an unknown option
        ["analyze", "x.jsonl", "--format", "yaml"],  # a bad choice
        ["demo", "--limit", "many"],  # a bad number
        ["score"],
    ],
)
def test_bad_usage_exits_2(args: list[str]) -> None:
    assert invoke(*args).exit_code == 2


def test_a_failed_check_exits_1(tmp_path: Path) -> None:
    book = tmp_path / "bad.yaml"
    book.write_text("name: bad\nsteps:\n  - id: x\n    satisfied_by: [T.nope]\n", "utf-8")
    res = invoke("playbook", "check", book)
    assert res.exit_code == 1 and "bad.yaml" in res.output


def test_a_missing_model_exits_3(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(self: Pipeline, *args: object, **kwargs: object) -> Iterator[object]:
        raise ModelUnavailable("the emotion model is not installed")
        yield  # pragma: no cover - makes this a generator, as the real method is

    monkeypatch.setattr(Pipeline, "analyze_many", unavailable)
    for command in ("analyze", "score", "demo"):
        args = [command] if command == "demo" else [command, str(small)]
        res = invoke(*args, "--fast")
        assert res.exit_code == 3, (command, res.output)
        assert "E301" in res.stderr and "the emotion model is not installed" in res.stderr
        assert "Traceback" not in res.output


def test_success_exits_0(small: Path) -> None:
    for args in (["analyze", small, "--fast"], ["score", small, "--fast"], ["catalog"]):
        assert invoke(*args).exit_code == 0
