"""heard's command line: a thin layer over the library (exit codes: see `heard --help`).

Exit codes: 0 success; 1 findings/validation failed (e.g. `playbook check`); 2 usage or
input error; 3 a required extra or model is missing.
"""

from __future__ import annotations

from heard.cli import commands_core as _core  # noqa: F401  (registers commands)
from heard.cli.app import app

try:  # the semantic tier's commands; they explain themselves when the extra is missing
    from heard.cli import commands_semantic as _semantic  # noqa: F401
except ImportError:  # pragma: no cover - module not written yet
    pass
try:
    from heard.cli import commands_service as _service  # noqa: F401
except ImportError:  # pragma: no cover
    pass


def main() -> None:
    app()


__all__ = ["app", "main"]
