"""Bring a Chroma collection in line with a folder of documents, embedding only what changed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Container, Sequence
from pathlib import Path

import numpy as np

from index.chunk import chunk_document
from index.config import ChunkConfig, IngestConfig
from index.embed import Embedder, make_embedder
from index.keyword import KeywordIndex
from index.load import FileEntry, load, scan
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
) -> IngestReport:
    """Index ``paths`` (default: the documents folder) into the configured collection.

    With ``prune`` the collection mirrors the paths: sources no longer there are removed.
    ``documents``: index these already loaded documents instead of reading files (their
    ``file_hash`` decides what changed; spans refer to their text as given).
    """
    t0 = time.perf_counter()
    roots = [Path(p) for p in (paths or [config.docs_dir])]
    embedder = embedder or make_embedder(config.embed)
    store = open_store(config.store, embedder.name, embedder.dim)
    with store.write_lock():
        if documents is None:
            entries, skipped = scan(roots, config.max_file_bytes)
        else:
            entries, skipped = list(documents), []
        states = store.file_states()
        todo = [
            e
            for e in entries
            if not (e.source in states and states[e.source].complete(e.file_hash))
        ]
        seen = {e.source for e in entries}
        removed = sorted(set(states) - seen) if prune else []
        added = [e.source for e in todo if e.source not in states]
        updated = [e.source for e in todo if e.source in states]
        if todo or removed:
            # Mark the store as changing before the first write: a crash from here on leaves
            # the saved keyword index a generation behind, so the next open rebuilds it.
            store.bump_generation()
        for source in removed:
            store.delete_source(source)
        embedded, more_skipped = _embed_files(
            store, embedder, config.chunk, todo, progress, stored=set(states),
            load_one=load if documents is None else _as_given,
        )  # fmt: skip
        skipped += more_skipped
        failed = {s.source for s in more_skipped}
        # A file that used to be indexed but now fails to load is gone from the index too.
        for source in sorted(failed & set(states)):
            store.delete_source(source)
            removed.append(source)
        changed = bool(todo or removed)
        if changed:
            store.bump_generation()
        if not changed and KeywordIndex.is_current(store):
            total = store.count()  # nothing to rebuild: the saved keyword index is in step
        else:
            total = len(KeywordIndex.for_store(store, rebuild=changed))
        report = IngestReport(
            added=[s for s in added if s not in failed],
            updated=[s for s in updated if s not in failed],
            removed=removed,
            unchanged=len(entries) - len(todo),
            skipped=skipped,
            chunks_embedded=embedded,
            chunks_total=total,
            seconds=time.perf_counter() - t0,
        )
    log.info("ingest: %s", report.summary())
    return report


def _as_given(doc: Document) -> Document:
    return doc


def _embed_files(
    store: Store,
    embedder: Embedder,
    chunking: ChunkConfig,
    todo: list[FileEntry] | list[Document],
    progress: Progress | None,
    stored: Container[str] = frozenset(),
    load_one: Callable = load,
) -> tuple[int, list[Skipped]]:
    """Load, chunk, embed and write the files in groups; returns chunks embedded and skips.

    ``stored``: the sources the store already held, whose older versions are dropped.
    """
    skipped: list[Skipped] = []
    done = 0
    flushed = 0  # files whose chunks are all written (or that were skipped)
    loaded = 0  # files loaded into the current group
    group: list[Chunk] = []
    group_files: list[tuple[str, str]] = []
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
                report(0.95 * embedded / len(group))  # the write is the last 5%

            vectors = embedder.embed([embedding_text(c) for c in group], progress=step)
            store.upsert(group, np.asarray(vectors))
            # Only after the new version is fully written are older versions removed.
            for source, file_hash in group_files:
                if source in stored:  # a file new to the store has no older version to drop
                    store.delete_source(source, keep_hash=file_hash)
            done += len(group)
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
        chunks = chunk_document(
            doc, embedder.count_tokens, chunking.max_tokens, chunking.overlap_tokens
        )
        group.extend(chunks)
        group_files.append((doc.source, doc.file_hash))
        if len(group) >= GROUP_CHUNKS:
            flush()
    flush()
    return done, skipped
