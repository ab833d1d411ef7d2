"""The answering pipeline under the protocol: test halves, near-miss and cross-corpus questions.

- **answerable**: each set's TEST half asked of its own corpus: the outcome shares (answered,
  uncertain, hard-refused), contains and token F1 of the answered ones, median answer length.
- **near-miss**: the test-half questions whose gold paragraphs ``qa.evaluation.protocol.near_miss``
  removed from a copy of the corpus (the topic stays, the answer is gone), asked of that copy:
  "answered" here is answered-as-confident, the outcome to keep low.
- **cross-corpus**: the test half asked of every other corpus (the other set, seeds/): refused.

``eval/seeds_qa.jsonl`` was written by hand and used when the answering constants were first
set, so its figures are in-sample: they are reported, labelled so.
"""

from __future__ import annotations

import logging

import answer_bench as ab
from bench_setup import WORK, ReusingEmbedder, build

from qa.evaluation.dataset import EvalItem
from qa.evaluation.protocol import cross_corpus, near_miss, split_reference

log = logging.getLogger(__name__)


def near_miss_engine(name: str, qaset, engine, embedder):
    """An engine over the set's corpus without half its questions' gold files; the NearMiss."""
    nm = near_miss(qaset.docs_dir, qaset.questions, WORK / "near-miss" / name)
    reuse = ReusingEmbedder(embedder, engine.settings)  # the files are indexed already
    nm_engine, _ = build(f"{name}-nearmiss", nm.docs_dir, reuse)
    return nm_engine, nm


def run(sets: dict, engines: dict, seed_qs: list[EvalItem], embedder, cache) -> dict:
    """Every protocol measurement of the answers; ``engines`` has one per set and "seeds"."""
    out: dict = {"answerable": {}, "near_miss": {}, "cross": {}, "sizes": {}}
    asked: dict[str, list[EvalItem]] = {}
    for name, qaset in sets.items():
        test = split_reference(name, qaset.questions)["test"]
        asked[name] = [q for q in test if q.answerable]
        answers, times = ab.ask_all(engines[name], asked[name])
        res = ab.score_answers(answers, asked[name], times)
        if name == "squad":
            res["baselines"] = ab.baselines(
                answers, asked[name], embedder, cache / f"sentences-{name}.npz"
            )
        out["answerable"][name] = res

        nm_engine, nm = near_miss_engine(name, qaset, engines[name], embedder)
        test_ids = {q.id for q in test}
        unanswerable = [q for q in nm.unanswerable if q.id in test_ids]
        answers, _ = ab.ask_all(nm_engine, unanswerable)
        out["near_miss"][name] = {"n": len(unanswerable), **ab.outcomes(answers)}
        out["sizes"][name] = {"test": len(test), "near_miss_files_removed": len(nm.removed)}

    if seed_qs:  # in-sample: hand-written, used when the constants were first set
        answerable = [q for q in seed_qs if q.answerable]
        asked["seeds"] = answerable
        answers, times = ab.ask_all(engines["seeds"], answerable)
        out["answerable"]["seeds (in-sample)"] = ab.score_answers(answers, answerable, times)
        unanswerable = [q for q in seed_qs if not q.answerable]
        answers, _ = ab.ask_all(engines["seeds"], unanswerable)
        out["seeds_unanswerable (in-sample)"] = {"n": len(unanswerable), **ab.outcomes(answers)}

    for qset, qs in asked.items():
        for store, engine in engines.items():
            if store != qset:
                answers, _ = ab.ask_all(engine, cross_corpus(qs, store))
                out["cross"][f"{qset}->{store}"] = {"n": len(qs), **ab.outcomes(answers)}
    return out
