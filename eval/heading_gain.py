"""A heading is never the answer; the sentence under it reads its words (``qa.answer.headings``).

    python eval/heading_gain.py                 # the shipped reader, the six domains and the seeds
    python eval/heading_gain.py --readers DIR   # each domain read by DIR/without-<domain>/

"Can I get benefits while working?" quoted the page's title ("Benefits Planner: Retirement |
Getting Benefits While Working | Social Security Administration"), and "How do I get an
extension?" the FAQ's heading ("I need an extension (I am not in New York right now)"): the
sentence under them answers. For every answerable question of each domain (both halves; the
cases of ``eval/cases.py``, read by the reader as ``Engine.find`` reads them) and of the seed
article: the focused answer's token F1 (``Draft.phrase``) and whether the answer as shown holds a
reference, three ways: no heading rule; headings never the answer; and that, with the sentence
under a section heading or a question reading its words (the product). In brackets how many
answers each way changes; and which way each left-out domain's folds (the other five tune
halves) would choose. A rule, nothing fitted. Prints markdown tables and writes
``eval/out/heading_gain.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from cases import report  # noqa: E402
from judge import drafted_ways, output_name, reader_run, ways_figures  # noqa: E402

from qa.answer import headings  # noqa: E402

SHIPPED = headings.lead_ins  # drafted_ways swaps headings.lead_ins for each way in turn
WAYS = {
    "without": lambda cands: headings.NONE,
    "never the answer": lambda cands: headings.LeadIns(SHIPPED(cands).headings, {}),
    "with (shipped)": SHIPPED,
}


def main(argv: list[str] | None = None) -> int:
    run = reader_run(__doc__, argv)
    drafted = drafted_ways(run, headings, "lead_ins", WAYS)
    lines, out = ways_figures(run, drafted, list(WAYS), "answers the rule changes")
    report(output_name("heading_gain", run.readers), lines, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
