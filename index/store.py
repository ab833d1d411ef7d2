"""The Chroma store: embedded by default, a Chroma server when ``QA_CHROMA_URL`` is set."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from index import chroma, health
from index.config import StoreConfig
from index.errors import IndexNotFoundError, ModelMismatchError, StoreError
from index.ledger import Ledger, ledger_name
from index.lock import chroma_lease, file_lock
from index.stored import FileState, StoredChunk, chunk_metadata, stored_chunk
from index.types import Chunk

__all__ = ["FileState", "Store", "StoredChunk", "drop_collection", "open_store"]

log = logging.getLogger(__name__)

RETRIES = 2  # a failed read (or any call to a Chroma server) is tried this many more times
BACKOFF_S = 0.5  # the first retry waits this long, each next one twice as long
FOLLOW_AT_MOST = 20  # a call repeated on a client reopened under it, at most this many times
SOURCES_PER_QUERY = 200  # sources named in one `$in` filter
SERVER_BATCH = 1000  # chunks in one write to a Chroma server
# (collection id, generation) of each embedded collection as this process last read or wrote it.
# When another process changes the store, Chroma's in-memory vector index here is stale and must
# be reloaded.
_SEEN: dict[tuple[str, str], tuple[str, int]] = {}
_SEEN_LOCK = threading.Lock()


def side_names(collection: str) -> list[str]:
    """A collection with its bookkeeping and file collections, as health checks name them."""
    from index.originals import files_name

    return [collection, ledger_name(collection), files_name(collection)]


class Store:
    """One Chroma collection of chunks, tagged with the embedding model that filled it.

    Every call to Chroma goes through ``call``: faults come out as StoreError with the fix, a
    Chroma server is retried (bounded, under one total deadline) while it restarts, and an
    embedded store reloads its in-memory index when another process has written to it.
    """

    def __init__(self, config: StoreConfig, model: str, dim: int, create: bool = True):
        self.config = config
        self.where = config.where
        self.model, self.dim = model, dim
        self._lease = None  # the ChromaLease while this store writes to a server
        self._side: dict[str, tuple[int, object]] = {}
        self._reload_lock = threading.RLock()  # two reloads would close each other's client
        self.ledger = Ledger(self)
        if not config.chroma_url:  # before Chroma loads anything: a damaged index can crash it
            health.check_folder(chroma.embedded_path(config), side_names(config.collection))
        self._client, self._epoch = chroma.connect(config)
        name = config.collection
        try:
            self._col = self._limit(lambda: self._open(name, create))
        except Exception as exc:
            missing = any(w in str(exc).lower() for w in ("does not exist", "not found"))
            if not create and missing:
                raise IndexNotFoundError(f"collection '{name}' at {self.where}") from exc
            raise self._fault(exc, write=create)[0] from exc
        self._sync()
        meta = self._col.metadata or {}
        stored = meta.get("embed_model")
        if stored and (stored != model or int(meta.get("embed_dim", dim)) != dim):
            raise ModelMismatchError(
                name, f"{stored} ({meta.get('embed_dim')} dims)", f"{model} ({dim} dims)"
            )

    def _open(self, name: str, create: bool):
        if create:
            return self._client.get_or_create_collection(
                name,
                metadata={"hnsw:space": "cosine", "embed_model": self.model, "embed_dim": self.dim},
                embedding_function=None,
            )
        return self._client.get_collection(name, embedding_function=None)

    def _limit(self, fn, seconds: float | None = None):
        """Run fn under the server deadline (an embedded store runs it as it is)."""
        if not self.config.chroma_url:
            return fn()
        return chroma.run_with_deadline(fn, self.config.timeout if seconds is None else seconds)

    # ---- every call

    def call(self, fn, write: bool = False, fenced: bool = True):
        """Run one Chroma operation; a fault becomes a StoreError that says the fix.

        A fenced write first checks that this writer still holds its lease (Chroma server).
        """
        if write and fenced and self._lease is not None:
            self._lease.check()
        deadline = time.monotonic() + self.config.timeout
        attempt = followed = 0
        while True:
            col = None
            try:
                with self._reload_lock:  # the client and collection of one epoch, together
                    self._follow()
                    col = self._col
                return self._limit(fn, deadline - time.monotonic())
            except StoreError:
                raise
            except Exception as exc:
                self._side.clear()  # a collection recreated elsewhere is looked up again
                err, retry = self._fault(exc, write)
                # A client another thread or store here reopened meanwhile fails mid-call: no
                # fault; the call (an idempotent read, upsert or delete) goes to the new client.
                with self._reload_lock:  # waits for a reload under way to finish
                    replaced = self._col is not col or self._client_replaced()
                if replaced and followed < FOLLOW_AT_MOST:
                    followed += 1
                    log.info("store call met a reopened client (%s); repeated on the new one", exc)
                    continue
                wait = BACKOFF_S * 2**attempt
                late = self.config.chroma_url and time.monotonic() + wait >= deadline
                if not retry or attempt == RETRIES or late:
                    raise err from exc
                attempt += 1
                log.warning("store call failed (%s); retry %d of %d", exc, attempt, RETRIES)
                time.sleep(wait)
                with contextlib.suppress(Exception):  # the retry reports it if this fails
                    self._reopen()

    def _fault(self, exc: Exception, write: bool) -> tuple[StoreError, bool]:
        """The StoreError for a failed call, and whether another try may help."""
        return chroma.fault(exc, self.config, write, write and chroma.low_on_disk(self.config))

    def _reopen(self) -> None:
        """Load the embedded store afresh (a Chroma server needs only the collection again)."""
        with self._reload_lock:
            client, epoch = self._client, self._epoch
            if not self.config.chroma_url:
                path = chroma.embedded_path(self.config)
                health.check_folder(path, side_names(self.config.collection))
                client, epoch = chroma.Clients.reopen(path, self._epoch)
            name = self.config.collection
            col = self._limit(lambda: client.get_collection(name, embedding_function=None))
            self._client, self._epoch, self._col = client, epoch, col
        log.info("reopened the store at %s", self.where)

    def _reread(self) -> None:
        """Read the collection's record again (its metadata), from the current client."""

        def fetch():
            client = self._client
            return client, client.get_collection(self.config.collection, embedding_function=None)

        client, col = self.call(fetch)
        with self._reload_lock:
            if client is self._client:  # not a record from a client reopened meanwhile
                self._col = col

    def _client_replaced(self) -> bool:
        if self.config.chroma_url:
            return False
        return chroma.Clients.get(chroma.embedded_path(self.config))[1] != self._epoch

    def _follow(self) -> None:
        """Use the folder's current client if another store in this process reopened it."""
        if self.config.chroma_url:
            return
        client, epoch = chroma.Clients.get(chroma.embedded_path(self.config))
        if epoch != self._epoch:
            col = client.get_collection(self.config.collection, embedding_function=None)
            self._client, self._epoch, self._col = client, epoch, col

    def _sync(self) -> None:
        """Reload the embedded store if another process changed it since this process looked."""
        if self.config.chroma_url:
            return
        key = (self.where, self.config.collection)
        with self._reload_lock:
            now = (str(self._col.id), self.generation)
            with _SEEN_LOCK:
                seen = _SEEN.get(key)
                # Only a newer generation (or a recreated collection) means another process
                # wrote: an older one is a read that raced this process' own bump.
                stale = seen is not None and (seen[0] != now[0] or now[1] > seen[1])
                if seen is None:
                    _SEEN[key] = now
            if stale or chroma.Clients.moved(chroma.embedded_path(self.config)):
                # Noted only once reloaded: a damaged store keeps saying so until it is rebuilt.
                self._reopen()
                with _SEEN_LOCK:
                    _SEEN[key] = (str(self._col.id), self.generation)

    def side_collection(self, name: str):
        """A bookkeeping collection beside this one (created on first use); call inside ``call``."""
        cached = self._side.get(name)
        if cached is not None and cached[0] == self._epoch:
            return cached[1]
        col = self._client.get_or_create_collection(
            name, metadata={"qa": "bookkeeping"}, embedding_function=None
        )
        self._side[name] = (self._epoch, col)
        return col

    def server_time(self) -> float:
        """Seconds since the epoch on the store's clock (a Chroma server's own, else this one's)."""
        if not self.config.chroma_url:
            return time.time()
        return self.call(lambda: self._client.heartbeat()) / 1e9

    # ---- reading

    def count(self) -> int:
        """Number of chunks stored."""
        return self.call(lambda: self._col.count())

    @property
    def collection_id(self) -> str:
        """The collection's id: a new one after a rebuild."""
        return str(self._col.id)

    @property
    def generation(self) -> int:
        """A counter that every changing ingest bumps; caches built on the store compare it."""
        return int((self._col.metadata or {}).get("generation", 0))

    @property
    def recipe(self) -> str | None:
        """How the stored chunks were cut (``index.chunk.recipe``); None when not recorded."""
        meta = self._col.metadata or {}
        return str(meta["chunking"]) if "chunking" in meta else None

    def set_recipe(self, recipe: str) -> None:
        """Record how the stored chunks were cut."""
        if self.recipe == recipe:  # the usual case: nothing to write, no call to make
            return
        self._reread()
        meta = dict(self._col.metadata or {})
        if meta.get("chunking") == recipe:
            return
        meta["chunking"] = recipe
        meta.pop("hnsw:space", None)  # set at creation; Chroma refuses to modify it
        self.call(lambda: self._col.modify(metadata=meta), write=True)

    def refresh_generation(self) -> int:
        """Re-read the collection's metadata (another process may have ingested)."""
        self._reread()
        self._sync()
        return self.generation

    def check(self) -> None:
        """StoreCorruptError when the vector index answers nothing although chunks are stored."""
        probe = np.zeros(self.dim, dtype=np.float32)
        probe[0] = 1.0
        self.query(probe, 1)

    def file_states(self, sources: Iterable[str] | None = None) -> dict[str, FileState]:
        """Per source (all, or the given ones): which file versions are stored, how many chunks."""
        hashes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        n_chunks: dict[str, int] = {}
        titles: dict[str, str] = {}
        pages: dict[str, int] = {}
        for meta in self._iter_metadatas(sources):
            src, h = meta["source"], meta["file_hash"]
            hashes[src][h] += 1
            n_chunks[src] = int(meta["n_chunks"])
            titles[src] = meta.get("title") or ""
            if meta.get("page_end") is not None:
                pages[src] = max(pages.get(src, 0), int(meta["page_end"]))
        return {
            s: FileState(dict(hs), n_chunks[s], titles[s], pages.get(s)) for s, hs in hashes.items()
        }

    def _iter_metadatas(self, sources: Iterable[str] | None) -> Iterator[dict]:
        if sources is not None:
            names = sorted(set(sources))
            for i in range(0, len(names), SOURCES_PER_QUERY):
                where = {"source": {"$in": names[i : i + SOURCES_PER_QUERY]}}
                yield from self.call(lambda w=where: self._col.get(where=w, include=["metadatas"]))[
                    "metadatas"
                ]
            return
        batch = 10_000 if self.config.chroma_url else 50_000  # each call within the deadline
        for offset in range(0, self.count(), batch):
            got = self.call(
                lambda o=offset: self._col.get(include=["metadatas"], limit=batch, offset=o)
            )
            yield from got["metadatas"]

    def iter_chunks(self, batch: int | None = None) -> Iterator[list[StoredChunk]]:
        """Every chunk with its text, a batch at a time (Chroma's order)."""
        batch = batch or (5_000 if self.config.chroma_url else 20_000)
        for offset in range(0, self.count(), batch):
            got = self.call(
                lambda o=offset: self._col.get(
                    include=["metadatas", "documents"], limit=batch, offset=o
                )
            )
            yield _chunks(got)

    def all_chunks(self) -> list[StoredChunk]:
        """Every chunk with its text, in a stable order."""
        out = [c for part in self.iter_chunks() for c in part]
        out.sort(key=lambda c: (c.source, c.start, c.id))
        return out

    def chunks_of(self, sources: Iterable[str]) -> list[StoredChunk]:
        """Every stored chunk of these sources."""
        names = sorted(set(sources))
        out: list[StoredChunk] = []
        for i in range(0, len(names), SOURCES_PER_QUERY):
            where = {"source": {"$in": names[i : i + SOURCES_PER_QUERY]}}
            got = self.call(
                lambda w=where: self._col.get(where=w, include=["metadatas", "documents"])
            )
            out += _chunks(got)
        return out

    def source_chunks(self, source: str) -> list[StoredChunk]:
        """Every stored chunk of one source, in document order."""
        got = self.call(
            lambda: self._col.get(where={"source": source}, include=["metadatas", "documents"])
        )
        return sorted(_chunks(got), key=lambda c: (c.start, c.end))

    def get(self, ids: Sequence[str]) -> dict[str, StoredChunk]:
        """Chunks by id (missing ids are left out)."""
        if not ids:
            return {}
        got = self.call(lambda: self._col.get(ids=list(ids), include=["metadatas", "documents"]))
        return {c.id: c for c in _chunks(got)}

    def query(self, vector: np.ndarray, k: int, sources: Iterable[str] | None = None):
        """The k nearest chunks (of ``sources`` only, if given) by cosine, best first."""
        # No count first (a scan of the records at a million chunks): Chroma returns fewer
        # than k when it has fewer, and none only when it is empty, or its index is damaged.
        where = None if sources is None else {"source": {"$in": sorted(sources)}}
        res = self.call(lambda: self._col.query(
            query_embeddings=[vector.tolist()], n_results=k, where=where,
            include=["metadatas", "documents", "distances"],
        ))  # fmt: skip
        if not res["ids"][0] and where is None and (n := self.count()):
            raise health.damaged(
                self.where,
                f"collection '{self.config.collection}' holds {n:,} chunks but its vector "
                "index returned none",
            )
        return [
            stored_chunk(cid, doc, meta, 1.0 - float(dist))
            for cid, doc, meta, dist in zip(
                res["ids"][0],
                res["documents"][0],
                res["metadatas"][0],
                res["distances"][0],
                strict=True,
            )
        ]

    def cosine(self, ids: list[str], vector: np.ndarray) -> dict[str, float]:
        """Cosine similarity of the given chunks to a unit vector."""
        got = self.call(lambda: self._col.get(ids=ids, include=["embeddings"]))
        emb = np.asarray(got["embeddings"], dtype=np.float32)
        if emb.size == 0:
            return {}
        sims = emb @ vector / np.clip(np.linalg.norm(emb, axis=1), 1e-12, None)
        return dict(zip(got["ids"], sims.tolist(), strict=True))

    # ---- writing

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Write chunks with their vectors (ids are content-derived, so a repeat is harmless)."""
        # A server gets short requests, so that the lease's renewals (and readers) get a turn.
        most = SERVER_BATCH if self.config.chroma_url else 5000
        step = max(1, min(most, self.call(lambda: self._client.get_max_batch_size())))
        for s in range(0, len(chunks), step):
            part = chunks[s : s + step]
            self.call(lambda part=part, s=s: self._col.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[s : s + step],
                documents=[c.text for c in part],
                metadatas=[chunk_metadata(c) for c in part],
            ), write=True)  # fmt: skip

    def delete_source(self, source: str, keep_hash: str | None = None) -> None:
        """Remove a source's chunks, all of them or all but one file version."""
        where: dict = {"source": source}
        if keep_hash:
            where = {"$and": [{"source": source}, {"file_hash": {"$ne": keep_hash}}]}
        self.call(lambda: self._col.delete(where=where), write=True)

    def bump_generation(self, changed: Iterable[str] | None = None, phase: str = "end") -> int:
        """Mark the collection as changed, for caches such as the keyword index.

        ``changed``: the sources this change touches (None: unknown, caches rebuild whole); they
        go into the change feed first, so a cache that sees the new generation finds them.
        """
        # Read afresh: another process may have bumped it since this object last looked.
        self._reread()
        meta = dict(self._col.metadata or {})
        meta["generation"] = int(meta.get("generation", 0)) + 1
        meta.pop("hnsw:space", None)  # set at creation; Chroma refuses to modify it
        self.ledger.record_change(meta["generation"], changed, phase)
        # Under the lock, so that no reader here takes this process' own bump for another's.
        with _SEEN_LOCK:
            self.call(lambda: self._col.modify(metadata=meta), write=True)
            _SEEN[(self.where, self.config.collection)] = (str(self._col.id), meta["generation"])
        return meta["generation"]

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold the collection's writer lock: a file lock here, a lease on a Chroma server."""
        if not self.config.chroma_url:
            with file_lock(self.config):
                yield
            return
        with chroma_lease(self.ledger, self.config) as lease:
            self._lease = lease
            try:
                yield
            finally:
                self._lease = None


def _chunks(got: dict) -> list[StoredChunk]:
    return [
        stored_chunk(cid, doc, meta)
        for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    ]


def open_store(config: StoreConfig, model: str, dim: int, create: bool = True) -> Store:
    """Open (or create) the configured collection for this embedding model."""
    return Store(config, model, dim, create=create)


def drop_collection(config: StoreConfig) -> bool:
    """Delete the configured collection; False if there was none."""
    client, _ = chroma.connect(config)
    try:
        client.delete_collection(config.collection)
    except Exception:
        return False
    return True
