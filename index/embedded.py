"""Embedded Chroma: the store is a folder on this machine (``QA_STORE_DIR/chroma``).

One client per folder in this process (``Clients``), each with an epoch. Chroma holds the
vector index in this process' memory: when another process has written to the folder, it is
stale, and ``Clients.reopen`` closes the client (``Client.close()`` stops Chroma's shared system
once its last client is closed) and opens a new one, which reads the folder afresh; connections
notice the new client by its epoch. Before a client loads a folder, ``index.health`` checks its
files: a damaged vector index can crash the process that loads it, so it must never be loaded.

A folder this process cannot write (a read-only index) is still askable: Chroma writes to its
database whenever it opens one, so the folder is copied to a private temporary folder and that
copy is opened; writing to such a store says that it is read-only. A store folder deleted while
the process uses it is reported as such, and never re-created behind the user's back.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from index import chroma, health
from index.config import StoreConfig
from index.errors import (
    IndexNotFoundError,
    StoreCorruptError,
    StoreDeletedError,
    StoreError,
    StoreReadOnlyError,
)
from index.flock import flocked
from index.ledger import Ledger
from index.lock import file_lock
from index.names import side_names

log = logging.getLogger(__name__)

LOW_DISK_BYTES = 16 << 20  # a failed write with less free space than this is a full disk


class Clients:
    """The embedded clients of this process, one per store folder, each with an epoch."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _open: ClassVar[dict[str, tuple[Any, int]]] = {}
    _epochs: ClassVar[dict[str, int]] = {}  # never reset: a forgotten folder's next client is newer
    _inode: ClassVar[dict[str, int | None]] = {}  # of chroma.sqlite3 when the client was opened
    _copies: ClassVar[dict[str, Path]] = {}  # read-only folders: the private copy opened instead

    @classmethod
    def get(cls, path: Path, write: bool = True) -> tuple[Any, int]:
        """The client of a store folder and its epoch (opened on first use).

        ``write``: the caller will write (StoreReadOnlyError for a folder it cannot write).
        """
        key = str(path)
        with cls._lock:
            if key not in cls._open:
                cls._open[key] = (cls._new(path, write), cls._epochs.get(key, -1) + 1)
                cls._epochs[key] = cls._open[key][1]
            elif write and key in cls._copies:
                raise StoreReadOnlyError(key)
            return cls._open[key]

    @classmethod
    def current(cls, path: Path) -> tuple[Any, int]:
        """The folder's client and epoch as they are (None when none is open); opens nothing."""
        with cls._lock:
            return cls._open.get(str(path), (None, -1))

    @classmethod
    def reopen(cls, path: Path, seen_epoch: int) -> tuple[Any, int]:
        """A fresh client for the folder, unless another store here already reopened it."""
        key = str(path)
        with cls._lock:
            client, epoch = cls._open.get(key, (None, -1))
            if epoch != seen_epoch and client is not None:
                return client, epoch
            write = key not in cls._copies
            cls._close(key)
            epoch = cls._epochs.get(key, -1) + 1
            cls._open[key] = (cls._new(path, write), epoch)
            cls._epochs[key] = epoch
            return cls._open[key]

    @classmethod
    def forget(cls, path: Path) -> None:
        """Close and drop the folder's client (before the folder is moved or deleted)."""
        with cls._lock:
            cls._close(str(path))

    @classmethod
    def moved(cls, path: Path) -> bool:
        """Whether the folder's database was replaced since its client opened (or is gone)."""
        key = str(path)
        with cls._lock:
            if key not in cls._open:
                return False
            return cls._inode.get(key) != _inode(path)

    @classmethod
    def _close(cls, key: str) -> None:
        client, _ = cls._open.pop(key, (None, 0))
        if client is not None:
            try:
                client.close()
            except Exception:
                log.debug("closing the Chroma client failed", exc_info=True)
        copy = cls._copies.pop(key, None)
        if copy is not None:
            shutil.rmtree(copy.parent, ignore_errors=True)

    @classmethod
    def _new(cls, path: Path, write: bool):
        import chromadb

        key = str(path)
        if not _writable(path):
            if write:
                raise StoreReadOnlyError(key)
            copy = _private_copy(path)
            cls._copies[key] = copy
            cls._inode[key] = _inode(path)
            return chromadb.PersistentClient(path=str(copy), settings=chroma.client_settings())
        path.mkdir(parents=True, exist_ok=True)
        # Chroma creates its tables when a client first opens a folder: two processes opening
        # a new folder at once race there ("table collections already exists"). One at a time.
        with flocked(path.parent / f"{path.name}.open.lock"):
            client = chromadb.PersistentClient(path=str(path), settings=chroma.client_settings())
        cls._inode[key] = _inode(path)
        return client


def _inode(path: Path) -> int | None:
    try:
        return (path / health.SQLITE_FILE).stat().st_ino
    except OSError:
        return None


def _writable(path: Path) -> bool:
    """Whether this process may write the store folder (a new one: its nearest existing parent)."""
    db = path / health.SQLITE_FILE
    if db.exists():
        return os.access(path, os.W_OK) and os.access(db, os.W_OK)
    while not path.exists() and path != path.parent:
        path = path.parent
    return os.access(path, os.W_OK)


