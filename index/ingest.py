"""Bring a Chroma collection in line with a folder of documents, embedding only what changed.

``ingest`` is the one way documents get into the index (``Corpus.ingest`` calls it with its
open store; ``qa.ingest``, ``qa ingest``, the app, llama-index and ``qa eval`` all reach it).
It reads as three steps, all under the collection's writer lock:

- **plan**: scan the files (or take the documents given) and diff them against the store:
  what is new or changed, what left the folder, what was removed on purpose;
- **write**: load, chunk, embed and store the new versions, then drop the old ones;
- **follow**: bring the keyword index to the store's new generation.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Collection, Container, Sequence
from dataclasses import dataclass, field
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
from index.store import FileState, Store, open_store
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
    store: Store | None = None,
    prune: bool | None = True,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
    documents: Sequence[Document] | None = None,
    rebuild: bool = False,
    add_back: Collection[str] = (),
) -> IngestReport:
    """Index ``paths`` (default: the documents folder) into the configured collection.

    ``store``: the open store to write through (a corpus passes its own); else one is opened.
    With ``prune`` the collection mirrors the folders given: sources no longer there are
    removed (except those a replica added on a Chroma server: uploads live in no folder);
    files named one by one are added without removing anything. Without it, nothing is
    removed, and what is added is marked as a replica's (on a Chroma server). ``prune=None``:
    as the backend does for the app (embedded: mirror the folder; a Chroma server: never prune).
    A document removed on purpose (``Corpus.remove``) is not added back by its unchanged file
    unless that file is named on its own or in ``add_back``.
    ``documents``: index these already loaded documents instead of reading files (their
    ``file_hash`` decides what changed; spans refer to their text as given).
    ``rebuild`` drops the collection first (a damaged embedded store is moved aside).
    """
    t0 = time.perf_counter()
    embedder = embedder or (make_embedder(config.embed) if store is None else None)
    if embedder is None:
        raise ValueError("ingest through an open store needs the embedder that filled it")
    notes: list[str] = []
    store = _opened(config, embedder, store, rebuild, notes)
    if prune is None:
        prune = store.backend.mirrors_folder
    with store.write_lock():
        store.check()  # a vector index that disagrees with the records says so, with the fix
        plan = _plan(config, store, paths, documents, prune, set(add_back))
        embedded, failed = _write(config, store, embedder, plan, progress, notes)
        total = _follow(store, changed=bool(plan.todo or plan.removed or plan.unfinished))
        report = IngestReport(
            added=[s for s in plan.added if s not in failed],
            updated=[s for s in plan.updated if s not in failed],
            removed=plan.removed,
            unchanged=len(plan.entries) - len(plan.todo),
            skipped=plan.skipped,
            chunks_embedded=embedded,
            chunks_total=total,
            seconds=time.perf_counter() - t0,
            notes=notes,
        )
    log.info("ingest: %s", report.summary())
    return report


def _opened(
    config: IngestConfig, embedder: Embedder, store: Store | None, rebuild: bool, notes: list[str]
) -> Store:
    """The store to write to: the one given or opened, dropped first for a rebuild or when the
    chunks were cut otherwise (then every file is indexed afresh)."""
    cfg = store.config if store is not None else config.store
    if rebuild:
        store, note = reset_store(cfg, embedder.name, embedder.dim, store)
        notes.append(note)
        KeywordIndex.remove(cfg)
    store = store or open_store(cfg, embedder.name, embedder.dim)
    cut = recipe(config.chunk.max_tokens, config.chunk.overlap_tokens)
    if not rebuild and store.recipe not in (None, cut):  # chunks cut otherwise: cut them again
        notes.append(
            f"The chunking changed ({store.recipe} -> {cut}): every file is indexed afresh."
        )
        store, note = reset_store(cfg, embedder.name, embedder.dim, store)
        notes.append(note)
        KeywordIndex.remove(cfg)
    return store


@dataclass
class Plan:
    """What an ingest is about to do, read from the files and the store."""

    entries: list  # the files found (FileEntry), or the documents given (Document)
    todo: list  # of those, the new or changed ones
    states: dict[str, FileState]  # what the store holds of the sources concerned
    prune: bool
    skipped: list[Skipped] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # sources to drop (gone from the folder)
    replicas: set[str] = field(default_factory=set)  # sources replicas added (kept)
    unfinished: set[str] = field(default_factory=set)  # sources a writer that died had begun

    @property
    def added(self) -> list[str]:
        return [e.source for e in self.todo if e.source not in self.states]

    @property
    def updated(self) -> list[str]:
        return [e.source for e in self.todo if e.source in self.states]

    @property
    def touched(self) -> set[str]:
        return {e.source for e in self.todo} | set(self.removed) | self.unfinished


def _plan(
    config: IngestConfig,
    store: Store,
    paths: Sequence[Path] | None,
    documents: Sequence[Document] | None,
    prune: bool,
    add_back: set[str],
) -> Plan:
    """Scan, and diff against the store."""
    if documents is None:
        roots = [Path(p) for p in (paths or [config.docs_dir])]
        entries, skipped = scan(roots, config.max_file_bytes, docs=config.docs_dir)
        prune = prune and not all(r.is_file() for r in roots)  # files named alone: no
        add_back |= {e.source for e in entries if e.named}
    else:
        entries, skipped = list(documents), []
    states = store.file_states() if prune else store.file_states(e.source for e in entries)
    entries, kept_out = _without_removed(store, entries, states, add_back)
    plan = Plan(entries, [], states, prune, skipped + kept_out)
    plan.todo = [e for e in entries
                 if not (e.source in states and states[e.source].complete(e.file_hash))]  # fmt: skip
    seen = {e.source for e in entries}
    plan.replicas = store.backend.replica_added(store.ledger) if prune else set()
    plan.removed = sorted(set(states) - seen - plan.replicas) if prune else []
    plan.unfinished = store.ledger.unfinished(store.generation)
    return plan


def _write(
    config: IngestConfig,
    store: Store,
    embedder: Embedder,
    plan: Plan,
    progress: Progress | None,
    notes: list[str],
) -> tuple[int, set[str]]:
    """Carry the plan out; returns the chunks embedded and the sources that failed to load."""
    touched = plan.touched
    if plan.todo or plan.removed:
        # Mark the store as changing before the first write: a crash from here on leaves
        # the saved keyword index a generation behind, so the next open catches up.
        store.bump_generation(touched, phase="begin")
    files = store.files if config.store.keep_originals else None
    given = plan.entries and isinstance(plan.entries[0], Document)
    embedded, more_skipped = _embed_files(
        store, embedder, config.chunk, plan.todo, progress, stored=set(plan.states), notes=notes,
        load_one=_as_given if given else partial(
            load, max_bytes=config.max_file_bytes, ocr_pages=config.ocr_pages
        ),
        originals=files,
    )  # fmt: skip
    plan.skipped += more_skipped
    # Removed only now: a file renamed since the last run took its vectors from them.
    for source in plan.removed:
        store.delete_source(source)
    failed = {s.source for s in more_skipped}
    # A file that used to be indexed but now fails to load is gone from the index too.
    for source in sorted(failed & set(plan.states)):
        store.delete_source(source)
        plan.removed.append(source)
    if plan.todo or plan.removed or plan.unfinished:
        store.bump_generation(touched | failed, phase="end")
    added = [s for s in plan.added if s not in failed]
    if added:
        store.ledger.clear_tombstones(added)
    if not plan.prune and (added or plan.updated):
        store.backend.note_added(store.ledger, [s for s in added + plan.updated if s not in failed])
    seen = {e.source for e in plan.entries}
    if plan.replicas & seen:  # now in the folder this ingest mirrors: it prunes them from now on
        store.ledger.unmark_added(plan.replicas & seen)
    if files is not None and plan.prune and plan.removed:
        files.prune(set(store.file_states()))
    store.set_recipe(recipe(config.chunk.max_tokens, config.chunk.overlap_tokens))
    return embedded, failed


def _follow(store: Store, changed: bool) -> int:
    """Bring the saved keyword index to the store's generation; returns the chunk count."""
    total = store.count()
    if not changed and KeywordIndex.is_current(store):
        return total  # nothing to do: the saved keyword index is in step
    keyword = KeywordIndex.for_store(store)
    if len(keyword) != total:  # no writer but this one now, so the counts must agree
        log.warning("keyword index out of step (%d of %d chunks); rebuilding", len(keyword), total)
        keyword = KeywordIndex.for_store(store, rebuild=True)
    return total


def _as_given(doc: Document) -> Document:
    return doc


def _without_removed(
    store: Store, entries: list, states: Collection[str], add_back: set[str]
) -> tuple[list, list[Skipped]]:
    """Leave out files whose document was removed on purpose and that have not changed since
    (unless named on their own, or to be added back)."""
    tombs = store.ledger.tombstones(
        e.source for e in entries if e.source not in states and e.source not in add_back
    )
    keep, out = [], []
    for e in entries:
        tomb = tombs.get(e.source)
        if (
            tomb is not None
            and tomb[0] == e.file_hash
            and _mtime(getattr(e, "path", None)) <= tomb[1]
        ):
            when = datetime.fromtimestamp(tomb[1]).strftime("%Y-%m-%d %H:%M")
            out.append(Skipped(e.source, f"removed from the index on {when}; add it back by "
                                         "naming it (qa ingest FILE, Add to index) or "
                                         "uploading it again"))  # fmt: skip
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
