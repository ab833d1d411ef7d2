"""eval/bench.py's results as Markdown tables: test halves, transfer, outcomes, models, speed."""

from __future__ import annotations

PEERS = ("hybrid", "llama", "dense", "bm25", "rrf")
LABELS = {"squad": "SQuAD", "hotpotqa": "HotpotQA", "seeds": "seeds", "hotpotqa-sub": "HotpotQA"}


def _f(x, digits=3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _pct(x) -> str:
    return "—" if x is None else f"{x:.1%}"


def _ms(x) -> str:
    return "—" if x is None else f"{x:.1f} ms"


def _get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def _ratio(ours, peers: list, higher_better: bool = True) -> str:
    peers = [p for p in peers if p is not None]
    if ours is None or not peers:
        return "—"
    best = max(peers) if higher_better else min(peers)
    if higher_better:
        return f"{ours / best:.2f}×" if best else "—"
    return f"{best / ours:.2f}×" if ours else "—"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


def retrieval(res: dict) -> list[str]:
    """Retrieval on the test halves, ours and the peers side by side."""
    rows = []
    for name, metric, label in (
        ("squad", "hit@1", "SQuAD-test hit@1"),
        ("squad", "hit@5", "SQuAD-test hit@5"),
        ("squad", "mrr@10", "SQuAD-test MRR@10"),
        ("hotpotqa", "both@10", "HotpotQA-test both gold in top 10"),
        ("hotpotqa", "mrr@10", "HotpotQA-test MRR@10 (first gold)"),
        ("hotpotqa", "hit@1", "HotpotQA-test hit@1"),
        ("hotpotqa", "hit@5", "HotpotQA-test hit@5"),
    ):
        r = _get(res, "retrieval", name)
        if r is None:
            continue
        vals = [_get(r, k, metric) for k in PEERS]
        rows.append(
            [label, f"**{_f(vals[0])}**", *(_f(v) for v in vals[1:]), _ratio(vals[0], vals[1:])]
        )
    head = ["retrieval, test half", "ours", "LlamaIndex default", "dense only", "BM25 only",
            "RRF dense+BM25", "ours vs best peer"]  # fmt: skip
    return _table(head, rows) if rows else []


def transfer(res: dict) -> list[str]:
    """Constants tuned on each tune half (and both), measured on every half."""
    t = res.get("tuning")
    if not t:
        return []
    sets = sorted({k.split("/")[0] for k in t["sizes"]}, key=["squad", "hotpotqa"].index)
    head = ["constants tuned on", "fusion, candidates, dense weight, link weight"]
    for s in sets:
        head += [f"{LABELS[s]}-test MRR@10", f"{LABELS[s]}-test hit@1"]
        if s == "hotpotqa":
            head.append("HotpotQA-test both@10")
    head.append(f"in-sample: own tune half {t['objective']}")
    rows = []
    for tuned_on, c in t["choices"].items():
        k = c["constants"]
        names = {"both": "both tune halves", "shipped": "**shipped defaults**"}
        row = [
            names[tuned_on] if tuned_on in names else f"{LABELS[tuned_on]}-tune only",
            f"{k['method']}, {k['candidates']}, {k['dense_weight']:.1f}, {k['link_weight']:.2f}",
        ]
        for s in sets:
            m = c["measured"][f"{s}/test"]
            cross = tuned_on in sets and tuned_on != s
            mark = " (cross-set)" if cross else ""
            row += [f"{_f(m['mrr@10'])}{mark}", _f(m["hit@1"])]
            if s == "hotpotqa":
                row.append(_f(m["both@10"]))
        own = [s for s in sets if tuned_on in (s, "both", "shipped")]
        row.append(
            ", ".join(f"{LABELS[s]} {_f(c['measured'][f'{s}/tune'][t['objective']])}" for s in own)
        )
        rows.append(row)
    return _table(head, rows)


def outcomes(res: dict) -> list[str]:
    """The three outcomes on answerable, near-miss and cross-corpus questions."""
    o = res.get("outcomes")
    if not o:
        return []
    head = ["answers (extractive)", "n", "answered", "uncertain", "refused", "contains", "token F1",
            "median chars", "target"]  # fmt: skip
    rows = []
    for name, a in o["answerable"].items():
        label = LABELS.get(name.split()[0], name)
        half = "" if "in-sample" in name else "-test"
        target = "refused ≤ 3%"
        if name == "squad":
            target += "; F1 ≥ 0.30 with contains ≥ 0.80"
        rows.append([
            f"answerable, {label}{half}" + (" (in-sample)" if not half else ""), str(a["n"]),
            _pct(a["answered"]), _pct(a["uncertain"]), f"**{_pct(a['refused'])}**",
            f"**{_f(a['contains'])}**", f"**{_f(a['f1'])}**", _f(a["median_chars"], 0), target,
        ])  # fmt: skip
    for name, a in o["near_miss"].items():
        rows.append([
            f"near-miss unanswerable, {LABELS[name]}-test (gold paragraphs removed)", str(a["n"]),
            f"**{_pct(a['answered'])}** (as confident)", _pct(a["uncertain"]), _pct(a["refused"]),
            "—", "—", "—", "answered ≤ 20%",
        ])  # fmt: skip
    su = o.get("seeds_unanswerable (in-sample)")
    if su:
        rows.append([
            "unanswerable seed questions (in-sample)", str(su["n"]), _pct(su["answered"]),
            _pct(su["uncertain"]), f"**{_pct(su['refused'])}**", "—", "—", "—", "—",
        ])  # fmt: skip
    for key, a in o["cross"].items():
        q, store = key.split("->")
        qlabel = LABELS.get(q, q) + ("" if q == "seeds" else "-test")
        rows.append([
            f"cross-corpus: {qlabel} asked of {LABELS.get(store, store)}", str(a["n"]),
            _pct(a["answered"]), _pct(a["uncertain"]), f"**{_pct(a['refused'])}**", "—", "—",
            "—", "refused ≥ 95%",
        ])  # fmt: skip
    b = _get(o, "answerable", "squad", "baselines")
    lines = _table(head, rows)
    if b:
        lines += [
            "",
            f"Baselines over the same retrieved passages, SQuAD-test contains: best-cosine "
            f"sentence of the top 5 {_f(b['best_cosine'])}, lead sentence of the top passage "
            f"{_f(b['lead'])}.",
        ]
    return lines


def embeddings(res: dict) -> list[str]:
    """MiniLM and e5 side by side: quality on test questions, throughput, query latency."""
    e = res.get("embeddings")
    if not e:
        return []
    head = [
        "embedding model",
        "MiniLM (int8, English)",
        "e5 (4-bit, ~100 languages)",
        "e5 ÷ MiniLM",
    ]
    rows = []
    for name, by_model in e["quality"].items():
        label = f"{LABELS[name]}-test" + (
            f" subset ({e['sizes'][name]} q, their 10 contexts each)"
            if name.endswith("-sub")
            else ""
        )
        for mode in ("dense", "hybrid"):
            for metric in ("hit@1", "hit@5", "mrr@10"):
                a, b = by_model["minilm"][mode][metric], by_model["e5"][mode][metric]
                rows.append(
                    [f"{label} {mode} {metric}", _f(a), _f(b), f"{b / a:.2f}×" if a else "—"]
                )
    tp = e["throughput"]
    a, b = tp["minilm"]["chunks_per_s"], tp["e5"]["chunks_per_s"]
    rows.append([f"passage throughput, {tp['chunks']} SQuAD chunks, ingest batching",
                 f"{a:.1f} chunks/s", f"{b:.1f} chunks/s", f"{b / a:.2f}×"])  # fmt: skip
    q = e["query_ms"]
    rows.append(["embedding one question, p50", _ms(q["minilm"]), _ms(q["e5"]),
                 f"{q['e5'] / q['minilm']:.2f}×"])  # fmt: skip
    return _table(head, rows)


def speed(res: dict) -> list[str]:
    """Ingest, re-run, latency, scale and the app."""
    head = ["speed", "target", "ours", "peer / reference", "ratio"]
    rows = []
    for name, ing in res.get("ingest", {}).items():
        llama = ing.get("llama_s")
        rows.append([
            f"ingest vs bare model (same length-sorted batching), {name} {ing['files']} files, "
            f"{ing['chunks']} chunks", "≥ 0.9 of bare; ≥ 1.3× LlamaIndex",
            f"**{_f(ing['ours_vs_bare'], 2)}** of bare ({ing['ours_s']:.1f} s; bare "
            f"{ing['bare_s']:.1f} s)", f"LlamaIndex {llama:.1f} s" if llama else "—",
            f"{_f(ing.get('ours_vs_llama'), 2)}× LlamaIndex",
        ])  # fmt: skip
    p = res.get("process")
    if p:
        rows.append([
            f"`qa ingest` process vs a bare-model process, SQuAD ({p['chunks']} chunks), "
            "start to exit", "—", f"{p['qa_ingest_s']:.1f} s", f"bare {p['bare_process_s']:.1f} s",
            f"{p['ingest_vs_bare_time']:.2f}× the bare time",
        ])  # fmt: skip
        rows.append([
            f"`qa ingest` process over unchanged {p['rerun_set']} ({p['rerun_files']:,} files), "
            "start to exit", "≤ 3 s", f"**{p['rerun_s']:.2f} s**", "—", "—",
        ])  # fmt: skip
    for name in ("hotpotqa", "squad"):
        r = _get(res, "retrieval", name)
        if r is None:
            continue
        n_chunks = _get(res, "index", name, "chunks") or 0
        for pct, target in (("p50_ms", "≤ 15 ms"), ("p95_ms", "≤ 30 ms")):
            ours, rrf = _get(r, "hybrid", pct), _get(r, "rrf", pct)
            rows.append([
                f"retrieval {pct[:3]}, {name} ({n_chunks:,} chunks), question vector given",
                target, f"**{_ms(ours)}**", f"dense {_ms(_get(r, 'dense', pct))}, BM25 "
                f"{_ms(_get(r, 'bm25', pct))}, RRF {_ms(rrf)}",
                f"{_ratio(ours, [rrf], higher_better=False)} RRF",
            ])  # fmt: skip
        ours, llama = _get(r, "hybrid_embedding", "p50_ms"), _get(r, "llama", "p50_ms")
        rows.append([f"retrieval p50 including embedding the question, {name}", "—", _ms(ours),
                     f"LlamaIndex {_ms(llama)}", f"{_ratio(ours, [llama], False)} LlamaIndex"])  # fmt: skip
        break
    for row in res.get("scale", []):
        target = "≤ 50 ms" if row["chunks"] >= 100_000 else "—"
        rows.append([f"hybrid retrieval p50 / p95 at {row['chunks']:,} chunks (synthetic)", target,
                     f"**{_ms(row['p50_ms'])}** / {_ms(row['p95_ms'])}", "—", "—"])  # fmt: skip
    for name, a in _get(res, "outcomes", "answerable").items() if res.get("outcomes") else []:
        rows.append([f"extractive answer end to end, p50 / p95, {name}", "≤ 50 ms",
                     f"**{_ms(a['p50_ms'])}** / {_ms(a['p95_ms'])}", "—", "—"])  # fmt: skip
        break
    for key, val in res.get("app", {}).items():
        if "error" in val:
            rows.append([f"app {key}", "—", f"error: {val['error'][:80]}", "—", "—"])
        elif key == "seeds":
            rows.append(["`python app.py` to a ready page over indexed seeds/", "≤ 6 s",
                         f"**{val['ready_s']:.1f} s** ({val['rss_mb']:.0f} MB)", "—", "—"])  # fmt: skip
        elif key.startswith("engine_"):
            rows.append([f"engine alone after 50 questions, {key[7:]}", "—",
                         f"{val['rss_mb']:.0f} MB RSS (peak {val['peak_mb']:.0f} MB)", "—", "—"])  # fmt: skip
        else:
            rows.append([f"`python app.py` RSS with {key} indexed (ready in {val['ready_s']:.1f} s)",
                         "≤ 700 MB", f"**{val['rss_mb']:.0f} MB** (peak {val['peak_mb']:.0f} MB)",
                         "—", "—"])  # fmt: skip
    return _table(head, rows) if rows else []


def formats(res: dict) -> list[str]:
    """Retrieval and answers over PDF, DOCX, HTML and scanned copies against the .txt."""
    if not res.get("formats"):
        return []
    import formats_bench

    return [formats_bench.table(res["formats"])]


def render(res: dict) -> str:
    """Every table of the run, with a line saying when and how it ran."""
    meta = res["meta"]
    halves = ", ".join(
        f"{LABELS[n]} {h['tune']} tune / {h['test']} test"
        for n, h in meta.get("halves", {}).items()
    )
    parts = [
        f'Halves (split by topic, seed "{meta.get("split_seed")}"): {halves} questions.',
        "",
        *retrieval(res),
        "",
        *transfer(res),
        "",
        *outcomes(res),
        "",
        *embeddings(res),
        "",
        *formats(res),
        "",
        *speed(res),
        "",
    ]
    for name, error in res.get("errors", {}).items():
        parts.append(f"**{name} failed**: {error}  ")
    parts.append(
        f"{'Quick run' if meta['quick'] else 'Full run'} {meta['date']}, {meta['cpus']} CPUs, "
        f"load average {meta['load_avg_start'][0]:.1f} at start and "
        f"{meta['load_avg_end'][0]:.1f} at the end, {meta['seconds'] / 60:.1f} min; "
        f"embedding {meta['embedding']}. Ratios: ours ÷ best peer for quality, best peer ÷ ours "
        "for time (> 1 = ours better)."
    )
    return "\n".join(parts)


if __name__ == "__main__":
    import json
    import sys
    from pathlib import Path

    print(render(json.loads(Path(sys.argv[1]).read_text())))
