"""Chroma clients, and Chroma's faults turned into StoreErrors that say the fix.

An embedded store has one client per folder in this process. When another process has written
to the folder, this process' in-memory vector index is stale: ``Clients.reopen`` closes the
client (``Client.close()`` stops Chroma's shared system once its last client is closed) and opens
a new one, which reads the folder afresh. Stores notice the new client by its epoch. Before a
store loads a collection, ``index.health`` checks its files: a damaged vector index can crash
the process that loads it, so it must never be loaded.

A Chroma server is checked once (it must answer Chroma's heartbeat within the deadline), and
every call to it runs under a total deadline (``run_with_deadline``): a server that accepts
connections and never answers gives a clear error instead of a hung process.
"""

from __future__ import annotations

import concurrent.futures
import errno
import fcntl
import logging
import shutil
import threading
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

from index import health
from index.config import StoreConfig
from index.errors import StoreCorruptError, StoreError

log = logging.getLogger(__name__)

HEARTBEAT = "/api/v2/heartbeat"
# Calls to a Chroma server run here, so that the caller can stop waiting at the deadline; a call
# left behind ends at its socket timeout (the same deadline), so the pool cannot fill for long.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="chroma-call")


class DeadlineExceeded(Exception):
    """A call to a Chroma server took longer than its deadline."""


def _settings():
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


def check_server(url: str, timeout: float) -> int:
    """The server's clock (ns) from Chroma's heartbeat, or a StoreError that says what is wrong."""
    import httpx

    try:
        resp = httpx.get(url.rstrip("/") + HEARTBEAT, timeout=timeout)
    except httpx.TimeoutException as exc:
        raise StoreError(
            f"The Chroma server at {url} did not answer within {timeout:.0f} s "
            "(QA_CHROMA_TIMEOUT). Check that it is running and not overloaded. "
            + start_server_hint(url)
        ) from exc
    except (httpx.HTTPError, OSError, ValueError) as exc:
        raise StoreError(
            f"Cannot reach the Chroma server at {url} ({type(exc).__name__}). "
            + start_server_hint(url)
        ) from exc
    try:
        return int(resp.json()["nanosecond heartbeat"])
    except (ValueError, KeyError, TypeError):
        # Never the body itself: a web server's HTML page is no message for a terminal.
        kind = resp.headers.get("content-type", "no content type").split(";")[0]
        raise StoreError(
            f"The server at {url} is not a Chroma server (it answered HTTP {resp.status_code}, "
            f"{kind}). Set QA_CHROMA_URL to the address `chroma run` listens on, e.g. "
            "http://127.0.0.1:8000."
        ) from None


def http_client(url: str, timeout: float = 30.0):
    """A client of the Chroma server at ``url``; each request times out after ``timeout``."""
    import chromadb
    import httpx

    check_server(url, timeout)
    u = urlparse(url)

    def make():
        return chromadb.HttpClient(
            host=u.hostname or "127.0.0.1",
            port=u.port or (443 if u.scheme == "https" else 8000),
            ssl=u.scheme == "https",
            settings=_settings(),
        )

    client = run_with_deadline(make, timeout)
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):  # Chroma's own client never times out
        session.timeout = httpx.Timeout(timeout)
    return client


