"""The Chroma store: embedded by default, a Chroma server when ``QA_CHROMA_URL`` is set."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import shutil
import threading
import time
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

RETRIES = 2  # a failed read (or any call to a Chroma server) is tried this many more times
BACKOFF_S = 0.5  # the first retry waits this long, each next one twice as long
LOW_DISK_BYTES = 16 << 20  # a failed write with less free space than this is a full disk
# The generation of each embedded collection as this process last read or wrote it. When another
# process changes the store, Chroma's in-memory vector index here is stale and must be reloaded.
_SEEN: dict[tuple[str, str], int] = {}
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
                _start_server_hint(settings.chroma_url)
                if settings.chroma_url
                else "Check that the folder is writable, or set QA_STORE_DIR to another one."
            )
        ) from exc


def _start_server_hint(url: str) -> str:
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


def _disk_full(exc: BaseException) -> bool:
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(e).lower()
        if "disk is full" in text or "no space left" in text or "database or disk is full" in text:
            return True
    return False


def _unreachable(exc: BaseException) -> bool:
    import httpx

    for e in _chain(exc):
        if isinstance(e, ConnectionError | httpx.TransportError):
            return True
        text = str(e).lower()
        if "could not connect" in text or "connection refused" in text:
            return True
    return False


class Store:
    """One Chroma collection of chunks, tagged with the embedding model that filled it.

    Every call to Chroma goes through ``_call``: faults come out as StoreError with the fix, a
    Chroma server is retried (bounded) while it restarts, and an embedded store reloads its
    in-memory index when another process has written to it.
    """

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
                return fn()
            except StoreError:
                raise
            except Exception as exc:
                err, retry = self._fault(exc, write)
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
        if _disk_full(exc) or (write and self._low_on_disk()):
            return StoreError(
                f"The disk holding the store at {self.where} is full ({what}). Free some space "
                "(or set QA_STORE_DIR to a disk with room) and run the same command again; "
                "what was indexed before is kept."
            ), False
        if self.settings.chroma_url:
            if _unreachable(exc):
                return StoreError(
                    f"Cannot reach the Chroma server at {self.where} ({what}). "
                    + _start_server_hint(self.where)
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
        if self.settings.chroma_url:
            return False
        try:
            return shutil.disk_usage(self.where).free < LOW_DISK_BYTES
        except OSError:
            return False

    def _reopen(self) -> None:
        """Load the embedded store afresh (Chroma keeps one shared, cached client per folder)."""
        if not self.settings.chroma_url:
            try:
                from chromadb.api.shared_system_client import SharedSystemClient as shared

                # Forget the cached client without stopping it: other Store objects may hold it.
                with shared._refcount_lock:
                    shared._identifier_to_system.pop(self.where, None)
                    shared._identifier_to_refcount.pop(self.where, None)
            except (ImportError, AttributeError):  # another Chroma version
                log.debug("cannot drop Chroma's cached client", exc_info=True)
            self._client = _client(self.settings)
        self._col = self._client.get_collection(self.settings.collection, embedding_function=None)
        log.info("reopened the store at %s", self.where)

    def _sync(self) -> None:
        """Reload the embedded store if another process changed it since this process looked."""
        if self.settings.chroma_url:
            return
        key = (self.where, self.settings.collection)
        with _SEEN_LOCK:
            seen, _SEEN[key] = _SEEN.get(key), self.generation
        if seen is not None and seen != self.generation:
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
            lambda: self._client.get_collection(self.settings.collection, embedding_function=None)
        )
        self._sync()
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
            lambda: self._client.get_collection(self.settings.collection, embedding_function=None)
        )
        meta = dict(self._col.metadata or {})
        meta["generation"] = int(meta.get("generation", 0)) + 1
        meta.pop("hnsw:space", None)  # set at creation; Chroma refuses to modify it
        self._call(lambda: self._col.modify(metadata=meta), write=True)
        with _SEEN_LOCK:
            _SEEN[(self.where, self.settings.collection)] = meta["generation"]
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


def drop_collection(settings: Settings) -> bool:
    """Delete the configured collection; False if there was none."""
    client = _client(settings)
    try:
        client.delete_collection(settings.collection)
    except Exception:
        return False
    return True
