"""Which sentence segmenter: measured on the reference sets, typeset PDFs and hard cases.

    python eval/segment_bench.py            # ~1-2 min
    python eval/segment_bench.py --pdfs 0   # without the typeset-PDF part

Candidates: the hand-written regex that index/chunk.py used before (kept here to compare),
pysbd, blingfire, syntok and sentencex, each run line by line (a line break always ends a
sentence, as in index.chunk). Measures:

- SQuAD evidence: ExpMRC's human-marked evidence sentences; the share whose start and end both
  fall on the segmenter's sentence boundaries in their paragraph (all 319 paragraphs).
- typeset PDFs: the share of a paragraph's sentences that come back identical when the
  paragraph is rendered as a PDF (eval/render_docs.py) and read back by index.load.
- hard cases: abbreviations, initials, quotes, decimals, ellipses, list items (below).
- speed: characters per second over every SQuAD and HotpotQA paragraph.

The downstream effect (extractive answers) is measured by eval/formats_bench.py --sentences.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from index.text.sentences import add_trimmed  # noqa: E402  (after the path: this tree's index)

Spans = list[tuple[int, int]]

# ---- the regex that index/chunk.py used before (for the comparison only)
_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "e.g", "i.e", "cf",
    "no", "vol", "fig", "inc", "ltd", "co", "corp", "gen", "gov", "sen", "rep", "lt", "col",
    "sgt", "capt", "rev", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "u.s", "u.k", "u.n", "a.m", "p.m", "approx", "dept", "est", "ft", "al",
}  # fmt: skip
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def regex_spans(text: str) -> Spans:
    """The pre-issue-13 hand-written splitter."""
    spans: Spans = []
    for line in re.finditer(r"[^\n]+", text):
        ls, le = line.start(), line.end()
        pos = ls
        for m in _END.finditer(text, ls, le):
            cut = m.end()
            if not _regex_boundary(text, pos, m.start(), cut, le):
                continue
            add_trimmed(spans, text, pos, cut)
            pos = cut
        add_trimmed(spans, text, pos, le)
    return spans


def _regex_boundary(text: str, sent_start: int, punct: int, cut: int, line_end: int) -> bool:
    if text[punct] == ".":
        w = _WORD_BEFORE.search(text, sent_start, punct)
        word = w.group(1).lower() if w else ""
        if word in _ABBREV or (len(word) == 1 and word.isalpha()):
            return False
        digits = punct > 0 and text[punct - 1].isdigit() and punct + 1 < line_end
        if digits and text[punct + 1].isdigit():
            return False
    nxt = cut
    while nxt < line_end and text[nxt].isspace():
        nxt += 1
    if nxt >= line_end:
        return True
    c = text[nxt]
    return c.isupper() or c.isdigit() or c in "\"'“‘([" or not c.isalpha()


# ---- the maintained segmenters, each run on one line at a time


def _by_line(segment: Callable[[str], list[tuple[int, int]]]) -> Callable[[str], Spans]:
    def spans(text: str) -> Spans:
        out: Spans = []
        for line in re.finditer(r"[^\n]+", text):
            for s, e in segment(line.group()):
                add_trimmed(out, text, line.start() + s, line.start() + e)
        return out

    return spans


def _located(sentences: list[str], line: str) -> list[tuple[int, int]]:
    """Offsets of sentences returned as strings (pysbd, syntok), found in order in the line."""
    out, pos = [], 0
    for sent in sentences:
        sent = sent.strip()
        at = line.find(sent, pos)
        if at < 0:
            continue
        out.append((at, at + len(sent)))
        pos = at + len(sent)
    return out


def candidates() -> dict[str, Callable[[str], Spans]]:
    """Every segmenter to compare, by name."""
    import blingfire
    import pysbd
    import sentencex
    import syntok.segmenter as syntok

    sbd = pysbd.Segmenter(language="en", clean=False)

    def syntok_split(line: str) -> list[tuple[int, int]]:
        return [
            (sent[0].offset, sent[-1].offset + len(sent[-1].value))
            for para in syntok.analyze(line)
            for sent in para
            if sent
        ]

    return {
        "regex (before)": regex_spans,
        "pysbd": _by_line(lambda ln: _located(sbd.segment(ln), ln)),
        "blingfire": _by_line(lambda ln: blingfire.text_to_sentences_and_offsets(ln)[1]),
        "syntok": _by_line(syntok_split),
        "sentencex": _by_line(
            lambda ln: [
                (b["start_index"], b["end_index"])
                for b in sentencex.get_sentence_boundaries("en", ln)
            ]
        ),
        "index.chunk (now)": _current(),
    }


def _current() -> Callable[[str], Spans]:
    from index.text import sentence_spans

    return sentence_spans


# ---- hard cases: (text, the sentences it holds); written before any segmenter was tried
HARD = [
    ("Dr. Smith met U.S. officials at 3.30 p.m. on Monday. They talked. Then left!",
     ["Dr. Smith met U.S. officials at 3.30 p.m. on Monday.", "They talked.", "Then left!"]),
    ("Prices rose 2.5 percent in Q3. Analysts expected 3.1 percent.",
     ["Prices rose 2.5 percent in Q3.", "Analysts expected 3.1 percent."]),
    ('He said, "The ferry is late." Then he left.',
     ['He said, "The ferry is late."', "Then he left."]),
    ("Bring fruit, e.g. apples or pears. Do not bring nuts.",
     ["Bring fruit, e.g. apples or pears.", "Do not bring nuts."]),
    ("J. R. R. Tolkien wrote it in 1937. It sold well.",
     ["J. R. R. Tolkien wrote it in 1937.", "It sold well."]),
    ("The U.K. voted in 2016. The U.S. followed in November.",
     ["The U.K. voted in 2016.", "The U.S. followed in November."]),
    ("Wait... what happened? Nobody knew!", ["Wait... what happened?", "Nobody knew!"]),
    ("Acme Inc. hired Mr. Jones. He starts Monday.", ["Acme Inc. hired Mr. Jones.", "He starts Monday."]),
    ("See Fig. 3 for details. The curve is flat.", ["See Fig. 3 for details.", "The curve is flat."]),
    ("It costs $4.99 (approx. 5 euros). Buy two.", ["It costs $4.99 (approx. 5 euros).", "Buy two."]),
    ("She asked: 'Is it open?' He nodded.", ["She asked: 'Is it open?'", "He nodded."]),
    ("The vote was 52.1% to 47.9%. Turnout was high.", ["The vote was 52.1% to 47.9%.", "Turnout was high."]),
    ("Chapter 1\nThe harbour opens in May.", ["Chapter 1", "The harbour opens in May."]),
    ("Version 3.2.1 shipped. It fixed bugs.", ["Version 3.2.1 shipped.", "It fixed bugs."]),
    ("Gen. Patton arrived at 9 a.m. The troops cheered.",
     ["Gen. Patton arrived at 9 a.m.", "The troops cheered."]),
    ("The ship (the H.M.S. Victory) sailed. It was 1805.",
     ["The ship (the H.M.S. Victory) sailed.", "It was 1805."]),
    ("“We won,” she said. “Again.”", ["“We won,” she said.", "“Again.”"]),
    ("Item one costs 3 dollars. Item two costs 4.", ["Item one costs 3 dollars.", "Item two costs 4."]),
    ("He lived in St. Louis, Mo. for years. Then he moved.",
     ["He lived in St. Louis, Mo. for years.", "Then he moved."]),
    ("No. 10 Downing St. is famous. Tourists visit it.",
     ["No. 10 Downing St. is famous.", "Tourists visit it."]),
]  # fmt: skip


def hard_cases(split: Callable[[str], Spans]) -> float:
    """Share of the hard cases split exactly right."""
    ok = sum(1 for text, want in HARD if [text[s:e] for s, e in split(text)] == want)
    return ok / len(HARD)


def squad_evidence(split: Callable[[str], Spans], data: dict) -> tuple[float, float]:
    """ExpMRC evidence that reads as whole sentences (a capital first, . ! ? last): the share
    whose ends both fall on sentence boundaries, and the share cut by a boundary inside."""
    hit = cut = total = 0
    whole = re.compile(r"^[A-Z\"“].*[.!?][\"”']?$", re.S)
    for art in data["data"]:
        for p in art["paragraphs"]:
            ctx = p["context"]
            spans = split(ctx)
            starts, ends = {s for s, _ in spans}, {e for _, e in spans}
            for ev in {e.strip() for q in p["qas"] for e in q.get("evidences", []) if e.strip()}:
                at = ctx.find(ev)
                if at < 0 or not whole.match(ev) or (at and ctx[at - 1] not in " \n"):
                    continue
                total += 1
                hit += at in starts and at + len(ev) in ends
                cut += any(at < e < at + len(ev) - 1 for e in ends)
    return hit / max(total, 1), cut / max(total, 1)


def pdf_agreement(split: Callable[[str], Spans], docs: list[tuple[str, str]]) -> float:
    """Share of each text's sentences found identical in the text read back from its PDF."""
    same = total = 0
    for text, read in docs:
        want = [" ".join(text[s:e].split()) for s, e in split(text)]
        got = {" ".join(read[s:e].split()) for s, e in split(read)}
        total += len(want)
        same += sum(1 for w in want if w in got)
    return same / max(total, 1)


