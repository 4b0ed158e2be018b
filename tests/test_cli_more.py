"""A bad-input sweep of the CLI: service commands (import, reanalyze, commitments, users),
``heard eval``, ``heard empathy`` and the fast argument checks of ``heard train``.

What every command must do with bad input (README, "Command line"): exit 2 with a one-line
error naming the file, line or field (3 when an extra or a model is missing), never a
Python traceback, never a partial output file or half-written database rows, and print
user text verbatim (Rich markup in it neither crashes nor vanishes).

Every database and data dir lives in tmp_path; nothing trains or downloads anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from heard.cli import app

runner = CliRunner()

MARKUP = "[bold]boom[/] [/] [red]x"
ODD = "Zoë 😡 ‮rtl‬ ﬁ \u2028 tab\there"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Lexical tier; default database, data dir and cache inside tmp_path."""
    monkeypatch.setenv("HEARD_FAST", "1")
    monkeypatch.setenv("HEARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HEARD_DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}")
    monkeypatch.setenv("HEARD_CACHE_DIR", str(tmp_path / "cache"))
    yield


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def said(result: Any) -> str:
    """Everything printed, with Rich's wrapping undone."""
    return " ".join(result.output.split())


def squeezed(result: Any) -> str:
    """Everything printed without any whitespace (a long path may wrap mid-word)."""
    return "".join(result.output.split())


