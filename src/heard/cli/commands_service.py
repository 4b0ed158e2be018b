"""Service commands: serve, import, reanalyze, users, commitments.

They open the database named by ``--db`` (a URL or a SQLite file path), else
``HEARD_DATABASE_URL``, else ``heard.db`` in the user data directory, creating or
upgrading its schema first. The server pieces (SQLAlchemy, FastAPI, uvicorn) are imported
only when one of these commands runs, so ``heard --help`` stays fast; without the
``server`` extra they exit with code 3 and say what to install.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from heard.cli.app import app, err, exits_on_error, fail
from heard.errors import HeardError, ModelUnavailable

if TYPE_CHECKING:
    from heard.service import Service
    from heard.settings import Settings

out = Console()

users_app = typer.Typer(help="API users and their keys.", no_args_is_help=True)
app.add_typer(users_app, name="users")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///file.db, postgresql+psycopg://...) or a SQLite file; "
        "default HEARD_DATABASE_URL, else heard.db in the user data dir.",
        show_default=False,
    ),
]
#: how many problems of one file are printed (all are counted)
SHOW_PROBLEMS = 20


def _settings(db: str | None, **overrides: Any) -> Settings:
    try:
        from heard.settings import Settings
    except ImportError as exc:  # pragma: no cover - pydantic-settings is a core dependency
        raise fail(f"{exc}; install heard[server]", 3) from None
    if db is not None:  # --db '' is an error, not "use the default database"
        overrides["database_url"] = db
    from pydantic import ValidationError

    try:
        return Settings(**overrides)
    except ValidationError as exc:  # one line per setting, not pydantic's report
        wrong = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise fail(f"E001: bad setting (--db or HEARD_* environment): {wrong}") from None
    except ValueError as exc:
        raise fail(str(exc)) from None


@contextmanager
def _service(settings: Settings) -> Iterator[Service]:
    """An open, migrated Service; heard errors become exit code 2 with their message."""
    try:
        from heard.service import Service
    except ImportError as exc:
        raise fail(
            f"the server extra is not installed ({exc.name}): pip install 'heard[server]'", 3
        ) from None
    from sqlalchemy.exc import SQLAlchemyError

    where = f"cannot open database {settings.safe_database_url()}"
    with exits_on_error():
        try:
            service = Service.open(settings)
        except OSError as exc:  # e.g. the SQLite file's folder is a file
            reason = f"{exc.strerror}: {exc.filename}" if exc.strerror else str(exc)
            raise fail(f"E420: {where}: {reason}") from None
        except SQLAlchemyError as exc:  # e.g. a file that is not a SQLite database
            cause = getattr(exc, "orig", None) or exc
            raise fail(f"E420: {where}: {cause}") from None
    try:
        with exits_on_error():  # a model that cannot load: exit 3, like the other commands
            yield service
    finally:
        service.close()


def is_loopback(host: str) -> bool:
    if host.lower() in {"localhost", "localhost.localdomain", "ip6-localhost"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _progress_to(progress: Progress, task: TaskID) -> Callable[[int], None]:
    def update(done: int) -> None:
        progress.update(task, completed=done)

    return update


def fresh_demo_database(data_dir: Path) -> Path:
    """The demo's SQLite file in the data dir, emptied: every --demo starts afresh (and
    a key printed by an earlier demo stops working with it).
    """
    path = data_dir / "demo" / "demo.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return path


def examples_path() -> Path:
    return Path(str(resources.files("heard.examples").joinpath("conversations.jsonl")))


# -- serve ---------------------------------------------------------------------------------
@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default HEARD_HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default HEARD_PORT or 8765).", min=0, max=65535)
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Load the bundled example conversations into a fresh demo database "
            "(demo/demo.db in the data dir) and print an admin key for it (loopback only).",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs).

    Binding beyond loopback needs auth configured: at least one admin key
    ('heard users add NAME --role admin').
    """
    try:
        import uvicorn

        from heard.api import create_app, prepare_to_serve
        from heard.service import BindRefused, Principal
        from heard.settings import sqlite_url
    except ImportError as exc:
        raise fail(
            f"the server extra is not installed ({exc.name}): pip install 'heard[server]'", 3
        ) from None
    settings = _settings(db)
    host = host or settings.host
    port = settings.port if port is None else port
    if demo:
        if not is_loopback(host):
            raise fail(f"--demo prints an admin key, so it serves on loopback only, not {host}")
        if db:
            raise fail("--demo makes its own fresh database; leave out --db")
        demo_db = fresh_demo_database(settings.data_dir)
        settings = settings.model_copy(update={"database_url": sqlite_url(demo_db)})
    with _service(settings) as service:
        if demo:
            report = service.import_file(Principal.system(), examples_path(), name="examples")
            _, key = service.add_user(Principal.system(), "demo-admin", "admin")
            url = f"http://{host}:{port}"
            banner = [
                f"[bold]heard demo[/]: {len(report.imported)} example conversations in "
                f"{escape(settings.safe_database_url())}",
                f"  API     {url}   (docs: {url}/docs)",
                f"  API key [bold green]{key}[/]   (admin; this demo database only)",
                f'  try     curl -H "Authorization: Bearer {key}" {url}/conversations',
            ]
            for line in banner:
                out.print(line, soft_wrap=True, highlight=False)
        elif not is_loopback(host) and not service.has_admin():
            refused = BindRefused(
                f"refusing to serve on {host}: no admin API key exists, so anyone who can "
                "reach this address could use the API",
                hint="create one first with 'heard users add NAME --role admin', or bind 127.0.0.1",
            )
            raise fail(str(refused))
        elif not service.has_admin():
            err.print(
                "[yellow]no API keys yet[/]: every request will get 401; create one with "
                "'heard users add NAME --role admin'"
            )
        api = create_app(settings, service=service)
        prepare_to_serve(service)  # detectors and models ready before the first request
        uvicorn.run(api, host=host, port=port, log_level="info")


