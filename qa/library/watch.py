"""The documents folder, watched: the index follows it while the app (or ``qa ingest --watch``)
runs.

Changes come from ``watchfiles`` (inotify, FSEvents, ReadDirectoryChangesW). A burst of changes
is gathered (debounced), then the watcher waits until the changed files stop changing (a copy or
a download still being written is not read half-way), then brings the index in step with the
folder through ``Engine.ingest``: new and edited files are indexed (an edit replaces the old
passages), deleted ones removed, and a renamed file moves: its vectors are reused, nothing is
embedded again when its bytes did not change.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import watchfiles

from index import SUPPORTED, IngestReport
from qa.engine import Engine
from qa.errors import QAError

log = logging.getLogger(__name__)

DEBOUNCE_MS = 1_000  # a burst of changes is gathered for at most this long
STEP_MS = 200  # ... and yielded once no change came for this long
SETTLE_S = 1.0  # a changed file is read once its size and time stayed put this long
MAX_SETTLE_S = 60.0  # a file that never stops changing is read after this long anyway


@dataclass(frozen=True)
class Sync:
    """One round of the watcher: the files that changed and what the index did about them."""

    changed: tuple[str, ...]
    report: IngestReport | None = None  # None when it failed (``error`` says why)
    removed: tuple[str, ...] = ()  # removed explicitly (over a Chroma server nothing is pruned)
    error: str = ""


class DocumentsFilter(watchfiles.DefaultFilter):
    """Changes that can matter to the index: supported files (or folders) that are not hidden
    and not inside the store."""

    def __init__(self, folder: Path, ignore: Iterable[Path] = ()):
        self.folder = folder
        super().__init__(ignore_paths=[str(p) for p in ignore])

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        if not super().__call__(change, path):
            return False
        try:
            parts = Path(path).relative_to(self.folder).parts
        except ValueError:
            return False
        if not parts or any(p.startswith(".") for p in parts):
            return False  # as the folder scan: hidden files and folders are never documents
        suffix = Path(path).suffix.lower()
        return suffix in SUPPORTED or not suffix or os.path.isdir(path)


class FolderWatcher:
    """Keeps an engine's index in step with its documents folder until ``stop``."""

    def __init__(
        self,
        engine: Engine,
        folder: Path | None = None,
        on_sync: Callable[[Sync], None] | None = None,
        settle: float = SETTLE_S,
    ):
        self.engine = engine
        self.folder = Path(folder or engine.settings.docs_dir).resolve()
        self.on_sync = on_sync
        self.settle = settle
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        store = Path(engine.settings.store_dir).resolve()
        self.filter = DocumentsFilter(self.folder, [store])

    def start(self) -> FolderWatcher:
        """Watch in a background thread."""
        self._thread = threading.Thread(target=self.run, name="watch-documents", daemon=True)
        self._thread.start()
        return self

    def stop(self, wait: float = 5.0) -> None:
        """Stop watching (the round under way finishes first)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(wait)

    def run(self) -> None:
        """Watch until ``stop`` (or Ctrl-C in the thread that runs it)."""
        log.info("watching %s", self.folder)
        for changes in watchfiles.watch(
            self.folder,
            watch_filter=self.filter,
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=self._stop,
            rust_timeout=1_000,
            raise_interrupt=True,
        ):
            paths = {Path(p) for _, p in changes}
            self._wait_until_still(paths)
            if self._stop.is_set():
                return
            self.sync(paths)

    def _wait_until_still(self, paths: set[Path]) -> None:
        """Return once none of the files changed size or time for ``settle`` seconds."""
        give_up = time.monotonic() + MAX_SETTLE_S
        before = _look(paths)
        while time.monotonic() < give_up and not self._stop.wait(self.settle):
            now = _look(paths)
            if now == before:
                return
            before = now

    def sync(self, paths: Iterable[Path] = ()) -> Sync:
        """Bring the index in step with the folder now; report it to ``on_sync``."""
        changed = tuple(sorted(self._source(p) for p in paths))
        try:
            report = self.engine.ingest()
            removed = self._remove_deleted(paths, report)
            result = Sync(changed, report, removed)
        except QAError as exc:  # e.g. another writer holds the index: said, and tried next time
            log.warning("could not update the index after a change in %s: %s", self.folder, exc)
            result = Sync(changed, error=str(exc))
        except Exception as exc:  # the watcher must outlive any one round
            log.exception("updating the index after a change in %s failed", self.folder)
            result = Sync(changed, error=f"{type(exc).__name__}: {exc}")
        if self.on_sync is not None:
            self.on_sync(result)
        return result

    def _remove_deleted(self, paths: Iterable[Path], report: IngestReport) -> tuple[str, ...]:
        """Over a Chroma server ingest prunes nothing (replicas add documents too): a file
        deleted from this folder is removed from the index here."""
        if self.engine.corpus.mirrors_folder:
            return ()  # the ingest mirrored the folder: deleted files are gone already
        gone = {self._source(p) for p in paths if not p.exists()}
        removed = []
        for d in self.engine.documents():  # the file itself, or one in a deleted folder
            if d.source in gone or any(d.source.startswith(g + "/") for g in gone):
                self.engine.remove_document(d.source)
                removed.append(d.source)
        return tuple(removed)

    def _source(self, path: Path) -> str:
        try:
            return path.relative_to(self.folder).as_posix()
        except ValueError:
            return str(path)


def _look(paths: Iterable[Path]) -> dict[Path, tuple[int, int] | None]:
    seen: dict[Path, tuple[int, int] | None] = {}
    for p in paths:
        try:
            st = p.stat()
            seen[p] = (st.st_size, st.st_mtime_ns)
        except OSError:
            seen[p] = None
    return seen
