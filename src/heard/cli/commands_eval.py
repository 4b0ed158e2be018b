"""Measurement commands: ``heard eval labeled|goemotions|epitome``, and the opt-in EPITOME
empathy recipe: ``heard train empathy`` and ``heard empathy``.

Thin wrappers over :mod:`heard.evaluation`, :mod:`heard.semantic.train_emotions` and
:mod:`heard.semantic.empathy`. Every ``eval`` command prints a table; ``--json OUT`` also
writes the figures as JSON (``--json -``: JSON on stdout, the table on stderr). Exit codes
as everywhere in heard: 2 bad input, 3 the ``models`` extra or a model file is missing.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

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
from heard.files import replaced

if TYPE_CHECKING:
    from heard.evaluation import EvalReport
    from heard.model import Conversation

eval_app = typer.Typer(
    help="Measure heard: detectors on labelled conversations, emotions on GoEmotions, "
    "empathy levels on EPITOME.",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")


def _console(json_out: Path | None) -> Console:
    """Where the table goes: stdout, or stderr when the JSON takes stdout."""
    return err if json_out is not None and str(json_out) == "-" else Console()


def _write_json(json_out: Path | None, payload: Any) -> None:
    if json_out is None:
        return
    text = json.dumps(payload, indent=1, ensure_ascii=False) + "\n"
    if str(json_out) == "-":
        sys.stdout.write(text)
        return
    try:
        with replaced(json_out) as tmp:  # whole or not at all: never a half-written file
            tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"E001: {json_out}: cannot write ({exc.strerror or exc})") from None
    err.print(f"[dim]figures written to {escape(str(json_out))}[/]", highlight=False)


def _check_json_target(json_out: Path | None) -> None:
    """Refuse a --json path that can never be written before any work is done."""
    if json_out is not None and str(json_out) != "-":
        check_out_dir(json_out, folder=False)


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


JsonOption = Annotated[
    Path | None,
    typer.Option("--json", help="Also write the figures as JSON to this file ('-': stdout)."),
]


# -- heard eval labeled ----------------------------------------------------------------------


def _labelled(path: Path, problems: list[str]) -> Iterator[Conversation]:
    from heard.importers import read

    result = read(path, format="jsonl")
    yield from result.conversations()
    problems.extend(str(p) for p in result.problems)


def _split_ids(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


@eval_app.command("labeled")
def eval_labeled_command(
    file: Annotated[Path, typer.Argument(help="Labelled Conversation JSONL (turns carry labels).")],
    fast: Annotated[
        bool, typer.Option("--fast", help="Lexical tier only (no model extra needed).")
    ] = False,
    ids: Annotated[
        list[str] | None,
        typer.Option(
            "--ids", help="Score only these ids (repeat the option or separate with commas)."
        ),
    ] = None,
    min_support: Annotated[
        int, typer.Option(min=1, help="Ids need this many gold positives to enter macro-F1.")
    ] = 8,
    json_out: JsonOption = None,
) -> None:
    """Per-id precision, recall and F1 of the pipeline's findings against gold labels.

    Disputed ids of a turn are left out of scoring; C.energy is measured from the
    `energy` field instead of as an id.
    """
    from heard.evaluation import evaluate_labeled
    from heard.pipeline import Pipeline

    if not file.is_file():
        raise fail(f"E001: {file}: no such file")
    _check_json_target(json_out)
    with exits_on_error():
        pipeline = Pipeline(fast=fast, playbooks=[])
        problems: list[str] = []
        report = evaluate_labeled(
            _labelled(file, problems),
            pipeline,
            ids=_split_ids(ids),
            min_support=min_support,
            source=str(file),
        )
    for problem in problems[:20]:
        err.print(f"[yellow]skipped[/]: {escape(problem)}", highlight=False, soft_wrap=True)
    if report.turns == 0:
        found = "no conversations" if report.conversations == 0 else "no labelled turns"
        raise fail(
            f"E001: {file}: {found} (a labelled file is Conversation JSONL whose turns "
            "carry a 'labels' field)"
        )
    if not fast and "semantic" not in pipeline.tiers:
        err.print("[dim]semantic tier not installed: measuring the lexical tier alone[/]")
    _print_labeled(report, _console(json_out))
    _write_json(json_out, report.model_dump(mode="json"))


def _print_labeled(report: EvalReport, console: Console) -> None:
    averaged = set(report.averaged)
    table = Table(
        Column("id", no_wrap=True, min_width=18),
        Column("gold", justify="right"),
        Column("found", justify="right"),
        Column("P", justify="right"),
        Column("R", justify="right"),
        Column("F1", justify="right"),
        Column("disputed", justify="right"),
        Column("macro", justify="center"),
        title=f"{escape(report.source or 'labelled data')}: {report.conversations} conversations, "
        f"{report.turns} turns, tiers {'+'.join(report.tiers)}",
    )
    for s in report.ids:
        if not (s.support or s.predicted):
            continue
        table.add_row(
            s.id,
            str(s.support),
            str(s.predicted),
            _num(s.precision),
            _num(s.recall),
            _num(s.f1),
            str(s.disputed),
            "yes" if s.id in averaged else "",
        )
    m = report.micro
    table.add_section()
    table.add_row(
        "micro, all ids",
        str(m.support),
        str(m.predicted),
        _num(m.precision),
        _num(m.recall),
        _num(m.f1),
        str(report.disputed),
        "",
    )
    table.add_row(
        f"macro, {len(report.averaged)} ids", "", "", "", "", _num(report.macro_f1), "", ""
    )
    console.print(table)
    console.print(
        f"macro-F1 averages the ids with >= {report.min_support} gold positives: "
        f"{', '.join(report.averaged) or 'none'}",
        highlight=False,
    )
    if report.emotion is not None:
        e = report.emotion
        emotions = Table(
            Column("emotion", no_wrap=True, min_width=18),
            Column("gold", justify="right"),
            Column("found", justify="right"),
            Column("P", justify="right"),
            Column("R", justify="right"),
            Column("F1", justify="right"),
            title=f"emotions of {e.turns} customer turns: macro-F1 {_num(e.macro_f1)}",
        )
        for es in e.emotions:
            if es.support or es.predicted:
                emotions.add_row(
                    es.emotion,
                    str(es.support),
                    str(es.predicted),
                    _num(es.precision),
                    _num(es.recall),
                    _num(es.f1),
                )
        console.print(emotions)
    if report.energy is not None:
        g = report.energy
        within = (
            ""
            if g.within_annotators is None
            else (f", within the annotators' range {g.within_annotators:.1%}")
        )
        console.print(
            f"energy of {g.turns} customer turns: MAE {g.mae:.3f}, exact agreement "
            f"(gold rounded half up) {g.exact:.1%}{within}",
            highlight=False,
        )


# -- heard eval goemotions -------------------------------------------------------------------


@eval_app.command("goemotions")
def eval_goemotions_command(
    tsv: Annotated[Path, typer.Argument(help="A GoEmotions split (text, labels, id; TSV).")],
    fast: Annotated[
        bool, typer.Option("--fast", help="The TF-IDF tier of the emotion model (no torch).")
    ] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Only the first N rows (a quick check).")
    ] = None,
    weights: Annotated[
        Path | None,
        typer.Option(help="Weights folder of a 'heard train emotions' run (default: shipped)."),
    ] = None,
    json_out: JsonOption = None,
) -> None:
    """Macro-F1 of the emotion model: 28 GoEmotions labels, Ekman groups, sentiment."""
    from heard.semantic.emotions import EmotionModel
    from heard.semantic.train_emotions import evaluate_goemotions

    if not tsv.is_file():
        raise fail(f"E001: {tsv}: no such file")
    _check_json_target(json_out)
    if not _has_rows(tsv):  # said before the model is loaded, as for a bad --json
        raise fail(f"E001: {tsv}: no rows (expected 'text<TAB>labels<TAB>id' lines)")
    with exits_on_error():
        model = EmotionModel.load(fast=fast, weights_dir=weights)
        result = evaluate_goemotions(model, tsv, limit=limit)
    console = _console(json_out)
    table = Table(
        Column("taxonomy", no_wrap=True),
        Column("labels", justify="right"),
        Column("macro-F1", justify="right"),
        title=f"{escape(tsv.name)}: {result['rows']} texts, {result['mode']} model",
    )
    table.add_row("goemotions", str(len(result["per_label_f1"])), _num(result["macro_f1"]))
    for taxonomy in ("ekman", "sentiment"):
        table.add_row(
            taxonomy,
            str(len(result[f"{taxonomy}_per_label_f1"])),
            _num(result[f"{taxonomy}_macro_f1"]),
        )
    console.print(table)
    _write_json(json_out, result)


def _has_rows(tsv: Path) -> bool:
    try:
        with tsv.open("rb") as handle:
            return any(line.strip() for line in handle)
    except OSError as exc:
        raise fail(f"E001: {tsv}: cannot read ({exc.strerror or exc})") from None


# -- heard eval epitome ----------------------------------------------------------------------


@eval_app.command("epitome")
def eval_epitome_command(
    folder: Annotated[Path, typer.Argument(help="Folder with the three EPITOME CSV files.")],
    model: Annotated[Path, typer.Option("--model", help="A model from 'heard train empathy'.")],
    json_out: JsonOption = None,
) -> None:
    """Accuracy and macro-F1 per mechanism on the model's held-out seeker posts."""
    from heard.semantic.empathy import (
        MECHANISM_NAMES,
        EmpathyModel,
        evaluate_epitome,
        read_epitome,
    )

    _check_json_target(json_out)
    with exits_on_error():
        data = read_epitome(folder)  # a bad folder is said before the model is loaded
        empathy = EmpathyModel.load(model)
        result = evaluate_epitome(empathy, folder, data=data)
    if not result["data_matches"]:
        err.print(
            "[yellow]warning[/]: these files differ from the ones the model was trained on; "
            "the held-out seeker posts are the same ids, but the figures are not comparable",
            highlight=False,
            soft_wrap=True,
        )
    console = _console(json_out)
    table = Table(
        Column("mechanism", no_wrap=True),
        Column("rows", justify="right"),
        Column("accuracy", justify="right"),
        Column("macro-F1", justify="right"),
        Column("F1 0", justify="right"),
        Column("F1 1", justify="right"),
        Column("F1 2", justify="right"),
        title=f"EPITOME held-out part ({result['heldout_seekers']} seeker posts), "
        "F1 per level 0, 1, 2",
    )
    for m, figures in result["mechanisms"].items():
        if not figures.get("rows"):
            table.add_row(f"{m} {MECHANISM_NAMES[m]}", "0", "–", "–", "–", "–", "–")
            continue
        per = figures["f1_per_level"]
        table.add_row(
            f"{m} {MECHANISM_NAMES[m]}",
            str(figures["rows"]),
            _num(figures["accuracy"]),
            _num(figures["macro_f1"]),
            _num(per["0"]),
            _num(per["1"]),
            _num(per["2"]),
        )
    console.print(table)
    _write_json(json_out, result)


