"""Chroma clients, and Chroma's faults turned into StoreErrors that say the fix.

An embedded store has one client per folder in this process. When another process has written
to the folder, this process' in-memory vector index is stale: ``Clients.reopen`` closes the
client (``Client.close()`` stops Chroma's shared system once its last client is closed) and opens
a new one, which reads the folder afresh. Stores notice the new client by its epoch.
"""

from __future__ import annotations

import errno
import logging
import threading
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

from index.config import StoreConfig
from index.errors import StoreError

log = logging.getLogger(__name__)


def _settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def http_client(url: str):
    """A client of the Chroma server at ``url``."""
    import chromadb

    u = urlparse(url)
    return chromadb.HttpClient(
        host=u.hostname or "127.0.0.1",
        port=u.port or (443 if u.scheme == "https" else 8000),
        ssl=u.scheme == "https",
        settings=_settings(),
    )


class Clients:
    """The embedded clients of this process, one per store folder, each with an epoch."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _open: ClassVar[dict[str, tuple[object, int]]] = {}

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

    @staticmethod
    def _new(path: Path):
        import chromadb

        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=_settings())


def embedded_path(config: StoreConfig) -> Path:
    """The folder of an embedded store."""
    return Path(config.store_dir) / "chroma"


def connect(config: StoreConfig) -> tuple[object, int]:
    """The client for a store (and the epoch of an embedded one), or a StoreError with the fix."""
    try:
        if config.chroma_url:
            return http_client(config.chroma_url), 0
        return Clients.get(embedded_path(config))
    except Exception as exc:
        raise StoreError(
            f"Cannot open the Chroma store at {config.where} ({type(exc).__name__}: {exc}). "
            + (
                start_server_hint(config.chroma_url)
                if config.chroma_url
                else "Check that the folder is writable, or set QA_STORE_DIR to another one."
            )
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


def disk_full(exc: BaseException) -> bool:
    """Whether a failure was caused by a full disk."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(t in str(e).lower() for t in _DISK_FULL_TEXT):
            return True
    return False


def unreachable(exc: BaseException) -> bool:
    """Whether a failure was a Chroma server that could not be reached."""
    import httpx

    for e in _chain(exc):
        if isinstance(e, ConnectionError | httpx.TransportError):
            return True
        if any(t in str(e).lower() for t in _UNREACHABLE_TEXT):
            return True
    return False
