"""What both backends share of Chroma: its client settings, calls under a deadline, and its
faults read from their messages (Chroma's Rust core and SQLite say what happened only in words).

The backends (``index.embedded``, ``index.chroma_server``) turn a fault into a StoreError with
the fix; this module only tells what kind of fault it was.
"""

from __future__ import annotations

import concurrent.futures
import errno

from index.errors import StoreError

# Calls to a Chroma server run here, so that the caller can stop waiting at the deadline; a call
# left behind ends at its socket timeout (the same deadline), so the pool cannot fill for long.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="chroma-call")


class DeadlineExceeded(Exception):
    """A call to a Chroma server took longer than its deadline."""


def client_settings():
    """Chroma's settings for every client this product opens: no telemetry, no reset."""
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def run_with_deadline(fn, seconds: float):
    """``fn()``, or DeadlineExceeded once ``seconds`` have passed (the call is abandoned)."""
    future = _POOL.submit(fn)
    try:
        return future.result(timeout=max(0.01, seconds))
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise DeadlineExceeded(f"no answer within {seconds:.0f} s") from None


def within(fn, seconds: float | None):
    """``fn()``, under a deadline when ``seconds`` is set (a Chroma server's calls)."""
    return fn() if seconds is None else run_with_deadline(fn, seconds)


def describe(exc: BaseException) -> str:
    """A fault in one short line: its type and the start of its message."""
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    while exc is not None and exc not in out:
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


_DISK_FULL_TEXT = ("disk is full", "no space left", "database or disk is full")
_UNREACHABLE_TEXT = ("could not connect", "connection refused")
_CORRUPT_TEXT = (
    "malformed",
    "not a database",
    "file is encrypted",
    "database corruption",
    "error loading hnsw",
    "hnsw segment reader",
    "index_metadata",
)
_MISSING_TEXT = ("does not exist", "not found")
# Chroma's local HNSW reader when a collection's vector index was never written to disk and is
# not in the server's memory either: seen after a writer was killed mid-write.
_UNREADY_TEXT = ("nothing found on disk",)


def _matches(exc: BaseException, texts: tuple[str, ...]) -> bool:
    return any(any(t in str(e).lower() for t in texts) for e in _chain(exc))


def disk_full(exc: BaseException) -> bool:
    """Whether a failure was caused by a full disk."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
    return _matches(exc, _DISK_FULL_TEXT)


def unreachable(exc: BaseException) -> bool:
    """Whether a failure was a Chroma server that could not be reached or did not answer."""
    import httpx

    for e in _chain(exc):
        if isinstance(e, ConnectionError | httpx.TransportError | DeadlineExceeded):
            return True
    return _matches(exc, _UNREACHABLE_TEXT)


def timed_out(exc: BaseException) -> bool:
    """Whether a failure was a Chroma server that did not answer in time."""
    import httpx

    return any(isinstance(e, DeadlineExceeded | httpx.TimeoutException) for e in _chain(exc))


def corrupt(exc: BaseException) -> bool:
    """Whether a failure says the store's files are damaged."""
    return _matches(exc, _CORRUPT_TEXT)


def index_unready(exc: BaseException) -> bool:
    """Whether a Chroma server could not open a collection's vector index ("Nothing found on disk")."""
    return _matches(exc, _UNREADY_TEXT)


def missing(exc: BaseException) -> bool:
    """Whether a failure says the collection does not exist."""
    return any(w in str(exc).lower() for w in _MISSING_TEXT)


def disk_full_error(where: str, what: str) -> StoreError:
    """The error for a write that found the store's disk full."""
    return StoreError(
        f"The disk holding the store at {where} is full ({what}). Free some space "
        "(or set QA_STORE_DIR to a disk with room) and run the same command again; "
        "what was indexed before is kept."
    )
