"""`heard coach`: the live coach in the terminal.

Interactive: type (or pipe) ``customer: ...``, ``agent: ...`` and ``draft: ...`` lines.
After each customer line the coach prints the customer's state, cues and suggested
replies; a draft line gets its anti-patterns flagged with rewrites; an agent line joins the
conversation (and any promise in it is listed). ``:reset`` starts a new conversation,
``:quit`` (or end of input) stops.

Non-interactive: ``--input FILE [--id ID] [--upto N] [--draft TEXT]`` coaches the next
reply after the first N turns of a conversation file (any format `heard.load` reads).

Exit codes: 0 success; 2 bad usage or unreadable input (bad lines in piped input are
reported and counted); 3 the semantic tier was asked for and is not installed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from heard.cli.app import app, err, exits_on_error, fail
from heard.model import Conversation, Speaker, Turn

_PREFIXES = {
    "customer": Speaker.customer,
    "c": Speaker.customer,
    "agent": Speaker.agent,
    "a": Speaker.agent,
    "system": Speaker.system,
}


class CoachFormat(StrEnum):
    table = "table"
    json = "json"


# -- rendering ----------------------------------------------------------------------------


def _energy_line(response: object) -> Text:
    from heard.coach import CoachResponse

    assert isinstance(response, CoachResponse)
    c = response.customer
    line = Text("customer  ", style="bold")
    trend = " → ".join("?" if e is None else str(e) for e in c.energy_trend)
    line.append(f"energy {c.energy if c.energy is not None else '?'}/3", style="bold yellow")
    # a trend needs two readings; one reading is just the energy already shown
    known = [e for e in c.energy_trend if e is not None]
    line.append(f" ({c.trend}: {trend})  " if c.trend != "unknown" and len(known) > 1 else "  ")
    feelings = sorted(c.emotions.items(), key=lambda kv: -kv[1])[:3]
    if feelings:
        line.append(", ".join(f"{k} {v:.2f}" for k, v in feelings) + "  ")
    style = {"high": "bold red", "medium": "yellow"}.get(c.risk.level, "green")
    line.append(f"one-star risk {c.risk.one_star:.2f} ({c.risk.level})", style=style)
    return line


def render(console: Console, response: object, *, show_state: bool = True) -> None:
    """The coach's answer as a readable block (state, cues, suggestions, draft flags)."""
    from heard.coach import CoachResponse

    assert isinstance(response, CoachResponse)
    c = response.customer
    if show_state:
        console.print(_energy_line(response))
        if c.stated_demand:
            asks = "; ".join(f"“{e.text}”" for e in c.stated_demand)
            console.print(f"  [bold]asks for[/]: {escape(asks)}")
        if c.possible_real_problem != "unknown":  # the coach does not guess; nor do we
            console.print(f"  [bold]maybe really about[/]: {escape(c.possible_real_problem)}")
        if c.open_questions:
            qs = "; ".join(f"“{e.text}”" for e in c.open_questions)
            console.print(f"  [bold]unanswered[/]: {escape(qs)}")
        if response.cues:
            table = Table(show_header=False, box=None, padding=(0, 1), expand=False)
            table.add_column(justify="right", style="bold cyan")
            table.add_column()
            for k, cue in enumerate(response.cues, 1):
                where = cue.serves + (f" · {cue.step}" if cue.step else "")
                body = Text(cue.say, style="bold")
                body.append(f"  [{where}]", style="dim")
                body.append(f"\n{cue.why}", style="italic")
                table.add_row(f"cue {k}", body)
            console.print(table)
        if response.suggestions:
            table = Table(show_header=False, box=None, padding=(0, 1))
            table.add_column(justify="right", style="bold green")
            table.add_column()
            for k, s in enumerate(response.suggestions, 1):
                body = Text(s.text)
                tag = ", ".join(s.techniques) + (" · llm" if s.source == "llm" else "")
                body.append(f"  [{tag}]", style="dim")
                table.add_row(f"say {k}", body)
            console.print(table)
    if response.draft is not None:
        if not response.draft_flags:
            console.print("[bold green]draft[/]: no anti-pattern found")
        for f in response.draft_flags:
            line = Text("draft  ", style="bold red")
            line.append(f"{f.id} ", style="bold red")
            line.append(f"“{f.text}”", style="underline")
            line.append(f"  {f.explanation}", style="dim")
            console.print(line)
            console.print(f"   [bold]instead[/]: {escape(f.advice)}")
            if f.rewrite:
                console.print(f"   [bold]try[/]: {escape(f.rewrite)}")
    for note in response.notes:
        console.print(f"[dim]{escape(note)}[/]")