# -- heard train empathy / heard empathy -----------------------------------------------------


@train_app.command("empathy")
def train_empathy_command(
    epitome: Annotated[Path, typer.Option(help="Folder with the three EPITOME CSV files.")],
    out: Annotated[Path, typer.Option(help="Model file to write (one .npz).")],
    seed: Annotated[int, typer.Option(help="Seed of the held-out split.")] = 13,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Keep frozen-encoder embeddings here between runs.")
    ] = None,
    threads: Annotated[int, typer.Option(min=1, help="Torch threads for the encoder.")] = 2,
) -> None:
    """Train EPITOME empathy levels (research use only: the data is non-commercial)."""
    import dataclasses

    from heard.semantic.empathy import LICENCE_NOTICE, Recipe, train_empathy

    err.print(f"[bold yellow]licence[/]: {escape(LICENCE_NOTICE)}", highlight=False, soft_wrap=True)
    require_models("training")
    check_out_dir(out, folder=False)
    recipe = dataclasses.replace(Recipe(), seed=seed, threads=threads)
    with exits_on_error():
        header = train_empathy(
            epitome,
            out,
            recipe=recipe,
            cache_dir=cache_dir,
            log=note,
        )
    summary = {
        m: {k: f[k] for k in ("rows", "accuracy", "macro_f1")} for m, f in header["heldout"].items()
    }
    typer.echo(
        json.dumps(
            {"out": str(out), "licence": header["provenance"]["licence"], "heldout": summary},
            indent=1,
        )
    )


class EmpathyFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


@app.command("empathy")
def empathy_command(
    input: Annotated[Path, typer.Argument(help="CSV with seeker_post and response_post columns.")],
    model: Annotated[Path, typer.Option("--model", help="A model from 'heard train empathy'.")],
    format: Annotated[EmpathyFormat, typer.Option("--format", help="Output format.")] = (
        EmpathyFormat.jsonl
    ),
) -> None:
    """EPITOME levels of each response, one output row per input row, in order.

    JSONL lines are {"er": level, "ip": level, "ex": level}. A row that cannot be rated
    (empty response, missing value) gets level 0 and a warning naming its line.
    """
    from heard.semantic.empathy import MECHANISMS, EmpathyModel, EmpathyRating, read_pairs

    with exits_on_error():
        rows = read_pairs(input)
        empathy = EmpathyModel.load(model)
    rateable = [k for k, row in enumerate(rows) if row.problem is None or row.response.strip()]
    for row in rows:
        if row.problem is not None:
            rated = "rated without context" if row.response.strip() else "level 0"
            err.print(
                f"[yellow]warning[/]: {escape(str(input))}:{row.line}: {escape(row.problem)} "
                f"({rated})",
                highlight=False,
                soft_wrap=True,
            )
    with exits_on_error():
        ratings = empathy.rate([(rows[k].seeker, rows[k].response) for k in rateable])
    results = [EmpathyRating.none() for _ in rows]
    for k, rating in zip(rateable, ratings, strict=True):
        results[k] = rating
    out = sys.stdout
    if format is EmpathyFormat.jsonl:
        for rating in results:
            out.write(json.dumps(rating.out()) + "\n")
    else:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(list(MECHANISMS))
        for rating in results:
            writer.writerow([rating.levels[m] for m in MECHANISMS])
