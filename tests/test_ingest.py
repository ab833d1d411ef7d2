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


def test_interrupted_ingest_recovers(make_settings, tmp_path, embedder):
    """Kill an ingest mid-way (SIGKILL); the next run reaches exactly the clean state."""
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