# -- import ------------------------------------------------------------------------------
@app.command("import")
def import_cmd(
    files: Annotated[list[Path], typer.Argument(help="Files to import (JSONL, CSV, ...).")],
    db: DbOption = None,
    input_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "--input-format",  # the spelling of analyze/score, which error hints name
            help="Input format (default: detected per file).",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="Import nothing from a file with any problem.")
    ] = False,
) -> None:
    """Import conversations into the database: masked, analysed and stored.

    A conversation whose id is stored already is replaced. Each batch is one
    transaction, so an interrupted import keeps every batch it finished.
    """
    from heard.service import ImportRejected, Principal

    settings = _settings(db)
    failed = 0
    table = Table("file", "imported", "replaced", "skipped", "problems", title="import")
    with _service(settings) as service:
        for path in files:
            if not path.is_file():
                why = "is a directory, not a file" if path.is_dir() else "no such file"
                err.print(f"[bold red]error[/]: E001: {escape(str(path))}: {why}")
                failed += 1
                continue
            with Progress(
                SpinnerColumn(),
                TextColumn(f"{escape(path.name)}: {{task.completed}} conversations"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as progress:
                task = progress.add_task("import", total=None)
                try:
                    report = service.import_file(
                        Principal.system(),
                        path,
                        format=input_format,
                        strict=strict,
                        on_progress=_progress_to(progress, task),
                    )
                except ImportRejected as exc:
                    failed += 1
                    err.print(f"[bold red]error[/]: {escape(str(exc))}")
                    for problem in exc.problems[:SHOW_PROBLEMS]:
                        err.print(f"  {escape(str(problem))}")
                    continue
                except ModelUnavailable:
                    raise  # concerns every file: stop
                except HeardError as exc:
                    failed += 1
                    err.print(f"[bold red]error[/]: {escape(str(exc))}")
                    continue
            table.add_row(
                escape(str(path)),
                str(len(report.imported)),
                str(len(report.replaced)),
                str(report.skipped),
                str(len(report.problems)),
            )
            for p in report.problems[:SHOW_PROBLEMS]:
                line = f"line {p.line} " if p.line is not None else ""
                field = f"field '{escape(p.field)}' " if p.field else ""
                err.print(f"  [yellow]{p.code}[/] {escape(path.name)} {line}{field}: "
                          f"{escape(p.message)}")  # fmt: skip
            if len(report.problems) > SHOW_PROBLEMS:
                err.print(f"  ... and {len(report.problems) - SHOW_PROBLEMS} more problems")
    if table.row_count:
        out.print(table)
    if failed:
        raise typer.Exit(2)


# -- reanalyze ---------------------------------------------------------------------------
@app.command()
def reanalyze(
    db: DbOption = None,
    playbook: Annotated[
        list[str] | None,
        typer.Option(
            "--playbook",
            help="Score with this playbook (built-in, stored name or YAML file) instead of "
            "the usual set; repeat for several.",
        ),
    ] = None,
    fast: Annotated[bool, typer.Option("--fast", help="Lexical tier only.")] = False,
) -> None:
    """Run the pipeline again over every stored conversation.

    Use after upgrading heard (detectors) or changing playbooks. Each batch is written in
    one transaction; people's changes (commitments marked done) are kept.
    """
    from heard.service import Principal

    settings = _settings(db, **({"fast": True} if fast else {}))
    with _service(settings) as service:
        total = service.count_conversations()
        if total == 0:
            out.print("no stored conversations to re-analyse")
            return
        with Progress(
            TextColumn("re-analysing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
        ) as progress:
            task = progress.add_task("reanalyze", total=total)
            done = service.reanalyze(
                Principal.system(),
                playbooks=playbook or None,
                on_progress=_progress_to(progress, task),
            )
        invalid = [p for p in service.list_playbooks(Principal.system(), builtins=False)
                   if not p.valid]  # fmt: skip
    out.print(f"re-analysed {done} conversation{'s' if done != 1 else ''}")
    for p in invalid:
        err.print(f"[yellow]playbook '{escape(p.name)}' no longer validates[/]: "
                  f"{escape(p.problems[0])}")  # fmt: skip


# -- users -------------------------------------------------------------------------------
@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (unique).")],
    role: Annotated[str, typer.Option(help="agent, lead or admin.")],
    team: Annotated[str | None, typer.Option(help="Team (required for a lead).")] = None,
    agent_id: Annotated[
        str | None,
        typer.Option("--agent-id", help="The agent id in turns (required for an agent)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a user and print their API key (shown once; only a hash is stored)."""
    from heard.service import Principal

    if role not in ("agent", "lead", "admin"):
        raise fail(f"unknown role '{role}'; roles are agent, lead, admin")
    with _service(_settings(db)) as service:
        user, key = service.add_user(Principal.system(), name, role, team=team, agent_id=agent_id)
    err.print(f"created {user.role.value} '{escape(user.name)}'"
              + (f" (team {escape(user.team)})" if user.team else "")
              + ". The key is shown once, keep it safe:")  # fmt: skip
    out.print(key, highlight=False, soft_wrap=True)


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """List users (key prefixes only: keys are not stored)."""
    from heard.service import Principal

    with _service(_settings(db)) as service:
        users = service.list_users(Principal.system())
    table = Table("id", "name", "role", "team", "agent id", "key", "created", title="users")
    for u in users:
        table.add_row(str(u.id), escape(u.name), u.role.value, escape(u.team or ""),
                      escape(u.agent_id or ""), f"{u.key_prefix}…",
                      u.created_at.strftime("%Y-%m-%d %H:%M"))  # fmt: skip
    out.print(table)


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="User name.")], db: DbOption = None
) -> None:
    """Delete a user; their key stops working at once."""
    from heard.service import Principal

    with _service(_settings(db)) as service:
        service.delete_user(Principal.system(), name)
    out.print(f"removed '{escape(name)}'")


# -- commitments ---------------------------------------------------------------------------
@app.command("commitments")
def commitments_cmd(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue ones.")] = False,
    status: Annotated[
        str | None, typer.Option(help="open, done or overdue.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 100,
    db: DbOption = None,
) -> None:
    """List stored commitments: what was promised, by whom, by when."""
    from heard.service import CommitmentQuery, Principal

    if status not in (None, "open", "done", "overdue"):
        raise fail(f"unknown status '{status}'; use open, done or overdue")
    query = CommitmentQuery.model_validate(
        {"status": status, "overdue": True if overdue else None, "limit": limit}
    )
    with _service(_settings(db)) as service:
        page = service.list_commitments(Principal.system(), query)
    title = f"commitments ({page.total}{' overdue' if overdue else ''})"
    table = Table("id", "conversation", "turn", "what", "owner", "due", "status", title=title)
    colour = {"overdue": "bold red", "open": "yellow", "done": "green"}
    for c in page.items:
        due = c.due.strftime("%Y-%m-%d %H:%M") if c.due else (c.due_text or "—")
        table.add_row(str(c.id), escape(c.conversation_id), "" if c.turn is None else str(c.turn),
                      escape(c.what), escape(c.owner), escape(due),
                      f"[{colour[c.status]}]{c.status}[/]")  # fmt: skip
    out.print(table)
    if page.total > len(page.items):
        err.print(f"[dim]showing {len(page.items)} of {page.total}; use --limit[/]")
