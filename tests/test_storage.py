"""Storage: migrations, what an import writes, atomic replacement, batches, re-analysis.

Runs on SQLite and (marked postgres) on a real PostgreSQL server.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from heard.errors import NotFound
from heard.service import ImportRejected, Service
from heard.service.engine import AnalysisEngine
from heard.settings import Settings
from heard.storage import (
    AnalysisRow,
    Base,
    CommitmentRow,
    ConversationRow,
    Database,
    FindingRow,
    ScoreRow,
    StorageError,
    TurnRow,
    head_revision,
    repository,
)
from heard.storage.database import VERSION_TABLE, alembic_config
from service_fixtures import *  # noqa: F403  (the fixtures)
from service_fixtures import (
    CONVERSATIONS,
    SAMPLE,
    SYSTEM,
    TEAM_PLAYBOOK,
    Raising,
    add_detector,
    jsonl,
    make_settings,
)


def count(service: Service, table: type[Base], **where: object) -> int:
    with service.db.session() as s:
        stmt = select(func.count()).select_from(table)
        for column, value in where.items():
            stmt = stmt.where(getattr(table, column) == value)
        return s.scalar(stmt) or 0


def _fresh_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty (unmigrated) database of the same backend as `db_url`."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/fresh.db"
    server = request.getfixturevalue("pg_server")
    return str(server.fresh_database())


# -- migrations ------------------------------------------------------------------------------


def test_migrations_create_exactly_the_models(
    db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = Database(_fresh_url(db_url, tmp_path, request))
    assert db.revision() is None
    assert db.migrate() == head_revision()
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(ctx, Base.metadata) if VERSION_TABLE not in str(d)]
        tables = set(inspect(conn).get_table_names())
    db.dispose()
    assert diff == [], "models and migrations disagree; write a migration"
    assert {"conversations", "turns", "analyses", "findings", "scores", "commitments",
            "playbooks", "users", "settings", VERSION_TABLE} <= tables  # fmt: skip


def test_migrate_twice_is_a_no_op_and_downgrade_removes_everything(
    db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = Database(_fresh_url(db_url, tmp_path, request))
    db.migrate()
    db.migrate()
    with db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    with db.engine.connect() as conn:
        left = set(inspect(conn).get_table_names()) - {VERSION_TABLE}
    assert left == set()
    assert db.migrate() == head_revision()
    db.dispose()


def test_sqlite_gets_wal_and_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/sub/dir/heard.db")  # parent dirs are created
    db.migrate()
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


def test_a_plain_path_means_sqlite(tmp_path: Path) -> None:
    settings = Settings(database_url=str(tmp_path / "x.db"))
    assert settings.database_url == f"sqlite:///{tmp_path / 'x.db'}"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_unsupported_database_urls_are_refused(url: str) -> None:
    with pytest.raises(StorageError) as err:
        Database(url)
    assert err.value.code == "E420"


def test_an_unreachable_server_is_a_storage_error() -> None:
    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(StorageError) as err:
        db.migrate()
    assert "cannot open database" in err.value.message


def test_settings_never_touch_the_user_data_dir_until_a_database_opens(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "nowhere")
    assert settings.database_url.startswith("sqlite:///")
    assert not (tmp_path / "nowhere").exists()


# -- what an import writes ------------------------------------------------------------------


def test_import_writes_conversations_turns_analysis_findings_scores(loaded: Service) -> None:
    assert count(loaded, ConversationRow) == 4
    assert count(loaded, TurnRow) == sum(len(c["turns"]) for c in CONVERSATIONS)
    assert count(loaded, AnalysisRow) == 4
    with loaded.db.session() as s:
        row = s.get(ConversationRow, "n-1")
        assert row is not None
        assert row.turn_count == 3 and row.source == "sample.jsonl" and row.redaction == "redact"
        assert row.started_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        assert row.imported_at.tzinfo is not None
        analysis = s.get(AnalysisRow, "n-1")
        assert analysis is not None and analysis.risk_level in {"low", "medium", "high"}
        stored_ids = {f.catalog_id for f in s.scalars(select(FindingRow).where(
            FindingRow.conversation_id == "n-1"))}  # fmt: skip
        rebuilt = repository.analysis_from(
            analysis, repository.conversation_from(row, repository.load_turns(s, "n-1"))
        )
        scores = {r.playbook for r in s.scalars(select(ScoreRow).where(
            ScoreRow.conversation_id == "n-1"))}  # fmt: skip
    # the findings table is the analysis spread out, one row per finding
    assert stored_ids == rebuilt.ids() and "C.risk" in stored_ids
    assert scores == set(rebuilt.scorecards) and "F.jerk" in scores
    # the stored analysis rebuilds to the same stable form
    again = loaded.engine.analyze(rebuilt.conversation, loaded.engine.builtins())
    assert again.out()["turns"] == rebuilt.out()["turns"]


def test_turn_and_conversation_extras_survive_the_round_trip(service: Service) -> None:
    conv = {
        "id": "e-1",
        "meta": {"csat": 2},
        "source": "crm",
        "turns": [{"speaker": "customer", "text": "Broken again.", "labels": ["C.risk"]}],
    }
    service.import_bytes(SYSTEM, jsonl([conv]), name="e.jsonl")
    stored = service.get_conversation(SYSTEM, "e-1").conversation
    assert stored.meta == {"csat": 2}
    assert (stored.model_extra or {}).get("source") == "crm"
    assert (stored.turns[0].model_extra or {}).get("labels") == ["C.risk"]


def test_commitments_found_in_the_analysis_are_stored(loaded: Service) -> None:
    with loaded.db.session() as s:
        rows = s.scalars(select(CommitmentRow).where(CommitmentRow.conversation_id == "n-1")).all()
        analysis = s.get(AnalysisRow, "n-1")
        assert analysis is not None
        found = analysis.data["commitments"]
    assert [(r.turn, r.what, r.source) for r in rows] == [
        (c["turn"], c["what"], "extracted") for c in found
    ]


def test_reimport_replaces_atomically_and_keeps_done_commitments(loaded: Service) -> None:
    first = loaded.list_commitments(SYSTEM).items
    mine = [c for c in first if c.conversation_id == "n-1"]
    assert mine, "the sample's promise ('I will call you back by 5pm tomorrow') was not found"
    loaded.update_commitment(SYSTEM, mine[0].id, status="done")
    manual = loaded.add_commitment(SYSTEM, "n-1", what="send a voucher")
    changed = json.loads(json.dumps(CONVERSATIONS[0]))
    changed["turns"].append({"speaker": "agent", "text": "Anything else I can help with?",
                             "agent_id": "a-1"})  # fmt: skip
    report = loaded.import_bytes(SYSTEM, jsonl([changed]), name="again.jsonl")
    assert report.imported == ["n-1"] and report.replaced == ["n-1"]
    assert count(loaded, ConversationRow) == 4
    assert count(loaded, TurnRow, conversation_id="n-1") == 4
    assert count(loaded, AnalysisRow, conversation_id="n-1") == 1
    with loaded.db.session() as s:
        n_findings = s.scalar(select(func.count()).select_from(FindingRow).where(
            FindingRow.conversation_id == "n-1"))  # fmt: skip
        analysis = s.get(AnalysisRow, "n-1")
        assert analysis is not None
        assert n_findings == sum(len(t["findings"]) for t in analysis.data["turns"])
    after = {c.what: c for c in loaded.list_commitments(SYSTEM).items if c.conversation_id == "n-1"}
    assert after[mine[0].what].status == "done"  # a person's change survives re-import
    assert after[mine[0].what].id == mine[0].id  # and the commitment keeps its id
    assert after["send a voucher"].id == manual.id  # manual commitments are kept


def test_a_failing_batch_writes_nothing_and_earlier_batches_stay(
    db_url: str, tmp_path: Path, engine: AnalysisEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = Service.open(make_settings(db_url, tmp_path, import_batch_size=2), engine=engine)
    calls = {"n": 0}
    real = repository.save_analysis

    def flaky(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 4:  # the second conversation of the second batch
            raise RuntimeError("disk on fire")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(repository, "save_analysis", flaky)
    with pytest.raises(RuntimeError):
        svc.import_bytes(SYSTEM, SAMPLE, name="sample.jsonl")
    with svc.db.session() as s:
        ids = sorted(s.scalars(select(ConversationRow.id)))
        turns = s.scalar(select(func.count()).select_from(TurnRow))
        analyses = s.scalar(select(func.count()).select_from(AnalysisRow))
    svc.close()
    assert ids == ["n-1", "n-2"]  # batch 1 committed, batch 2 rolled back whole
    assert turns == 5 and analyses == 2


def test_strict_import_writes_nothing_when_any_line_is_bad(service: Service) -> None:
    data = SAMPLE + b'{"id": "bad", "turns": [{"speaker": "robot", "text": "beep"}]}\n'
    with pytest.raises(ImportRejected) as err:
        service.import_bytes(SYSTEM, data, name="mixed.jsonl", strict=True)
    assert count(service, ConversationRow) == 0
    assert any(p.line == 5 for p in err.value.problems)


def test_a_lenient_import_keeps_the_good_lines_and_reports_the_bad(service: Service) -> None:
    data = SAMPLE + b'{"id": "bad", "turns": [{"speaker": "robot", "text": "beep"}]}\n'
    report = service.import_bytes(SYSTEM, data, name="mixed.jsonl")
    assert len(report.imported) == 4 and report.skipped >= 1
    assert [p.line for p in report.problems] == [5]
    assert count(service, ConversationRow) == 4


def test_import_file_from_disk(service: Service, tmp_path: Path) -> None:
    path = tmp_path / "chats.jsonl"
    path.write_bytes(SAMPLE)
    seen: list[int] = []
    report = service.import_file(SYSTEM, path, on_progress=seen.append)
    assert report.source == "chats.jsonl" and len(report.imported) == 4
    assert seen and seen[-1] == 4


def test_delete_conversation_cascades(loaded: Service) -> None:
    loaded.delete_conversation(SYSTEM, "n-1")
    for table in (TurnRow, AnalysisRow, FindingRow, ScoreRow, CommitmentRow):
        assert count(loaded, table, conversation_id="n-1") == 0
    with pytest.raises(NotFound):
        loaded.get_conversation(SYSTEM, "n-1")


# -- re-analysis ---------------------------------------------------------------------------


def test_reanalyze_scores_new_playbooks_and_keeps_people_changes(loaded: Service) -> None:
    loaded.create_playbook(SYSTEM, TEAM_PLAYBOOK)
    assert count(loaded, ScoreRow, playbook="north_basics") == 0
    done_ids = [c.id for c in loaded.list_commitments(SYSTEM).items]
    for cid in done_ids:
        loaded.update_commitment(SYSTEM, cid, status="done")
    seen: list[int] = []
    assert loaded.reanalyze(SYSTEM, on_progress=seen.append) == 4
    assert seen[-1] == 4
    assert count(loaded, ScoreRow, playbook="north_basics") == 4
    assert all(c.status == "done" for c in loaded.list_commitments(SYSTEM).items)
    assert count(loaded, AnalysisRow) == 4


def test_reanalyze_with_a_chosen_playbook_scores_only_that(loaded: Service) -> None:
    loaded.reanalyze(SYSTEM, playbooks=["F.jerk"])
    with loaded.db.session() as s:
        playbooks = set(s.scalars(select(ScoreRow.playbook)))
    assert playbooks == {"F.jerk"}


def test_reanalyze_marks_playbooks_that_no_longer_validate(loaded: Service) -> None:
    loaded.create_playbook(SYSTEM, TEAM_PLAYBOOK)
    from heard.storage.models import PlaybookRow

    with loaded.db.session() as s:  # as if an upgrade dropped a catalog id it used
        row = s.scalars(select(PlaybookRow)).one()
        row.yaml = row.yaml.replace("T.apologize", "T.gone_now")
    loaded.reanalyze(SYSTEM)
    stored = loaded.get_playbook(SYSTEM, "north_basics")
    assert not stored.valid and "P003" in stored.problems[0]
    assert count(loaded, ScoreRow, playbook="north_basics") == 0  # invalid: not scored


def test_timestamps_come_back_timezone_aware(loaded: Service) -> None:
    conv = loaded.get_conversation(SYSTEM, "n-1").conversation
    assert conv.turns[0].ts == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    page = loaded.list_conversations(SYSTEM)
    assert all(item.imported_at.tzinfo is not None for item in page.items)


def test_settings_overrides_are_stored(service: Service) -> None:
    assert service.get_settings(SYSTEM).redaction == "redact"
    changed = service.update_settings(SYSTEM, {"redaction": "keep"})
    assert changed.redaction == "keep" and changed.changed == ["redaction"]
    assert service.update_settings(SYSTEM, {"redaction": None}).redaction == "redact"


def test_a_conversation_the_detectors_choke_on_is_reported_not_fatal(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fails on one conversation (a batch it is in fails too)
    add_detector(service, Raising(ValueError("regex exploded"), only="s-1"), monkeypatch)
    report = service.import_bytes(SYSTEM, SAMPLE, name="sample.jsonl")
    assert sorted(report.imported) == ["n-1", "n-2", "x-1"] and report.skipped == 1
    assert "could not be analysed" in report.problems[0].message
    assert count(service, ConversationRow, id="s-1") == 0


def test_a_model_that_cannot_load_stops_the_import_and_stores_nothing(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from heard.errors import ModelUnavailable

    # a semantic detector whose model cannot load (a bad setting, missing weights)
    add_detector(service, Raising(ModelUnavailable("the test model is not installed")), monkeypatch)
    with pytest.raises(ModelUnavailable, match="not installed"):
        service.import_bytes(SYSTEM, SAMPLE, name="sample.jsonl")
    assert count(service, ConversationRow) == 0  # not four "could not be analysed" lines


# -- the CLI over storage ------------------------------------------------------------------------


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from heard.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_import_commitments_reanalyze(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARD_FAST", "1")
    db = str(tmp_path / "cli.db")
    good = tmp_path / "sample.jsonl"
    good.write_bytes(SAMPLE + b'{"id": "b", "turns": [{"speaker": "robot", "text": "x"}]}\n')
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"{not json\n")
    result = _cli("import", str(good), str(bad), str(tmp_path / "missing.jsonl"), "--db", db)
    said = " ".join(result.output.split())
    assert result.exit_code == 2, result.output  # one file imported nothing, one is missing
    assert "sample.jsonl" in said and "line 5" in said and "E010" in said and "E001" in said
    listed = _cli("commitments", "--db", db)
    assert listed.exit_code == 0 and "n-1" in listed.output
    assert _cli("commitments", "--overdue", "--db", db).exit_code == 0
    assert _cli("commitments", "--status", "later", "--db", db).exit_code == 2
    again = _cli("reanalyze", "--db", db, "--playbook", "F.jerk")
    assert again.exit_code == 0 and "re-analysed 4 conversations" in again.output
    strict = _cli("import", str(good), "--strict", "--db", db)
    assert strict.exit_code == 2 and "strict" in strict.output


def test_an_id_twice_in_one_file_keeps_the_last(service: Service) -> None:
    first = {"id": "d-1", "turns": [{"speaker": "customer", "text": "First version."}]}
    second = {"id": "d-1", "turns": [{"speaker": "customer", "text": "Second version."},
                                     {"speaker": "agent", "text": "Noted."}]}  # fmt: skip
    report = service.import_bytes(SYSTEM, jsonl([first, second]), name="dup.jsonl")
    assert report.imported == ["d-1"] and report.replaced == []
    assert "more than once" in report.problems[0].message
    stored = service.get_conversation(SYSTEM, "d-1").conversation
    assert [t.text for t in stored.turns] == ["Second version.", "Noted."]
    assert count(service, TurnRow, conversation_id="d-1") == 2