def _pdf_docs(data: dict, n: int) -> list[tuple[str, str]]:
    from render_docs import render_pdf

    from index.formats.pdf import read_pdf

    docs = []
    paragraphs = [(a["title"], p["context"]) for a in data["data"] for p in a["paragraphs"]]
    for i, (title, ctx) in enumerate(paragraphs[:n]):
        text = f"{title.replace('_', ' ')}\n{ctx}"
        docs.append((text, read_pdf(render_pdf(text, columns=2 if i % 3 == 0 else 1, seed=i)).text))
    return docs


def speed(split: Callable[[str], Spans], texts: list[str]) -> float:
    """Characters segmented per second."""
    t0 = time.perf_counter()
    for t in texts:
        split(t)
    return sum(map(len, texts)) / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pdfs", type=int, default=120, help="SQuAD paragraphs rendered as PDFs")
    args = p.parse_args(argv)
    import warnings

    warnings.filterwarnings("ignore")  # fpdf2 notes a few glyphs its font lacks
    data = json.loads((ROOT / "eval/datasets/squad-expmrc/expmrc-squad-dev.json").read_text())
    texts = [p["context"] for a in data["data"] for p in a["paragraphs"]]
    hotpot = ROOT / "eval/datasets/hotpotqa-dev500/dev_subsampled.jsonl"
    for line in hotpot.read_text().splitlines():
        texts += [c["paragraph_text"] for c in json.loads(line)["contexts"]]
    pdfs = _pdf_docs(data, args.pdfs) if args.pdfs else []
    rows = []
    for name, split in candidates().items():
        rows.append(
            (
                name,
                squad_evidence(split, data),
                pdf_agreement(split, pdfs) if pdfs else float("nan"),
                hard_cases(split),
                speed(split, texts),
            )
        )
    print(f"| segmenter | SQuAD evidence on boundaries | SQuAD evidence cut inside | typeset "
          f"PDFs ({len(pdfs)}) | hard cases ({len(HARD)}) | speed (M chars/s) |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (ev, cut), pdf, hard, cps in rows:
        print(f"| {name} | {ev:.3f} | {cut:.3f} | {pdf:.3f} | {hard:.2f} | {cps / 1e6:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
