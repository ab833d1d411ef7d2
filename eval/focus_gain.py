"""The hop inside a named document (``QA_FOCUS``), off and on, side by side on every domain.

    python eval/focus_gain.py                  # six domains and the seed article, both halves

A question that names a document ("When does the Supply Agreement between A and B expire?")
matches the document's opening; ``qa.retrieval.hybrid._focus`` places the document's passage
that best matches the question's other words beside it. For the answerable questions of each
domain's tune and test halves (the cases of ``eval/cases.py``, built once as the settings ship
(the hop off) and once with it flipped: ``.qa_store/cases-minilm-focus-on.pkl``):

- fired: the share of questions whose five passages differ;
- fused hit@1 / hit@3 / hit@5: a passage among the first k in the fused order holds a
  reference (``holds_answer``: long references by 80% of their words);
- with the reader, as ``eval/reader_gain.py`` reads them: hit@1 and MRR@5 (passage order),
  phrase F1, shown contains.

Prints a markdown table and writes ``eval/out/focus_gain.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from calibrate import DOMAINS  # noqa: E402  (first: it clears QA_ settings from the environment)
from cases import build_cases, report, shared_cases  # noqa: E402
from reader_gain import figures  # noqa: E402

from qa.answer import reader  # noqa: E402
from qa.evaluation.metrics import holds_answer  # noqa: E402
from qa.settings import Settings  # noqa: E402

HALVES = ("tune", "test")


def fused(cases) -> dict[str, float]:
    """hit@1, hit@3 and hit@5 of the fused order."""
    out = {}
    for k in (1, 3, 5):
        hits = [any(holds_answer(p.text, c.item.answers) for p in c.passages[:k]) for c in cases]
        out[f"fused hit@{k}"] = sum(hits) / max(1, len(hits))
    return out


def main() -> int:
    shipped = shared_cases(DOMAINS)  # the hop as the settings ship it (off)
    other = not Settings().focus
    flipped = build_cases(DOMAINS, ROOT / ".qa_store" / "calib",
                          ROOT / ".qa_store" / f"cases-minilm-focus-{'on' if other else 'off'}.pkl",
                          overrides={"focus": other})  # fmt: skip
    on, off = (flipped, shipped) if other else (shipped, flipped)
    model = reader.load()
    if model is None:
        raise SystemExit("no reader model in qa/answer/models/reader/")
    key = lambda c: (c.domain, c.half, c.kind, c.corpus, c.item.id)  # noqa: E731
    before = {key(c): c for c in off}
    res: dict[str, dict] = {}
    lines = [
        "| domain | half | n | fired | fused hit@1 | fused hit@3 | fused hit@5 | hit@1 (reader) "
        "| MRR@5 | phrase F1 | shown contains |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for d in (*DOMAINS, "seeds"):
        for half in HALVES:
            now = [c for c in on if c.domain == d and c.half == half and c.answerable]
            if not now:
                continue
            was = [before[key(c)] for c in now]
            fired = sum([p.id for p in a.passages[:5]] != [p.id for p in b.passages[:5]]
                        for a, b in zip(was, now, strict=True)) / len(now)  # fmt: skip
            row = {}
            for name, cs in (("off", was), ("on", now)):
                row[name] = fused(cs) | figures(cs, model)
            res[f"{d}|{half}"] = {"n": len(now), "fired": fired, **row}
            cols = ("fused hit@1", "fused hit@3", "fused hit@5", "hit@1", "MRR@5", "phrase F1",
                    "shown contains")  # fmt: skip
            cells = " | ".join(f"{row['off'][c]:.3f} -> {row['on'][c]:.3f}" for c in cols)
            lines.append(f"| {d} | {half} | {len(now)} | {fired:.3f} | {cells} |")
    report("focus_gain", lines, res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
