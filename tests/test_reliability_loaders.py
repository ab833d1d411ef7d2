"""What is indexed is what was read, and every loader reads in bounded memory (issue 17, 4 and 10).

A file rewritten while ``qa ingest`` runs is indexed as read and read again at the next run;
an adversarial file of each type loads with peak memory proportional to its size, or is
skipped with a reason. Heavier variant (49 MB files): ``./scripts/test.sh -m slow``.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

import adversarial
import pytest
import reliability
from conftest import ROOT

from index.ingest import ingest
from index.load import load, scan
from index.store import open_store

TEXT = " ".join(
    f"Sentence {i} says the ferry number {i} leaves from pier {i % 7}." for i in range(400)
)


def test_load_hashes_the_bytes_it_read(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("First version of the file.")
    (entry,), _ = scan([tmp_path])
    path.write_text("Second version, written after the scan.")
    doc = load(entry)
    assert doc.text == "Second version, written after the scan."
    assert doc.file_hash == hashlib.sha256(path.read_bytes()).hexdigest() != entry.file_hash


def test_file_rewritten_mid_ingest_is_reindexed_next_run(
    make_settings, tmp_path, embedder, monkeypatch
):
    """The issue's case: the file is cut short while the ingest reads it, then restored."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The first file is about the harbour.")
    full = TEXT.encode()
    (docs / "b.txt").write_bytes(full)
    settings = make_settings(docs_dir=docs)
    pipeline = sys.modules["index.ingest"]  # the module (``index.ingest`` is the function)
    monkeypatch.setattr(pipeline, "GROUP_CHUNKS", 1)  # report progress after every file

    def rewrite(done: int, total: int) -> None:
        if done == 1:  # a.txt is written; b.txt, already scanned, is being rewritten
            (docs / "b.txt").write_bytes(full[: len(full) // 3])

    ingest(settings.ingest_config, embedder=embedder, progress=rewrite)
    (docs / "b.txt").write_bytes(full)  # the writer finishes: the bytes the scan saw
    again = ingest(settings.ingest_config, embedder=embedder)
    assert "b.txt" in again.updated, f"recorded as unchanged: {again.summary()}"
    store = open_store(settings.store_config, embedder.name, embedder.dim)
    text = " ".join(c.text for c in store.all_chunks() if c.source == "b.txt")
    assert "Sentence 399 says" in text, "the end of the file is missing from the index"
    third = ingest(settings.ingest_config, embedder=embedder)
    assert not third.updated and third.unchanged == 2
    reliability.add("faults_injected", 1, "file rewritten mid-ingest: re-read at the next run")


# Peak memory growth allowed while loading a file of S MB: a * S + b MB. Measured with
# tests/adversarial.py (10 MB and 49 MB files), with a margin for allocator noise. A CSV is
# bounded by the text budget (50 M characters), a PDF page by PDFium (~13 bytes per byte of
# content stream; a stream over 16 MB is refused).
CEILINGS = {
    ".txt": (3.0, 60), ".md": (5.0, 60), ".html": (6.0, 80), ".csv": (4.0, 300),
    ".pdf": (16.0, 120), ".docx": (3.0, 80), ".pptx": (3.0, 80), ".xlsx": (10.0, 120),
    ".epub": (6.0, 80), ".png": (0.0, 150), ".jpg": (0.0, 150),
}  # fmt: skip
MAX_SECONDS = 120


def _memory_test(size: int):
    results = {}
    for ext, (a, b) in CEILINGS.items():
        with tempfile.TemporaryDirectory() as tmp:
            path = adversarial.write(Path(tmp), ext, size)
            r = adversarial.probe(path, ROOT)
        ceiling = a * r["size"] / 1e6 + b
        results[ext] = r
        assert r["mb"] <= ceiling, f"{ext}: {r['mb']:.0f} MB > {ceiling:.0f} MB ({r})"
        assert r["s"] <= MAX_SECONDS, f"{ext}: {r['s']:.0f} s"
        assert r["skipped"] is None or "\n" not in r["skipped"]
        reliability.add(
            "files_fuzzed", 1, f"adversarial {size // 1_000_000} MB files, memory watched"
        )
    summary = ", ".join(
        f"{ext} {r['mb']:.0f} MB/{r['s']:.0f} s{' (skipped)' if r['skipped'] else ''}"
        for ext, r in results.items()
    )
    reliability.note(f"loader peak memory on {size // 1_000_000} MB adversarial files: {summary}")


def test_every_loader_has_a_memory_ceiling():
    _memory_test(4_000_000)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_every_loader_has_a_memory_ceiling_at_49_mb():
    _memory_test(49_000_000)
