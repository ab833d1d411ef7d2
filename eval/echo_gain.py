"""A phrase of the question's own words gives way to its sentence (``qa.answer.phrase.echoes``).

    python eval/echo_gain.py                 # the shipped reader, the six domains and the seeds
    python eval/echo_gain.py --readers DIR   # each domain read by DIR/without-<domain>/

"What is PHEIC?" marked "PHEIC" in "... a 'Public Health Emergency of International Concern'
(PHEIC) ...": the phrase repeats the question and tells the reader nothing. For every answerable
question of each domain (both halves; the cases of ``eval/cases.py``, read by the reader as
``Engine.find`` reads them) and of the seed article: the focused answer's token F1 (``Draft.phrase``)
and whether the answer as shown holds a reference, without the rule and with it (the product); in
brackets how many answers it changes; and which way each left-out domain's folds (the other five
tune halves) would choose. A rule, nothing fitted. Prints markdown tables and writes
``eval/out/echo_gain.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from cases import report  # noqa: E402
from judge import drafted_ways, output_name, reader_run, ways_figures  # noqa: E402

from qa.answer import extract  # noqa: E402
from qa.answer.phrase import echoes  # noqa: E402

WAYS = {"without": lambda question, phrases: False, "with (shipped)": echoes}


def main(argv: list[str] | None = None) -> int:
    run = reader_run(__doc__, argv)
    drafted = drafted_ways(run, extract, "echoes", WAYS)
    lines, out = ways_figures(run, drafted, list(WAYS), "answers the rule changes")
    report(output_name("echo_gain", run.readers), lines, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
