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
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text

from heard.catalog import catalog
from heard.cli.app import app, err, exits_on_error, fail
from heard.cli.report import render_analysis, scorecard_table
from heard.errors import InputError
from heard.model import Analysis, Conversation
from heard.pipeline import Pipeline

if TYPE_CHECKING:
    from heard.importers import ImportResult

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
    inputs: list[Path], input_format: str | None, strict: bool, tally: _Tally
) -> Iterator[Conversation]:
    """The conversations of every input. Each input is opened (and its format detected)
    now, so a missing or unreadable one fails before any output; with ``strict`` every
    row is also checked now, so a bad row stops the command before any output."""
    from heard.importers import read

    results: list[ImportResult] = []
    for path in inputs:
        if str(path) != "-" and not path.exists():
            raise fail(f"E001: {path}: no such file")
        try:
            results.append(read(path, format=input_format, strict=strict))
        except InputError as exc:
            raise fail(str(exc)) from None
    if strict:
        for result in results:
            try:
                for _ in result.conversations():
                    pass
            except InputError as exc:
                raise fail(str(exc)) from None
    return _read(results, tally)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return str(b) != "-" and a.exists() and a.samefile(b)
    except OSError:
        return False


def _read(results: list[ImportResult], tally: _Tally) -> Iterator[Conversation]:
    for result in results:
        try:
            yield from result.conversations()
        except InputError as exc:
            raise fail(str(exc)) from None
        tally.add(result)


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
                    # results written to a pipe or file must stay there, not be routed
                    # through the bar's console onto stderr
                    redirect_stdout=sys.stdout.isatty(),
                )
                progress.start()
                task = progress.add_task("analyse", total=None, completed=n - 1)
            yield analysis
            if progress is not None and task is not None:
                progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()


class _Tally:
    """The problems of every input read, for the report at the end."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.count = 0
        self.skipped = 0

    def add(self, result: ImportResult) -> None:
        self.problems.extend(str(p) for p in result.problems)
        self.count += result.problem_count
        self.skipped += result.skipped


def _report_problems(tally: _Tally, analysed: int) -> None:
    """List the problems on stderr; exit 2 when rows were skipped and none could be read
    (a script must not take a file of bad rows for an empty one)."""
    # problems quote the input (a speaker cell, a field name): print them as text, never
    # as markup, so '[/]' in a file cannot crash the report
    if tally.count:
        repaired = tally.count - tally.skipped  # read after a repair (a cut text, a bad ts)
        also = f" and repaired {repaired}" if repaired else ""
        err.print(
            f"[yellow]skipped {tally.skipped} bad row(s){also}[/] ({analysed} conversations read):"
        )
        for p in tally.problems[:20]:
            err.print(f"  {p}", markup=False, highlight=False, soft_wrap=True)
        if tally.count > 20:
            err.print(f"  … and {tally.count - 20} more (use --strict to stop at the first)")
    if analysed == 0 and tally.skipped:
        raise fail("no conversation could be read: every row was bad (listed above)")


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
    --strict checks every row first and stops at the first bad one instead (exit 2,
    nothing written).
    """
    pipe = _pipeline(fast, playbook)
    tally = _Tally()
    convs = _conversations(inputs, input_format, strict, tally)
    if output is not None and any(_same_file(output, p) for p in inputs):
        raise fail(f"{output} is also an input: writing it would erase the conversations")
    try:
        out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror or exc}") from None
    console = Console(file=out) if output else Console()
    n = 0
    try:
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
    _report_problems(tally, n)
    if n == 0 and not tally.count:
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
        OutFormat, typer.Option("--format", "-f", help="table, json or jsonl.")
    ] = OutFormat.table,
    input_format: Annotated[
        str | None, typer.Option("--input-format", help="Force the input format.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first bad row.")] = False,
) -> None:
    """Score conversations against playbooks: each step met / missed / not applicable."""
    if format is OutFormat.csv:
        raise fail("score writes table, json or jsonl; for CSV use 'heard analyze --format csv'")
    pipe = _pipeline(fast, playbook)
    tally = _Tally()
    console = Console()
    n = 0
    collected: list[dict[str, object]] = []
    for analysis in _analyses(pipe, _conversations(inputs, input_format, strict, tally)):
        n += 1
        if format is OutFormat.table:
            # the title comes from the input: a Text, so it is never read as markup
            console.rule(Text(str(analysis.conversation.meta.get("title") or analysis.id)))
            console.print(scorecard_table(analysis.scorecards))
            continue
        line = {"id": analysis.id, "scorecards": analysis.out()["scorecards"]}
        if format is OutFormat.json:
            collected.append(line)
        else:
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    if format is OutFormat.json:
        sys.stdout.write(json.dumps(collected, ensure_ascii=False, indent=2) + "\n")
    _report_problems(tally, n)


@app.command("catalog")
def catalog_cmd(
    kind: Annotated[
        str | None, typer.Option(help="Only one kind: signal, technique, anti_pattern, framework.")
    ] = None,
    format: Annotated[
        OutFormat, typer.Option("--format", "-f", help="table, json or jsonl.")
    ] = OutFormat.table,
) -> None:
    """List every catalog id (METHOD.md) with its description."""
    if format is OutFormat.csv:
        raise fail("catalog writes table, json or jsonl")
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
        if format is OutFormat.jsonl:
            sys.stdout.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        else:
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
