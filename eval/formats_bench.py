"""Format parity: the reference sets as PDF, DOCX, HTML and scanned PDF, next to the .txt run.

    python eval/formats_bench.py                    # SQuAD and HotpotQA (~15 min quiet, 2 cores)
    python eval/formats_bench.py --quick            # SQuAD only, 20 scanned questions
    python eval/formats_bench.py --sentences regex  # .txt only, the sentence splitter of before

Every paragraph document of a set (eval/datasets, converted as ``qa eval`` does) is rendered by
eval/render_docs.py: a typeset PDF (wrapped and hyphenated lines, running header and footer
with page numbers, small pages so paragraphs cross page breaks, every third document in two
columns), a .docx and an .html page (nav bar, script, inline markup). Each format is indexed in
a collection of its own under ``.qa_store/formats/`` (incrementally: later runs reuse it) and
every question goes through ``Engine.ask``: retrieval hit@5 (a gold document among the five
passages) and extractive contains (a reference answer in the answer), as ``qa eval`` scores
them. OCR of every page is slow on 2 cores, so the scanned variant is a fixed subset: the first
``--scanned`` questions of the set (file order); their gold documents are replaced by scanned
PDFs (rasterised at 300 dpi, no text layer) in a copy of the .txt corpus, and those questions
are scored on both corpora. OCR throughput is timed on those files.

``run()`` is what eval/bench.py calls; ``table()`` prints the result.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]
for _var in [v for v in os.environ if v.startswith("QA_")] + ["OPENAI_API_KEY", "OPENAI_BASE_URL"]:
    os.environ.pop(_var, None)  # measure the shipped defaults, extractive answers
os.environ["ANONYMIZED_TELEMETRY"] = "False"

FORMATS = ("txt", "pdf", "docx", "html")
OCR_SAMPLE = 4  # scanned files timed for the OCR throughput (the ingest reads them all again)
TARGETS = {"pdf": 0.02, "docx": 0.02, "html": 0.02, "scanned": 0.08}  # allowed drop vs .txt


def _render(fmt: str, text: str, i: int) -> bytes:
    import render_docs

    if fmt == "pdf":
        return render_docs.render_pdf(text, columns=2 if i % 3 == 0 else 1, seed=i)
    if fmt == "docx":
        return render_docs.render_docx(text)
    if fmt == "html":
        return render_docs.render_html(text, seed=i)
    if fmt == "scanned":
        return render_docs.render_scan(render_docs.render_pdf(text, seed=i))
    raise ValueError(fmt)


def _folder(txt_docs: Path, out: Path, fmt: str, only: set[str] | None = None) -> Path:
    """The set's documents rendered as ``fmt`` (all, or ``only`` those, the rest as .txt)."""
    out.mkdir(parents=True, exist_ok=True)
    for i, src in enumerate(sorted(txt_docs.glob("*.txt"))):
        if fmt == "txt" or (only is not None and src.name not in only):
            dest = out / src.name
            if not dest.exists():
                shutil.copyfile(src, dest)
            continue
        ext = ".pdf" if fmt == "scanned" else f".{fmt}"
        dest = out / f"{src.stem}{ext}"
        if not dest.exists():
            tmp = dest.with_suffix(".part")
            tmp.write_bytes(_render(fmt, src.read_text(encoding="utf-8"), i))
            tmp.rename(dest)
    return out


def _score(engine, items) -> dict:
    from qa.evaluation.scoring import answer_scores

    hit = contains = f1 = 0.0
    for item in items:
        answer = engine.ask(item.question)
        gold = {Path(s).stem for s in item.sources}
        hit += any(Path(p.source).stem in gold for p in answer.retrieved[:5])
        scores = answer_scores(item, answer)
        contains += scores["contains"] or 0.0
        f1 += scores["f1"] or 0.0
    n = max(len(items), 1)
    return {"n": len(items), "hit@5": hit / n, "contains": contains / n, "f1": f1 / n}


def _index(settings, docs: Path, collection: str):
    from index.ingest import ingest
    from qa.engine import Engine

    s = settings.model_copy(update={"docs_dir": docs, "collection": collection})
    t0 = time.perf_counter()
    report = ingest(s.ingest_config)
    if report.skipped:
        print(f"  {collection}: {len(report.skipped)} skipped, e.g. {report.skipped[0]}")
    return Engine(s), time.perf_counter() - t0


