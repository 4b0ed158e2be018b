"""The service's errors: part of heard's one exception tree (codes E4xx, E010).

Interfaces map them to their own terms (HTTP statuses, exit codes); the messages are
written for the person who has to act on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from heard.errors import Forbidden, InputError, NotFound, RowError, ServiceError

__all__ = [
    "BindRefused",
    "Conflict",
    "Forbidden",
    "ImportRejected",
    "NotFound",
    "PayloadTooLarge",
    "Problem",
    "ServiceError",
    "Unauthorized",
]


class Unauthorized(ServiceError):
    """No API key, or one that matches no user."""

    code = "E402"


class Conflict(ServiceError):
    """The name or id is taken (a user, a playbook)."""

    code = "E409"


class PayloadTooLarge(ServiceError):
    """A request body or upload is larger than `max_upload_bytes`."""

    code = "E413"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"the request body is larger than the limit of {limit:,} bytes",
            hint="split the file, or raise HEARD_MAX_UPLOAD_BYTES on the server",
        )


class BindRefused(ServiceError):
    """`heard serve` was asked to listen beyond loopback with no admin key configured."""

    code = "E421"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found while importing, with where it was (line, field) when known."""

    message: str
    code: str = "E002"
    line: int | None = None
    field: str | None = None
    source: str | None = None

    @classmethod
    def from_row_error(cls, err: RowError) -> Problem:
        where = f"{err.source}:{err.line}" + (f" field '{err.field}'" if err.field else "") + ": "
        text = err.message
        message = text[len(where) :] if text.startswith(where) else text
        return cls(message, code=err.code, line=err.line, field=err.field, source=err.source)

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else ""
        if self.field:
            where += f"{' ' if where else ''}field '{self.field}'"
        return f"{self.code} {where}: {self.message}" if where else f"{self.code}: {self.message}"


class ImportRejected(InputError):
    """Nothing was imported: every conversation had a problem (or `strict` found one)."""

    code = "E010"

    def __init__(self, message: str, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0] if problems else None
        self.field = first.field if first else None
        self.line = first.line if first else None
        super().__init__(message, hint="fix the lines listed and import the file again")
