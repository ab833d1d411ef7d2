"""Yes or no to a yes/no question about two named things (``qa.answer.polar``), with and without.

    python eval/polar_gain.py                 # the shipped reader, the six domains and the seeds
    python eval/polar_gain.py --readers DIR   # each domain read by DIR/without-<domain>/

"Are Giuseppe Verdi and Ambroise Thomas both opera composers?": without the verdict the answer
quotes a sentence, and its focused answer (the whole sentence) never reads "yes". For every
answerable question of each domain (both halves; the cases of ``eval/cases.py``, read by the
reader as ``Engine.find`` reads them) and of the seed article: the focused answer's token F1
against the references (``Draft.phrase``: the verdict, else the marked phrase) and whether the
answer as shown holds one, without the verdict and with it (the product); in brackets how many
questions it answers yes or no. Then each domain's verdicts: how many, and how many match a
reference of "yes" or "no" (the rule's precision: what a user reads). The rule and its two
levels were read off HotpotQA's tune half, the only domain that asks such questions; its test
half is the held-out figure. Prints markdown tables and writes ``eval/out/polar_gain.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from cases import report  # noqa: E402
from judge import drafted_ways, output_name, reader_run, ways_figures  # noqa: E402

from qa.answer import extract, polar  # noqa: E402

WAYS = {"without": lambda question, scored, weights: None, "with (shipped)": polar.verdict}


def main(argv: list[str] | None = None) -> int:
    run = reader_run(__doc__, argv)
    drafted = drafted_ways(run, extract.polar, "verdict", WAYS)
    said = lambda ds: [int(d.verdict is not None) for d in ds]  # noqa: E731
    lines, out = ways_figures(run, drafted, list(WAYS), "questions answered yes/no", said)
    lines += ["", "| domain | half | verdicts | right |", "| --- | --- | --- | --- |"]
    right: dict[tuple[str, str], list[int]] = {}
    for c, ds in drafted:
        if ds[-1].verdict is not None:  # the shipped way's verdict against the references
            gold = {a.strip().lower() for a in c.item.answers}
            right.setdefault((c.domain, c.half), []).append(int(ds[-1].phrase.lower() in gold))
    for (d, h), r in sorted(right.items()):
        out[f"{d}|{h}"]["verdicts"] = {"n": len(r), "right": int(sum(r))}
        lines.append(f"| {d} | {h} | {len(r)} | {sum(r)} |")
    report(output_name("polar_gain", run.readers), lines, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