def run(
    sets: tuple[str, ...] = ("squad", "hotpotqa"),
    *,
    scanned: int = 40,
    limit: int | None = None,
    work: Path = ROOT / ".qa_store" / "formats",
    formats: tuple[str, ...] = FORMATS,
) -> dict:
    """Index every format of every set and score its questions; returns the results by set."""
    from index.offline import quiet
    from qa.evaluation.dataset import load_dataset
    from qa.evaluation.references import convert_reference
    from qa.settings import Settings

    quiet()
    warnings.filterwarnings("ignore")  # fpdf2 notes the few glyphs its font lacks
    settings = Settings(store_dir=work / "store")
    results: dict = {}
    for name in sets:
        conv = convert_reference(name, work / "datasets" / name)
        items, _ = load_dataset(conv.questions)
        items = [i for i in items if i.answerable][:limit]
        res: dict = {}
        for fmt in formats:
            t0 = time.perf_counter()
            docs = _folder(conv.docs_dir, work / name / fmt, fmt)
            rendered = time.perf_counter() - t0
            engine, seconds = _index(settings, docs, f"fmt-{name}-{fmt}")
            res[fmt] = _score(engine, items) | {"render_s": rendered, "index_s": seconds}
            print(f"  {name} {fmt}: {res[fmt]}", flush=True)
        if scanned:
            res.update(_scanned(settings, conv.docs_dir, items[:scanned], work / name, name))
        results[name] = res
    return results


def _scanned(settings, txt_docs: Path, items, work: Path, name: str) -> dict:
    """The subset's gold documents as scanned PDFs, against the same questions on .txt."""
    from index.formats.pdf import read_pdf

    gold = {s for i in items for s in i.sources}
    docs = _folder(txt_docs, work / f"scanned-{len(items)}", "scanned", only=gold)
    pages = 0
    t0 = time.perf_counter()
    for path in sorted(docs.glob("*.pdf"))[:OCR_SAMPLE]:  # OCR throughput on a few files
        pages += len(read_pdf(path.read_bytes()).pages)
    ocr_s = time.perf_counter() - t0
    engine, _ = _index(settings, docs, f"fmt-{name}-scanned-{len(items)}")
    txt_engine, _ = _index(settings, work / "txt", f"fmt-{name}-txt")
    out = {
        "scanned": _score(engine, items) | {"pages": pages, "ocr_s": ocr_s},
        "txt-subset": _score(txt_engine, items),
    }
    print(f"  {name} scanned: {out}", flush=True)
    return out


def table(results: dict) -> str:
    """The parity table (Markdown): each format next to .txt, with the difference."""
    lines = [
        "| set | format | questions | hit@5 | vs .txt | contains | vs .txt | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, res in results.items():
        for fmt, r in res.items():
            if fmt == "txt-subset":
                continue
            base = res["txt-subset"] if fmt == "scanned" else res.get("txt", r)
            dh, dc = r["hit@5"] - base["hit@5"], r["contains"] - base["contains"]
            target = TARGETS.get(fmt)
            ok = "" if target is None else ("met" if min(dh, dc) >= -target else "missed")
            label = (
                f"scanned PDF (subset; .txt on it: {base['hit@5']:.3f} / {base['contains']:.3f})"
                if fmt == "scanned"
                else fmt
            )
            lines.append(
                f"| {name} | {label} | {r['n']} | {r['hit@5']:.3f} | {dh:+.3f} | "
                f"{r['contains']:.3f} | {dc:+.3f} | "
                f"{'' if target is None else f'within {target:.2f}: {ok}'} |"
            )
        if "scanned" in res:
            s = res["scanned"]
            lines.append(
                f"| {name} | OCR throughput | {s['pages']} pages | "
                f"{s['pages'] / max(s['ocr_s'], 1e-9):.2f} pages/s | | | | |"
            )
    return "\n".join(lines)


def _sentences_regex() -> None:
    """Use the sentence splitter of before issue 13 everywhere (chunking, answers, support)."""
    import segment_bench

    import index.chunk
    import qa.answer.extract
    import qa.answer.support

    def spans(text: str, start: int = 0, end: int | None = None):
        end = len(text) if end is None else end
        return [(start + s, start + e) for s, e in segment_bench.regex_spans(text[start:end])]

    for module in (index.chunk, qa.answer.extract, qa.answer.support):
        module.sentence_spans = spans


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="SQuAD only, 20 scanned questions")
    p.add_argument("--sets", default="squad,hotpotqa")
    p.add_argument("--formats", default=",".join(FORMATS))
    p.add_argument("--scanned", type=int, default=40, help="questions in the scanned subset")
    p.add_argument("--limit", type=int, help="questions per set (default: all answerable)")
    p.add_argument("--sentences", choices=["sentencex", "regex"], default="sentencex")
    p.add_argument("--work", type=Path, default=ROOT / ".qa_store" / "formats")
    args = p.parse_args(argv)
    sets = ("squad",) if args.quick else tuple(args.sets.split(","))
    scanned = min(20, args.scanned) if args.quick else args.scanned
    formats = tuple(args.formats.split(","))
    work = args.work
    if args.sentences == "regex":
        _sentences_regex()
        formats, scanned, work = ("txt",), 0, work / "regex-sentences"
    t0 = time.perf_counter()
    results = run(sets, scanned=scanned, limit=args.limit, work=work, formats=formats)
    print(table(results))
    print(f"\n{time.perf_counter() - t0:.0f} s; sentences: {args.sentences}; load average "
          f"{os.getloadavg()[0]:.1f}")  # fmt: skip
    out = ROOT / "eval" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"formats-{args.sentences}.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
