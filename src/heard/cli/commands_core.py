"""Core commands: analyze, score, catalog, demo.

Exit codes (all commands): 0 success; 1 a check failed (e.g. `playbook check` found
problems); 2 bad usage or unreadable input; 3 a required extra or model is missing.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from heard.catalog import catalog
from heard.cli.app import app, err, exits_on_error, fail
from heard.cli.report import render_analysis, scorecard_table
from heard.errors import InputError
from heard.model import Analysis, Conversation
from heard.pipeline import Pipeline

#: Show a progress bar once an input has more than this many conversations.
PROGRESS_AFTER = 200


class OutFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def _pipeline(fast: bool, playbooks: list[str] | None) -> Pipeline:
    with exits_on_error():
        pipe = Pipeline(fast=fast, playbooks=playbooks or None)
        _ = pipe.playbooks  # resolve now so a bad playbook fails before any work
    if not fast and "semantic" not in pipe.tiers:
        err.print("[dim]semantic tier not installed: running the lexical tier alone[/]")
    return pipe


def _conversations(
    inputs: list[Path], input_format: str | None, strict: bool, problems: list[str]
) -> Iterator[Conversation]:
    from heard.importers import read

    for path in inputs:
        if str(path) != "-" and not path.exists():
            raise fail(f"E001: {path}: no such file")
        try:
            result = read(path, format=input_format, strict=strict)
            yield from result.conversations()
        except InputError as exc:
            if strict:
                raise fail(str(exc)) from None
            raise fail(str(exc)) from None
        problems.extend(str(p) for p in result.problems)


def _analyses(pipe: Pipeline, conversations: Iterator[Conversation]) -> Iterator[Analysis]:
    # the models load on first use: one that fails then also gives an error line, exit 3
    with exits_on_error():
        yield from _analysed(pipe, conversations)


def _analysed(pipe: Pipeline, conversations: Iterator[Conversation]) -> Iterator[Analysis]:
    progress: Progress | None = None
    task = None
    try:
        for n, analysis in enumerate(pipe.analyze_many(conversations), 1):
            if n == PROGRESS_AFTER and err.is_terminal:
                progress = Progress(
                    SpinnerColumn(),
                    TextColumn("analysing"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("conversations"),
                    console=err,
                    transient=True,
                )
                progress.start()
                task = progress.add_task("analyse", total=None, completed=n - 1)
            yield analysis
            if progress is not None and task is not None:
                progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()


def _report_problems(problems: list[str], analysed: int) -> None:
    if problems:
        err.print(f"[yellow]skipped {len(problems)} bad row(s)[/] ({analysed} conversations read):")
        for p in problems[:20]:
            err.print(f"  {p}")
        if len(problems) > 20:
            err.print(f"  … and {len(problems) - 20} more (use --strict to stop at the first)")


CSV_FIELDS = [
    "conversation_id",
    "turn",
    "speaker",
    "id",
    "start",
    "end",
    "text",
    "confidence",
    "detector",
    "explanation",
]


@app.command()
def analyze(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Conversation files (JSONL, CSV, TWCS CSV, transcripts).", metavar="INPUT..."
        ),
    ],
    format: Annotated[
        OutFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutFormat.table,
    playbook: Annotated[
        list[str] | None,
        typer.Option(
            "--playbook",
            "-p",
            help="Built-in playbook (e.g. F.jerk) or YAML file; repeatable. Default: all.",
        ),
    ] = None,
    fast: Annotated[
        bool, typer.Option("--fast", help="Lexical tier only (no model), for bulk work.")
    ] = False,
    input_format: Annotated[
        str | None,
        typer.Option(
            "--input-format",
            help="Force the input format: jsonl, csv, twcs, transcript, transcript_csv.",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at the first bad row instead of skipping it.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Analyse conversations: emotions, energy, techniques, anti-patterns, scorecards, risk.

    Bad rows are skipped, counted and listed at the end (with file, line and field);
    --strict stops at the first one instead (exit 2).
    """
    pipe = _pipeline(fast, playbook)
    problems: list[str] = []
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    console = Console(file=out) if output else Console()
    n = 0
    try:
        convs = _conversations(inputs, input_format, strict, problems)
        if format is OutFormat.csv:
            writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
            writer.writeheader()
        collected: list[dict[str, object]] = []
        for analysis in _analyses(pipe, convs):
            n += 1
            if format is OutFormat.jsonl:
                out.write(json.dumps(analysis.out(), ensure_ascii=False) + "\n")
            elif format is OutFormat.json:
                collected.append(analysis.out())
            elif format is OutFormat.csv:
                for ta in analysis.turns:
                    for f in ta.findings:
                        writer.writerow(
                            {
                                "conversation_id": analysis.id,
                                "turn": ta.i,
                                "speaker": ta.speaker.value,
                                "id": f.id,
                                "start": f.span[0],
                                "end": f.span[1],
                                "text": f.text,
                                "confidence": round(f.confidence, 3),
                                "detector": f.detector,
                                "explanation": f.explanation,
                            }
                        )
            else:
                render_analysis(console, analysis)
        if format is OutFormat.json:
            out.write(json.dumps(collected, ensure_ascii=False, indent=2) + "\n")
    finally:
        if output:
            out.close()
    _report_problems(problems, n)
    if n == 0 and not problems:
        err.print("[yellow]no conversations found in the input[/]")


