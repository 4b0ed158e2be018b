"""The Typer application object; command modules attach themselves to it."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="heard",
    help="heard: an offline, explainable service-recovery copilot.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
train_app = typer.Typer(
    help="Train the learned tier's heads from local data.", no_args_is_help=True
)
app.add_typer(train_app, name="train")
