"""Bring a Chroma collection in line with a folder of documents, embedding only what changed."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Container, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path

import numpy as np

from index import reuse
from index.chunk import chunk_document, recipe
from index.config import ChunkConfig, IngestConfig
from index.embed import Embedder, make_embedder
from index.keyword import KeywordIndex
from index.load import FileEntry, load, scan
from index.originals import Originals
from index.rebuild import reset_store
from index.store import Store, open_store
from index.types import Chunk, Document, IngestReport, Skipped

log = logging.getLogger(__name__)

# Files are loaded, chunked and embedded in groups of about this many chunks: big enough that
# sorting by length removes most padding, small enough that an interrupted run loses little.
GROUP_CHUNKS = 512

# (files done, files to do), called at the start and as work is done. ``done`` moves in fractions
# of a file: loading and chunking a file counts LOAD_SHARE of it, embedding and writing its
# chunks the rest, reported per embedding batch, so a bar moves per file and per chunk.
Progress = Callable[[float, int], None]
LOAD_SHARE = 0.2


def embedding_text(chunk: Chunk) -> str:
    """The text that is embedded for a chunk: its own words only, as measured best."""
    return chunk.text


def ingest(
    config: IngestConfig,
    paths: Sequence[Path] | None = None,
    *,
    prune: bool = True,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
    documents: Sequence[Document] | None = None,
    rebuild: bool = False,
) -> IngestReport:
    """Index ``paths`` (default: the documents folder) into the configured collection.

    With ``prune`` the collection mirrors the paths: sources no longer there are removed
    (on a Chroma server, except those a replica added: uploads live in no folder).
    Without it, nothing is removed, and (on a Chroma server shared by replicas) what it adds
    is marked as added by a replica, while a file whose document was removed on purpose
    elsewhere is not added back unless it changed since.
    ``documents``: index these already loaded documents instead of reading files (their
    ``file_hash`` decides what changed; spans refer to their text as given).
    ``rebuild`` drops the collection first (a damaged embedded store is moved aside).
    """
    t0 = time.perf_counter()
    roots = [Path(p) for p in (paths or [config.docs_dir])]
    embedder = embedder or make_embedder(config.embed)
    notes: list[str] = []
    if rebuild:
        notes.append(reset_store(config.store, embedder.name, embedder.dim))
        KeywordIndex.remove(config.store)
    store = open_store(config.store, embedder.name, embedder.dim)
    cut = recipe(config.chunk.max_tokens, config.chunk.overlap_tokens)
    if not rebuild and store.recipe not in (None, cut):  # chunks cut otherwise: cut them again
        notes.append(
            f"The chunking changed ({store.recipe} -> {cut}): every file is indexed afresh."
        )
        notes.append(reset_store(config.store, embedder.name, embedder.dim))
        KeywordIndex.remove(config.store)
        store = open_store(config.store, embedder.name, embedder.dim)
    shared = bool(config.store.chroma_url)
    with store.write_lock():
        store.check()  # a vector index that disagrees with the records says so, with the fix
        if documents is None:
            entries, skipped = scan(roots, config.max_file_bytes)
        else:
            entries, skipped = list(documents), []
        states = store.file_states() if prune else store.file_states(e.source for e in entries)
        if shared and not prune:
            entries, kept_out = _without_removed(store, entries, states)
            skipped += kept_out
        todo = [
            e
            for e in entries
            if not (e.source in states and states[e.source].complete(e.file_hash))
        ]
        seen = {e.source for e in entries}
        replicas = store.ledger.added() if shared and prune else set()
        removed = sorted(set(states) - seen - replicas) if prune else []
        added = [e.source for e in todo if e.source not in states]
        updated = [e.source for e in todo if e.source in states]
        # Sources a writer that died halfway had begun to change: readers re-read them too.
        unfinished = store.ledger.unfinished(store.generation)
        touched = {e.source for e in todo} | set(removed) | unfinished
        if todo or removed:
            # Mark the store as changing before the first write: a crash from here on leaves
            # the saved keyword index a generation behind, so the next open catches up.
            store.bump_generation(touched, phase="begin")
        originals = Originals(store) if shared and config.store.keep_originals else None
        read = partial(load, max_bytes=config.max_file_bytes, ocr_pages=config.ocr_pages)
        embedded, more_skipped = _embed_files(
            store, embedder, config.chunk, todo, progress, stored=set(states), notes=notes,
            load_one=read if documents is None else _as_given,
            originals=originals,
        )  # fmt: skip
        skipped += more_skipped
        # Removed only now: a file renamed since the last run took its vectors from them.
        for source in removed:
            store.delete_source(source)
        failed = {s.source for s in more_skipped}
        # A file that used to be indexed but now fails to load is gone from the index too.
        for source in sorted(failed & set(states)):
            store.delete_source(source)
            removed.append(source)
        if todo or removed or unfinished:
            store.bump_generation(touched | failed, phase="end")
        if added and shared:
            store.ledger.clear_tombstones(added)
        if shared and not prune and (added or updated):
            store.ledger.mark_added(s for s in added + updated if s not in failed)
        if replicas & seen:  # now in the folder this ingest mirrors: it prunes them from now on
            store.ledger.unmark_added(replicas & seen)
        if originals is not None and prune and removed:
            originals.prune(set(store.file_states()))
        store.set_recipe(cut)
        total = _keyword_in_step(store, changed=bool(todo or removed or unfinished))
        report = IngestReport(
            added=[s for s in added if s not in failed],
            updated=[s for s in updated if s not in failed],
            removed=removed,
            unchanged=len(entries) - len(todo),
            skipped=skipped,
            chunks_embedded=embedded,
            chunks_total=total,
            seconds=time.perf_counter() - t0,
            notes=notes,
        )
    log.info("ingest: %s", report.summary())
    return report


def _as_given(doc: Document) -> Document:
    return doc


def _keyword_in_step(store: Store, changed: bool) -> int:
    """Bring the saved keyword index to the store's generation; returns the chunk count."""
    total = store.count()
    if not changed and KeywordIndex.is_current(store):
        return total  # nothing to do: the saved keyword index is in step
    keyword = KeywordIndex.for_store(store)
    if len(keyword) != total:  # no writer but this one now, so the counts must agree
        log.warning("keyword index out of step (%d of %d chunks); rebuilding", len(keyword), total)
        keyword = KeywordIndex.for_store(store, rebuild=True)
    return total


