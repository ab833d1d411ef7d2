"""The connection layer: one collection's Chroma client, under the chunk store, the ledger, the
originals and the writer's lease.

Every call to Chroma goes through ``Connection.call``: a fault comes out as a StoreError that
says the fix, a Chroma server is retried (bounded, under one total deadline) while it restarts,
and a call that met a client reopened under it is repeated on the new one. What differs
between an embedded store and a Chroma server is asked of the backend (``Reach`` here, the
whole seam in ``index.backend``); this module never asks which one it has.

Processes follow each other's writes by the collection's generation (a counter in its
metadata that every changing write bumps). Where the vector index lives in this process
(embedded Chroma), another process' write leaves it stale: a newer generation, a recreated
collection or a database replaced under the client makes the connection reopen its client.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from index import chroma
from index.config import StoreConfig
from index.errors import IndexNotFoundError, StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRIES = 2  # a failed read (or any call to a Chroma server) is tried this many more times
BACKOFF_S = 0.5  # the first retry waits this long, each next one twice as long
FOLLOW_AT_MOST = 20  # a call repeated on a client reopened under it, at most this many times
BOOKKEEPING = {"qa": "bookkeeping"}  # the metadata of a side collection

# (collection id, generation) of each collection as this process last read or wrote it, by
# (store, collection). Only a newer one (or another id) means that another process wrote.
_SEEN: dict[tuple[str, str], tuple[str, int]] = {}
_SEEN_LOCK = threading.Lock()


class Lease(Protocol):
    """A writer's hold on a collection that can be lost (a lease on a Chroma server)."""

    def check(self) -> None:
        """Raise StoreLockedError when the hold is lost (before each write)."""


class Reach(Protocol):
    """What a connection needs of its backend: how Chroma is reached and how it fails."""

    config: StoreConfig
    where: str  # the store in words: the embedded store's folder, or the server's URL
    deadline: float | None  # a call's total deadline, retries included (None: none)
    in_memory: bool  # the vector index is loaded into this process, so others' writes stale it

    def connect(self, create: bool) -> tuple[Any, int]:
        """A client and its epoch; StoreError (IndexNotFoundError when not ``create``) if not."""

    def current(self) -> tuple[Any, int]:
        """This process' current client and epoch (another connection may have reopened it)."""

    def reopen(self, epoch: int) -> tuple[Any, int]:
        """A client that reads the store afresh (unless one newer than ``epoch`` is at hand)."""

    def replaced(self) -> bool:
        """Whether the store's files were replaced (or removed) under the client."""

    def fault(self, exc: Exception, write: bool) -> tuple[StoreError, bool]:
        """The StoreError for a failed call, with the fix, and whether another try may help."""

    def now(self, client: Any) -> float:
        """Seconds since the epoch on the store's clock."""


