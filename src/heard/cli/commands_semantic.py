"""Semantic-tier commands: ``heard emotions`` and ``heard train emotions``.

Thin wrappers over :mod:`heard.semantic.emotions` and :mod:`heard.semantic.train_emotions`.
Exit codes as everywhere in heard: 2 bad input (the message names the line or column),
3 the ``models`` extra or the weights are missing.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from heard.cli.app import (
    app,
    check_out_dir,
    err,
    exits_on_error,
    fail,
    note,
    require_models,
    train_app,
)
from heard.errors import InputError

#: Show a progress bar on stderr once an input has more than this many texts.
EMOTIONS_PROGRESS_AFTER = 500


class EmotionTaxonomy(StrEnum):
    service = "service"
    goemotions = "goemotions"
    ekman = "ekman"
    sentiment = "sentiment"


class EmotionFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    table = "table"


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{source}:{line}: not valid UTF-8 ({exc.reason})") from None


def read_texts(path: Path, column: str | None = None) -> list[str]:
    """One text per line of a text file (``-`` is stdin), or one per row of a CSV column.

    Lines are split on ``\\n`` only (a U+2028 inside a text stays in that text), so the
    output lines up with the input line for line.
    """
    source = "<stdin>" if str(path) == "-" else str(path)
    if str(path) == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{source}: cannot read ({exc.strerror or exc})") from None
    text = _decode(data, source)
    if column is None:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the newline that ends the last line
        return [line.removesuffix("\r") for line in lines]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or column not in reader.fieldnames:
        known = ", ".join(reader.fieldnames or []) or "none"
        raise InputError(f"{source}: no column '{column}' (columns: {known})")
    texts = []
    for row in reader:
        value = row.get(column)
        if value is None:
            raise InputError(f"{source}:{reader.line_num}: row has no value for '{column}'")
        texts.append(value)
    return texts


@app.command("emotions")
def emotions_command(
    input: Annotated[
        Path, typer.Argument(help="Text file, one text per line ('-' for stdin), or a CSV.")
    ],
    taxonomy: Annotated[
        EmotionTaxonomy, typer.Option(help="Label set to report.")
    ] = EmotionTaxonomy.service,
    format: Annotated[EmotionFormat, typer.Option("--format", help="Output format.")] = (
        EmotionFormat.jsonl
    ),
    column: Annotated[
        str | None, typer.Option(help="Read this column of a CSV file instead of lines.")
    ] = None,
    fast: Annotated[
        bool, typer.Option("--fast", help="TF-IDF tier only: no torch, much faster.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Texts per model batch.")] = 64,
) -> None:
    """Emotions of each text, one result per input line, in input order.

    JSONL lines are {"labels": [...], "scores": {label: probability}}; an empty input
    line gives {"labels": [], "scores": {}}.
    """
    from heard.semantic.emotions import EmotionModel, taxonomy_maps

    with exits_on_error():
        texts = read_texts(input, column)
        model = EmotionModel.load(fast=fast)

    chunk = max(batch_size, 256)
    results = []
    progress = (
        Progress(
            TextColumn("emotions"), BarColumn(), MofNCompleteColumn(), console=err, transient=True
        )
        if len(texts) > EMOTIONS_PROGRESS_AFTER
        else None
    )
    task = progress.add_task("emotions", total=len(texts)) if progress else None
    if progress:
        progress.start()
    try:
        for start in range(0, len(texts), chunk):
            batch = texts[start : start + chunk]
            results += model.classify(batch, taxonomy.value, batch_size=batch_size)
            if progress is not None and task is not None:
                progress.advance(task, len(batch))
    finally:
        if progress:
            progress.stop()

    labels = list(taxonomy_maps().labels(taxonomy.value))
    out = sys.stdout
    if format is EmotionFormat.jsonl:
        for chosen, scores in results:
            rounded = {name: round(value, 4) for name, value in scores.items()}
            out.write(json.dumps({"labels": chosen, "scores": rounded}, ensure_ascii=False))
            out.write("\n")
    elif format is EmotionFormat.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["labels", *labels])
        for chosen, scores in results:
            cells = [f"{scores[name]:.4f}" if name in scores else "" for name in labels]
            writer.writerow([";".join(chosen), *cells])
    else:
        # each label has its own tuned threshold, so a label may score below a name that is
        # not one ("frustration 0.14" labelled, "impatience 0.30" not): show them apart
        table = Table(
            title=f"emotions ({taxonomy.value})",
            caption="labels: names above their own tuned thresholds; next: the highest other",
        )
        table.add_column("#")
        table.add_column("text", ratio=3)  # the text gets the room: it is what is read
        table.add_column("labels", ratio=2)
        table.add_column("next", ratio=1)
        for i, (text, (chosen, scores)) in enumerate(zip(texts, results, strict=True), start=1):
            others = sorted(
                ((n, v) for n, v in scores.items() if n not in chosen), key=lambda kv: -kv[1]
            )[:1]
            table.add_row(
                str(i),
                Text(text if len(text) <= 60 else text[:57] + "..."),  # text, never markup
                ", ".join(f"{name} {scores.get(name, 0.0):.2f}" for name in chosen),
                " ".join(f"{name} {value:.2f}" for name, value in others),
            )
        Console().print(table)


@train_app.command("emotions")
def train_emotions_command(
    goemotions: Annotated[Path, typer.Option(help="Folder with GoEmotions train.tsv and dev.tsv.")],
    out: Annotated[Path, typer.Option(help="Folder for the weights and emotions_metrics.json.")],
    cache_dir: Annotated[
        Path | None, typer.Option(help="Keep frozen-encoder embeddings here between runs.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (13 gives the shipped weights).")] = 13,
    threads: Annotated[
        int, typer.Option(min=1, help="Torch threads (1 reproduces the shipped weights).")
    ] = 1,
) -> None:
    """Train the emotion model (the recipe of the shipped weights) and print dev metrics."""
    import dataclasses

    try:
        from heard.semantic.train_emotions import Recipe, train
    except ImportError as exc:  # pragma: no cover - heard itself is broken
        raise fail(str(exc), 3) from None
    require_models("training")
    for name in ("train.tsv", "dev.tsv"):
        if not (goemotions / name).is_file():
            raise fail(f"E001: {goemotions / name}: no such file")
    check_out_dir(out)
    recipe = dataclasses.replace(Recipe(seed=seed), threads=threads)
    with exits_on_error():
        metrics = train(
            goemotions / "train.tsv",
            goemotions / "dev.tsv",
            out,
            seed=seed,
            recipe=recipe,
            cache_dir=cache_dir,
            log=note,
        )
    summary = {
        mode: {k: metrics[mode][k] for k in ("macro_f1", "ekman_macro_f1", "sentiment_macro_f1")}
        for mode in ("full", "fast")
    }
    typer.echo(json.dumps({"out": str(out), "dev": summary}, indent=1))


@train_app.command("techniques")
def train_techniques_command(
    data: Annotated[
        Path,
        typer.Option(help="Folder with heard's written examples: train/dev/test.jsonl."),
    ] = Path("data/techniques"),
    out: Annotated[
        Path, typer.Option(help="Folder for techniques.npz and techniques.json.")
    ] = Path("techniques-weights"),
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Keep sentence embeddings here between runs (default: heard's cache)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (13 gives the shipped heads).")] = 13,
) -> None:
    """Train the technique / anti-pattern heads (the recipe of the shipped ones) from
    heard's own examples, and print the held-out test figures."""
    require_models("training")
    for name in ("train.jsonl", "dev.jsonl", "test.jsonl"):
        if not (data / name).is_file():
            raise fail(
                f"E001: {data / name}: no such file (the examples are in the repository's "
                "data/techniques folder; run from a checkout or pass --data)"
            )
    check_out_dir(out)
    from heard.semantic.train_techniques import format_table, train_techniques

    with exits_on_error():
        result = train_techniques(
            data,
            out,
            seed=seed,
            cache_dir=cache_dir,
            log=note,
        )
    err.print("test split (template families never seen in training):")
    typer.echo(format_table(result["test"]))
    err.print(f"wrote {out / 'techniques.npz'} and {out / 'techniques.json'}")
