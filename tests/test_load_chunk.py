"""Loaders on real files (good and broken) and exact character spans of every chunk."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from conftest import DATASETS, SEEDS
from samples import make_corpus, write_zip_bomb_docx

from index.chunk import chunk_document
from index.load import load, scan
from index.text import sentence_spans
from index.types import Document, Skipped


def _load_all(folder: Path) -> dict[str, Document | Skipped]:
    entries, skipped = scan([folder])
    out: dict[str, Document | Skipped] = {s.source: s for s in skipped}
    for e in entries:
        out[e.source] = load(e)
    return out


def test_every_loader_on_good_and_broken_files(tmp_path):
    expected = make_corpus(tmp_path / "docs")
    results = _load_all(tmp_path / "docs")
    assert set(results) == set(expected)
    for name, outcome in expected.items():
        got = results[name]
        if outcome == "indexed":
            assert isinstance(got, Document), f"{name}: {got}"
            assert got.text.strip()
        else:
            assert isinstance(got, Skipped), f"{name} should be skipped"
            assert outcome.lower() in got.reason.lower(), f"{name}: {got.reason}"
            assert "\n" not in got.reason


def test_loaded_text_is_what_the_file_says(tmp_path):
    make_corpus(tmp_path / "docs")
    r = _load_all(tmp_path / "docs")
    assert "812 millimetres" in r["report.pdf"].text
    assert "moved to Thursday" in r["memo.docx"].text
    assert "pier four" in r["page.html"].text and "alert" not in r["page.html"].text
    assert r["page.html"].title == "Harbour"
    assert "Café owner Zoë" in r["latin1.txt"].text


def test_zip_bomb_docx_is_skipped(tmp_path):
    write_zip_bomb_docx(tmp_path / "bomb.docx")
    (doc,) = _load_all(tmp_path).values()
    assert isinstance(doc, Skipped) and "zip bomb" in doc.reason


def test_symlink_outside_folder_is_skipped(tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("top secret")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "link.txt").symlink_to(outside)
    (result,) = _load_all(docs).values()
    assert isinstance(result, Skipped) and "outside" in result.reason


def test_sentence_spans_respect_abbreviations():
    text = "Dr. Smith met U.S. officials at 3.30 p.m. on Monday. They talked. Then left!"
    spans = sentence_spans(text)
    sentences = [text[s:e] for s, e in spans]
    assert sentences == [
        "Dr. Smith met U.S. officials at 3.30 p.m. on Monday.",
        "They talked.",
        "Then left!",
    ]


def test_sentence_spans_never_cut_inside_a_token():
    text = "It runs window.__init = 1; then stops. See node.js docs.Then run it."
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == [
        "It runs window.__init = 1; then stops.",
        "See node.js docs.",
        "Then run it.",
    ]


def _corpus_docs() -> list[Document]:
    docs = []
    for folder in [SEEDS]:
        entries, _ = scan([folder])
        docs += [d for d in map(load, entries) if isinstance(d, Document)]
    return docs


def _dataset_docs() -> list[Document]:
    import json

    docs = []
    squad = json.loads((DATASETS / "squad-expmrc" / "expmrc-squad-dev.json").read_text())
    for art in squad["data"]:
        for i, p in enumerate(art["paragraphs"]):
            docs.append(Document(f"{art['title']}_{i}", f"{art['title']}\n{p['context']}", "h"))
    for line in (DATASETS / "hotpotqa-dev500" / "dev_subsampled.jsonl").read_text().splitlines():
        for c in json.loads(line)["contexts"]:
            docs.append(Document(c["title"], f"{c['title']}\n{c['paragraph_text']}", "h"))
    return docs


@pytest.mark.parametrize("which", ["seeds", "datasets"])
def test_chunk_spans_are_exact(which, embedder):
    docs = _corpus_docs() if which == "seeds" else _dataset_docs()
    assert docs
    n = 0
    for doc in docs:
        chunks = chunk_document(doc, embedder.count_tokens, 200, 40)
        assert chunks, doc.source
        for c in chunks:
            assert doc.text[c.start : c.end] == c.text
            n += 1
        # every sentence of the document is in some chunk
        covered = set()
        for c in chunks:
            covered.update(range(c.start, c.end))
        for s, e in sentence_spans(doc.text):
            assert s in covered and e - 1 in covered
    assert n >= len(docs)


def test_chunks_fit_the_model_and_overlap(embedder):
    text = " ".join(
        f"Sentence number {i} talks about topic {i % 7} in some detail." for i in range(300)
    )
    doc = Document("long.txt", text, "h")
    chunks = chunk_document(doc, embedder.count_tokens, 200, 40)
    assert len(chunks) > 5
    for c in chunks:
        assert embedder.count_tokens([c.text])[0] <= 200 + 2  # joining spaces
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end, "neighbouring chunks overlap"
        assert b.start > a.start, "chunking always moves forward"


def test_one_giant_sentence_is_split(embedder):
    doc = Document("giant.txt", "word " * 5000, "h")
    chunks = chunk_document(doc, embedder.count_tokens, 200, 40)
    assert len(chunks) >= 20
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert embedder.count_tokens([c.text])[0] <= 256