class Connection:
    """A client of one collection's store, the collection, and its side collections."""

    def __init__(
        self, backend: Reach, name: str, *, create: bool, metadata: dict | None = None
    ) -> None:
        self.backend = backend
        self.name = name
        self.where = backend.where
        self.lease: Lease | None = None  # set while this connection's writer holds one
        self._side: dict[str, tuple[int, Any]] = {}
        self._reload_lock = threading.RLock()  # two reloads would close each other's client
        self._client, self._epoch = backend.connect(create)
        try:
            self.collection = self.run(lambda: self._open(create, metadata))
        except StoreError:
            raise
        except Exception as exc:
            if not create and chroma.missing(exc):
                raise IndexNotFoundError(f"collection '{name}' at {self.where}") from exc
            raise backend.fault(exc, create)[0] from exc
        self.follow_writes()

    def _open(self, create: bool, metadata: dict | None):
        if create:
            return self._client.get_or_create_collection(
                self.name, metadata=metadata, embedding_function=None
            )
        return self._client.get_collection(self.name, embedding_function=None)

    def run(self, fn: Callable[[], T], seconds: float | None = None) -> T:
        """``fn()`` under the backend's deadline (where it has one)."""
        deadline = self.backend.deadline
        return chroma.within(fn, deadline if seconds is None or deadline is None else seconds)

    # ---- every call

    def call(self, fn: Callable[[], T], write: bool = False, fenced: bool = True) -> T:
        """Run one Chroma operation; a fault becomes a StoreError that says the fix.

        A fenced write first checks that this writer still holds its lease.
        """
        if write and fenced and self.lease is not None:
            self.lease.check()
        total = self.backend.deadline
        deadline = time.monotonic() + (total or 0.0)
        attempt = followed = 0
        while True:
            epoch = None
            try:
                with self._reload_lock:  # the client and collection of one epoch, together
                    self._follow()
                    epoch = self._epoch
                return self.run(fn, deadline - time.monotonic())
            except StoreError:
                raise
            except Exception as exc:
                self._side.clear()  # a collection recreated elsewhere is looked up again
                err, retry = self.backend.fault(exc, write)
                # A client another thread or store here reopened meanwhile fails mid-call: no
                # fault; the call (an idempotent read, upsert or delete) goes to the new client.
                with self._reload_lock:  # waits for a reload under way to finish
                    replaced = self._epoch != epoch or self.backend.current()[1] != self._epoch
                if replaced and followed < FOLLOW_AT_MOST:
                    followed += 1
                    log.info("store call met a reopened client (%s); repeated on the new one", exc)
                    continue
                wait = BACKOFF_S * 2**attempt
                late = total is not None and time.monotonic() + wait >= deadline
                if not retry or attempt == RETRIES or late:
                    raise err from exc
                attempt += 1
                log.warning("store call failed (%s); retry %d of %d", exc, attempt, RETRIES)
                time.sleep(wait)
                with contextlib.suppress(Exception):  # the retry reports it if this fails
                    self._reopen()

    def side(self, name: str):
        """A side collection (created on first use); call inside ``call``."""
        cached = self._side.get(name)
        if cached is not None and cached[0] == self._epoch:
            return cached[1]
        col = self._client.get_or_create_collection(
            name, metadata=BOOKKEEPING, embedding_function=None
        )
        self._side[name] = (self._epoch, col)
        return col

    def drop(self, name: str) -> None:
        """Delete a collection of this store; call inside ``call``."""
        self._client.delete_collection(name)

    def max_batch(self) -> int:
        """The most records Chroma takes in one write."""
        return self.call(lambda: self._client.get_max_batch_size())

    def now(self) -> float:
        """Seconds since the epoch on the store's clock (a Chroma server's own, else ours)."""
        return self.call(lambda: self.backend.now(self._client))

    # ---- the collection's record and generation

    @property
    def metadata(self) -> dict:
        """The collection's metadata as last read."""
        return dict(self.collection.metadata or {})

    @property
    def generation(self) -> int:
        """A counter that every changing write bumps; caches built on the store compare it."""
        return int(self.metadata.get("generation", 0))

    def reread(self) -> None:
        """Read the collection's record again (its metadata), from the current client."""

        def fetch():
            client = self._client
            return client, client.get_collection(self.name, embedding_function=None)

        client, col = self.call(fetch)
        with self._reload_lock:
            if client is self._client:  # not a record from a client reopened meanwhile
                self.collection = col

    def write_metadata(self, metadata: dict, bumped: bool = False) -> None:
        """Replace the collection's metadata. ``bumped``: it carries a new generation, noted as
        this process' own write (under the lock, so no reader here takes it for another's)."""
        metadata = {k: v for k, v in metadata.items() if k != "hnsw:space"}  # Chroma refuses it
        # The locks in the order ``follow_writes`` takes them (this connection's, then the
        # process's): the other order let a remove and a question deadlock.
        with self._reload_lock, _SEEN_LOCK:
            self.call(lambda: self.collection.modify(metadata=metadata), write=True)
            if bumped:
                _SEEN[self._key()] = (str(self.collection.id), int(metadata["generation"]))

    def follow_writes(self) -> None:
        """Reload the store if another process changed it since this process looked."""
        if not self.backend.in_memory:
            return
        key = self._key()
        with self._reload_lock:
            now = (str(self.collection.id), self.generation)
            with _SEEN_LOCK:
                seen = _SEEN.get(key)
                # Only a newer generation (or a recreated collection) means another process
                # wrote: an older one is a read that raced this process' own bump.
                stale = seen is not None and (seen[0] != now[0] or now[1] > seen[1])
                if seen is None:
                    _SEEN[key] = now
            if stale or self.backend.replaced():
                # Noted only once reloaded: a damaged store keeps saying so until it is rebuilt.
                try:
                    self._reopen()
                except StoreError:
                    raise
                except Exception as exc:
                    raise self.backend.fault(exc, False)[0] from exc
                with _SEEN_LOCK:
                    _SEEN[key] = (str(self.collection.id), self.generation)

    def reconnect(self, metadata: dict) -> None:
        """Open the collection again, creating it, after it was dropped (a rebuild)."""
        with self._reload_lock:
            client, epoch = self.backend.connect(True)
            col = self.run(lambda: client.get_or_create_collection(
                self.name, metadata=metadata, embedding_function=None))  # fmt: skip
            self._client, self._epoch, self.collection = client, epoch, col
            self._side.clear()

    # ---- following reopened clients

    def _key(self) -> tuple[str, str]:
        return (self.where, self.name)

    def _follow(self) -> None:
        """Use this process' current client if another connection here reopened it."""
        client, epoch = self.backend.current()
        if client is not None and epoch != self._epoch:
            col = client.get_collection(self.name, embedding_function=None)
            self._client, self._epoch, self.collection = client, epoch, col

    def _reopen(self) -> None:
        """Read the store afresh (an embedded one gets a new client; a server, the collection)."""
        with self._reload_lock:
            client, epoch = self.backend.reopen(self._epoch)
            col = self.run(lambda: client.get_collection(self.name, embedding_function=None))
            self._client, self._epoch, self.collection = client, epoch, col
        log.info("reopened the store at %s", self.where)
