"""Ctrl-C reaches the thread that waits for it.

SIGINT goes to whichever thread of the process the kernel picks. The libraries under the engine
start native threads of their own (Chroma's Rust runtime, onnxruntime's pools); when the kernel
hands SIGINT to one of them while the main thread is blocked (reading the prompt, waiting for a
result), Python only sees it once the main thread wakes: at a prompt, never. A thread inherits
the signal mask of the thread that starts it, so ``started`` starts the engine's threads with
SIGINT blocked, and only the main thread takes Ctrl-C afterwards.
"""

from __future__ import annotations

import signal

from qa.engine import Engine


def started(engine: Engine) -> Engine:
    """The engine, with its libraries' threads started while SIGINT is blocked."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        engine.documents()  # Chroma's runtime
        engine.retrieve("warm up", k=1)  # its query threads, the embedding model's pool
        _ = engine.reader  # the reader's pool (loaded on first use)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    return engine
