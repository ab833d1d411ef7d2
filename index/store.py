"""The Chroma store: embedded by default, a Chroma server when ``QA_CHROMA_URL`` is set."""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from index import chroma
from index.config import StoreConfig
from index.errors import IndexNotFoundError, ModelMismatchError, StoreError
from index.lock import file_lock
from index.types import Chunk

log = logging.getLogger(__name__)

RETRIES = 2  # a failed read (or any call to a Chroma server) is tried this many more times
BACKOFF_S = 0.5  # the first retry waits this long, each next one twice as long
LOW_DISK_BYTES = 16 << 20  # a failed write with less free space than this is a full disk
# (collection id, generation) of each embedded collection as this process last read or wrote it.
# When another process changes the store, Chroma's in-memory vector index here is stale and must
# be reloaded.
_SEEN: dict[tuple[str, str], tuple[str, int]] = {}
_SEEN_LOCK = threading.Lock()


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from the store, with a retrieval score where one applies."""

    id: str
    source: str
    start: int
    end: int
    text: str
    title: str = ""
    score: float = 0.0
    page: int | None = None
    page_end: int | None = None


@dataclass(frozen=True)
class FileState:
    """What the store holds for one source file."""

    hashes: dict[str, int]  # file hash -> chunks present
    n_chunks: int  # chunks the newest ingest of that file wrote
    title: str = ""
    pages: int | None = None  # the last page a chunk reaches, for a paginated document

    def complete(self, file_hash: str) -> bool:
        """True when exactly the chunks of this version, and all of them, are stored."""
        return set(self.hashes) == {file_hash} and self.hashes[file_hash] == self.n_chunks


class Store:
    """One Chroma collection of chunks, tagged with the embedding model that filled it.

    Every call to Chroma goes through ``_call``: faults come out as StoreError with the fix, a
    Chroma server is retried (bounded) while it restarts, and an embedded store reloads its
    in-memory index when another process has written to it.
    """

    def __init__(self, config: StoreConfig, model: str, dim: int, create: bool = True):
        self.config = config
        self.where = config.where
        self.model, self.dim = model, dim
        self._client, self._epoch = chroma.connect(config)
        name = config.collection
        try:
            if create:
                self._col = self._client.get_or_create_collection(
                    name,
                    metadata={"hnsw:space": "cosine", "embed_model": model, "embed_dim": dim},
                    embedding_function=None,
                )
            else:
                self._col = self._client.get_collection(name, embedding_function=None)
        except Exception as exc:
            missing = any(w in str(exc).lower() for w in ("does not exist", "not found"))
            if not create and missing:
                raise IndexNotFoundError(f"collection '{name}' at {self.where}") from exc
            raise StoreError(f"Cannot open collection '{name}' at {self.where}: {exc}") from exc
        self._sync()
        meta = self._col.metadata or {}
        stored = meta.get("embed_model")
        if stored and (stored != model or int(meta.get("embed_dim", dim)) != dim):
            raise ModelMismatchError(
                name, f"{stored} ({meta.get('embed_dim')} dims)", f"{model} ({dim} dims)"
            )

    # ---- reading

    def _call(self, fn, write: bool = False):
        """Run one Chroma operation; a fault becomes a StoreError that says the fix."""
        for attempt in range(RETRIES + 1):
            try:
                self._follow()
                return fn()
            except StoreError:
                raise
            except Exception as exc:
                err, retry = self._fault(exc, write)
                # A client that another store here reopened meanwhile fails mid-call; the call
                # (an idempotent read, upsert or delete) is repeated on the new client.
                retry = retry or self._client_replaced()
                if not retry or attempt == RETRIES:
                    raise err from exc
                log.warning("store call failed (%s); retry %d of %d", exc, attempt + 1, RETRIES)
                time.sleep(BACKOFF_S * 2**attempt)
                with contextlib.suppress(Exception):  # the retry reports it if this fails
                    self._reopen()
        raise AssertionError("unreachable")  # pragma: no cover

    def _fault(self, exc: Exception, write: bool) -> tuple[StoreError, bool]:
        """The StoreError for a failed call, and whether another try may help."""
        what = f"{type(exc).__name__}: {str(exc)[:300]}"
        if chroma.disk_full(exc) or (write and self._low_on_disk()):
            return StoreError(
                f"The disk holding the store at {self.where} is full ({what}). Free some space "
                "(or set QA_STORE_DIR to a disk with room) and run the same command again; "
                "what was indexed before is kept."
            ), False
        if self.config.chroma_url:
            if chroma.unreachable(exc):
                return StoreError(
                    f"Cannot reach the Chroma server at {self.where} ({what}). "
                    + chroma.start_server_hint(self.where)
                ), True
            return StoreError(f"The Chroma server at {self.where} failed: {what}"), False
        if write:
            return StoreError(f"Writing to the store at {self.where} failed: {what}"), False
        # Most likely another process changed the store under this process' in-memory index.
        return StoreError(
            f"Reading the store at {self.where} failed ({what}). If another process is "
            "writing to it (qa ingest), ask again when it has finished."
        ), True

    def _low_on_disk(self) -> bool:
        """Whether the embedded store's disk is (nearly) full; Chroma's own errors do not say."""
        if self.config.chroma_url:
            return False
        try:
            return shutil.disk_usage(self.where).free < LOW_DISK_BYTES
        except OSError:
            return False

    def _reopen(self) -> None:
        """Load the embedded store afresh (a Chroma server needs only the collection again)."""
        if not self.config.chroma_url:
            self._client, self._epoch = chroma.Clients.reopen(
                chroma.embedded_path(self.config), self._epoch
            )
        self._col = self._client.get_collection(self.config.collection, embedding_function=None)
        log.info("reopened the store at %s", self.where)

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
            self._client, self._epoch = client, epoch
            self._col = client.get_collection(self.config.collection, embedding_function=None)

    def _sync(self) -> None:
        """Reload the embedded store if another process changed it since this process looked."""
        if self.config.chroma_url:
            return
        key = (self.where, self.config.collection)
        now = (str(self._col.id), self.generation)
        with _SEEN_LOCK:
            seen = _SEEN.get(key)
            # Only a newer generation (or a recreated collection) means another process wrote:
            # an older one is a read that raced this process' own bump (see bump_generation).
            stale = seen is not None and (seen[0] != now[0] or now[1] > seen[1])
            if seen is None or stale:
                _SEEN[key] = now
        if stale:
            self._reopen()

    def count(self) -> int:
        """Number of chunks stored."""
        return self._call(lambda: self._col.count())

    @property
    def generation(self) -> int:
        """A counter that every changing ingest bumps; caches built on the store compare it."""
        return int((self._col.metadata or {}).get("generation", 0))

    def refresh_generation(self) -> int:
        """Re-read the collection's metadata (another process may have ingested)."""
        self._col = self._call(
            lambda: self._client.get_collection(self.config.collection, embedding_function=None)
        )
        self._sync()
        return self.generation

    def file_states(self) -> dict[str, FileState]:
        """Per source: which file versions are stored and how many chunks each."""
        hashes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        n_chunks: dict[str, int] = {}
        titles: dict[str, str] = {}
        pages: dict[str, int] = {}
        for meta in self._iter_metadatas():
            src, h = meta["source"], meta["file_hash"]
            hashes[src][h] += 1
            n_chunks[src] = int(meta["n_chunks"])
            titles[src] = meta.get("title") or ""
            if meta.get("page_end") is not None:
                pages[src] = max(pages.get(src, 0), int(meta["page_end"]))
        return {
            s: FileState(dict(hs), n_chunks[s], titles[s], pages.get(s)) for s, hs in hashes.items()
        }

    def _iter_metadatas(self) -> Iterator[dict]:
        batch = 50_000
        for offset in range(0, self.count(), batch):
            got = self._call(
                lambda o=offset: self._col.get(include=["metadatas"], limit=batch, offset=o)
            )
            yield from got["metadatas"]

    def all_chunks(self) -> list[StoredChunk]:
        """Every chunk with its text (for the keyword index), in a stable order."""
        out: list[StoredChunk] = []
        batch = 20_000
        for offset in range(0, self.count(), batch):
            got = self._call(
                lambda o=offset: self._col.get(
                    include=["metadatas", "documents"], limit=batch, offset=o
                )
            )
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                out.append(_stored(cid, doc, meta))
        out.sort(key=lambda c: (c.source, c.start, c.id))
        return out

    def source_chunks(self, source: str) -> list[StoredChunk]:
        """Every stored chunk of one source, in document order."""
        got = self._call(
            lambda: self._col.get(where={"source": source}, include=["metadatas", "documents"])
        )
        chunks = [
            _stored(cid, doc, meta)
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(chunks, key=lambda c: (c.start, c.end))

    def get(self, ids: Sequence[str]) -> dict[str, StoredChunk]:
        """Chunks by id (missing ids are left out)."""
        if not ids:
            return {}
        got = self._call(lambda: self._col.get(ids=list(ids), include=["metadatas", "documents"]))
        return {
            cid: _stored(cid, doc, meta)
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }

    def query(self, vector: np.ndarray, k: int) -> list[StoredChunk]:
        """The k nearest chunks by cosine similarity, best first."""
        n = self.count()
        if n == 0:
            return []
        res = self._call(
            lambda: self._col.query(
                query_embeddings=[vector.tolist()],
                n_results=min(k, n),
                include=["metadatas", "documents", "distances"],
            )
        )
        return [
            _stored(cid, doc, meta, 1.0 - float(dist))
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
        got = self._call(lambda: self._col.get(ids=ids, include=["embeddings"]))
        emb = np.asarray(got["embeddings"], dtype=np.float32)
        if emb.size == 0:
            return {}
        sims = emb @ vector / np.clip(np.linalg.norm(emb, axis=1), 1e-12, None)
        return dict(zip(got["ids"], sims.tolist(), strict=True))

    # ---- writing

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Write chunks with their vectors (ids are content-derived, so a repeat is harmless)."""
        step = max(1, min(5000, self._call(lambda: self._client.get_max_batch_size())))
        for s in range(0, len(chunks), step):
            part = chunks[s : s + step]
            self._call(lambda part=part, s=s: self._col.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[s : s + step],
                documents=[c.text for c in part],
                metadatas=[_metadata(c) for c in part],
            ), write=True)  # fmt: skip

    def delete_source(self, source: str, keep_hash: str | None = None) -> None:
        """Remove a source's chunks, all of them or all but one file version."""
        where: dict = {"source": source}
        if keep_hash:
            where = {"$and": [{"source": source}, {"file_hash": {"$ne": keep_hash}}]}
        self._call(lambda: self._col.delete(where=where), write=True)

    def bump_generation(self) -> int:
        """Mark the collection as changed, for caches such as the keyword index."""
        # Read afresh: another process may have bumped it since this object last looked.
        self._col = self._call(
            lambda: self._client.get_collection(self.config.collection, embedding_function=None)
        )
        meta = dict(self._col.metadata or {})
        meta["generation"] = int(meta.get("generation", 0)) + 1
        meta.pop("hnsw:space", None)  # set at creation; Chroma refuses to modify it
        # Under the lock, so that no reader here takes this process' own bump for another's.
        with _SEEN_LOCK:
            self._call(lambda: self._col.modify(metadata=meta), write=True)
            _SEEN[(self.where, self.config.collection)] = (str(self._col.id), meta["generation"])
        return meta["generation"]

    def write_lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold the collection's writer lock; a second ingest is refused with a clear message."""
        return file_lock(self.config)


def _metadata(c: Chunk) -> dict:
    meta = {
        "source": c.source,
        "start": c.start,
        "end": c.end,
        "file_hash": c.file_hash,
        "ordinal": c.ordinal,
        "n_chunks": c.n_chunks,
        "title": c.title[:500],
    }
    if c.page is not None:  # Chroma metadata holds no None
        meta["page"] = c.page
        meta["page_end"] = c.page_end if c.page_end is not None else c.page
    return meta


def _stored(cid: str, doc: str | None, meta: dict, score: float = 0.0) -> StoredChunk:
    page = meta.get("page")
    return StoredChunk(
        id=cid,
        source=meta["source"],
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=doc or "",
        title=meta.get("title", ""),
        score=score,
        page=int(page) if page is not None else None,
        page_end=int(meta.get("page_end", page)) if page is not None else None,
    )


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