class Clients:
    """The embedded clients of this process, one per store folder, each with an epoch."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _open: ClassVar[dict[str, tuple[object, int]]] = {}
    _inode: ClassVar[dict[str, int | None]] = {}  # of chroma.sqlite3 when the client was opened

    @classmethod
    def get(cls, path: Path) -> tuple[object, int]:
        """The client of a store folder and its epoch (opened on first use)."""
        key = str(path)
        with cls._lock:
            if key not in cls._open:
                cls._open[key] = (cls._new(path), 0)
            return cls._open[key]

    @classmethod
    def reopen(cls, path: Path, seen_epoch: int) -> tuple[object, int]:
        """A fresh client for the folder, unless another store here already reopened it."""
        key = str(path)
        with cls._lock:
            client, epoch = cls._open.get(key, (None, -1))
            if epoch != seen_epoch and client is not None:
                return client, epoch
            if client is not None:
                try:
                    client.close()
                except Exception:
                    log.debug("closing the stale Chroma client failed", exc_info=True)
            cls._open[key] = (cls._new(path), epoch + 1)
            return cls._open[key]

    @classmethod
    def forget(cls, path: Path) -> None:
        """Close and drop the folder's client (before the folder is moved or deleted)."""
        with cls._lock:
            client, _ = cls._open.pop(str(path), (None, 0))
        if client is not None:
            try:
                client.close()
            except Exception:
                log.debug("closing the Chroma client failed", exc_info=True)

    @classmethod
    def moved(cls, path: Path) -> bool:
        """Whether the folder's database was replaced since its client opened (moved aside)."""
        key = str(path)
        with cls._lock:
            if key not in cls._open:
                return False
            return cls._inode.get(key) != _inode(path)

    @classmethod
    def _new(cls, path: Path):
        import chromadb

        path.mkdir(parents=True, exist_ok=True)
        # Chroma creates its tables when a client first opens a folder: two processes opening
        # a new folder at once race there ("table collections already exists"). One at a time.
        with (path.parent / f"{path.name}.open.lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                client = chromadb.PersistentClient(path=str(path), settings=_settings())
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        cls._inode[str(path)] = _inode(path)
        return client


def _inode(path: Path) -> int | None:
    try:
        return (path / health.SQLITE_FILE).stat().st_ino
    except OSError:
        return None


def embedded_path(config: StoreConfig) -> Path:
    """The folder of an embedded store."""
    return Path(config.store_dir) / "chroma"


def connect(config: StoreConfig) -> tuple[object, int]:
    """The client for a store (and the epoch of an embedded one), or a StoreError with the fix."""
    try:
        if config.chroma_url:
            return http_client(config.chroma_url, config.timeout), 0
        return Clients.get(embedded_path(config))
    except StoreError:
        raise
    except Exception as exc:
        what = f"{type(exc).__name__}: {str(exc)[:300]}"
        if config.chroma_url:
            if isinstance(exc, DeadlineExceeded):
                raise StoreError(
                    f"The Chroma server at {config.where} did not answer within "
                    f"{config.timeout:.0f} s (QA_CHROMA_TIMEOUT). "
                    + start_server_hint(config.chroma_url)
                ) from exc
            raise StoreError(
                f"Cannot open the Chroma store at {config.where} ({what}). "
                + start_server_hint(config.chroma_url)
            ) from exc
        if corrupt(exc):
            raise health.damaged(config.where, what) from exc
        raise StoreError(
            f"Cannot open the Chroma store at {config.where} ({what}). "
            "Check that the folder is writable, or set QA_STORE_DIR to another one."
        ) from exc


def start_server_hint(url: str) -> str:
    """How to start a Chroma server at ``url``."""
    u = urlparse(url)
    return (
        "Is the server running? Start it with: "
        f"chroma run --host {u.hostname or '127.0.0.1'} --port {u.port or 8000} --path DATA_DIR"
    )


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    while exc is not None and exc not in out:
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


# Chroma's Rust core and SQLite report these conditions only in their messages.
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


LOW_DISK_BYTES = 16 << 20  # a failed write with less free space than this is a full disk


def low_on_disk(config: StoreConfig) -> bool:
    """Whether an embedded store's disk is (nearly) full; Chroma's own errors do not say."""
    if config.chroma_url:
        return False
    try:
        return shutil.disk_usage(config.where).free < LOW_DISK_BYTES
    except OSError:
        return False


def fault(
    exc: Exception, config: StoreConfig, write: bool, low_disk: bool
) -> tuple[StoreError, bool]:
    """The StoreError for a failed Chroma call (with the fix), and whether another try may help.

    ``low_disk``: the store's disk is (nearly) full, which Chroma's own errors do not say.
    """
    where = config.where
    what = f"{type(exc).__name__}: {str(exc)[:300]}"
    if disk_full(exc) or low_disk:
        return StoreError(
            f"The disk holding the store at {where} is full ({what}). Free some space "
            "(or set QA_STORE_DIR to a disk with room) and run the same command again; "
            "what was indexed before is kept."
        ), False
    if config.chroma_url:
        if timed_out(exc):
            return StoreError(
                f"The Chroma server at {where} did not answer within {config.timeout:.0f} s "
                "(QA_CHROMA_TIMEOUT). Check that it is running and not overloaded, then try "
                "again. " + start_server_hint(where)
            ), True
        if unreachable(exc):
            return StoreError(
                f"Cannot reach the Chroma server at {where} ({what}). " + start_server_hint(where)
            ), True
        return StoreError(f"The Chroma server at {where} failed: {what}"), False
    from index.ledger import ledger_name
    from index.originals import files_name

    try:  # damaged files, rather than another process writing?
        names = [config.collection, ledger_name(config.collection), files_name(config.collection)]
        health.check_folder(embedded_path(config), names)
    except StoreCorruptError as damaged:
        return damaged, False
    if corrupt(exc):
        return health.damaged(where, what), False
    if write:
        return StoreError(f"Writing to the store at {where} failed: {what}"), False
    # Most likely another process changed the store under this process' in-memory index.
    return StoreError(
        f"Reading the store at {where} failed ({what}). If another process is writing to it "
        "(qa ingest), ask again when it has finished."
    ), True
