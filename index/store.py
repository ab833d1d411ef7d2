"""The Chroma store: embedded by default, a Chroma server when ``QA_CHROMA_URL`` is set."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from index.types import Chunk
from qa.errors import IndexNotFoundError, ModelMismatchError, StoreError, StoreLockedError
from qa.settings import Settings

log = logging.getLogger(__name__)

# Chroma sends anonymous usage data unless told not to; this product never phones home.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


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


@dataclass(frozen=True)
class FileState:
    """What the store holds for one source file."""

    hashes: dict[str, int]  # file hash -> chunks present
    n_chunks: int  # chunks the newest ingest of that file wrote

    def complete(self, file_hash: str) -> bool:
        """True when exactly the chunks of this version, and all of them, are stored."""
        return set(self.hashes) == {file_hash} and self.hashes[file_hash] == self.n_chunks


def _client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        path = Path(settings.store_dir) / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        where = settings.chroma_url or str(settings.store_dir)
        raise StoreError(
            f"Cannot open the Chroma store at {where} ({type(exc).__name__}: {exc}). "
            + (
                "Is the server running? Start it with: chroma run --host 127.0.0.1 --port 8000"
                if settings.chroma_url
                else "Check that the folder is writable, or set QA_STORE_DIR to another one."
            )
        ) from exc


class Store:
    """One Chroma collection of chunks, tagged with the embedding model that filled it."""

    def __init__(self, settings: Settings, model: str, dim: int, create: bool = True):
        self.settings = settings
        self.where = settings.chroma_url or str(Path(settings.store_dir) / "chroma")
        self.model, self.dim = model, dim
        self._client = _client(settings)
        name = settings.collection
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
        meta = self._col.metadata or {}
        stored = meta.get("embed_model")
        if stored and (stored != model or int(meta.get("embed_dim", dim)) != dim):
            raise ModelMismatchError(name, f"{stored} ({meta.get('embed_dim')} dims)", f"{model} ({dim} dims)")

    # ---- reading

    def count(self) -> int:
        """Number of chunks stored."""
        return self._col.count()

    @property
    def generation(self) -> int:
        """A counter that every changing ingest bumps; caches built on the store compare it."""
        return int((self._col.metadata or {}).get("generation", 0))

    def refresh_generation(self) -> int:
        """Re-read the collection's metadata (another process may have ingested)."""
        self._col = self._client.get_collection(self.settings.collection, embedding_function=None)
        return self.generation

    def file_states(self) -> dict[str, FileState]:
        """Per source: which file versions are stored and how many chunks each."""
        hashes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        n_chunks: dict[str, int] = {}
        for meta in self._iter_metadatas():
            src, h = meta["source"], meta["file_hash"]
            hashes[src][h] += 1
            n_chunks[src] = int(meta["n_chunks"])
        return {s: FileState(dict(hs), n_chunks[s]) for s, hs in hashes.items()}

    def _iter_metadatas(self) -> Iterator[dict]:
        batch = 50_000
        for offset in range(0, self.count(), batch):
            got = self._col.get(include=["metadatas"], limit=batch, offset=offset)
            yield from got["metadatas"]

    def all_chunks(self) -> list[StoredChunk]:
        """Every chunk with its text (for the keyword index), in a stable order."""
        out: list[StoredChunk] = []
        batch = 20_000
        for offset in range(0, self.count(), batch):
            got = self._col.get(include=["metadatas", "documents"], limit=batch, offset=offset)
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                out.append(_stored(cid, doc, meta))
        out.sort(key=lambda c: (c.source, c.start, c.id))
        return out

    def get(self, ids: Sequence[str]) -> dict[str, StoredChunk]:
        """Chunks by id (missing ids are left out)."""
        if not ids:
            return {}
        got = self._col.get(ids=list(ids), include=["metadatas", "documents"])
        return {
            cid: _stored(cid, doc, meta)
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }

    def query(self, vector: np.ndarray, k: int) -> list[StoredChunk]:
        """The k nearest chunks by cosine similarity, best first."""
        n = self.count()
        if n == 0:
            return []
        res = self._col.query(
            query_embeddings=[vector.tolist()],
            n_results=min(k, n),
            include=["metadatas", "documents", "distances"],
        )
        return [
            _stored(cid, doc, meta, 1.0 - float(dist))
            for cid, doc, meta, dist in zip(
                res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0], strict=True
            )
        ]

    def cosine(self, ids: list[str], vector: np.ndarray) -> dict[str, float]:
        """Cosine similarity of the given chunks to a unit vector."""
        got = self._col.get(ids=ids, include=["embeddings"])
        emb = np.asarray(got["embeddings"], dtype=np.float32)
        if emb.size == 0:
            return {}
        sims = emb @ vector / np.clip(np.linalg.norm(emb, axis=1), 1e-12, None)
        return dict(zip(got["ids"], sims.tolist(), strict=True))

    # ---- writing

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Write chunks with their vectors (ids are content-derived, so a repeat is harmless)."""
        step = max(1, min(5000, self._client.get_max_batch_size()))
        for s in range(0, len(chunks), step):
            part = chunks[s : s + step]
            self._col.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[s : s + step],
                documents=[c.text for c in part],
                metadatas=[
                    {
                        "source": c.source,
                        "start": c.start,
                        "end": c.end,
                        "file_hash": c.file_hash,
                        "ordinal": c.ordinal,
                        "n_chunks": c.n_chunks,
                        "title": c.title[:500],
                    }
                    for c in part
                ],
            )

    def delete_source(self, source: str, keep_hash: str | None = None) -> None:
        """Remove a source's chunks, all of them or all but one file version."""
        where: dict = {"source": source}
        if keep_hash:
            where = {"$and": [{"source": source}, {"file_hash": {"$ne": keep_hash}}]}
        self._col.delete(where=where)

    def bump_generation(self) -> int:
        """Mark the collection as changed, for caches such as the keyword index."""
        meta = dict(self._col.metadata or {})
        meta["generation"] = int(meta.get("generation", 0)) + 1
        meta.pop("hnsw:space", None)  # set at creation; Chroma refuses to modify it
        self._col.modify(metadata=meta)
        return meta["generation"]

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold the store's writer lock; a second ingest is refused with a clear message."""
        lock_dir = Path(self.settings.store_dir)
        lock_dir.mkdir(parents=True, exist_ok=True)
        path = lock_dir / f"{self.settings.collection}.lock"
        with path.open("a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StoreLockedError(
                    f"Another ingest is writing to collection '{self.settings.collection}' "
                    f"({path}). Wait for it to finish, then run again."
                ) from exc
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _stored(cid: str, doc: str | None, meta: dict, score: float = 0.0) -> StoredChunk:
    return StoredChunk(
        id=cid,
        source=meta["source"],
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=doc or "",
        title=meta.get("title", ""),
        score=score,
    )


def open_store(settings: Settings, model: str, dim: int, create: bool = True) -> Store:
    """Open (or create) the configured collection for this embedding model."""
    return Store(settings, model, dim, create=create)
