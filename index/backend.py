"""The one seam between the index and where its Chroma lives.

Two backends implement it: ``index.embedded.Embedded`` (a store folder on this machine) and
``index.chroma_server.Server`` (a Chroma server shared by replicas). ``index.backends`` picks
one, once, from the store's configuration; nothing else asks which one it has.

- **connect**: reach Chroma, follow it, say what went wrong (``index.connection.Reach``);
- **write lock**: one writer at a time (a lock file, or a lease kept in Chroma);
- **replica bookkeeping**: what other replicas added, and where indexed files' bytes are kept;
- **prune policy**: whether the app's ingest mirrors its documents folder.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from index.connection import Connection, Lease, Reach
from index.ledger import Ledger
from index.originals import Originals


class Backend(Reach, Protocol):
    """Where one collection's Chroma lives, and how it behaves there."""

    identity: str  # names this store among all (a resolved folder, or a URL): caches key on it
    mirrors_folder: bool  # the app's ingest removes documents that left its folder
    read_batch: int  # records whose metadata one call reads
    text_batch: int  # chunks one call reads with their text
    write_batch: int  # chunks one call writes

    def write_lock(self, ledger: Ledger) -> AbstractContextManager[Lease | None]:
        """Hold the collection's writer lock; yields the lease to check before writes, if any."""

    def set_aside(self) -> str | None:
        """Before a rebuild: move a store too damaged to open out of the way; what was done."""

    def replica_added(self, ledger: Ledger) -> set[str]:
        """Sources other replicas added (uploads): an ingest mirroring a folder keeps them."""

    def note_added(self, ledger: Ledger, sources: list[str]) -> None:
        """Remember sources an ingest that mirrors no folder added (for the rule above)."""

    def files(self, connection: Connection) -> Originals | None:
        """Where indexed files' bytes are kept for replicas that lack the file (None: nowhere)."""
