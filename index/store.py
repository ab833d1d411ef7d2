"""The chunk store: one Chroma collection of chunks, tagged with the embedding model that
filled it. Embedded by default, a Chroma server when ``QA_CHROMA_URL`` is set (``index.backends``
picks the backend); every call goes through the connection (``index.connection``), which turns
faults into StoreErrors with the fix and follows other processes' writes.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from index import chroma, health
from index.backend import Backend
from index.backends import backend_for
from index.config import StoreConfig
from index.connection import Connection
from index.errors import IndexNotFoundError, ModelMismatchError
from index.ledger import Ledger
from index.originals import Originals
from index.stored import FileState, StoredChunk, chunk_metadata, stored_chunk
from index.types import Chunk

__all__ = ["FileState", "Store", "StoredChunk", "collection_names", "open_store", "store_identity"]

SOURCES_PER_QUERY = 200  # sources named in one `$in` filter


class Store:
    """One Chroma collection of chunks, its bookkeeping (``ledger``) and its backend."""

    def __init__(
        self,
        config: StoreConfig,
        model: str,
        dim: int,
        create: bool = True,
        backend: Backend | None = None,
    ):
        self.config = config
        self.backend = backend or backend_for(config)
        self.model, self.dim = model, dim
        self.connection = Connection(
            self.backend, config.collection, create=create, metadata=self._metadata()
        )
        self.where = self.connection.where
        self.ledger = Ledger(self.connection)
        meta = self.connection.metadata
        stored = meta.get("embed_model")
        if stored and (stored != model or int(meta.get("embed_dim", dim)) != dim):
            raise ModelMismatchError(
                config.collection,
                f"{stored} ({meta.get('embed_dim')} dims)",
                f"{model} ({dim} dims)",
            )

    def _metadata(self) -> dict:
        return {"hnsw:space": "cosine", "embed_model": self.model, "embed_dim": self.dim}

    def call(self, fn, write: bool = False, fenced: bool = True):
        """Run one Chroma operation through the connection (see ``Connection.call``)."""
        return self.connection.call(fn, write=write, fenced=fenced)

    @property
    def _col(self):
        return self.connection.collection

    @property
    def files(self) -> Originals | None:
        """Where indexed files' bytes are kept for other replicas (None: nowhere)."""
        return self.backend.files(self.connection)

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
        return self.connection.generation

    @property
    def recipe(self) -> str | None:
        """How the stored chunks were cut (``index.chunk.recipe``); None when not recorded."""
        meta = self.connection.metadata
        return str(meta["chunking"]) if "chunking" in meta else None

    def set_recipe(self, recipe: str) -> None:
        """Record how the stored chunks were cut."""
        if self.recipe == recipe:  # the usual case: nothing to write, no call to make
            return
        self.connection.reread()
        meta = self.connection.metadata
        if meta.get("chunking") == recipe:
            return
        meta["chunking"] = recipe
        self.connection.write_metadata(meta)

    def refresh_generation(self) -> int:
        """Re-read the collection's metadata (another process may have ingested)."""
        self.connection.reread()
        self.connection.follow_writes()
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
        batch = self.backend.read_batch
        for offset in range(0, self.count(), batch):
            got = self.call(
                lambda o=offset: self._col.get(include=["metadatas"], limit=batch, offset=o)
            )
            yield from got["metadatas"]

    def iter_chunks(self, batch: int | None = None) -> Iterator[list[StoredChunk]]:
        """Every chunk with its text, a batch at a time (Chroma's order)."""
        batch = batch or self.backend.text_batch
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

    def vectors(self, ids: Sequence[str], batch: int = 5_000) -> dict[str, np.ndarray]:
        """The stored vectors of these chunks (missing ids are left out)."""
        out: dict[str, np.ndarray] = {}
        for s in range(0, len(ids), batch):
            part = list(ids[s : s + batch])
            got = self.call(lambda part=part: self._col.get(ids=part, include=["embeddings"]))
            emb = np.asarray(got["embeddings"], dtype=np.float32)
            out.update(zip(got["ids"], emb, strict=True))
        return out

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
        step = max(1, min(self.backend.write_batch, self.connection.max_batch()))
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
        self.connection.reread()
        meta = self.connection.metadata
        meta["generation"] = int(meta.get("generation", 0)) + 1
        self.ledger.record_change(meta["generation"], changed, phase)
        self.connection.write_metadata(meta, bumped=True)
        return meta["generation"]

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold the collection's writer lock: a file lock here, a lease on a Chroma server."""
        with self.backend.write_lock(self.ledger) as lease:
            self.connection.lease = lease
            try:
                yield
            finally:
                self.connection.lease = None

    # ---- a rebuild

    def drop(self) -> None:
        """Delete the collection of chunks (under the writer lock) and forget its change feed;
        removals and replicas' additions are kept."""
        self.call(lambda: self.connection.drop(self.config.collection), write=True)
        self.ledger.clear_changes()

    def recreate(self) -> None:
        """Open the collection again, empty, after ``drop`` (or a rebuild elsewhere)."""
        self.connection.reconnect(self._metadata())


def _chunks(got: dict) -> list[StoredChunk]:
    return [
        stored_chunk(cid, doc, meta)
        for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    ]


def open_store(config: StoreConfig, model: str, dim: int, create: bool = True) -> Store:
    """Open (or create) the configured collection for this embedding model."""
    return Store(config, model, dim, create=create)


def store_identity(config: StoreConfig) -> str:
    """Names the configured store among all: its folder's full path, or the server's URL."""
    return backend_for(config).identity


def collection_names(config: StoreConfig) -> list[str]:
    """The collections of the store that this project made (tagged with an embedding model);
    none when there is no store yet (nothing is created to say so)."""
    backend = backend_for(config)
    try:
        client, _ = backend.connect(create=False)
    except IndexNotFoundError:
        return []
    try:
        listed = chroma.within(client.list_collections, backend.deadline)
    except Exception as exc:
        raise backend.fault(exc, False)[0] from exc
    return sorted(c.name for c in listed if "embed_model" in (getattr(c, "metadata", None) or {}))