def clean(result: Any, code: int) -> None:
    """The exit code, and a handled error: no traceback, no uncaught exception."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


def conversation(cid: str, customer: str, agent: str, **turn: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "turns": [
            {"speaker": "customer", "text": customer, **turn},
            {"speaker": "agent", "text": agent, "agent_id": "a-1"},
        ],
    }


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


PROMISE = "I'm so sorry. I will email you the tracking number by tomorrow at 5pm."


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'heard.db'}"


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "sample.jsonl",
        [
            conversation("c-1", "This is the third time I've asked. Where is it?", PROMISE),
            conversation("c-2", "My card was charged twice.", "Thanks, I refunded it."),
        ],
    )


def stored(db: str) -> dict[str, int]:
    """Conversations and turns in the database (read through the service)."""
    from sqlalchemy import func, select

    from heard.service import Service
    from heard.settings import Settings
    from heard.storage.models import ConversationRow, TurnRow

    service = Service.open(Settings(database_url=db))
    try:
        with service.db.session() as session:
            conversations = session.scalar(select(func.count()).select_from(ConversationRow))
            turns = session.scalar(select(func.count()).select_from(TurnRow))
        return {"conversations": conversations or 0, "turns": turns or 0}
    finally:
        service.close()


# -- heard import ------------------------------------------------------------------------------


def test_import_a_missing_file_and_a_directory_name_the_path(
    tmp_path: Path, db: str, sample: Path
) -> None:
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    result = cli("import", str(tmp_path / "nope.jsonl"), str(folder), str(sample), "--db", db)
    clean(result, 2)  # the good file is imported, the run still fails
    text = said(result)
    assert "E001" in text and "nope.jsonl: no such file" in text
    assert "folder.jsonl: is a directory" in text
    assert stored(db) == {"conversations": 2, "turns": 4}


def test_import_an_empty_file_stores_nothing(tmp_path: Path, db: str) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = cli("import", str(empty), "--db", db)
    clean(result, 2)
    assert "empty.jsonl holds no conversations" in said(result)
    assert stored(db)["conversations"] == 0


def test_import_a_file_of_no_known_format(tmp_path: Path, db: str) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n")
    result = cli("import", str(odd), "--db", db)
    clean(result, 2)
    assert "E003" in said(result) and "odd.csv" in said(result)
    unknown = cli("import", str(odd), "--format", "weird", "--db", db)
    clean(unknown, 2)
    assert "unknown format 'weird'" in said(unknown)
    # the E003 hint names --input-format: import accepts it, as analyze does
    assert "--input-format" in said(result)
    forced = cli("import", str(odd), "--input-format", "csv", "--db", db)
    clean(forced, 2)
    assert "No such option" not in said(forced)
    assert stored(db)["conversations"] == 0


def test_import_rows_with_empty_cells_are_skipped_and_named(tmp_path: Path, db: str) -> None:
    rows = tmp_path / "turns.csv"
    rows.write_text(
        "conversation_id,speaker,text\n"
        "k-1,customer,Where is my parcel?\n"
        "k-1,agent,\n"
        "k-2,,Hello?\n"
        "k-3,customer,It arrived broken.\n"
        "k-3,agent,I'm sorry to hear that.\n",
        encoding="utf-8",
    )
    result = cli("import", str(rows), "--db", db)
    clean(result, 0)
    text = said(result)
    assert "turns.csv line 3" in text or "turns.csv line 4" in text
    assert stored(db)["conversations"] >= 1


def test_import_json_lines_without_turns_name_the_line(tmp_path: Path, db: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n[1, 2]\n{"id": "y", "turns": []}\n', encoding="utf-8")
    result = cli("import", str(bad), "--db", db)
    clean(result, 2)
    assert "line 1" in said(result) and "bad.jsonl" in said(result)
    assert stored(db)["conversations"] == 0


@pytest.mark.parametrize(
    "url",
    ["afile/x.db", "notdb.db", "folder", "foo://bar", "", " "],
    ids=["under-a-file", "not-a-database", "a-directory", "unknown-backend", "empty", "blank"],
)
def test_a_database_that_cannot_be_opened_is_one_error_line(
    tmp_path: Path, sample: Path, url: str
) -> None:
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "notdb.db").write_text("garbage, not SQLite")
    (tmp_path / "folder").mkdir()
    target = str(tmp_path / url) if url.strip() and "://" not in url else url
    for args in (
        ["import", str(sample)],
        ["commitments"],
        ["reanalyze"],
        ["users", "list"],
        ["users", "add", "ann", "--role", "admin"],
    ):
        result = cli(*args, "--db", target)
        clean(result, 2)
        errors = [line for line in result.output.splitlines() if line.startswith("error")]
        assert len(errors) == 1, result.output
        assert "E420" in errors[0] or "E001" in errors[0]
    assert (tmp_path / "notdb.db").read_text() == "garbage, not SQLite"  # left as it was
    assert not (tmp_path / "default.db").exists()  # --db '' never means the default


def test_a_second_import_replaces_and_says_so(
    tmp_path: Path, db: str, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a short name keeps the table on one line
    first = cli("import", sample.name, "--db", db)
    clean(first, 0)
    before = stored(db)
    again = cli("import", sample.name, "--db", db)
    clean(again, 0)
    row = next(line for line in again.output.splitlines() if "sample.jsonl" in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells == ["sample.jsonl", "2", "2", "0", "0"], again.output  # all replaced
    assert stored(db) == before == {"conversations": 2, "turns": 4}  # nothing doubled
    listed = cli("commitments", "--db", db)
    clean(listed, 0)
    assert said(listed).count("c-1") == 1  # the commitment is not duplicated either
    # a file with one conversation changed keeps the other one
    write_jsonl(sample, [conversation("c-2", "Charged twice, still.", "Refunded now.")])
    third = cli("import", str(sample), "--db", db)
    clean(third, 0)
    assert stored(db) == {"conversations": 2, "turns": 4}


def test_a_strict_import_of_a_bad_file_leaves_earlier_rows_alone(
    tmp_path: Path, db: str, sample: Path
) -> None:
    clean(cli("import", str(sample), "--db", db), 0)
    bad = write_jsonl(
        tmp_path / "mixed.jsonl",
        [conversation("c-1", "New text.", "New reply."), {"id": "z", "turns": "nope"}],
    )
    result = cli("import", str(bad), "--strict", "--db", db)
    clean(result, 2)
    assert "nothing imported" in said(result)
    assert stored(db) == {"conversations": 2, "turns": 4}


def test_markup_and_odd_unicode_are_printed_verbatim(
    tmp_path: Path, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a short name keeps the table cell whole
    path = write_jsonl(
        Path("[bold]odd[red].jsonl"),
        [conversation(MARKUP, f"{ODD} third time I've asked!", PROMISE.replace("the", MARKUP))],
    )
    result = cli("import", str(path), "--db", db)
    clean(result, 0)
    assert "[bold]odd[red].jsonl" in said(result)
    listed = cli("commitments", "--db", db)
    clean(listed, 0)
    assert "[bold]boom[/]" in listed.output  # the id column, as text
    again = cli("reanalyze", "--db", db)
    clean(again, 0)
    assert "re-analysed 1 conversation" in said(again)


def test_problem_lines_print_markup_in_values_verbatim(tmp_path: Path, db: str) -> None:
    rows = [
        conversation("ok", "Where is it?", "On its way."),
        {"id": "[bold]bad[/]", "turns": [{"speaker": "[red]robot[/]", "text": "Beep."}]},
    ]
    result = cli("import", str(write_jsonl(tmp_path / "p.jsonl", rows)), "--db", db)
    clean(result, 0)
    assert "[red]robot[/]" in said(result) or "[bold]bad[/]" in said(result)


# -- heard reanalyze / commitments ---------------------------------------------------------------


def test_reanalyze_an_empty_database_and_a_bad_playbook(
    tmp_path: Path, db: str, sample: Path
) -> None:
    empty = cli("reanalyze", "--db", db)
    clean(empty, 0)
    assert "no stored conversations" in said(empty)
    clean(cli("import", str(sample), "--db", db), 0)
    for spec in ("nope", str(tmp_path / "missing.yaml"), str(sample)):
        result = cli("reanalyze", "--db", db, "--playbook", spec)
        clean(result, 2)
        assert "E201" in said(result)
    assert stored(db) == {"conversations": 2, "turns": 4}
    assert "re-analysed 2 conversations" in said(cli("reanalyze", "--db", db))


def test_commitments_bad_options(db: str) -> None:
    for args in (["--limit", "0"], ["--limit", "x"], ["--status", MARKUP]):
        result = cli("commitments", *args, "--db", db)
        clean(result, 2)
    shown = cli("commitments", "--status", MARKUP, "--db", db)
    assert "[bold]boom[/]" in said(shown)  # the bad value is echoed as text


# -- heard users ---------------------------------------------------------------------------------


def test_users_add_edge_cases(db: str) -> None:
    for name in ("", " ", "x" * 300):
        result = cli("users", "add", name, "--role", "admin", "--db", db)
        clean(result, 2)
        assert "user name" in said(result)
    clean(cli("users", "add", "ann", "--role", "admin", "--db", db), 0)
    twice = cli("users", "add", "ann", "--role", "lead", "--team", "t", "--db", db)
    clean(twice, 2)
    assert "E409" in said(twice) and "'ann' exists" in said(twice)
    for args in (
        ["--role", "boss"],
        ["--role", "lead"],  # a lead needs a team
        ["--role", "agent"],  # an agent needs an agent id
    ):
        clean(cli("users", "add", "bob", *args, "--db", db), 2)
    listed = cli("users", "list", "--db", db)
    clean(listed, 0)
    assert "ann" in listed.output and "bob" not in listed.output
    assert listed.output.count("admin") == 1  # the duplicate did not overwrite ann


def test_users_remove_edge_cases(db: str) -> None:
    clean(cli("users", "add", "ann", "--role", "admin", "--db", db), 0)
    last = cli("users", "remove", "ann", "--db", db)
    clean(last, 2)
    assert "last admin" in said(last)
    clean(cli("users", "remove", "nobody", "--db", db), 2)
    clean(cli("users", "remove", "", "--db", db), 2)
    assert "ann" in cli("users", "list", "--db", db).output
    clean(cli("users", "add", "bea", "--role", "admin", "--db", db), 0)
    clean(cli("users", "remove", "ann", "--db", db), 0)
    gone = cli("users", "remove", "ann", "--db", db)
    clean(gone, 2)
    assert "no user 'ann'" in said(gone)


def test_user_names_with_markup_and_unicode_round_trip(db: str) -> None:
    name = "[bold]ann[/]"
    added = cli("users", "add", name, "--role", "lead", "--team", "Zoë 😡", "--db", db)
    clean(added, 0)
    assert name in said(added)
    listed = cli("users", "list", "--db", db)
    clean(listed, 0)
    assert name in listed.output and "Zoë" in listed.output
    removed = cli("users", "remove", name, "--db", db)
    clean(removed, 0)
    assert name in said(removed)


# -- heard eval labeled --------------------------------------------------------------------------


def labelled(path: Path) -> Path:
    return write_jsonl(
        path,
        [conversation("l-1", "This is the third time I've called!", PROMISE, labels=["C.risk"])],
    )


def test_eval_labeled_empty_unlabelled_and_wrong_format_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    bare = write_jsonl(tmp_path / "bare.jsonl", [conversation("u", "Hi.", "Hello.")])
    table = tmp_path / "turns.csv"
    table.write_text("conversation_id,speaker,text\nk,customer,Hi\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    out = tmp_path / "out.json"
    for path, why in (
        (empty, "no conversations"),
        (bare, "no labelled turns"),
        (table, "no conversations"),
        (folder, "no such file"),
        (tmp_path / "missing.jsonl", "no such file"),
    ):
        result = cli("eval", "labeled", str(path), "--fast", "--json", str(out))
        clean(result, 2)
        assert why in said(result) and path.name in said(result)
        assert not out.exists()  # no figures for a failed run
    assert "not valid JSON" in said(cli("eval", "labeled", str(table), "--fast"))


def test_eval_labeled_bad_label_cells_name_the_turn(tmp_path: Path) -> None:
    bad = write_jsonl(
        tmp_path / "bad.jsonl",
        [conversation("l-1", "Third time!", "Sorry.", labels="C.risk")],
    )
    result = cli("eval", "labeled", str(bad), "--fast")
    clean(result, 2)
    assert "conversation 'l-1' turn 0" in said(result) and "'labels'" in said(result)


def test_eval_labeled_unwritable_json_fails_before_work(tmp_path: Path) -> None:
    data = labelled(tmp_path / "lab.jsonl")
    (tmp_path / "afile").write_text("x")
    (tmp_path / "dir.json").mkdir()
    for target in (tmp_path / "afile" / "o.json", tmp_path / "dir.json"):
        result = cli("eval", "labeled", str(data), "--fast", "--json", str(target))
        clean(result, 2)
        assert "cannot write" in said(result) and "micro" not in said(result)
    assert (tmp_path / "afile").read_text() == "x"
    assert list((tmp_path / "dir.json").iterdir()) == []


def test_eval_labeled_markup_in_the_file_name(tmp_path: Path) -> None:
    data = labelled(tmp_path / "[bold]lab[dim].jsonl")
    out = tmp_path / "figures.json"
    result = cli("eval", "labeled", str(data), "--fast", "--json", str(out))
    clean(result, 0)
    assert "[bold]lab[dim].jsonl:1conversations" in squeezed(result)
    assert json.loads(out.read_text())["source"] == str(data)
    assert not list(tmp_path.glob("*.tmp*"))  # the temporary file went onto figures.json


# -- heard eval goemotions ---------------------------------------------------------------------


def test_eval_goemotions_bad_files(tmp_path: Path) -> None:
    cases = {
        "empty.tsv": ("", "no rows"),
        "blank.tsv": ("\n\n", "no rows"),
        "comma.csv": ("text,labels,id\nhello,27,x1\n", "expected 'text<TAB>labels<TAB>id'"),
        "header.tsv": ("text\tlabels\tid\nhello\t27\tx1\n", "labels must be integers"),
        "range.tsv": ("hello\t28\tx1\n", "label index out of range"),
        "cells.tsv": ("hello\t27\tx1\n\t\t\n", "cells.tsv:2: empty text"),
        "nolabel.tsv": ("hello\t\tx1\n", "nolabel.tsv:1: empty labels"),
    }
    out = tmp_path / "o.json"
    for name, (content, why) in cases.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
        result = cli("eval", "goemotions", str(tmp_path / name), "--fast", "--json", str(out))
        clean(result, 2)  # a row of empty cells too: every GoEmotions row has a text and labels
        assert why in said(result) and name in said(result), name
        assert not out.exists()
    folder = tmp_path / "split"
    folder.mkdir()
    clean(cli("eval", "goemotions", str(folder), "--fast"), 2)


def test_eval_goemotions_outputs_and_weights(tmp_path: Path) -> None:
    data = tmp_path / "[bold]dev[dim].tsv"
    data.write_text(
        f"thanks so much {ODD.replace(chr(9), ' ')}\t15\tx1\nthis is awful\t9,25\tx2\n",
        encoding="utf-8",
    )
    (tmp_path / "afile").write_text("x")
    blocked = cli("eval", "goemotions", str(data), "--fast", "--json", str(tmp_path / "afile/o"))
    clean(blocked, 2)
    assert "cannot write" in said(blocked)
    missing = cli("eval", "goemotions", str(data), "--fast", "--weights", str(tmp_path / "w"))
    clean(missing, 3)
    result = cli("eval", "goemotions", str(data), "--fast")
    clean(result, 0)
    assert "[bold]dev[dim].tsv:2texts" in squeezed(result)


# -- heard eval epitome / heard empathy ----------------------------------------------------------


def test_eval_epitome_without_a_model_exits_3(tmp_path: Path) -> None:
    from heard.semantic.empathy import EPITOME_COLUMNS, EPITOME_FILES

    for folder in (tmp_path / "missing", tmp_path):  # a bad folder is said first: exit 2
        result = cli("eval", "epitome", str(folder), "--model", str(tmp_path / "m.npz"))
        clean(result, 2)
        assert str(folder) in said(result)
    for name in EPITOME_FILES.values():
        row = {c: "1" if c == "level" else f"{c} text" for c in EPITOME_COLUMNS}
        (tmp_path / name).write_text(
            ",".join(EPITOME_COLUMNS) + "\n" + ",".join(row.values()) + "\n", encoding="utf-8"
        )
    result = cli("eval", "epitome", str(tmp_path), "--model", str(tmp_path / "m.npz"))
    clean(result, 3)
    assert "E301" in said(result) and "m.npz" in said(result)
    (tmp_path / "garbage.npz").write_text("not a model")
    bad = cli("eval", "epitome", str(tmp_path), "--model", str(tmp_path / "garbage.npz"))
    clean(bad, 3)
    (tmp_path / "afile").write_text("x")
    blocked = cli(
        "eval", "epitome", str(tmp_path), "--model", "m", "--json", str(tmp_path / "afile/o")
    )
    clean(blocked, 2)  # the unwritable output is found before the model is looked for


def test_empathy_input_is_checked_before_the_model(tmp_path: Path) -> None:
    model = str(tmp_path / "missing.npz")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    cases = {
        "empty.csv": ("", "no column 'seeker_post'"),
        "no_seeker.csv": ("response_post\nhi\n", "no column 'seeker_post'"),
        "no_response.csv": ("seeker_post\nhi\n", "no column 'response_post'"),
        "tabs.tsv": ("seeker_post\tresponse_post\na\tb\n", "no column 'seeker_post'"),
        "latin1.csv": (b"seeker_post,response_post\ncaf\xe9,ok\n", "not valid UTF-8"),
    }
    for name, (content, why) in cases.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        result = cli("empathy", str(path), "--model", model)
        clean(result, 2)
        assert why in said(result) and name in said(result), name
    for path, why in ((tmp_path / "nope.csv", "cannot read"), (folder, "cannot read")):
        result = cli("empathy", str(path), "--model", model)
        clean(result, 2)
        assert why in said(result)
    good = tmp_path / "[bold]pairs[red].csv"
    good.write_text('seeker_post,response_post\n"I lost my job",\n', encoding="utf-8")
    result = cli("empathy", str(good), "--model", model)
    clean(result, 3)  # rows with empty cells are rated level 0, but the model is missing
    assert "E301" in said(result) and result.stdout == ""


# -- heard train (only the checks that fail fast) ------------------------------------------------


def _needs_models() -> None:
    from heard.semantic.encoder import missing_requirements

    if missing_requirements():
        pytest.skip("the train commands check the models extra first")


def test_train_emotions_fast_checks(tmp_path: Path) -> None:
    _needs_models()
    (tmp_path / "afile").write_text("x")
    folder = tmp_path / "go"
    folder.mkdir()
    for data in (tmp_path / "missing", tmp_path / "afile", folder):
        result = cli("train", "emotions", "--goemotions", str(data), "--out", str(tmp_path / "o"))
        clean(result, 2)
        assert "train.tsv: no such file" in said(result)
    (folder / "train.tsv").write_text("hi\t1\tx\n")
    result = cli("train", "emotions", "--goemotions", str(folder), "--out", str(tmp_path / "o"))
    clean(result, 2)
    assert "dev.tsv: no such file" in said(result)
    (folder / "dev.tsv").write_text("hi\t1\tx\n")
    for out in (tmp_path / "afile", tmp_path / "afile" / "w"):
        blocked = cli("train", "emotions", "--goemotions", str(folder), "--out", str(out))
        clean(blocked, 2)
        assert "cannot write" in said(blocked)
    assert (tmp_path / "afile").read_text() == "x"


def test_train_techniques_fast_checks(tmp_path: Path) -> None:
    _needs_models()
    (tmp_path / "afile").write_text("x")
    result = cli("train", "techniques", "--data", str(tmp_path / "missing"))
    clean(result, 2)
    assert "train.jsonl: no such file" in said(result)
    data = tmp_path / "data"
    data.mkdir()
    for name in ("train.jsonl", "dev.jsonl", "test.jsonl"):
        (data / name).write_text("")
    blocked = cli("train", "techniques", "--data", str(data), "--out", str(tmp_path / "afile"))
    clean(blocked, 2)
    assert "cannot write" in said(blocked)


def test_train_empathy_fast_checks(tmp_path: Path) -> None:
    _needs_models()
    from heard.semantic.empathy import EPITOME_FILES

    (tmp_path / "afile").write_text("x")
    out = str(tmp_path / "m.npz")
    for folder, why in (
        (tmp_path / "missing", "not a folder"),
        (tmp_path / "afile", "not a folder"),
        (tmp_path, "emotional-reactions-reddit.csv: no such file"),
    ):
        result = cli("train", "empathy", "--epitome", str(folder), "--out", out)
        clean(result, 2)
        assert why in said(result)
        assert "non-commercial" in said(result)  # the licence notice comes first
    folder = tmp_path / "epitome"
    folder.mkdir()
    header = "sp_id,rp_id,seeker_post,response_post,level,rationales\n"
    for name in EPITOME_FILES.values():
        (folder / name).write_text(header.replace("seeker_post,", "") + "s1,r1,b,1,\n")
    result = cli("train", "empathy", "--epitome", str(folder), "--out", out)
    clean(result, 2)
    assert "no column" in said(result) and "seeker_post" in said(result)
    for name in EPITOME_FILES.values():
        (folder / name).write_text(header + "s1,r1,a,b,,\n")  # an empty level cell
    result = cli("train", "empathy", "--epitome", str(folder), "--out", out)
    clean(result, 2)
    assert "level must be 0, 1 or 2" in said(result) and ":2" in said(result)
    for target in (tmp_path / "afile" / "m.npz", folder):
        blocked = cli("train", "empathy", "--epitome", str(folder), "--out", str(target))
        clean(blocked, 2)
        assert "cannot write" in said(blocked)
    assert not (tmp_path / "m.npz").exists()
