"""Retrieval quality floors on a small fixed slice of the SQuAD TEST half, with the real embedder.

The slice: the first ARTICLES test-half articles (``qa.evaluation.protocol``: split by topic, fixed
seed), all their paragraphs as the corpus, their first QUESTIONS questions. Nothing was tuned on it. The
floors sit well below what the shipped retrieval measures on it (in the comments), so that only
a real regression fails: hybrid ahead of dense-only by a clear margin, and a floor for each.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import DATASETS

from qa.evaluation.dataset import load_dataset
from qa.evaluation.metrics import hit_at, mrr_at
from qa.evaluation.protocol import split_reference
from qa.evaluation.references import convert_reference
from qa.evaluation.scoring import is_gold, source_gold

ARTICLES = 2
QUESTIONS = 80


@pytest.fixture(scope="module")
def squad_slice(tmp_path_factory):
    """An engine over the slice's paragraphs, and the slice's questions."""
    from index.ingest import ingest
    from qa.engine import Engine
    from qa.settings import Settings

    tmp = tmp_path_factory.mktemp("squad-slice")
    conv = convert_reference(
        "squad", tmp / "squad", DATASETS / "squad-expmrc" / "expmrc-squad-dev.json"
    )
    items, _ = load_dataset(conv.questions)
    test = split_reference("squad", items)["test"]
    articles = list(dict.fromkeys(q.category for q in test))[:ARTICLES]
    in_articles = [q for q in test if q.category in articles]
    docs = tmp / "docs"
    docs.mkdir()
    # Every paragraph of those articles (files "<article>_NNN.txt"), asked about or not.
    stems = {s.rsplit("_", 1)[0] for q in in_articles for s in q.sources}
    for path in conv.docs_dir.iterdir():
        if path.name.rsplit("_", 1)[0] in stems:
            shutil.copy(path, docs / path.name)
    questions = in_articles[:QUESTIONS]
    settings = Settings(store_dir=tmp / "store", docs_dir=docs)
    ingest(settings.ingest_config)
    return Engine(settings), questions


def _scores(engine, questions, mode: str) -> dict[str, float]:
    h1 = mrr = 0.0
    for q in questions:
        gold = source_gold(q)
        flags = [bool(is_gold(gold, p)) for p in engine.retrieve(q.question, k=10, mode=mode)]
        h1 += hit_at(flags, 1)
        mrr += mrr_at(flags, 10)
    return {"hit@1": h1 / len(questions), "mrr@10": mrr / len(questions)}


def test_hybrid_beats_dense_only_on_held_out_squad_questions(squad_slice):
    engine, questions = squad_slice
    assert len(questions) >= 40
    hybrid = _scores(engine, questions, "hybrid")
    dense = _scores(engine, questions, "dense")
    bm25 = _scores(engine, questions, "bm25")
    print(f"\nslice: {len(questions)} q; hybrid {hybrid}, dense {dense}, bm25 {bm25}")
    assert hybrid["mrr@10"] >= dense["mrr@10"] + 0.05
    assert hybrid["hit@1"] >= dense["hit@1"] + 0.05
    assert hybrid["mrr@10"] >= bm25["mrr@10"] - 0.02  # fusion must not lose to its keyword side
    assert hybrid["hit@1"] >= 0.75
