"""The second hop of a two-hop question (``qa.answer.bridge``), with and without.

    python eval/bridge_gain.py                 # the shipped reader, the six domains and the seeds
    python eval/bridge_gain.py --readers DIR   # each domain read by DIR/without-<domain>/

"When was the British author who wrote the novel on which X was based born?": the best sentence
names the document that answers ("... by Hunter Davies"), and that document's sentence holding
the asked words the best one lacks leads. For every answerable question of each domain (both
halves; the cases of ``eval/cases.py``, read by the reader as ``Engine.find`` reads them) and of
the seed article: the marked phrase's token F1 against the references and whether the answer as
shown holds one (``shown contains``), without the hop and with it (the product); in brackets how
many answers the hop changes. Nothing is fitted (a rule of titles and words); the table says
which way each left-out domain's folds (the other five tune halves) would choose. Prints markdown
tables and writes ``eval/out/bridge_gain.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from cases import report  # noqa: E402
from judge import drafted_ways, output_name, reader_run, ways_figures  # noqa: E402

from qa.answer import bridge, extract  # noqa: E402

WAYS = {"without": lambda question, scored, weights: scored, "with (shipped)": bridge.lead}


def main(argv: list[str] | None = None) -> int:
    run = reader_run(__doc__, argv)
    drafted = drafted_ways(run, extract.bridge, "lead", WAYS)
    lines, out = ways_figures(run, drafted, list(WAYS), "answers the hop changes")
    report(output_name("bridge_gain", run.readers), lines, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
