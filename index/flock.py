"""An exclusive lock on a file (``flock``): the one way processes of this machine take turns.

The writer lock of a collection (``index.lock``), the keyword index's writer lock
(``index.keyword_files``) and the first opening of an embedded store (``index.embedded``) all
hold one, waiting, not waiting, or waiting until a deadline.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Callable, Iterator
from pathlib import Path

POLL_S = 0.5  # how often a waiter with a deadline looks again


@contextlib.contextmanager
def flocked(
    path: Path,
    wait: bool = True,
    deadline: float | None = None,
    waiting: Callable[[], None] | None = None,
) -> Iterator[bool]:
    """Hold ``path``'s lock; yields True once held. ``wait=False``: yields False at once when
    another holds it. ``deadline`` (``time.monotonic()``): waits until then, polling, and yields
    False if still held (``waiting`` is called once, when the wait begins)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        polled = deadline is not None or not wait
        told = False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (fcntl.LOCK_NB if polled else 0))
                break
            except BlockingIOError:
                if not wait or time.monotonic() >= (deadline or 0):
                    yield False
                    return
                if waiting and not told:
                    waiting()
                    told = True
                time.sleep(POLL_S)
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
