"""The reader's figures, leave-one-domain-out, on each domain's TEST half, beside today's heuristic.

    python eval/reader/evaluate.py                  # every prepared domain, its LODO model
    python eval/reader/evaluate.py --also all       # + the model trained on every domain

For a domain D the reader is ``eval/out/reader/lodo/without-D`` (int8 ONNX, trained without any
of D: ``export.py --run lodo-D --out eval/out/reader/lodo/without-D``), run through
``runtime.Reader`` exactly as it ships (``qa/answer/reader.py`` is the same code). On D's test
half:

- **gold given**: the passages of the gold document that hold an answer (the paragraph, for
  SQuAD); the span of the best-scoring one: token F1 and contains (a reference answer inside the
  span); today's phrase (``qa.extract.answer`` -> ``Citation.phrases``) over the same passages;
- **end to end**: the product's fused top 5 / top 10 for the question; the span of the passage
  the reader ranks first (``rel``) or of the best span score anywhere (``span``); the product's
  marked phrase with the reader on (``product.with_reader``: the fused top 5 read, the
  reader's span marked) and today's, without it, over the fused top 5 (what ``ask`` shows);
- **reranking**: hit@1 and MRR@10 of the top 10 reordered by the reader's relevance, against the
  fused order (gold = a passage of a gold document);
- **answerability**: AUC of the largest relevance over the top 10 between the answerable
  questions and the near-miss ones (gold removed, ``near_miss``), against today's gate
  (the evidence's relevance; the calibrated probability that the answer is right); the calibration of the relevance probability (ECE, 10 bins) over
  every passage read.

Writes ``eval/out/reader/evaluate.json`` and ``evaluate.md``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import product  # noqa: E402
import runtime  # noqa: E402
from domains import holds_answer, read_jsonl  # noqa: E402
from scores import auc, ece  # noqa: E402

OUT = HERE.parents[1] / "eval" / "out" / "reader"


def mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return float(np.mean(xs)) if xs else None


def span_text(text: str, r: runtime.Reading) -> str:
    return text[r.start : r.end]


def evaluate_domain(reader: runtime.Reader, cases: list[dict], weights: dict, half: str = "test",
                    limit: int = 0) -> dict:  # fmt: skip
    """Every figure of one domain's half with one reader (``weights``: (kind, id) -> the
    question's IDF weights in its corpus, as the product computes them)."""
    test = [c for c in cases if c["half"] == half]
    ans = [c for c in test if c["kind"] == "answerable"]
    miss = [c for c in test if c["kind"] == "near-miss"]
    if limit:
        ans, miss = ans[:limit], miss[: limit // 2]
    f = {k: [] for k in ("gold_f1", "gold_contains", "h_gold_f1", "h_gold_contains")}
    for k in (5, 10):
        for rule in ("rel", "span"):
            f[f"e2e{k}_{rule}_f1"], f[f"e2e{k}_{rule}_contains"] = [], []
    f.update(h_e2e5_f1=[], h_e2e5_contains=[], fused_hit1=[], fused_mrr=[], reader_hit1=[],
             reader_mrr=[], gold_at10=[], p_f1=[], p_contains=[], p_answer_contains=[],
             h_answer_contains=[])  # fmt: skip
    max_rel = {"answerable": [], "near-miss": []}
    max_margin = {"answerable": [], "near-miss": []}
    h_rel = {"answerable": [], "near-miss": []}
    h_conf = {"answerable": [], "near-miss": []}
    probs, labels = [], []
    for c in ans + miss:
        kind, answers = c["kind"], c["answers"]
        top = c["retrieved"][:10]
        reads = reader.score(c["question"], [p["text"] for p in top]) if top else []
        if reads:
            max_rel[kind].append(max(r.relevance for r in reads))
            max_margin[kind].append(max(r.margin for r in reads))
        h_rel[kind].append(c["heuristic"]["relevance"])
        h_conf[kind].append(c["heuristic"]["right"])
        for p, r in zip(top, reads, strict=True):
            probs.append(r.relevance)
            good = (
                kind == "answerable"
                and p["source"] in c["gold"]
                and holds_answer(p["text"], answers)
            )
            labels.append(int(good))
        if kind != "answerable":
            continue
        gold = c["gold_passages"]
        if gold:
            g = reader.score(c["question"], [p["text"] for p in gold])
            best = max(range(len(g)), key=lambda i: g[i].span_score)
            pred = span_text(gold[best]["text"], g[best])
            f["gold_f1"].append(product.token_f1(pred, answers))
            f["gold_contains"].append(product.contains(pred, answers))
            hp = c["heuristic"].get("gold_phrase", "")
            f["h_gold_f1"].append(product.token_f1(hp, answers))
            f["h_gold_contains"].append(product.contains(hp, answers))
        for k in (5, 10):
            rk = reads[:k]
            for rule, key in (("rel", lambda i, rk=rk: rk[i].relevance_logit),
                              ("span", lambda i, rk=rk: rk[i].span_score)):  # fmt: skip
                if rk:
                    i = max(range(len(rk)), key=key)
                    pred = span_text(top[i]["text"], rk[i])
                else:
                    pred = ""
                f[f"e2e{k}_{rule}_f1"].append(product.token_f1(pred, answers))
                f[f"e2e{k}_{rule}_contains"].append(product.contains(pred, answers))
        hp = c["heuristic"]["phrase"]
        f["h_e2e5_f1"].append(product.token_f1(hp, answers))
        f["h_e2e5_contains"].append(product.contains(hp, answers))
        f["h_answer_contains"].append(float(holds_answer(c["heuristic"]["answer"], answers)))
        given = [product.passage(p, n) for n, p in enumerate(top)]
        mine = product.with_reader(reader, c["question"], given, weights[(kind, c["id"])])
        f["p_f1"].append(product.token_f1(mine["phrase"], answers))
        f["p_contains"].append(product.contains(mine["phrase"], answers))
        f["p_answer_contains"].append(float(holds_answer(mine["answer"], answers)))
        flags = [p["source"] in c["gold"] for p in top]
        order = sorted(range(len(reads)), key=lambda i: -reads[i].relevance_logit)
        f["fused_hit1"].append(float(bool(flags) and flags[0]))
        f["fused_mrr"].append(rr(flags))
        f["reader_hit1"].append(float(bool(order) and flags[order[0]]))
        f["reader_mrr"].append(rr([flags[i] for i in order]))
        f["gold_at10"].append(float(any(flags)))
    out = {k: mean(v) for k, v in f.items()}
    out.update(
        n_answerable=len(ans),
        n_near_miss=len(miss),
        auc_reader_relevance=auc(max_rel["answerable"], max_rel["near-miss"]),
        auc_reader_margin=auc(max_margin["answerable"], max_margin["near-miss"]),
        auc_heuristic_relevance=auc(h_rel["answerable"], h_rel["near-miss"]),
        auc_heuristic_confidence=auc(h_conf["answerable"], h_conf["near-miss"]),
        relevance_ece=ece(probs, labels),
        relevance_mean=mean(probs),
        relevance_positive_share=mean(labels),
    )
    return out


def rr(flags: list[bool], k: int = 10) -> float:
    return next((1.0 / (i + 1) for i, g in enumerate(flags[:k]) if g), 0.0)


ROWS = [
    ("product's marked phrase (reader on / today): F1", "h_e2e5_f1", "p_f1"),
    ("product's marked phrase (reader on / today): contains", "h_e2e5_contains", "p_contains"),
    ("product's answer text holds an answer", "h_answer_contains", "p_answer_contains"),
    ("gold given: span F1", "h_gold_f1", "gold_f1"),
    ("gold given: contains", "h_gold_contains", "gold_contains"),
    ("end to end top 5 (reader's first passage): F1", "h_e2e5_f1", "e2e5_rel_f1"),
    ("end to end top 5 (reader's first passage): contains", "h_e2e5_contains", "e2e5_rel_contains"),
    ("end to end top 10 (reader's first passage): F1", None, "e2e10_rel_f1"),
    ("end to end top 10 (reader's first passage): contains", None, "e2e10_rel_contains"),
    ("end to end top 10 (best span anywhere): F1", None, "e2e10_span_f1"),
    ("end to end top 10 (best span anywhere): contains", None, "e2e10_span_contains"),
    ("rerank top 10: hit@1", "fused_hit1", "reader_hit1"),
    ("rerank top 10: MRR@10", "fused_mrr", "reader_mrr"),
    ("answerable vs near-miss: AUC (today: relevance / reader: max relevance)",
     "auc_heuristic_relevance", "auc_reader_relevance"),
    ("answerable vs near-miss: AUC (today: P(right) / reader: max span-null margin)",
     "auc_heuristic_confidence", "auc_reader_margin"),
    ("relevance probability: ECE (10 bins)", None, "relevance_ece"),
]  # fmt: skip


def fmt(v) -> str:
    return "—" if v is None else f"{v:.3f}"


def render(results: dict) -> str:
    lines = []
    for d, by_model in results["domains"].items():
        models = list(by_model)
        first = by_model[models[0]]
        lines.append(f"\n### {d} test half ({first['n_answerable']} answerable, "
                     f"{first['n_near_miss']} near-miss)\n")  # fmt: skip
        lines.append("| figure | today (heuristic / fused) | " + " | ".join(models) + " |")
        lines.append("| --- | --- |" + " --- |" * len(models))
        for label, h, r in ROWS:
            cells = [fmt(by_model[m].get(r)) for m in models]
            lines.append(
                f"| {label} | {fmt(first.get(h)) if h else '—'} | " + " | ".join(cells) + " |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--domains", default="", help="comma-separated (default: all prepared)")
    ap.add_argument("--models", type=Path, default=OUT / "lodo",
                    help="folder of without-<domain>/ (and all/) model dirs")  # fmt: skip
    ap.add_argument("--also", default="", help="other model dirs under --models (all)")
    ap.add_argument("--half", default="test", choices=("test", "tune"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="first N answerable questions (trials)")
    ap.add_argument("--model-file", default="", help="another file in the model dir (fp32)")
    ap.add_argument("--max-tokens", type=int, default=0, help="another window than config's")
    ap.add_argument("--out", type=Path, default=OUT / "evaluate.json")
    args = ap.parse_args(argv)
    print("command: python eval/reader/evaluate.py " + shlex.join(sys.argv[1:]), flush=True)
    names = [d for d in args.domains.split(",") if d] or sorted(
        p.name for p in (OUT / "data").iterdir() if (p / "cases.jsonl.gz").is_file()
    )
    weights = {(c.kind, c.item.id): c.weights for c in product.cases() if c.domain in names}
    results = {"half": args.half, "domains": {}}
    t0 = time.perf_counter()
    for d in names:
        cases = read_jsonl(OUT / "data" / d / "cases.jsonl.gz")
        results["domains"][d] = {}
        for run in [f"without-{d}", *[r for r in args.also.split(",") if r]]:
            model_dir = args.models / run
            if not (model_dir / "config.json").is_file():
                print(f"{d}: no {model_dir}, skipped", flush=True)
                continue
            reader = runtime.Reader(model_dir, threads=args.threads, model_file=args.model_file)
            if args.max_tokens:
                reader.max_tokens = args.max_tokens
            label = "reader LODO" if run.startswith("without-") else f"reader {run}"
            results["domains"][d][label] = evaluate_domain(
                reader, cases, weights, args.half, args.limit
            )
            print(d, label, json.dumps(results["domains"][d][label]), flush=True)
        if not results["domains"][d]:
            del results["domains"][d]
    results["seconds"] = round(time.perf_counter() - t0)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    md = render(results)
    args.out.with_suffix(".md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
