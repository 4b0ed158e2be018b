"""One exception tree for heard. Every error has a number and says what to do next.

Numbers are stable so users can search for them: E0xx input/importers, E1xx catalog and
detectors, E2xx playbooks, E3xx models, E4xx service and storage.
"""

from __future__ import annotations


class HeardError(Exception):
    """Base class of every error heard raises on purpose."""

    code: str = "E000"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        text = f"{self.code}: {message}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class InputError(HeardError):
    """A file or text could not be read as conversations."""

    code = "E001"


class RowError(InputError):
    """One row/line of an input file is malformed; the rest can still be read."""

    code = "E002"

    def __init__(self, message: str, *, source: str, line: int, field: str | None = None) -> None:
        self.source = source
        self.line = line
        self.field = field
        where = f"{source}:{line}" + (f" field '{field}'" if field else "")
        super().__init__(f"{where}: {message}")


class FormatError(InputError):
    """The input format could not be recognised or is not supported."""

    code = "E003"


class CatalogError(HeardError):
    """An unknown catalog id, or a lexicon that does not fit the catalog."""

    code = "E101"


class PipelineError(HeardError):
    """Detectors whose requirements cannot be met in the configured order."""

    code = "E102"


class LexiconError(HeardError):
    """A lexicon file is malformed or a pattern does not compile."""

    code = "E103"


class PlaybookError(HeardError):
    """A playbook failed validation; `problems` holds every numbered problem found."""

    code = "E201"

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        super().__init__(message)


class ModelUnavailable(HeardError):
    """The semantic tier was asked for but its extra or weights are not installed."""

    code = "E301"


class ServiceError(HeardError):
    code = "E401"


class NotFound(ServiceError):
    code = "E404"


class Forbidden(ServiceError):
    code = "E403"
