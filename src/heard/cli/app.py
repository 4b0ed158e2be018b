"""The Typer application object; command modules attach themselves to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

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


@app.callback()
def _setup(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only print errors on stderr."),
) -> None:
    """heard: an offline, explainable service-recovery copilot."""
    import logging

    from rich.logging import RichHandler

    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(show_time=False, show_path=False, console=err)],
    )
    # third-party libraries stay at warnings
    for name in ("httpx", "sentence_transformers", "urllib3", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


#: Where commands print errors, progress and notes (stdout carries results only).
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr (as text, never as markup); the Exit to raise."""
    err.print(f"[bold red]error[/]: {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def exits_on_error() -> Iterator[None]:
    """heard's own errors as an error line and an exit code: 3 when an extra or a model is
    missing (ModelUnavailable), 2 for any other HeardError (bad input, bad playbook...)."""
    from heard.errors import HeardError, ModelUnavailable

    try:
        yield
    except ModelUnavailable as exc:
        raise fail(str(exc), 3) from None
    except HeardError as exc:
        raise fail(str(exc)) from None


def check_out_dir(out: Path, *, folder: bool = True) -> None:
    """Refuse an output path (--out, --json) that can never be written, before any work
    (not after minutes of it); `folder`: the path is a folder to write into."""
    if folder and out.exists() and not out.is_dir():
        raise fail(f"E001: {out}: cannot write (not a directory)")
    if not folder and out.is_dir():
        raise fail(f"E001: {out}: cannot write (is a directory)")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise fail(f"E001: {out}: cannot write ({parent} is not a directory)")
            break


def note(message: str) -> None:
    """A dim progress line on stderr (training recipes report through this)."""
    err.print(f"[dim]{escape(message)}[/]", highlight=False, soft_wrap=True)


def require_models(what: str) -> None:
    """Exit 3 with the install hint when the ``models`` extra is missing."""
    from heard.semantic.encoder import INSTALL_HINT, missing_requirements

    missing = missing_requirements()
    if missing:
        raise fail(f"E301: {what} needs {', '.join(missing)} ({INSTALL_HINT})", 3)
