"""Readable terminal reports of analyses: turns with their evidence highlighted."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from heard.catalog import catalog
from heard.detectors.customer import EXPRESSED
from heard.model import Analysis, Finding, Scorecard

_KIND_STYLE = {"signal": "bold yellow", "technique": "bold green", "anti_pattern": "bold red"}
_STATUS_STYLE = {
    "met": "green",
    "missed": "red",
    "not_applicable": "dim",
    "not_observable": "dim italic",
}


def _style(id: str) -> str:
    entry = catalog().get(id)
    return _KIND_STYLE.get(entry.kind if entry else "", "bold")


def highlighted(text: str, findings: list[Finding]) -> Text:
    """The turn's text with each finding's span underlined in its kind's colour."""
    out = Text(text)
    for f in findings:
        s, e = f.span
        if 0 <= s < e <= len(text):
            out.stylize(_style(f.id).replace("bold ", "underline "), s, e)
    return out


def render_analysis(console: Console, analysis: Analysis, *, scorecards: bool = True) -> None:
    conv = analysis.conversation
    title = str(conv.meta.get("title") or conv.id)
    lines: list[Text | Table] = []
    for turn, ta in zip(conv.turns, analysis.turns, strict=True):
        who = ta.speaker.value
        head = Text(f"{ta.i:>2} {who:<8} ", style="bold cyan" if who == "agent" else "bold")
        body = highlighted(turn.text, ta.findings)
        line = Text.assemble(head, body)
        lines.append(line)
        extras: list[str] = []
        if ta.energy is not None:
            extras.append(f"energy {ta.energy}")
        # the emotions expressed (as C.emotion counts them); a hint below that line next
        # to a clear feeling ("gratitude, frustration" for "It's here!! Thank you") misleads
        emotions = [
            k
            for k, v in sorted(ta.emotions.items(), key=lambda kv: -kv[1])
            if v >= EXPRESSED and k != "neutral"
        ]
        if emotions:
            extras.append(", ".join(emotions))
        tags = Text("            ")
        for f in ta.findings:
            tags.append(f"{f.id}", style=_style(f.id))
            tags.append(f" “{_short(f.text)}”  ", style="dim")
        if extras:
            tags.append("[" + "; ".join(extras) + "]", style="magenta")
        if ta.findings or extras:
            lines.append(tags)
    if analysis.risk is not None:
        r = analysis.risk
        style = {"low": "green", "medium": "yellow", "high": "bold red"}[r.level]
        risk = Text.assemble(("one-star risk ", "bold"), (f"{r.one_star:.2f} {r.level}", style))
        for reason in r.reasons:
            risk.append(f"\n  • {reason}")
        lines.append(risk)
    if analysis.commitments:
        ct = Text("commitments", style="bold")
        for c in analysis.commitments:
            due = c.due.isoformat() if c.due else "no due time"
            ct.append(f"\n  • turn {c.turn} [{c.kind}] {c.what} (owner {c.owner}, {due})")
        lines.append(ct)
    if scorecards and analysis.scorecards:
        lines.append(scorecard_table(analysis.scorecards))
    subtitle = f"{conv.channel} · {len(conv.turns)} turns · tiers: {', '.join(analysis.tiers)}"
    # title and channel come from the input: Text, so '[/]' in them is shown, not parsed
    console.print(
        Panel(Group(*lines), title=Text(title), subtitle=Text(subtitle), title_align="left")
    )


def scorecard_table(scorecards: dict[str, Scorecard]) -> Table:
    table = Table(title="scorecards", show_lines=False, expand=False)
    table.add_column("playbook")
    table.add_column("score", justify="right")
    table.add_column("steps")
    for name, sc in scorecards.items():
        steps = Text()
        for s in sc.steps:
            steps.append(f"{s.name} ", style=_STATUS_STYLE.get(s.status, ""))
            steps.append({"met": "✓", "missed": "✗"}.get(s.status, "–") + "  ")
        score = "n/a" if sc.score is None else f"{sc.score:.2f}"
        table.add_row(name, score, steps)
    return table


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
