"""Quality floors that fail CI on a regression: the seed evaluation, and the three outcomes on a
small fixed slice of the SQuAD test half (its own corpus, a near-miss corpus, another corpus).

Floors sit below the measured values with a margin (eval/tune.py prints the full figures): they
catch a broken gate or extractor, not a point of noise. They hold wherever the calibrated boundary
between "answered" and "not sure" lies (it moves with every recalibration): the answer shown
first (confident or not) holds a reference answer, answerable questions are rarely refused,
questions the documents are not about are, and near misses are rarely answered with confidence.
"""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
from conftest import DATASETS, ROOT, SEEDS

from index.ingest import ingest
from qa.answer.markers import strip_markers
from qa.engine import Engine
from qa.evaluation import metrics
from qa.evaluation.dataset import load_dataset
from qa.evaluation.protocol import cross_corpus, near_miss, split_reference
from qa.evaluation.records import read_results
from qa.evaluation.references import convert_reference
from qa.evaluation.runner import evaluate
from qa.outcomes import NOT_SURE

SLICE_ARTICLES = 2  # the first articles of the SQuAD test half: 121 questions, 73 paragraphs


def shares(answers) -> dict[str, float]:
    counts = Counter(a.status for a in answers)
    return {s: counts[s] / max(len(answers), 1) for s in ("answered", "uncertain", "refused")}


def shown_contains(pairs) -> float:
    """Share of (answer text, references) pairs whose shown answer holds a reference: the text a
    refusal shows is empty, and "not sure" shows its guess (its reply prefix stripped)."""
    texts = [(strip_markers(t.removeprefix(NOT_SURE)), refs) for t, refs in pairs]
    return sum(metrics.contains_answer(t, refs) for t, refs in texts) / max(len(texts), 1)


def test_seed_evaluation_floor(seed_engine, tmp_path):
    """`qa eval` of eval/seeds_qa.jsonl (never tuned on): the answer shown holds a reference,
    and refusals hold."""
    items, problems = load_dataset(ROOT / "eval" / "seeds_qa.jsonl")
    assert not problems
    summary = evaluate(
        seed_engine, items, tmp_path / "out", dataset=tmp_path / "seeds.jsonl", show_progress=False
    )
    by = summary["overall"]
    records = read_results(tmp_path / "out" / "results.jsonl")
    answerable = [r for r in records if r["answers"]]
    assert len(answerable) == by["answerable"] >= 40 and not by["errors"]
    # What a reader is shown first, answered or "not sure": measured 0.96 of the 48 answerable.
    shown = shown_contains(
        (r["answer"] if r["status"] != "refused" else "", r["answers"]) for r in answerable
    )
    assert shown >= 0.85, (shown, by)
    # "contains" scores confident answers only: never more than were answered with confidence.
    assert by["contains"] <= by["answerable_answered"] + 1e-9, by
    # Measured: 0.00 answerable refused; of the 11 unanswerable (near misses all: the article's
    # topic, not the fact) 4 refused, the rest "not sure" with the closest passages, none
    # answered with confidence.
    assert by["answerable_refused"] <= 0.05, by
    assert by["unanswerable_refused"] >= 0.25, by
    assert by["unanswerable_answered"] <= 0.1, by
    assert by["answerable_answered"] + by["answerable_uncertain"] + by["answerable_refused"] == (
        pytest.approx(1.0, abs=1e-3)
    )
    assert (tmp_path / "out" / "report.html").is_file()


@pytest.fixture(scope="module")
def squad_slice(tmp_path_factory):
    """The slice's documents and questions, a near-miss copy, and engines over both and seeds."""
    from qa.settings import Settings

    work = tmp_path_factory.mktemp("squad-slice")
    conv = convert_reference(
        "squad", work / "squad", DATASETS / "squad-expmrc" / "expmrc-squad-dev.json"
    )
    items, _ = load_dataset(conv.questions)
    test = split_reference("squad", items)["test"]
    articles = list(dict.fromkeys(i.category for i in test))[:SLICE_ARTICLES]
    chosen = [i for i in test if i.category in articles]
    docs = work / "docs"
    docs.mkdir()
    for prefix in {s.rsplit("_", 1)[0] for i in chosen for s in i.sources}:
        for path in conv.docs_dir.glob(f"{prefix}_*.txt"):
            shutil.copy2(path, docs / path.name)
    miss = near_miss(docs, chosen, work / "near-miss")
    engines = {}
    for name, folder in (("slice", docs), ("near-miss", miss.docs_dir), ("seeds", SEEDS)):
        s = Settings(store_dir=work / "store", collection=f"q-{name}", docs_dir=folder)
        ingest(s.ingest_config)
        engines[name] = Engine(s)
    return chosen, miss, engines


def test_three_outcomes_on_a_fixed_slice(squad_slice):
    chosen, miss, engines = squad_slice
    asked = [engines["slice"].ask(i.question) for i in chosen]
    answerable = shares(asked)
    shown = shown_contains((a.text, i.answers) for a, i in zip(asked, chosen, strict=True))
    near = shares([engines["near-miss"].ask(i.question) for i in miss.unanswerable])
    seeds_items, _ = load_dataset(ROOT / "eval" / "seeds_qa.jsonl")
    cross = shares(
        [engines["seeds"].ask(i.question) for i in cross_corpus(chosen, "seeds")]
        + [engines["slice"].ask(i.question) for i in cross_corpus(seeds_items, "squad")]
    )
    assert len(chosen) >= 25 and len(miss.unanswerable) >= 8
    report = (
        f"answerable {answerable} (shown contains {shown:.2f}), near-miss {near}, "
        f"cross-corpus {cross}"
    )
    # Targets on the whole test half: answerable hard-refused <= 3%, near-miss answered with
    # confidence <= 20%, cross-corpus refused >= 95%; the answer shown first (confident or "not
    # sure") holds a reference for ~85% of SQuAD's answerable questions. A small slice gets a
    # margin.
    assert answerable["refused"] <= 0.1, report
    assert shown >= 0.75, report  # measured 0.88 (refused 0.05, near-miss 0.07, cross 0.99)
    assert near["answered"] <= 0.35, report
    assert cross["refused"] >= 0.9, report
