"""The writer lock of a collection: one ingest at a time."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from index.config import StoreConfig
from index.errors import StoreLockedError


@contextlib.contextmanager
def file_lock(config: StoreConfig) -> Iterator[None]:
    """Hold the collection's lock file in the store folder; a second writer is refused."""
    lock_dir = Path(config.store_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / f"{config.collection}.lock"
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise StoreLockedError(
                f"Another ingest is writing to collection '{config.collection}' "
                f"({path}). Wait for it to finish, then run again."
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