@app.command()
def score(
    inputs: Annotated[list[Path], typer.Argument(help="Conversation files.", metavar="INPUT...")],
    playbook: Annotated[
        list[str] | None,
        typer.Option(
            "--playbook", "-p", help="Playbook name or file; repeatable. Default: all built-ins."
        ),
    ] = None,
    fast: Annotated[bool, typer.Option("--fast", help="Lexical tier only.")] = False,
    format: Annotated[
        OutFormat, typer.Option("--format", "-f", help="table or jsonl.")
    ] = OutFormat.table,
    input_format: Annotated[
        str | None, typer.Option("--input-format", help="Force the input format.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first bad row.")] = False,
) -> None:
    """Score conversations against playbooks: each step met / missed / not applicable."""
    pipe = _pipeline(fast, playbook)
    problems: list[str] = []
    console = Console()
    n = 0
    for analysis in _analyses(pipe, _conversations(inputs, input_format, strict, problems)):
        n += 1
        if format is OutFormat.table:
            console.rule(str(analysis.conversation.meta.get("title") or analysis.id))
            console.print(scorecard_table(analysis.scorecards))
        else:
            line = {"id": analysis.id, "scorecards": analysis.out()["scorecards"]}
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    _report_problems(problems, n)


@app.command("catalog")
def catalog_cmd(
    kind: Annotated[
        str | None, typer.Option(help="Only one kind: signal, technique, anti_pattern, framework.")
    ] = None,
    format: Annotated[
        OutFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutFormat.table,
) -> None:
    """List every catalog id (METHOD.md) with its description."""
    entries = [e for e in catalog().values() if kind is None or e.kind == kind]
    if not entries:
        raise fail(f"no catalog entries of kind '{kind}'")
    if format in (OutFormat.json, OutFormat.jsonl):
        rows = [
            {
                "id": e.id,
                "kind": e.kind,
                "name": e.name,
                "description": e.description,
                "better": list(e.better),
            }
            for e in entries
        ]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"heard catalog ({len(entries)} ids)")
    table.add_column("id", style="bold")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("description")
    for e in entries:
        desc = e.description + (f" Better: {', '.join(e.better)}." if e.better else "")
        table.add_row(e.id, e.kind, e.name, desc)
    Console().print(table)


def example_path() -> Path:
    """The bundled example conversations (written for heard; Apache-2.0)."""
    return Path(str(resources.files("heard.examples").joinpath("conversations.jsonl")))


@app.command()
def demo(
    fast: Annotated[bool, typer.Option("--fast", help="Lexical tier only.")] = False,
    limit: Annotated[int, typer.Option(help="Show at most this many conversations (0 = all).")] = 0,
    example: Annotated[
        str | None, typer.Option(help="Show only the example with this id (or a part of it).")
    ] = None,
) -> None:
    """Analyse the bundled example conversations and print a readable report."""
    from heard.importers import read

    pipe = _pipeline(fast, None)
    console = Console()
    convs = list(read(example_path(), format="jsonl").conversations())
    if example:
        convs = [c for c in convs if example in c.id]
        if not convs:
            raise fail(f"no bundled example matches '{example}'")
    if limit:
        convs = convs[:limit]
    console.print(
        f"[bold]heard demo[/]: {len(convs)} example conversations · tiers: "
        f"{', '.join(pipe.tiers)}  ([green]technique[/] [red]anti-pattern[/] "
        f"[yellow]customer signal[/])"
    )
    for analysis in _analyses(pipe, iter(convs)):
        render_analysis(console, analysis)
