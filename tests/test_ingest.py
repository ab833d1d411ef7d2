"""Incremental ingest into a real Chroma, embedded and as a `chroma run` server."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, SEEDS

from index.ingest import ingest
from index.store import open_store
from qa.errors import ModelMismatchError, StoreLockedError


@pytest.fixture(params=["embedded", "server"])
def settings(request, make_settings, tmp_path):
    """Settings for a fresh collection, in a temp dir or on the real Chroma server."""
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        name = f"t{abs(hash(request.node.name)) % 10**8}"
        return make_settings(chroma_url=url, collection=name, docs_dir=tmp_path / "docs")
    return make_settings(docs_dir=tmp_path / "docs")


def _ids(settings, embedder):
    store = open_store(settings.store_config, embedder.name, embedder.dim)
    return sorted(c.id for c in store.all_chunks())


def test_incremental_add_change_delete_noop(settings, embedder):
    docs = settings.docs_dir
    docs.mkdir()
    shutil.copy(SEEDS / os.listdir(SEEDS)[0], docs / "seed.txt")
    (docs / "a.txt").write_text("Alpha is the first letter. It starts the alphabet.")
    (docs / "b.md").write_text("Beta comes second. It follows alpha.")

    r = ingest(settings.ingest_config)
    assert sorted(r.added) == ["a.txt", "b.md", "seed.txt"] and r.chunks_embedded >= 3
    first = _ids(settings, embedder)
    assert len(first) == r.chunks_total

    r = ingest(settings.ingest_config)  # no-op
    assert (r.added, r.updated, r.removed, r.chunks_embedded) == ([], [], [], 0)
    assert r.unchanged == 3
    assert _ids(settings, embedder) == first

    (docs / "a.txt").write_text("Alpha was changed. Now it says something else entirely.")
    (docs / "c.txt").write_text("Gamma is new here.")
    (docs / "b.md").unlink()
    r = ingest(settings.ingest_config)
    assert r.updated == ["a.txt"] and r.added == ["c.txt"] and r.removed == ["b.md"]
    assert r.chunks_embedded == 2  # only the changed and the new file were embedded
    store = open_store(settings.store_config, embedder.name, embedder.dim)
    chunks = store.all_chunks()
    assert {c.source for c in chunks} == {"a.txt", "c.txt", "seed.txt"}
    assert not any("Beta" in c.text or "first letter" in c.text for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)
    assert store.count() == len(chunks)


def test_broken_files_are_reported_and_the_rest_indexed(settings, embedder):
    from samples import make_corpus

    expected = make_corpus(settings.docs_dir)
    r = ingest(settings.ingest_config)
    indexed = {k for k, v in expected.items() if v == "indexed"}
    assert set(r.added) == indexed
    assert {s.source for s in r.skipped} == set(expected) - indexed
    assert all(s.reason for s in r.skipped)
    assert "skipped" in r.summary()


def test_model_mismatch_gives_a_clear_error(settings):
    settings.docs_dir.mkdir()
    (settings.docs_dir / "a.txt").write_text("Some text here.")
    ingest(settings.ingest_config)
    with pytest.raises(ModelMismatchError, match="qa ingest --rebuild"):
        open_store(settings.store_config, "some-other-model", 768)


def test_second_writer_is_refused(make_settings, embedder):
    settings = make_settings(lock_wait=2)  # it waits this long for the first writer, then says so
    store = open_store(settings.store_config, embedder.name, embedder.dim)
    t0 = time.monotonic()
    with store.write_lock(), pytest.raises(StoreLockedError, match="Another ingest"):
        ingest(settings.ingest_config)
    assert 2 <= time.monotonic() - t0 < 60


@pytest.mark.slow
def test_interrupted_ingest_recovers(make_settings, tmp_path, embedder):
    """Kill an ingest mid-way (SIGKILL); the next run reaches exactly the clean state. (Slow
    only: the default suite's ``test_sigkill_ingest_converges`` kills it over and over, with edits
    between, and checks the same end state.)"""
    docs = tmp_path / "many"
    docs.mkdir()
    for i in range(120):
        (docs / f"d{i:03d}.txt").write_text(
            f"Document {i} is about item {i}. "
            + " ".join(f"Fact {j} of item {i}." for j in range(60))
        )
    clean = make_settings(docs_dir=docs, store_dir=tmp_path / "clean")
    ingest(clean.ingest_config)
    want = _ids(clean, embedder)

    broken = make_settings(docs_dir=docs, store_dir=tmp_path / "broken")
    env = {**os.environ, "QA_STORE_DIR": str(broken.store_dir), "QA_DOCS_DIR": str(docs)}
    proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "ingest"], cwd=ROOT, env=env)
    time.sleep(6)  # model load, then part of the embedding
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    r = ingest(broken.ingest_config)
    assert r.chunks_total == len(want)
    assert _ids(broken, embedder) == want
    r = ingest(broken.ingest_config)
    assert r.chunks_embedded == 0


def test_a_changed_chunking_indexes_every_file_afresh(make_settings, embedder):
    """Chunks cut with other settings (or an older chunker) are cut again, not kept beside."""
    first = ingest(make_settings(chunk_tokens=200).ingest_config, embedder=embedder)
    assert first.chunks_total > 0 and not first.notes
    smaller = make_settings(chunk_tokens=100, chunk_overlap_tokens=20)
    again = ingest(smaller.ingest_config, embedder=embedder)
    assert any("chunking changed" in n for n in again.notes), again.notes
    assert again.chunks_embedded == again.chunks_total > first.chunks_total
    store = open_store(smaller.store_config, embedder.name, embedder.dim)
    assert store.count() == again.chunks_total  # nothing of the old cut is left
    assert store.recipe.endswith("100/20 tokens")
    assert ingest(smaller.ingest_config, embedder=embedder).chunks_embedded == 0


# ---- one way in (issue 22, item 4): every entry point, the same pipeline, options kept


def _docs(docs):
    """A small folder: two documents, one of them in a subfolder."""
    (docs / "notes").mkdir(parents=True, exist_ok=True)
    (docs / "a.txt").write_text("Alpha is the first letter. It starts the alphabet.")
    (docs / "notes" / "b.md").write_text("Beta comes second. It follows alpha.")
    return docs


def test_qa_ingest_honours_its_options_or_refuses_them(make_settings, tmp_path):
    import qa
    from qa.engine import Engine, get_engine
    from qa.errors import ConfigError, IndexNotFoundError

    docs = _docs(tmp_path / "docs")
    base = make_settings(docs_dir=tmp_path / "elsewhere")
    # Settings fields over the settings given (they used to be dropped when settings were given).
    report = qa.ingest(settings=base, docs_dir=docs, collection="notes")
    assert sorted(report.added) == ["a.txt", "notes/b.md"], report.summary()
    notes = make_settings(docs_dir=docs, collection="notes")
    assert {d.source for d in get_engine(notes).documents()} == {"a.txt", "notes/b.md"}
    with pytest.raises(IndexNotFoundError):
        Engine(base)  # the collection the settings name was left alone
    # Ingest options are honoured: a rebuild (through the open corpus), and no pruning.
    again = qa.ingest(settings=notes, rebuild=True)
    assert sorted(again.added) == ["a.txt", "notes/b.md"]
    assert "Dropped collection 'notes'" in again.summary()
    (docs / "a.txt").unlink()
    assert qa.ingest(settings=notes, prune=False).removed == []
    assert qa.ingest(settings=notes).removed == ["a.txt"]
    assert {d.source for d in get_engine(notes).documents()} == {"notes/b.md"}  # followed
    # Anything else is refused by name, before any work: never silently dropped.
    for bad in ({"colection": "typo"}, {"embedder": None}, {"documents": []}):
        with pytest.raises(ConfigError, match=repr(next(iter(bad)))):
            qa.ingest(settings=notes, **bad)


def test_every_entry_point_ingests_through_one_pipeline(make_settings, tmp_path, monkeypatch):
    """qa.ingest, qa ingest, the app's start and uploads, llama-index and qa eval all plan, write
    and follow in ``index.ingest``; where a corpus is open they write through its store."""
    from llama_index.core.schema import Document as LlamaDocument

    import qa
    from index.store import Store
    from qa.cli.main import main
    from qa.evaluation.runner import prepare_index
    from qa.http.server import prepare_engine
    from qa.llama_index import ingest_documents

    pipeline = sys.modules["index.ingest"]  # the module (``index.ingest`` is the function)
    planned, opened = [], []
    plan, open_ = pipeline._plan, Store.__init__
    monkeypatch.setattr(pipeline, "_plan", lambda *a: planned.append(a[1]) or plan(*a))
    monkeypatch.setattr(Store, "__init__", lambda s, *a, **k: opened.append(s) or open_(s, *a, **k))
    docs = _docs(tmp_path / "docs")
    settings = make_settings(docs_dir=docs)

    assert qa.ingest(settings=settings).added  # 1: qa.ingest, no corpus open: its own store
    assert main(["ingest", "--store", str(settings.store_dir), str(docs)]) == 0  # 2: qa ingest
    engine = prepare_engine(settings)  # 3: the app's start
    stores = len(opened)
    (docs / "c.txt").write_text("Gamma is the third letter.")
    assert engine.ingest().added == ["c.txt"]  # 4: an upload
    prepare_index(settings, None, show_progress=False)  # 5: qa eval
    extra = LlamaDocument(text="Delta is the fourth letter.", metadata={"source": "d.txt"})
    assert ingest_documents([extra], engine=engine).added == ["d.txt"]  # 6: llama-index
    assert len(planned) == 6
    assert len(opened) == stores, "a second store was opened beside the engine's"
    assert all(s is engine.corpus.store for s in planned[3:])
    answer = engine.ask("Which letter is the fourth?")  # followed at once, no reload needed
    assert any(c.source == "d.txt" for c in answer.citations), answer.text


def test_a_removed_document_stays_removed_until_named_again(settings, embedder):
    """Issue 25: "Remove from index" (qa rm --keep-file), then a restart, brought it back.
    Both backends remember a removal (in the bookkeeping collection)."""
    from qa.engine import reset_engines
    from qa.http.server import prepare_engine
    from qa.library.folder import Folder, remove_document

    docs = _docs(settings.docs_dir)
    engine = prepare_engine(settings)  # the app starts

    def sources():
        return {d.source for d in engine.documents()}

    remove_document(engine, Folder(docs), "notes/b.md", keep_file=True)
    assert sources() == {"a.txt"}
    reset_engines()
    engine = prepare_engine(settings)  # the next start: the file is still in the folder
    assert sources() == {"a.txt"}
    again = ingest(settings.ingest_config)  # `qa ingest` of the folder: skipped, and says how
    (skip,) = [s for s in again.skipped if s.source == "notes/b.md"]
    assert not again.added and "removed from the index" in skip.reason
    assert "qa ingest FILE" in skip.reason
    # Named on its own (`qa ingest PATH`, by its path in the folder): back, nothing else touched.
    back = ingest(settings.ingest_config, [docs / "notes" / "b.md"])
    assert back.added == ["notes/b.md"] and not back.removed, back.summary()
    engine.corpus.refresh(force=True)
    assert sources() == {"a.txt", "notes/b.md"}
    # Removed again, and then the file changes: the new version is indexed at the next start.
    remove_document(engine, Folder(docs), "notes/b.md", keep_file=True)
    time.sleep(0.05)
    (docs / "notes" / "b.md").write_text("Beta was rewritten after its removal.")
    reset_engines()
    engine = prepare_engine(settings)
    assert sources() == {"a.txt", "notes/b.md"}


def test_both_backends_implement_the_whole_seam(tmp_path):
    """Embedded Chroma and a Chroma server are the two implementations of ``index.backend``."""
    from typing import Protocol

    from index.backend import Backend
    from index.backends import backend_for
    from index.chroma_server import Server
    from index.config import StoreConfig
    from index.embedded import Embedded

    members = set()
    for cls in Backend.__mro__:
        if cls not in (Backend.__mro__[-1], Protocol) and issubclass(cls, Protocol):
            members |= {n for n in vars(cls) if not n.startswith("_")}
            members |= set(getattr(cls, "__annotations__", {}))
    assert {"connect", "write_lock", "replica_added", "mirrors_folder", "fault"} <= members
    embedded = backend_for(StoreConfig(tmp_path / "store"))
    server = backend_for(StoreConfig(tmp_path / "store", chroma_url="http://127.0.0.1:9"))
    assert isinstance(embedded, Embedded) and isinstance(server, Server)
    for backend in (embedded, server):
        assert not {m for m in members if not hasattr(backend, m)}, type(backend).__name__
    assert (embedded.mirrors_folder, server.mirrors_folder) == (True, False)
