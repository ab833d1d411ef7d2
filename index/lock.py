"""The writer lock of a collection: one ingest at a time, on one machine or on many.

An embedded store keeps a lock file in its folder (``file_lock``): the kernel releases it when
the holder dies. A Chroma server is shared by machines that share no disk, so its lock is kept
in Chroma itself (``ChromaLease``): each writer puts a claim record into the collection's
bookkeeping collection, then reads the claims back once its write has landed, and holds the
lock only if no other live claim is there. Two writers cannot both see only their own claim
(whichever checked first would have seen the other's), so at most one holds it; when both see
each other both step back and try again after a random pause. A claim carries an expiry on the
server's clock (from Chroma's heartbeat, so machines' clocks do not matter), renewed by a
heartbeat thread; a holder that dies stops renewing and its claim lapses after ``lock_ttl``.
A claim also names its process (``index.liveness``): a writer on the same machine (same kernel
boot and pid namespace) that finds the holder's process gone clears its claim after
``DEAD_SETTLE_S`` instead of waiting out the expiry, so a new ingest after a crash does not
sit idle for two minutes.
A holder that cannot renew in time counts itself as having lost the lock, and its next write
fails (``Lease.check``) instead of racing the next holder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from index.config import StoreConfig
from index.errors import StoreLockedError
from index.flock import flocked
from index.ledger import Ledger
from index.liveness import gone, process_identity

log = logging.getLogger(__name__)

POLL_S = 0.5  # how often a waiting writer looks again
# A holder seen dead keeps its claim this long (at most the lease's lifetime): a write it sent
# just before it died has time to land before the next writer reads the collection.
DEAD_SETTLE_S = 10.0


@contextlib.contextmanager
def file_lock(config: StoreConfig) -> Iterator[None]:
    """Hold the collection's lock file in the store folder, waiting up to ``lock_wait``."""
    path = Path(config.store_dir) / f"{config.collection}.lock"
    deadline = time.monotonic() + config.lock_wait

    def waiting() -> None:
        log.warning("waiting for another ingest to finish (%s)", path)

    with flocked(path, deadline=deadline, waiting=waiting) as held:
        if not held:
            raise StoreLockedError(
                f"Another ingest is writing to collection '{config.collection}' "
                f"({path}). Wait for it to finish, then run again."
            )
        yield


