"""Writing files whole or not at all."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replaced(path: Path) -> Iterator[Path]:
    """A temporary path to write `path`'s new content to: moved onto `path` when the block
    succeeds, removed when it fails, so `path` is never left half-written. Its folder is
    made if needed. (The temporary name ends in ``.tmp<pid>``, so a cache pruner that
    looks at file suffixes does not take it for a finished file while it is written.)"""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
