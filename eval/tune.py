"""Tune every answering constant on the TUNE halves; report the TEST halves and transfer.

    python eval/tune.py              # ~10 min once the indexes exist (~30 min from a fresh clone)
    python eval/tune.py --cache F    # keep the retrieved passages in F between runs (pickle)

The halves, near-miss corpora and cross-corpus items come from ``qa.evaluation.protocol``; the
answers from ``qa.answer.extract.answer`` over ``Engine.retriever`` (whatever retrieval is in force, so
re-run this after retrieval changes). Constants are chosen one group at a time, each on the
tune halves of SQuAD and HotpotQA together:

1. sentence weights (passage vs word overlap, answer kind): contains of the best sentence;
2. clause focus (which sentences are cut, how wide): token F1, keeping contains within 0.03;
3. the second-sentence rule (the share of question words it must add): contains + F1;
4. the gate: ``min_relevance`` refuses at most REFUSE_AT_MOST of the answerable questions of
   each set; ``answer_confidence`` and its sentence mix keep near-miss questions answered with
   confidence under CONFIDENT_AT_MOST on each set, answering with confidence as many answerable
   ones as that allows.

Then the test halves (never looked at above), the seed questions (never tuned on), and cross-set
transfer: the gate tuned on one set alone, measured on the other's test half. Prints tables;
writes eval/out/tune.json and tune.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pickle
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]
for _var in list(os.environ):  # the shipped defaults, offline, no model
    if _var.startswith("QA_") or _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        os.environ.pop(_var)

import numpy as np  # noqa: E402
import retrieval_bench as rb  # noqa: E402

from qa.answer import extract  # noqa: E402
from qa.answer import verdict as gate  # noqa: E402
from qa.answer.focus import FocusWeights  # noqa: E402
from qa.answer.markers import strip_markers  # noqa: E402
from qa.evaluation.metrics import contains_answer, token_f1  # noqa: E402
from qa.evaluation.protocol import cross_corpus, near_miss, split_reference  # noqa: E402

log = logging.getLogger("tune")
SETS = ("squad", "hotpotqa")
REFUSE_AT_MOST = 0.025  # answerable questions hard-refused, on each tune half (target: 3%)
CONFIDENT_AT_MOST = 0.13  # near-miss questions answered with confidence (target: 20%)
NOISE = 0.01  # tune-half differences smaller than this keep the value in the code
CONTAINS_SLACK = 0.03  # focusing may cost this much contains for shorter answers
GRID = {
    "passage": (0.3, 0.4, 0.5, 0.6, 0.7),
    "kind": (0.0, 0.05, 0.1, 0.2),
    "min_words": (15, 25, 35, 50, 10_000),  # 10,000: never cut a sentence
    "window": ((0, 1), (1, 1), (1, 2)),  # segments kept before and after
    "second_gain": (0.1, 0.2, 0.3, 0.5, 2.0),  # 2.0: never a second sentence
    "w_sentence": (0.0, 0.25, 0.5, 0.75),
}


# ---------------------------------------------------------------------------- cases


def build_cases(work: Path, cache: Path | None) -> list[dict]:
    """Every question with its retrieved passages, on its own, near-miss and other corpora."""
    if cache and cache.is_file():
        log.info("reading cached cases from %s", cache)
        return pickle.loads(cache.read_bytes())
    from index.embed import make_embedder
    from index.ingest import ingest
    from qa.engine import Engine
    from qa.evaluation.dataset import load_dataset
    from qa.settings import Settings

    sets = rb.prepare(ROOT / "eval" / "datasets", ROOT / ".qa_store" / "datasets", list(SETS))
    embedder = make_embedder(Settings().embed_config)
    corpora = {n: s.docs_dir for n, s in sets.items()} | {"seeds": ROOT / "seeds"}
    misses = {}
    for n, s in sets.items():
        misses[n] = near_miss(s.docs_dir, s.questions, work / "nearmiss-docs" / n)
        corpora[f"{n}-nearmiss"] = misses[n].docs_dir
    engines = {}
    for name, folder in corpora.items():
        settings = Settings(store_dir=work, collection=name, docs_dir=folder)
        log.info("index %s: %s", name, ingest(settings.ingest_config, embedder=embedder).summary())
        engines[name] = Engine(settings)
    todo = []  # (set, half, kind, corpus, item)
    for n, s in sets.items():
        half = {i.id: h for h, qs in split_reference(n, s.questions).items() for i in qs}
        todo += [(n, half[i.id], "answerable", n, i) for i in s.questions]
        todo += [(n, half[i.id], "near-miss", f"{n}-nearmiss", i) for i in misses[n].unanswerable]
        for other in [o for o in (*SETS, "seeds") if o != n]:
            todo += [(n, half[i.id], "cross", other, i) for i in cross_corpus(s.questions, other)]
    seeds, _ = load_dataset(ROOT / "eval" / "seeds_qa.jsonl")
    for i in seeds:
        todo.append(("seeds", "test", "answerable" if i.answerable else "unanswerable", "seeds", i))
        todo += [("seeds", "test", "cross", o, c) for o in SETS for c in cross_corpus([i], o)]
    cases, t0 = [], time.perf_counter()
    for k, (n, half, kind, corpus, item) in enumerate(todo):
        e = engines[corpus]
        passages = e.retriever.search(item.question)
        cases.append(dict(set=n, half=half, kind=kind, corpus=corpus, item=item,
                          passages=passages, weights=e.question_weights(item.question)))  # fmt: skip
        if k % 500 == 0:
            log.info("retrieved %d of %d (%.0f s)", k, len(todo), time.perf_counter() - t0)
    if cache:
        cache.write_bytes(pickle.dumps(cases))
    return cases


def pick(cases: list[dict], sets=SETS, half="tune", kind="answerable") -> list[dict]:
    return [c for c in cases if c["set"] in sets and c["half"] == half and c["kind"] == kind]


# ---------------------------------------------------------------------------- scoring


OPEN = gate.Thresholds(min_relevance=-1.0, answer_confidence=-1.0)  # the gate out of the way


def run(
    cases: list[dict], aw: extract.AnswerWeights, th=OPEN, sentences: int = 2, focused=True
) -> list:
    """The extractive answer to every case."""
    return [
        extract.answer(
            c["item"].question, list(c["passages"]), c["weights"], th, sentences, aw, focused
        )
        for c in cases
    ]


def quality(cases: list[dict], drafts: list) -> dict:
    """contains / F1 / EM of the confident answers (strict), of the text shown, length, outcomes."""
    n = max(len(cases), 1)
    out = {"n": len(cases), "contains": 0.0, "f1": 0.0, "shown_contains": 0.0}
    sizes = []
    for c, d in zip(cases, drafts, strict=True):
        text = strip_markers(d.text)
        if d.status == "answered":
            out["contains"] += contains_answer(text, c["item"].answers) / n
            out["f1"] += token_f1(text, c["item"].answers) / n
            sizes.append(len(text))
        if d.status != "refused":
            shown = text.removeprefix(extract.NOT_SURE).strip()
            out["shown_contains"] += contains_answer(shown, c["item"].answers) / n
    out.update(outcomes(drafts))
    out["chars_p50"] = median(sizes) if sizes else None
    return out


def outcomes(drafts: list) -> dict:
    n = max(len(drafts), 1)
    return {s: sum(d.status == s for d in drafts) / n for s in ("answered", "uncertain", "refused")}


def per_set(cases, fn) -> dict:
    return {s: fn([c for c in cases if c["set"] == s]) for s in SETS}


# ---------------------------------------------------------------------------- tuning


def settle(scored: list[tuple[float, object]], key, incumbent: tuple) -> tuple[float, object]:
    """The best-scoring choice; among those within NOISE of it, the one nearest the incumbent.

    Differences under NOISE (about one question in a hundred) are not worth a change: moving a
    constant on noise is how a value fitted to one set fails on the next.
    """
    top = max(score for score, _ in scored)
    close = [(score, c) for score, c in scored if score >= top - NOISE]

    def distance(c) -> float:
        return sum(abs(a - b) for a, b in zip(key(c), incumbent, strict=True))

    return min(close, key=lambda sc: (distance(sc[1]), -sc[0]))


def tune_answer(cases: list[dict]) -> tuple[extract.AnswerWeights, list[dict]]:
    """Sentence weights, then clause focus, then the second-sentence rule, on tune answerable."""
    tune = pick(cases)
    steps: list[dict] = []

    def mean_over_sets(aw, key, sentences=2, focused=True):
        scores = []
        for s in SETS:
            group = [c for c in tune if c["set"] == s]
            q = quality(group, run(group, aw, sentences=sentences, focused=focused))
            scores.append(q[key] if not isinstance(key, tuple) else sum(q[k] for k in key))
        return sum(scores) / len(scores)

    incumbent = extract.AnswerWeights()  # the values in the code now
    scored = [
        (mean_over_sets(aw, "contains", sentences=1, focused=False), aw)
        for p in GRID["passage"]
        for k in GRID["kind"]
        for aw in [replace(incumbent, lexical=round(1 - p, 2), passage=p, kind=k)]
    ]
    value, best = settle(
        scored, lambda aw: (aw.passage, aw.kind), (incumbent.passage, incumbent.kind)
    )
    steps.append({"step": "sentence weights", "metric": "contains of the best sentence",
                  "value": round(value, 4), "passage": best.passage, "kind": best.kind})  # fmt: skip
    floor = value - CONTAINS_SLACK
    scored = []
    for min_words in GRID["min_words"]:
        for before, after in GRID["window"]:
            aw = replace(best, focus=FocusWeights(min_words, before, after), second_gain=2.0)
            if mean_over_sets(aw, "contains", sentences=1) >= floor:
                scored.append((mean_over_sets(aw, "f1", sentences=1), aw.focus))
    f = incumbent.focus
    value, fw = settle(scored or [(-1.0, FocusWeights(min_words=10_000))],
                       lambda x: (x.min_words / 100, x.before, x.after),
                       (f.min_words / 100, f.before, f.after))  # fmt: skip
    best = replace(best, focus=fw)
    steps.append({"step": "clause focus", "metric": f"token F1, contains >= {floor:.3f}",
                  "value": round(value, 4), **asdict(fw)})  # fmt: skip
    scored = [
        (mean_over_sets(replace(best, second_gain=g), ("contains", "f1")), g)
        for g in GRID["second_gain"]
    ]
    value, gain = settle(scored, lambda g: (g,), (incumbent.second_gain,))
    best = replace(best, second_gain=gain)
    steps.append({"step": "second sentence", "metric": "contains + F1",
                  "value": round(value, 4), "second_gain": gain})  # fmt: skip
    return best, steps


def tune_gate(cases: list[dict], aw, sets=SETS) -> tuple[gate.Thresholds, dict]:
    """min_relevance, then answer_confidence and its sentence mix, on the tune halves of ``sets``."""
    ev = {id(c): d.evidence for c, d in zip(cases, run(cases, aw), strict=True)}
    answerable = {s: [ev[id(c)] for c in pick(cases, (s,))] for s in sets}
    nearmiss = {s: [ev[id(c)] for c in pick(cases, (s,), kind="near-miss")] for s in sets}

    def quantile(values: list[float], share: float) -> float:
        return float(np.quantile(values, share))  # linear interpolation

    # The largest threshold that refuses at most REFUSE_AT_MOST of each set's answerable.
    min_rel = min(quantile([e.relevance for e in answerable[s]], REFUSE_AT_MOST) for s in sets)
    best = None
    for w in GRID["w_sentence"]:
        t = max(quantile([e.confidence(w) for e in nearmiss[s]], 1 - CONFIDENT_AT_MOST)
                for s in sets) + 1e-6  # fmt: skip
        unsure = sum(
            sum(e.relevance >= min_rel and e.confidence(w) < t for e in answerable[s])
            / len(answerable[s])
            for s in sets
        ) / len(sets)
        if best is None or unsure < best[0]:
            best = (unsure, w, t)
    unsure, w, t = best
    th = gate.Thresholds(round(min_rel, 4), round(t, 4), w)
    return th, {"answerable not sure (tune)": round(unsure, 4)}


# ---------------------------------------------------------------------------- report


def report(cases: list[dict], aw, th) -> dict:
    """Every figure on the test halves (and the held-out seed questions)."""
    out: dict = {}
    for s in (*SETS, "seeds"):
        half = "test"
        ans = pick(cases, (s,), half)
        out[f"{s} answerable"] = quality(ans, run(ans, aw, th))
        kinds = ("near-miss",) if s != "seeds" else ("unanswerable",)
        for k in kinds:
            group = pick(cases, (s,), half, k)
            out[f"{s} {k}"] = outcomes(run(group, aw, th))
        for other in [o for o in (*SETS, "seeds") if o != s]:
            group = [c for c in pick(cases, (s,), half, "cross") if c["corpus"] == other]
            out[f"{s} -> {other}"] = outcomes(run(group, aw, th))
    cross = [c for c in cases if c["half"] == "test" and c["kind"] == "cross"]
    out["cross-corpus, all pairs"] = outcomes(run(cross, aw, th))
    return out


def transfer(cases: list[dict], aw) -> dict:
    """The gate tuned on one set's tune half, measured on the other set's test half."""
    out = {}
    for src, dst in (("squad", "hotpotqa"), ("hotpotqa", "squad")):
        th, _ = tune_gate(cases, aw, (src,))
        ans, nm = pick(cases, (dst,), "test"), pick(cases, (dst,), "test", "near-miss")
        cross = [c for c in pick(cases, (dst,), "test", "cross")]
        out[f"{src} -> {dst}"] = {
            "min_relevance": th.min_relevance, "answer_confidence": th.answer_confidence,
            "answerable refused": outcomes(run(ans, aw, th))["refused"],
            "answerable not sure": outcomes(run(ans, aw, th))["uncertain"],
            "near-miss answered": outcomes(run(nm, aw, th))["answered"],
            "cross refused": outcomes(run(cross, aw, th))["refused"],
        }  # fmt: skip
    return out


def render(res: dict) -> str:
    lines = ["## Chosen on the TUNE halves", "", "| constant | value | tune-half metric |",
             "| --- | --- | --- |"]  # fmt: skip
    for step in res["steps"]:
        values = ", ".join(
            f"{k}={v}" for k, v in step.items() if k not in ("step", "metric", "value")
        )
        lines.append(f"| {step['step']}: {values} | | {step['metric']} = {step['value']} |")
    t = res["thresholds"]
    lines += [
        f"| min_relevance | {t['min_relevance']} | answerable refused <= {REFUSE_AT_MOST} per set |",
        f"| answer_confidence (w_sentence {t['w_sentence']}) | {t['answer_confidence']} | "
        f"near-miss confident <= {CONFIDENT_AT_MOST} per set; {res['gate_tune']} |",
        "", "## TEST halves (and the seed questions, never tuned on)", "",
        "| group | n | contains | F1 | shown contains | chars p50 | answered | not sure | refused |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for name, q in res["test"].items():
        cells = [q.get(k) for k in ("n", "contains", "f1", "shown_contains", "chars_p50")]
        cells = [
            "" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v)) for v in cells
        ]
        outs = [f"{q[k]:.3f}" for k in ("answered", "uncertain", "refused")]
        lines.append(f"| {name} | " + " | ".join(cells + outs) + " |")
    lines += ["", "## Cross-set transfer of the gate (tuned on one set's tune half)", "",
              "| tuned -> measured | min_relevance | answer_confidence | answerable refused | "
              "answerable not sure | near-miss answered | cross refused |",
              "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for name, v in res["transfer"].items():
        lines.append(f"| {name} | " + " | ".join(f"{x:.3f}" for x in v.values()) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cache", type=Path, help="pickle of the retrieved cases, reused if present")
    p.add_argument("--out", type=Path, default=ROOT / "eval" / "out")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "chromadb", "bm25s", "index", "qa"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from index.offline import quiet

    quiet()
    t0 = time.perf_counter()
    cases = build_cases(ROOT / ".qa_store" / "tune", args.cache)
    aw, steps = tune_answer(cases)
    th, gate_tune = tune_gate(cases, aw)
    res = {
        "steps": steps,
        "weights": asdict(aw),
        "thresholds": asdict(th),
        "gate_tune": gate_tune,
        "test": report(cases, aw, th),
        "transfer": transfer(cases, aw),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    table = render(res)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tune.json").write_text(json.dumps(res, indent=2, default=str))
    (args.out / "tune.md").write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
