"""Bring a Chroma collection in line with a folder of documents, embedding only what changed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Container, Sequence
from pathlib import Path

import numpy as np

from index.chunk import chunk_document
from index.config import IngestConfig
from index.embed import Embedder, make_embedder
from index.keyword import KeywordIndex
from index.load import FileEntry, load, scan
from index.store import Store, open_store
from index.types import Chunk, IngestReport, Skipped

log = logging.getLogger(__name__)

# Files are loaded, chunked and embedded in groups of about this many chunks: big enough that
# sorting by length removes most padding, small enough that an interrupted run loses little.
GROUP_CHUNKS = 512

Progress = Callable[[int, int], None]  # (files done, files to do)


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
) -> IngestReport:
    """Index ``paths`` (default: the documents folder) into the configured collection.

    With ``prune`` the collection mirrors the paths: sources no longer there are removed.
    """
    t0 = time.perf_counter()
    roots = [Path(p) for p in (paths or [config.docs_dir])]
    embedder = embedder or make_embedder(config.embed)
    store = open_store(config.store, embedder.name, embedder.dim)
    with store.write_lock():
        entries, skipped = scan(roots, config.max_file_bytes)
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
        notes: list[str] = []
        embedded, more_skipped = _embed_files(
            store, embedder, config, todo, progress, stored=set(states), notes=notes
        )
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
            notes=notes,
        )
    log.info("ingest: %s", report.summary())
    return report


def _embed_files(
    store: Store,
    embedder: Embedder,
    config: IngestConfig,
    todo: list[FileEntry],
    progress: Progress | None,
    stored: Container[str] = frozenset(),
    notes: list[str] | None = None,
) -> tuple[int, list[Skipped]]:
    """Load, chunk, embed and write the files in groups; returns chunks embedded and skips.

    ``stored``: the sources the store already held, whose older versions are dropped.
    """
    skipped: list[Skipped] = []
    done = files_done = 0
    group: list[Chunk] = []
    group_files: list[tuple[str, str]] = []

    def flush() -> None:
        nonlocal done, group, group_files
        if group:
            vectors = embedder.embed([embedding_text(c) for c in group])
            store.upsert(group, np.asarray(vectors))
            # Only after the new version is fully written are older versions removed.
            for source, file_hash in group_files:
                if source in stored:  # a file new to the store has no older version to drop
                    store.delete_source(source, keep_hash=file_hash)
            done += len(group)
        if progress:
            progress(files_done, len(todo))
        group, group_files = [], []

    for entry in todo:
        files_done += 1
        doc = load(entry, config.max_file_bytes)
        if isinstance(doc, Skipped):
            skipped.append(doc)
            continue
        if notes is not None:
            notes += [f"{doc.source}: {note}" for note in doc.notes]
        chunks = chunk_document(
            doc, embedder.count_tokens, config.chunk.max_tokens, config.chunk.overlap_tokens
        )
        group.extend(chunks)
        group_files.append((doc.source, doc.file_hash))
        if len(group) >= GROUP_CHUNKS:
            flush()
    flush()
    return done, skipped
