"""PostgreSQL specifics, on a real server started by the `pg_server` fixture.

The storage, API, auth and privacy tests already run against PostgreSQL too (their
``[postgres]`` variants); these cover what only a server shows: concurrent migrations
and imports, timezones, the driver, and the CLI and app factory pointed at a URL.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

import service_fixtures
from heard.api import create_app
from heard.cli import app as cli
from heard.service import Principal, Service
from heard.service.engine import AnalysisEngine
from heard.settings import Settings
from heard.storage import Database, head_revision
from service_fixtures import *  # noqa: F403  (the fixtures)
from service_fixtures import SAMPLE, SYSTEM, PgServer, auth, jsonl, make_settings

postgres = pytest.mark.postgres


def test_no_binaries_skips_with_a_clear_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_fixtures, "pg_bindir", lambda: None)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL server binaries not found"):
        service_fixtures._start_pg()


@postgres
def test_the_server_is_real_and_runs_as_a_non_root_user(pg_server: PgServer) -> None:
    db = Database(pg_server.url("postgres"))
    with db.engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar()
        user = conn.execute(text("SELECT current_user")).scalar()
        socket_dir = conn.execute(text("SHOW unix_socket_directories")).scalar()
    db.dispose()
    assert version and int(str(version).split(".")[0]) >= 12
    assert user == "heard" and str(pg_server.root) in str(socket_dir)
    assert db.url.drivername == "postgresql+psycopg"
    assert (pg_server.run_as == "postgres") == (__import__("os").geteuid() == 0)


@postgres
def test_a_plain_postgresql_url_uses_psycopg(pg_server: PgServer) -> None:
    url = pg_server.url("postgres").replace("postgresql+psycopg://", "postgresql://")
    db = Database(url)
    assert db.url.drivername == "postgresql+psycopg" and db.ping()
    db.dispose()


@postgres
def test_concurrent_migrations_wait_for_each_other(pg_server: PgServer) -> None:
    url = pg_server.fresh_database()
    results: list[str] = []
    errors: list[BaseException] = []

    def migrate() -> None:
        db = Database(url)
        try:
            results.append(db.migrate())
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and results == [head_revision()] * 3


@postgres
def test_concurrent_imports_from_threads(
    pg_server: PgServer, tmp_path: Path, engine: AnalysisEngine
) -> None:
    svc = Service.open(make_settings(pg_server.emptied(), tmp_path), engine=engine)
    errors: list[BaseException] = []

    def load(k: int) -> None:
        batch = [
            {"id": f"t{k}-{i}", "turns": [
                {"speaker": "customer", "text": f"Order {k}.{i} is late again!"},
                {"speaker": "agent", "text": "I'm sorry, I will check it now.", "agent_id": "a-1"},
            ]}
            for i in range(5)
        ]  # fmt: skip
        try:
            svc.import_bytes(SYSTEM, jsonl(batch), name=f"t{k}.jsonl")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    total = svc.count_conversations()
    svc.close()
    assert errors == [] and total == 20


@postgres
def test_timestamps_keep_their_instant(
    pg_server: PgServer, tmp_path: Path, engine: AnalysisEngine
) -> None:
    svc = Service.open(make_settings(pg_server.emptied(), tmp_path), engine=engine)
    conv = {"id": "tz", "turns": [
        {"speaker": "customer", "text": "Hello?", "ts": "2026-03-02T11:00:00+02:00"}]}  # fmt: skip
    svc.import_bytes(SYSTEM, jsonl([conv]), name="tz.jsonl")
    ts = svc.get_conversation(SYSTEM, "tz").conversation.turns[0].ts
    svc.close()
    assert ts == datetime(2026, 3, 2, 9, 0, tzinfo=UTC) and ts.tzinfo is not None


@postgres
def test_create_app_opens_and_migrates_the_database_itself(
    pg_server: PgServer, tmp_path: Path
) -> None:
    url = pg_server.fresh_database()
    settings = Settings(database_url=url, fast=True, data_dir=tmp_path)
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/health").json()["database"] == "postgresql"
        service: Service = app.state.service
        _, key = service.add_user(Principal.system(), "root", "admin")
        r = client.post("/conversations/import", headers=auth(key),
                        files={"file": ("s.jsonl", SAMPLE)})  # fmt: skip
        assert r.status_code == 200 and len(r.json()["imported"]) == 4
        assert (
            client.get("/settings", headers=auth(key))
            .json()["database"]
            .startswith("postgresql+psycopg://heard@127.0.0.1")
        )


@postgres
def test_the_cli_against_a_postgresql_url(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARD_FAST", "1")
    url = pg_server.fresh_database()
    path = tmp_path / "sample.jsonl"
    path.write_bytes(SAMPLE)
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(cli, [*args, "--db", url])
        assert result.exit_code == 0, result.output
        return result

    assert "4" in run("import", str(path)).output
    listed = run("commitments").output
    assert "n-1" in listed
    added = run("users", "add", "ann", "--role", "agent", "--agent-id", "a-1")
    assert "heard_" in added.output
    assert "ann" in run("users", "list").output
    assert "re-analysed 4 conversations" in run("reanalyze").output
