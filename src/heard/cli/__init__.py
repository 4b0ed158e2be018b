"""heard's command line: a thin layer over the library.

Exit codes: 0 success; 1 a check failed (e.g. `heard playbook check` found problems);
2 bad usage or unreadable input; 3 a required extra or model is missing.
"""

from __future__ import annotations

import importlib

from heard.cli.app import app

#: Command modules; each attaches its commands to `app` when imported. Modules of
#: optional layers import their heavy dependencies lazily, inside the commands.
COMMAND_MODULES = (
    "heard.cli.commands_core",
    "heard.cli.commands_playbook",
    "heard.cli.commands_semantic",
    "heard.cli.commands_eval",
    "heard.cli.commands_service",
    "heard.cli.commands_coach",
)

for _name in COMMAND_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as _exc:  # a layer not present in this build
        if _exc.name != _name:
            raise


def main() -> None:
    app()


__all__ = ["app", "main"]
