"""Fixtures for the service, storage, API, auth and privacy tests.

Every storage-backed test runs twice: on a SQLite file in a temporary directory, and on
a real PostgreSQL server (`pg_server`) that this module starts from the OS package's
binaries (initdb + pg_ctl on a free loopback port, socket in its temporary directory, as
the ``postgres`` user when running as root) and stops at the end of the session. Those
runs are marked ``postgres`` and skip, saying why, when no PostgreSQL binaries exist.

A test module imports them all (pytest finds fixtures by name in the module) and the
helpers it uses by name::

    from service_fixtures import *  # noqa: F403  (the fixtures)
    from service_fixtures import SYSTEM, Keys, auth
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from heard.api import create_app
from heard.model import Speaker
from heard.service import AnalysisEngine, Principal, Service
from heard.settings import Settings
from heard.storage import Base, Database

SYSTEM = Principal.system()
#: the PostgreSQL database the tests share (migrated once, emptied before each test)
SHARED_DB = "heard_test"

# -- sample data --------------------------------------------------------------------------
#: Small conversations written for these tests. Visibility by design:
#: n-1 agent a-1 (a north user); n-2 filed under team north, agent a-3 (no user);
#: s-1 agent a-2 (a south user); x-1 no team, no agent id.
CONVERSATIONS: list[dict[str, Any]] = [
    {
        "id": "n-1",
        "channel": "chat",
        "meta": {"customer": "Jane Doe"},
        "turns": [
            {
                "speaker": "customer",
                "text": "This is the third time I've contacted you about order "
                "4111-2094-5512. Email me at jane.doe@example.com or call +44 20 7946 0958!",
                "ts": "2026-03-02T09:00:00Z",
            },
            {
                "speaker": "agent",
                "text": "Hi Jane, I'm so sorry you've had to chase us three times. I will "
                "call you back by 5pm tomorrow with the courier's answer.",
                "ts": "2026-03-02T09:01:00Z",
                "agent_id": "a-1",
            },
            {"speaker": "customer", "text": "Thanks, that helps.", "ts": "2026-03-02T09:02:00Z"},
        ],
    },
    {
        "id": "n-2",
        "channel": "email",
        "meta": {"team": "north"},
        "turns": [
            {
                "speaker": "customer",
                "text": "Where is my parcel? It was due last week.",
                "ts": "2026-02-20T14:00:00Z",
            },
            {
                "speaker": "agent",
                "text": "I understand how frustrating that is. What tracking number did you get?",
                "ts": "2026-02-20T14:05:00Z",
                "agent_id": "a-3",
            },
        ],
    },
    {
        "id": "s-1",
        "channel": "chat",
        "meta": {},
        "turns": [
            {
                "speaker": "customer",
                "text": "My refund NEVER arrived and I am furious. Two weeks!!! I want a manager.",
                "ts": "2026-03-05T10:00:00Z",
            },
            {
                "speaker": "agent",
                "text": "It's our policy to wait 14 days. There's nothing I can do.",
                "ts": "2026-03-05T10:02:00Z",
                "agent_id": "a-2",
            },
        ],
    },
    {
        "id": "x-1",
        "channel": "web",
        "meta": {},
        "turns": [
            {"speaker": "customer", "text": "<script>alert('x')</script> your site is broken"},
            {"speaker": "agent", "text": "Sorry about that, <b>we</b> are on it."},
        ],
    },
]


def jsonl(conversations: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(c) + "\n" for c in conversations).encode("utf-8")


SAMPLE = jsonl(CONVERSATIONS)

#: A small valid team playbook (a rubric of two steps).
TEAM_PLAYBOOK = """\
name: north_basics
description: The north team's two habits.
steps:
  - id: sorry
    name: Say sorry
    satisfied_by: [T.apologize]
    applies_when: always
  - id: no_bare_policy
    name: No bare policy
    broken_by: [X.bare_policy]
    applies_when: always
"""

#: The same with two mistakes the validator numbers (unknown id, bad weight).
BAD_PLAYBOOK = """\
name: broken_one
steps:
  - id: sorry
    name: Say sorry
    satisfied_by: [T.apologise]
    weight: -1
"""

# -- PostgreSQL -----------------------------------------------------------------------------


def pg_bindir() -> Path | None:
    """Where the PostgreSQL server binaries are (newest version), if installed."""
    given = os.environ.get("HEARD_PG_BINDIR")
    if given and (Path(given) / "initdb").exists():
        return Path(given)
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.parent.name.split(".")],
    )
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class PgServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1:port, user `heard`, trust auth."""

    bindir: Path
    root: Path
    port: int
    run_as: str | None
    user: str = "heard"
    _names: Iterator[int] = field(default_factory=itertools.count)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def cmd(self, *args: str) -> list[str]:
        prefix = ["runuser", "-u", self.run_as, "--"] if self.run_as else []
        return [*prefix, *args]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.cmd(*args), capture_output=True, text=True, timeout=timeout, check=False
        )

    def sql(self, statement: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname=database, autocommit=True
        ) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def fresh_database(self) -> str:
        """A new, empty database (not migrated)."""
        name = f"t{next(self._names)}"
        self.sql(f"CREATE DATABASE {name}")
        return self.url(name)

    def emptied(self, database: str = SHARED_DB) -> str:
        """The shared migrated database with every table emptied (faster than a new one)."""
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        self.sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE", database)
        return self.url(database)

    def log_tail(self) -> str:
        log = self.root / "server.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


