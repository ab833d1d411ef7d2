"""Ctrl-C reaches the thread that waits for it.

SIGINT goes to whichever thread of the process the kernel picks. The libraries under the engine
start native threads of their own (numpy's and onnxruntime's pools when imported, Chroma's Rust
runtime and the models' pools when the engine opens its store and models); when the kernel hands
SIGINT to one of them while the main thread is blocked (reading the prompt, waiting for a
result), Python only sees it once the main thread wakes: at a prompt, never. A thread inherits
the signal mask of the thread that starts it, so the ``qa`` command imports its libraries inside
``blocked()`` and ``started`` builds and warms up the engine there: only the main thread takes
Ctrl-C afterwards.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.engine import Engine


@contextmanager
def blocked() -> Iterator[None]:
    """SIGINT blocked in this thread, and so in every thread started meanwhile."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def started(make: Callable[[], Engine]) -> Engine:
    """The engine ``make()`` builds, its libraries' threads started while SIGINT is blocked."""
    with blocked():
        engine = make()  # the store's client and the embedding model start threads here
        engine.documents()  # Chroma's runtime
        engine.retrieve("warm up", k=1)  # its query threads, the embedding model's pool
        if engine.reader is not None:  # its pool, and the tokenizer's batch threads (first use)
            engine.reader.score("warm up", ["The pools start here.", "And here."])
    return engine