def _without_removed(
    store: Store, entries: list[FileEntry], states: Container[str]
) -> tuple[list[FileEntry], list[Skipped]]:
    """Leave out files whose document was removed on purpose and that have not changed since."""
    tombs = store.ledger.tombstones(e.source for e in entries if e.source not in states)
    keep, out = [], []
    for e in entries:
        tomb = tombs.get(e.source)
        if (
            tomb is not None
            and tomb[0] == e.file_hash
            and _mtime(getattr(e, "path", None)) <= tomb[1]
        ):
            when = datetime.fromtimestamp(tomb[1]).strftime("%Y-%m-%d %H:%M")
            out.append(Skipped(e.source, f"removed from the shared index on {when}; "
                                         "upload it again to add it back"))  # fmt: skip
        else:
            keep.append(e)
    return keep, out


def _mtime(path: Path | None) -> float:
    if path is None:  # a document handed over already loaded: its hash alone tells a change
        return 0.0
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _embed_files(
    store: Store,
    embedder: Embedder,
    chunking: ChunkConfig,
    todo: list[FileEntry] | list[Document],
    progress: Progress | None,
    stored: Container[str] = frozenset(),
    load_one: Callable = load,
    notes: list[str] | None = None,
    originals: Originals | None = None,
) -> tuple[int, list[Skipped]]:
    """Load, chunk, embed and write the files in groups; returns chunks embedded and skips.

    ``stored``: the sources the store already held, whose older versions are dropped.
    ``originals``: where the files' bytes are kept for other replicas (Chroma server).
    """
    skipped: list[Skipped] = []
    done = 0
    flushed = 0  # files whose chunks are all written (or that were skipped)
    loaded = 0  # files loaded into the current group
    group: list[Chunk] = []
    group_files: list[tuple[FileEntry | Document, str]] = []
    total = len(todo)

    def report(fraction_embedded: float = 0.0) -> None:
        if progress:
            share = LOAD_SHARE + (1 - LOAD_SHARE) * fraction_embedded
            progress(round(min(total, flushed + loaded * share), 3), total)

    def flush() -> None:
        nonlocal done, group, group_files, flushed, loaded
        if group:
            embedded = 0

            def step(n: int) -> None:
                nonlocal embedded
                embedded += n
                report(0.95 * embedded / len(todo_at))  # the write is the last 5%

            found = reuse.stored_vectors(store, {h for _, h in group_files})
            todo_at = reuse.missing(group, found)
            vectors = np.zeros((len(group), embedder.dim), dtype=np.float32)
            if todo_at:
                texts = [embedding_text(group[i]) for i in todo_at]
                vectors[todo_at] = np.asarray(embedder.embed(texts, progress=step))
            for i in sorted(set(range(len(group))) - set(todo_at)):
                vectors[i] = found[reuse.key(group[i])]
            store.upsert(group, vectors)
            # Only after the new version is fully written are older versions removed.
            for entry, file_hash in group_files:
                if entry.source in stored:  # a file new to the store has no older version
                    store.delete_source(entry.source, keep_hash=file_hash)
                if originals is not None:
                    _keep_original(originals, entry, file_hash)
            done += len(todo_at)  # chunks embedded; the others had their vectors stored
        flushed, loaded = flushed + loaded, 0
        report()
        group, group_files = [], []

    if progress and total:
        progress(0, total)
    for entry in todo:
        loaded += 1
        doc = load_one(entry)
        report()
        if isinstance(doc, Skipped):
            skipped.append(doc)
            continue
        if notes is not None:
            notes += [f"{doc.source}: {note}" for note in doc.notes]
        chunks = chunk_document(
            doc, embedder.count_tokens, chunking.max_tokens, chunking.overlap_tokens
        )
        group.extend(chunks)
        group_files.append((entry, doc.file_hash))
        if len(group) >= GROUP_CHUNKS:
            flush()
    flush()
    return done, skipped


def _keep_original(originals: Originals, entry: FileEntry | Document, file_hash: str) -> None:
    """Keep the file's bytes for other replicas, if they still are the version indexed."""
    if not isinstance(entry, FileEntry):
        return  # a document handed over already loaded has no file to keep
    try:
        data = entry.path.read_bytes()
    except OSError as exc:
        log.warning("cannot keep a copy of %s for other replicas: %s", entry.source, exc)
        return
    if hashlib.sha256(data).hexdigest() != file_hash:
        log.warning("%s changed while it was indexed; the next ingest keeps its copy", entry.source)
        return
    originals.put(entry.source, file_hash, data)