def _emit(console: Console, response: object, fmt: CoachFormat, *, show_state: bool) -> None:
    from heard.coach import CoachResponse

    assert isinstance(response, CoachResponse)
    if fmt is CoachFormat.json:
        sys.stdout.write(json.dumps(response.model_dump(mode="json"), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    else:
        render(console, response, show_state=show_state)


# -- the command --------------------------------------------------------------------------


def _pick(conversations: list[Conversation], wanted: str | None, source: str) -> Conversation:
    if not conversations:
        raise fail(f"E001: {source}: no conversations found")
    if wanted is None:
        if len(conversations) == 1:
            return conversations[0]
        ids = ", ".join(c.id for c in conversations[:8])
        more = "" if len(conversations) <= 8 else f" … ({len(conversations)} in all)"
        raise fail(
            f"{source} holds {len(conversations)} conversations; pick one with --id ({ids}{more})"
        )
    exact = [c for c in conversations if c.id == wanted]
    found = exact or [c for c in conversations if wanted in c.id]
    if len(found) != 1:
        what = "no conversation" if not found else f"{len(found)} conversations"
        raise fail(f"{what} in {source} match --id '{wanted}'")
    return found[0]


def _lines(stream: TextIO, interactive: bool, console: Console) -> Iterator[tuple[int, str]]:
    n = 0
    while True:
        if interactive:
            try:
                line = console.input("[bold]> [/]")
            except EOFError:
                return
        else:
            raw = stream.readline()
            if not raw:
                return
            line = raw.rstrip("\n")
        n += 1
        yield n, line


@app.command("coach")
def coach_cmd(
    input: Annotated[
        Path | None,
        typer.Option("--input", "-i", help="A conversation file (non-interactive form)."),
    ] = None,
    id: Annotated[
        str | None,
        typer.Option("--id", help="Which conversation of --input (its id, or part of it)."),
    ] = None,
    upto: Annotated[
        int | None,
        typer.Option("--upto", "-n", help="Coach after the first N turns (default: all)."),
    ] = None,
    draft: Annotated[
        str | None, typer.Option("--draft", "-d", help="The agent's draft reply to check.")
    ] = None,
    format: Annotated[
        CoachFormat, typer.Option("--format", "-f", help="table, or json (one object per answer).")
    ] = CoachFormat.table,
    playbook: Annotated[
        str | None,
        typer.Option(
            "--playbook", "-p", help="Playbook name or file (default: the example company)."
        ),
    ] = None,
    authority: Annotated[
        str, typer.Option("--authority", "-a", help="The agent's authority level.")
    ] = "agent",
    semantic: Annotated[
        bool, typer.Option("--semantic", help="Use the semantic tier too (needs heard\\[models]).")
    ] = False,
    llm: Annotated[
        str | None,
        typer.Option(
            "--llm",
            help="An OpenAI-compatible endpoint to phrase replies (default: HEARD_LLM_URL).",
        ),
    ] = None,
) -> None:
    """Live coaching: customer state, cues, suggested replies and draft flags with rewrites.

    Type or pipe lines like 'customer: where is my order?', 'agent: ...', 'draft: ...';
    or coach a conversation file with --input FILE --upto N [--draft TEXT].
    """
    from heard.coach import Coach
    from heard.pipeline import Pipeline

    with exits_on_error():
        pipe = Pipeline(fast=not semantic, playbooks=[])
    if semantic and "semantic" not in pipe.tiers:
        err.print("[dim]semantic tier not installed: running the lexical tier alone[/]")
    coach = Coach(pipe)
    with exits_on_error():
        coach.playbook(playbook)[1].rank(authority)
    console = Console()

    def ask(conversation: Conversation, text: str | None, *, show_state: bool = True) -> None:
        with exits_on_error():  # the semantic models load on first use: exit 3 if they fail
            response = coach.coach(
                conversation, draft=text, playbook=playbook, authority=authority, llm=llm
            )
        _emit(console, response, format, show_state=show_state)

    if input is not None:
        import heard

        if str(input) != "-" and not input.exists():
            raise fail(f"E001: {input}: no such file")
        with exits_on_error():
            convs = list(heard.load(input))
        conv = _pick(convs, id, str(input))
        n = len(conv.turns) if upto is None else upto
        if not 1 <= n <= len(conv.turns):
            raise fail(f"--upto must be between 1 and {len(conv.turns)} for {conv.id}")
        ask(conv.model_copy(update={"turns": conv.turns[:n]}), draft)
        return
    if upto is not None or id is not None:
        raise fail("--upto and --id need --input FILE")

    interactive = sys.stdin.isatty()
    if interactive and format is CoachFormat.table:
        console.print(
            "[dim]heard coach: type 'customer: …', 'agent: …' or 'draft: …' lines; "
            "':reset' starts over, ':quit' stops.[/]"
        )
    turns: list[Turn] = []
    bad = 0
    for lineno, raw in _lines(sys.stdin, interactive, console):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line in (":quit", ":q", ":exit"):
            break
        if line == ":reset":
            turns = []
            if format is CoachFormat.table:
                console.rule("new conversation")
            continue
        who, sep, text = line.partition(":")
        key = who.strip().lower()
        text = text.strip()
        if not sep or (key not in _PREFIXES and key != "draft") or not text:
            bad += 1
            err.print(
                f"[bold red]error[/]: line {lineno}: expected 'customer: …', 'agent: …', "
                f"'system: …' or 'draft: …', got {escape(line[:60])!r}"
            )
            continue
        if key == "draft":
            if not turns:
                bad += 1
                err.print(f"[bold red]error[/]: line {lineno}: a draft needs a conversation first")
                continue
            ask(Conversation(id="coach", channel="chat", turns=list(turns)), text, show_state=False)
            continue
        speaker = _PREFIXES[key]
        turns.append(Turn(speaker=speaker, text=text))
        conv = Conversation(id="coach", channel="chat", turns=list(turns))
        if speaker is Speaker.customer:
            ask(conv, draft)
        elif speaker is Speaker.agent:
            made = [c for c in coach.analysis(conv).commitments if c.turn == len(turns) - 1]
            for c in made:
                if format is CoachFormat.json:
                    sys.stdout.write(json.dumps({"commitment": c.model_dump(mode="json")}) + "\n")
                else:
                    extra = f" ({c.explanation})" if c.kind == "vague" else ""
                    console.print(
                        f"[bold magenta]promise[/] [{c.kind}] {escape(c.what)} · owner "
                        f"{escape(c.owner)} · due {c.due_text or '—'}{escape(extra)}"
                    )
    if bad and not interactive:
        err.print(f"[yellow]{bad} line(s) could not be read[/]")
        raise typer.Exit(2)
