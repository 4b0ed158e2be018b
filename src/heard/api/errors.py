"""Every error leaves the API as ``{"error": {"code", "message", "field", ...}}``.

heard's numbered errors map to HTTP statuses here, in one table; handlers never build
error responses themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from heard.errors import (
    Forbidden,
    HeardError,
    InputError,
    ModelUnavailable,
    NotFound,
    PlaybookError,
    RowError,
)
from heard.service.errors import (
    Conflict,
    ImportRejected,
    PayloadTooLarge,
    Problem,
    Unauthorized,
)
from heard.storage import StorageError

log = logging.getLogger("heard.api")

#: heard error class -> HTTP status (the first match in this order wins)
STATUS: tuple[tuple[type[HeardError], int], ...] = (
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (ImportRejected, 422),
    (RowError, 422),
    (PlaybookError, 422),
    (InputError, 400),
    (StorageError, 503),
    (ModelUnavailable, 503),  # the server's models, not the request, are the problem
    (HeardError, 400),
)


def status_of(exc: HeardError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def error_body(
    code: str,
    message: str,
    *,
    field: str | None = None,
    line: int | None = None,
    hint: str | None = None,
    problems: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": code, "message": message, "field": field}
    if line is not None:
        detail["line"] = line
    if hint:
        detail["hint"] = hint
    if problems is not None:
        detail["problems"] = list(problems)
    return {"error": detail}


def location(loc: Sequence[int | str]) -> str | None:
    """('body', 'turns', 2, 'speaker') -> 'turns[2].speaker'."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out or None


def _validation_problems(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        field = location(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            message = f"the body is not valid JSON: {ctx.get('error', err.get('msg'))}"
            field = None
        else:
            message = str(err.get("msg", "invalid value"))
            message = message.removeprefix("Value error, ")
            if field:
                message = f"{field}: {message}"
        out.append({"code": "E001", "message": message, "line": None, "field": field})
    return out


def _heard_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HeardError)
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    problems: list[dict[str, Any]] | None = None
    field: str | None = getattr(exc, "field", None)
    line: int | None = getattr(exc, "line", None)
    if isinstance(exc, ImportRejected):
        problems = [
            {"code": p.code, "message": p.message, "line": p.line, "field": p.field}
            for p in exc.problems
        ]
    elif isinstance(exc, PlaybookError):
        problems = [
            {"code": p.split(" ", 1)[0].rstrip(":"), "message": p, "line": None, "field": None}
            for p in exc.problems
        ]
    message = exc.message
    if isinstance(exc, RowError):  # the message without its "source:line field" prefix
        message = Problem.from_row_error(exc).message
    body = error_body(exc.code, message, field=field, line=line, hint=exc.hint, problems=problems)
    return JSONResponse(body, status_code=status, headers=headers)


def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError | ValidationError)
    problems = _validation_problems(exc.errors())
    first = problems[0] if problems else {"message": "invalid request", "field": None}
    return JSONResponse(
        error_body("E001", str(first["message"]), field=first["field"], problems=problems),
        status_code=422,
    )


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {401: "E402", 403: "E403", 404: "E404", 409: "E409", 413: "E413"}.get(
        exc.status_code, "E401"
    )
    message = str(exc.detail) if exc.detail else "request failed"
    if exc.status_code == 404 and message == "Not Found":
        message = f"no endpoint {request.method} {request.url.path}; see /docs"
    elif exc.status_code == 400 and "parsing the body" in message:
        code = "E001"
        message = "the request body could not be read: send UTF-8 JSON (or a file upload)"
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)


def _database_down(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database error serving %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        error_body(
            StorageError.code,
            "the database cannot be reached",
            hint="check that the database server is running; GET /health says more",
        ),
        status_code=503,
    )


def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    """A value the database refuses (PostgreSQL: a NUL character in text): the request's
    fault, and nothing was written (the transaction is rolled back)."""
    assert isinstance(exc, DataError)
    log.info("database refused a value serving %s %s: %s", request.method, request.url.path, exc)
    reason = (str(exc.orig).strip().splitlines() or ["invalid value"])[0]
    hint = "remove the NUL (\\u0000) characters from the request" if "NUL" in reason else None
    return JSONResponse(
        error_body(
            "E001", f"a value in the request cannot be stored or searched: {reason}", hint=hint
        ),
        status_code=422,
    )


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error serving %s %s", request.method, request.url.path)
    return JSONResponse(
        error_body("E401", "internal error; the server log has the details"), status_code=500
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(HeardError, _heard_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(ValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(Exception, _unexpected)
