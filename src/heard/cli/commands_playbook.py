"""`heard playbook ...`: check, list and show playbooks (a thin layer over heard.scoring).

Exit codes: 0 success; 1 `check` found problems; 2 bad usage, an unknown playbook or an
unreadable file.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from heard.cli.app import app, err, fail
from heard.errors import PlaybookError
from heard.scoring.playbook import (
    BUILTIN_PLAYBOOKS,
    Playbook,
    as_mapping,
    builtin,
    resolve,
    schema_text,
)
from heard.scoring.validate import Problem, validate_file

playbook_app = typer.Typer(
    help="Check, list and show playbooks (rubrics, remedies, policies, escalation).",
    no_args_is_help=True,
)
app.add_typer(playbook_app, name="playbook")


class CheckFormat(StrEnum):
    text = "text"
    json = "json"


class ShowFormat(StrEnum):
    text = "text"
    json = "json"
    yaml = "yaml"


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


@playbook_app.command("check")
def check(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Playbook YAML files to validate.",
            metavar="FILE...",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    format: Annotated[
        CheckFormat,
        typer.Option("--format", "-f", help="text, or json (one object per problem)."),
    ] = CheckFormat.text,
) -> None:
    """Validate playbook files; print every numbered problem with its line.

    Exits 1 when any file has a problem, 0 (printing "ok") when all are valid.
    """
    results: list[tuple[Path, list[Problem]]] = [(f, validate_file(f)) for f in files]
    bad = sum(len(p) for _, p in results)
    if format is CheckFormat.json:
        rows = [p.out() for _, problems in results for p in problems]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        raise typer.Exit(1 if bad else 0)
    console = _console()
    for path, problems in results:
        name = escape(str(path))
        if not problems:
            try:
                pb = Playbook.from_file(path)
            except PlaybookError as exc:  # pragma: no cover - validate() should catch it all
                console.print(f"[red]error[/] in {name}: {escape(str(exc))}")
                bad += 1
                continue
            n = len(pb.steps)
            console.print(
                f"[green]ok[/] {name} ({escape(pb.key)}, {n} step{'s' if n != 1 else ''})"
            )
            continue
        n = len(problems)
        console.print(f"[red]{n} problem{'s' if n != 1 else ''}[/] in {name}")
        for p in problems:
            where = f"{name}:{p.line}" if p.line is not None else name
            console.print(f"  [bold]{p.code}[/] {where}: {escape(p.message)}")
    if bad:
        console.print(
            "[dim]known ids: 'heard catalog'; the format: docs/playbooks.md or "
            "'heard playbook schema'[/]"
        )
        raise typer.Exit(1)


@playbook_app.command("list")
def list_cmd() -> None:
    """List the built-in playbooks: the six seed frameworks and the example company."""
    table = Table(title="built-in playbooks", show_lines=False)
    table.add_column("name", style="bold")
    table.add_column("framework")
    table.add_column("steps", justify="right")
    table.add_column("description")
    for name in BUILTIN_PLAYBOOKS:
        pb = builtin(name)
        hidden = sum(1 for s in pb.steps if not s.observable)
        steps = f"{len(pb.steps)}" + (f" ({hidden} not observable)" if hidden else "")
        based = f" Extends {pb.based_on}." if pb.based_on else ""
        table.add_row(pb.name, pb.framework or "-", steps, pb.description + based)
    Console().print(table)


def _steps_table(pb: Playbook) -> Table:
    table = Table(title=f"steps of {pb.name}")
    table.add_column("id", style="bold", overflow="fold")
    table.add_column("name")
    table.add_column("satisfied by", style="green", overflow="fold")
    table.add_column("broken by", style="red", overflow="fold")
    table.add_column("weight", justify="right")
    table.add_column("applies when", overflow="fold")
    for s in pb.steps:
        if not s.observable:
            sat, brk = "[dim]not observable in text[/]", ""
        elif s.reply_within_seconds is not None:
            sat, brk = f"replies within {s.reply_within_seconds:g}s (timestamps)", ""
        else:
            sat = ", ".join(s.satisfied_by) or "-"
            if s.within_agent_turns is not None:
                sat += f" (within {s.within_agent_turns} agent replies)"
            brk = ", ".join(s.broken_by) or "-"
        when = s.applies_when if isinstance(s.applies_when, str) else ", ".join(s.applies_when)
        table.add_row(s.id, s.name, sat, brk, f"{s.weight:g}", when)
    return table


def _show_text(pb: Playbook) -> None:
    console = Console()
    title = f"[bold]{escape(pb.name)}[/] ({escape(pb.framework or 'team playbook')})"
    if pb.based_on:
        title += f", extends {escape(pb.based_on)}"
    console.print(title + f", version {escape(pb.version)}")
    if pb.description:
        console.print(escape(pb.description))
    console.print(_steps_table(pb))
    console.print(f"authority levels (lowest first): {escape(' < '.join(pb.authority_levels))}")
    if pb.remedies:
        table = Table(title="remedies")
        for col in ("id", "name", "who may grant", "limit"):
            table.add_column(col, overflow="fold")
        for r in pb.remedies:
            lim = r.limits
            parts = []
            if lim.max_amount is not None:
                parts.append(f"up to {lim.max_amount:g} {lim.currency or ''}".strip())
            if lim.per:
                parts.append(f"per {lim.per}")
            if lim.text:
                parts.append(lim.text)
            table.add_row(r.id, r.name, r.authority, ", ".join(parts) or "-")
        console.print(table)
    if pb.policies:
        table = Table(title="policies")
        for col in ("id", "rule", "reason", "benefit"):
            table.add_column(col, overflow="fold")
        for p in pb.policies:
            table.add_row(p.id, p.text, p.reason, p.benefit)
        console.print(table)
    if pb.escalation:
        table = Table(title="escalation")
        for col in ("from", "to", "how", "within"):
            table.add_column(col)
        for e in pb.escalation:
            within = f"{e.within_hours:g} h" if e.within_hours is not None else "-"
            table.add_row(e.from_level, e.to_level, e.how, within)
        console.print(table)


@playbook_app.command("show")
def show(
    name: Annotated[
        str, typer.Argument(help="A built-in (F.jerk, jerk, company) or a playbook YAML file.")
    ],
    format: Annotated[
        ShowFormat,
        typer.Option("--format", "-f", help="text, json or yaml (resolved, extends applied)."),
    ] = ShowFormat.text,
) -> None:
    """Show one playbook: its steps, remedies, policies and escalation paths."""
    try:
        pb = resolve(name)
    except PlaybookError as exc:
        exit_code = fail(str(exc))
        for p in exc.problems:
            err.print(f"  {escape(p)}")
        raise exit_code from None
    if format is ShowFormat.json:
        sys.stdout.write(json.dumps(as_mapping(pb), ensure_ascii=False, indent=2) + "\n")
    elif format is ShowFormat.yaml:
        sys.stdout.write(yaml.safe_dump(as_mapping(pb), sort_keys=False, allow_unicode=True))
    else:
        _show_text(pb)


@playbook_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of a playbook file (for editors and CI)."""
    sys.stdout.write(schema_text())