def _private_copy(path: Path) -> Path:
    """A writable copy of a read-only store folder, removed when the process ends."""
    t0 = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="qa-read-only-store-"))
    atexit.register(shutil.rmtree, root, True)
    copy = root / "chroma"
    shutil.copytree(path, copy, copy_function=shutil.copyfile)  # not the read-only modes
    size = 0
    for f in [copy, *copy.rglob("*")]:
        f.chmod(f.stat().st_mode | stat.S_IWUSR)  # folders took the original's modes
        size += f.stat().st_size if f.is_file() else 0
    log.warning("the store at %s is read-only: answering from a copy in %s (%.1f MB, %.1f s)",
                path, copy, size / 1e6, time.perf_counter() - t0)  # fmt: skip
    return copy


def embedded_path(config: StoreConfig) -> Path:
    """The folder of an embedded store."""
    return Path(config.store_dir) / "chroma"


class Embedded:
    """An embedded store: a folder on this machine, one writer at a time by a lock file."""

    deadline = None  # a local call is not abandoned halfway
    in_memory = True
    mirrors_folder = True  # this machine's documents folder is the truth: the app's ingest prunes
    read_batch = 50_000  # records whose metadata one call reads
    text_batch = 20_000  # chunks one call reads with their text
    write_batch = 5000  # chunks one call writes

    def __init__(self, config: StoreConfig):
        self.config = config
        self.path = embedded_path(config)
        self.where = str(self.path)
        self.identity = str(Path(config.store_dir).resolve())
        self._opened = False  # connected to a database that existed then

    # ---- reaching it

    def connect(self, create: bool) -> tuple[Any, int]:
        """The folder's client, its files checked first; nothing is created unless ``create``."""
        health.check_folder(self.path, side_names(self.config.collection))
        if not create and not (self.path / health.SQLITE_FILE).exists():
            raise IndexNotFoundError(f"collection '{self.config.collection}' at {self.where}")
        try:
            client, epoch = Clients.get(self.path, write=create)
            if Clients.moved(self.path):  # replaced (a rebuild) since this process opened it
                client, epoch = Clients.reopen(self.path, epoch)
        except StoreError:
            raise
        except Exception as exc:
            if chroma.corrupt(exc):
                raise health.damaged(self.where, chroma.describe(exc)) from exc
            raise StoreError(
                f"Cannot open the Chroma store at {self.where} ({chroma.describe(exc)}). "
                "Check that the folder is writable, or set QA_STORE_DIR to another one."
            ) from exc
        self._opened = True
        return client, epoch

    def current(self) -> tuple[Any, int]:
        return Clients.current(self.path)

    def reopen(self, epoch: int) -> tuple[Any, int]:
        self._check_present()
        health.check_folder(self.path, side_names(self.config.collection))
        return Clients.reopen(self.path, epoch)

    def replaced(self) -> bool:
        return Clients.moved(self.path)

    def now(self, client: Any) -> float:
        return time.time()

    def fault(self, exc: Exception, write: bool) -> tuple[StoreError, bool]:
        where, what = self.where, chroma.describe(exc)
        if self._deleted():
            return StoreDeletedError(where), False
        if chroma.disk_full(exc) or (write and self._low_on_disk()):
            return chroma.disk_full_error(where, what), False
        try:  # damaged files, rather than another process writing?
            health.check_folder(self.path, side_names(self.config.collection))
        except StoreCorruptError as damaged:
            return damaged, False
        if chroma.corrupt(exc):
            return health.damaged(where, what), False
        if write:
            return StoreError(f"Writing to the store at {where} failed: {what}"), False
        # Most likely another process changed the store under this process' in-memory index.
        return StoreError(
            f"Reading the store at {where} failed ({what}). If another process is writing to it "
            "(qa ingest), ask again when it has finished."
        ), True

    def _deleted(self) -> bool:
        return self._opened and not (self.path / health.SQLITE_FILE).exists()

    def _check_present(self) -> None:
        if self._deleted():
            raise StoreDeletedError(self.where)

    def _low_on_disk(self) -> bool:
        """Whether the store's disk is (nearly) full; Chroma's own errors do not say."""
        try:
            return shutil.disk_usage(self.where).free < LOW_DISK_BYTES
        except OSError:
            return False

    # ---- writing

    @contextlib.contextmanager
    def write_lock(self, ledger: Ledger) -> Iterator[None]:
        """The lock file in the store folder (the kernel lets go when its holder dies)."""
        self._check_present()  # a lock file must not bring a deleted store's folder back
        with file_lock(self.config):
            yield None

    def set_aside(self) -> str | None:
        """Before a rebuild: move the folder aside when it is too damaged to open; what was done."""
        with file_lock(self.config):
            try:
                health.check_folder(self.path, side_names(self.config.collection))
                if (self.path / health.SQLITE_FILE).exists():
                    self.connect(create=True)
            except StoreCorruptError as exc:
                Clients.forget(self.path)
                moved = health.move_aside(self.path)
                return f"{exc} The damaged store was moved aside to {moved}."
        return None

    # ---- replicas: none; this machine's folder is all there is

    def replica_added(self, ledger: Ledger) -> set[str]:
        """Sources other replicas added: none."""
        return set()

    def note_added(self, ledger: Ledger, sources: list[str]) -> None:
        """Nothing to note: no replica's folder differs from this one."""

    def files(self, connection) -> None:
        """No copies of files are kept: the documents folder is all there is."""
        return None