class ChromaLease:
    """A writer's lease on a collection of a Chroma server, kept in its bookkeeping collection."""

    def __init__(self, ledger: Ledger, config: StoreConfig):
        self.ledger = ledger
        self.config = config
        self.where = ledger.connection.where
        self.ttl = max(1.0, config.lock_ttl)
        self.owner = uuid.uuid4().hex
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.identity = process_identity()
        self.settle = min(DEAD_SETTLE_S, self.ttl)
        self._dead_since: dict[str, float] = {}  # claim id -> when its holder was seen dead
        self._valid_until = 0.0  # monotonic time until which this process may write
        self._renewed = threading.Condition()  # notified after each renewal
        self._lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- taking and giving back

    def acquire(self) -> None:
        """Take the lease, waiting up to ``lock_wait`` for another holder; StoreLockedError if not."""
        deadline = time.monotonic() + self.config.lock_wait
        told = False
        while True:
            holder = self._try()
            if holder is None:
                self._thread = threading.Thread(target=self._beat, daemon=True,
                                                name=f"lease-{self.config.collection}")  # fmt: skip
                self._thread.start()
                log.info("lease on '%s' taken at %.3f by %s (process %d)",
                         self.config.collection, time.time(), self.owner, self.pid)  # fmt: skip
                return
            if time.monotonic() >= deadline:
                raise StoreLockedError(
                    f"Another ingest is writing to collection '{self.config.collection}' on "
                    f"{self.where} ({_who(holder)}). Wait for it to finish, then run again "
                    f"(a writer that died lets go within {self.ttl:.0f} s)."
                )
            if not told:
                log.warning("waiting for another writer (%s) to finish", _who(holder))
                told = True
            time.sleep(POLL_S * (0.5 + random.random()))

    def _try(self) -> dict | None:
        """One attempt: None when this process now holds the lease, else a live holder's record."""
        now = self._server_now()
        holder = self._live_other(now)
        if holder is not None:
            return holder
        t0 = time.monotonic()
        self.ledger.put_lease(self.owner, self._record(now))
        # Checked after the write has landed: another claim seen now means a race; both step back.
        holder = self._live_other(self._server_now())
        if holder is None:
            self._valid_until = t0 + self.ttl * 2 / 3
            return None
        self.ledger.delete([f"lease:{self.owner}"], fenced=False)
        return holder

    def _live_other(self, now: float) -> dict | None:
        live, lapsed = None, []
        for rid, meta in self.ledger.leases():
            if meta.get("owner") == self.owner:
                continue
            if float(meta.get("expires", 0)) <= now or self._settled_dead(rid, meta):
                lapsed.append(rid)  # a holder that died: its claim is cleared
            elif live is None:
                live = meta
        if lapsed:
            log.warning("cleared %d lease(s) of writers that died on '%s'", len(lapsed),
                        self.config.collection)  # fmt: skip
            self.ledger.delete(lapsed, fenced=False)
        return live

    def _settled_dead(self, rid: str, meta: dict) -> bool:
        """The claim's process is gone (same machine) and has been for ``settle`` seconds."""
        if not gone(meta):
            self._dead_since.pop(rid, None)
            return False
        seen = self._dead_since.setdefault(rid, time.monotonic())
        if time.monotonic() - seen < self.settle:
            return False
        log.info("the writer holding '%s' (%s) is gone", self.config.collection, _who(meta))
        return True

    def _record(self, now: float) -> dict:
        return {"host": self.host, "pid": self.pid, "expires": now + self.ttl,
                "renewed": now, **self.identity}  # fmt: skip

    def _server_now(self) -> float:
        return self.ledger.now()

    def release(self) -> None:
        """Give the lease back (a lost one is simply forgotten)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.ttl)
        if self._lost is None:
            try:
                self.ledger.delete([f"lease:{self.owner}"], fenced=False)
            except Exception as exc:  # it lapses by itself
                log.warning("could not release the lease (%s); it lapses in %.0f s", exc, self.ttl)
        log.info("lease on '%s' released at %.3f by %s", self.config.collection, time.time(),
                 self.owner)  # fmt: skip

    # ---- keeping it

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 5):
            try:
                self._renew()
            except Exception as exc:
                log.warning("lease renewal failed: %s", exc)
            if self._lost is None and time.monotonic() >= self._valid_until:
                self._lost = f"it could not be renewed within {self.ttl:.0f} s"
            if self._lost is not None:
                log.error("lost the lease on '%s': %s", self.config.collection, self._lost)
                return

    def _renew(self) -> None:
        t0 = time.monotonic()
        now = self._server_now()
        mine = dict(self.ledger.leases())
        record = mine.get(f"lease:{self.owner}")
        if record is None:
            self._lost = "another writer cleared it as lapsed"
            return
        # Renewed only with a third of its time left: another writer clears only lapsed claims,
        # so the claim cannot lapse between this check and the write below.
        if float(record.get("expires", 0)) - now < self.ttl / 3:
            self._lost = "it came too close to lapsing"
            return
        self.ledger.put_lease(self.owner, self._record(now))
        with self._renewed:
            self._valid_until = t0 + self.ttl * 2 / 3
            self._renewed.notify_all()

    def check(self) -> None:
        """Raise StoreLockedError if this writer no longer holds the lease (before each write).

        Once the lease has gone a third of its time without renewal, the write waits for the
        renewal first: a server busy with this writer's own stream of writes would otherwise
        let the renewal starve behind them.
        """
        with self._renewed:
            while (
                self._lost is None
                and self._valid_until - time.monotonic() < self.ttl / 3
                and time.monotonic() < self._valid_until
            ):
                self._renewed.wait(timeout=0.5)
        if self._lost is None and time.monotonic() >= self._valid_until:
            self._lost = f"it could not be renewed within {self.ttl:.0f} s"
        if self._lost is not None:
            raise StoreLockedError(
                f"This ingest lost its lock on collection '{self.config.collection}' "
                f"({self._lost}), so it stopped writing. What it wrote is kept; run the same "
                "command again to finish."
            )


def _who(meta: dict) -> str:
    return f"held by process {meta.get('pid', '?')} on {meta.get('host', '?')}"


@contextlib.contextmanager
def chroma_lease(ledger: Ledger, config: StoreConfig) -> Iterator[ChromaLease]:
    """Hold the collection's lease on a Chroma server for the duration of the block."""
    lease = ChromaLease(ledger, config)
    lease.acquire()
    try:
        yield lease
    finally:
        lease.release()