def _start_pg() -> PgServer:
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries not found (no initdb in /usr/lib/postgresql/*/bin or "
            "on PATH; apt-get install postgresql, or set HEARD_PG_BINDIR)"
        )
    run_as: str | None = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run initdb as")
        run_as = "postgres"
    root = Path(tempfile.mkdtemp(prefix="heard-pg-"))
    if run_as:
        shutil.chown(root, user=run_as)
    server = PgServer(bindir=bindir, root=root, port=free_port(), run_as=run_as)
    init = server.run(
        str(bindir / "initdb"), "-D", str(server.data), "-U", server.user, "-A", "trust",
        "-E", "UTF8", "--locale=C", "--no-sync",
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"initdb failed: {init.stderr or init.stdout}")
    options = (
        f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off"
    )
    start = server.run(
        str(bindir / "pg_ctl"), "-D", str(server.data), "-l", str(root / "server.log"),
        "-o", options, "-w", "-t", "90", "start",
    )  # fmt: skip
    if start.returncode != 0:
        tail = server.log_tail()
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"pg_ctl start failed: {start.stderr or start.stdout}\n{tail}")
    return server


def _stop_pg(server: PgServer) -> None:
    # immediate: no shutdown checkpoint, the cluster is thrown away anyway
    pg_ctl = str(server.bindir / "pg_ctl")
    server.run(pg_ctl, "-D", str(server.data), "-m", "immediate", "-w", "stop")
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server for the session, with a migrated database to share."""
    server = _start_pg()
    try:
        server.sql(f"CREATE DATABASE {SHARED_DB}")
        shared = Database(server.url(SHARED_DB))
        shared.migrate()
        shared.dispose()
        yield server
    finally:
        _stop_pg(server)


# -- databases, services, clients ---------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; tests copy it rather than migrating each time."""
    path = tmp_path_factory.mktemp("template") / "heard.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a SQLite file, then the PostgreSQL test database."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "heard.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.emptied()


@pytest.fixture(scope="session")
def engine() -> AnalysisEngine:
    """One fast (lexical) engine for the session: detectors compile once."""
    return AnalysisEngine(fast=True)


def make_settings(db_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        database_url=db_url,
        fast=True,
        data_dir=tmp_path / "data",
        **overrides,
    )


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path)


@pytest.fixture
def service(settings: Settings, engine: AnalysisEngine) -> Iterator[Service]:
    svc = Service.open(settings, engine=engine)
    try:
        yield svc
    finally:
        svc.close()


@dataclass(frozen=True)
class Keys:
    admin: str
    lead_north: str
    lead_south: str
    agent_1: str
    agent_2: str


@pytest.fixture
def keys(service: Service) -> Keys:
    """Users: an admin, a lead per team, agent a-1 (north) and agent a-2 (south)."""
    add = service.add_user
    return Keys(
        admin=add(SYSTEM, "root", "admin")[1],
        lead_north=add(SYSTEM, "nora", "lead", team="north")[1],
        lead_south=add(SYSTEM, "sam", "lead", team="south")[1],
        agent_1=add(SYSTEM, "ann", "agent", team="north", agent_id="a-1")[1],
        agent_2=add(SYSTEM, "bob", "agent", team="south", agent_id="a-2")[1],
    )


@pytest.fixture
def loaded(service: Service, keys: Keys) -> Service:
    """The service with the sample conversations imported by the admin."""
    report = service.import_bytes(SYSTEM, SAMPLE, name="sample.jsonl")
    assert sorted(report.imported) == ["n-1", "n-2", "s-1", "x-1"], report
    return service


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service=service)) as c:
        yield c


#: The request size limit of `small_client`.
SMALL_UPLOADS = 2000


@pytest.fixture
def small_client(
    db_url: str, tmp_path: Path, engine: AnalysisEngine, keys: Keys
) -> Iterator[TestClient]:
    """A client of a service that refuses requests over SMALL_UPLOADS bytes."""
    svc = Service.open(
        make_settings(db_url, tmp_path, max_upload_bytes=SMALL_UPLOADS), engine=engine
    )
    with TestClient(create_app(service=svc)) as c:
        yield c
    svc.close()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@contextlib.contextmanager
def env(**values: str) -> Iterator[None]:
    """Set environment variables for a block."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Raising:
    """A detector that raises `exc` on every conversation (or only on the one with id
    `only`), to test how imports and the API survive a failing pipeline."""

    name, version = "test.raising", 1
    speakers = frozenset({Speaker.customer, Speaker.agent})
    requires: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()

    def __init__(self, exc: Exception, only: str | None = None) -> None:
        self.exc, self.only = exc, only

    def detect(self, doc: Any) -> None:
        if self.only is None or doc.conversation.id == self.only:
            raise self.exc


def add_detector(service: Service, detector: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Append `detector` to the service's pipeline for one test."""
    pipeline = service.engine.pipeline
    monkeypatch.setattr(pipeline, "detectors", [*pipeline.detectors, detector])


__all__ = [
    "BAD_PLAYBOOK",
    "CONVERSATIONS",
    "SAMPLE",
    "SYSTEM",
    "TEAM_PLAYBOOK",
    "Keys",
    "PgServer",
    "Raising",
    "add_detector",
    "auth",
    "client",
    "db_url",
    "engine",
    "env",
    "jsonl",
    "keys",
    "loaded",
    "make_settings",
    "pg_bindir",
    "pg_server",
    "service",
    "settings",
    "small_client",
    "sqlite_template",
]
