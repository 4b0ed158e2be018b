"""Receiving an import: a multipart file or a raw JSONL/CSV body, streamed to disk.

The body is written to a private temporary directory as it arrives (the size limit is
enforced by `BodyLimit` meanwhile), under the uploaded file's own name so the importers
can detect its format from the extension and name id-less conversations after it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath

from fastapi import Request
from starlette.datastructures import UploadFile

from heard.errors import InputError

#: Content types that name a format (the importers detect it otherwise).
CONTENT_FORMATS = {
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/jsonlines": "jsonl",
    "application/json": "jsonl",
    "text/csv": "csv",
}
_EXTENSIONS = {"jsonl": ".jsonl", "csv": ".csv"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Upload:
    path: Path
    name: str
    format: str | None


def safe_name(name: str | None, default: str = "upload") -> str:
    """A file name that is safe to create: no directories, no odd characters."""
    base = PurePath((name or "").replace("\\", "/")).name
    base = _UNSAFE.sub("_", base).strip("._")[:120]
    return base or default


@asynccontextmanager
async def received(
    request: Request, *, format: str | None, name: str | None
) -> AsyncIterator[Upload]:
    """The request's file on disk for the duration of the block (then removed)."""
    directory = Path(tempfile.mkdtemp(prefix="heard-upload-"))
    try:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "multipart/form-data":
            upload = await _multipart(request, directory, format)
        else:
            upload = await _raw(request, directory, content_type, format, name)
        if upload.path.stat().st_size == 0:
            raise InputError("the upload is empty", hint="send a JSONL or CSV file")
        yield upload
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def _multipart(request: Request, directory: Path, format: str | None) -> Upload:
    async with request.form(max_files=1, max_fields=16) as form:
        item = form.get("file")
        if not isinstance(item, UploadFile):
            raise InputError(
                "a multipart upload needs the file in a field named 'file'",
                hint="curl -F file=@chats.jsonl ...",
            )
        field_format = form.get("format")
        if format is None and isinstance(field_format, str) and field_format:
            format = field_format
        name = safe_name(item.filename)
        path = directory / name
        with path.open("wb") as out:
            while chunk := await item.read(CHUNK):
                out.write(chunk)
    return Upload(path, name, format)


async def _raw(
    request: Request, directory: Path, content_type: str, format: str | None, name: str | None
) -> Upload:
    implied = CONTENT_FORMATS.get(content_type)
    format = format or implied
    shown = safe_name(name, default="upload" + _EXTENSIONS.get(format or "", ""))
    path = directory / shown
    with path.open("wb") as out:
        async for chunk in request.stream():
            out.write(chunk)
    return Upload(path, shown, format)
