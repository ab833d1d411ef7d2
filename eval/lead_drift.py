"""What a change to the answer's wording moves in the decision, without refitting it.

    python eval/lead_drift.py --before <git revision> [--embeddings minilm,e5]

The decision's features read the answer as quoted (the reader's reading of it, its length), so
a change to how answers are worded can move an outcome although nothing was refitted. This
drafts every case (answerable, near-miss, cross-corpus, seeds) with ``qa/answer/extract.py`` as
it was at ``--before`` and as it is now, and decides both with the shipped calibrations (with the
reader and without). It prints how many outcomes moved, per calibration and kind of case (a
handful in thousands: no refit needed; more: rerun ``eval/calibrate.py``), and the phrase F1 of
each domain's answerable questions (test halves) before and now, as ``eval/calibrate.py``
reports it (the phrase does not enter the decision).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import judge  # noqa: E402
import numpy as np  # noqa: E402
from calibrate import DOMAINS  # noqa: E402
from cases import shared_cases  # noqa: E402

from index.text import ENGLISH, detect  # noqa: E402
from qa.answer import extract  # noqa: E402
from qa.answer.calibration import calibration  # noqa: E402
from qa.answer.evidence import FEATURES  # noqa: E402
from qa.question.asked import sentence_answers, yes_no  # noqa: E402

EXTRACT = "qa/answer/extract.py"
# The domains each embedding model's cases were built for (as eval/calibrate.py was run: README).
DOMAINS_OF = {"e5": ("squad", "covidqa", "cuad", "doc2dial", "tatqa", "xquad")}
# The calibrations deciding on each embedding model's cases ("words": the same passages, read
# without their cosine).
CALIBRATIONS = {"minilm": ("minilm", "words")}


def extract_at(revision: str):
    """``qa.answer.extract`` as it was at a git revision, as a module of its own."""
    source = subprocess.run(["git", "show", f"{revision}:{EXTRACT}"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "extract_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("extract_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def outcome(cal, x) -> str:
    """``verdict.decide`` on a feature vector (a case's question is no follow-up, in English)."""
    close = cal.meaning_floor is not None and x[FEATURES.index("cosine")] >= cal.meaning_floor
    if cal.topic.of(x) < cal.refuse_below and not close:
        return "refused"
    return "answered" if cal.right.of(x) >= cal.confident_at else "not sure"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--before", required=True, help="the git revision to compare with")
    p.add_argument("--embeddings", default="minilm,e5")
    p.add_argument(
        "--yes-no",
        action="store_true",
        help="only yes/no questions (where a change touches only them: faster)",
    )
    p.add_argument(
        "--sentence-answers",
        action="store_true",
        help="only the questions a sentence answers (yes/no, why, how to: asked.sentence_answers)",
    )
    args = p.parse_args(argv)
    before = extract_at(args.before)
    shipped = judge.reader_of(None, list(DOMAINS))("*")
    moved_rows, f1_rows = [], []
    for emb in args.embeddings.split(","):
        cases = [
            c
            for c in shared_cases(DOMAINS_OF.get(emb, DOMAINS), emb)
            if detect(c.item.question) == ENGLISH
        ]
        for reader in (shipped, None):
            judged, f1 = [], defaultdict(lambda: ([], []))  # (domain, half) -> before, now
            for c in cases:
                answerable = c.kind == "answerable" and bool(c.item.answers)
                touched = (
                    (not args.yes_no or yes_no(c.asked.ask))
                    and (not args.sentence_answers or sentence_answers(c.asked.ask))
                )  # fmt: skip
                if not (answerable or touched):
                    continue
                found = judge.found_for(c, reader)
                judge.extract = extract
                new = judge.judged(c, found, reader=reader)
                old = new
                if touched:
                    judge.extract = before
                    old = judge.judged(c, found, reader=reader)
                    judge.extract = extract
                if answerable:
                    f1[(c.domain, c.half)][0].append(old.phrase_f1)
                    f1[(c.domain, c.half)][1].append(new.phrase_f1)
                if not (old.x == new.x).all():
                    judged.append((c.kind, old.x, new.x))
            for name in CALIBRATIONS.get(emb, (emb,)):
                cal = calibration(name, reader is not None)
                moves = Counter()
                for kind, x0, x1 in judged:
                    a, b = outcome(cal, x0), outcome(cal, x1)
                    if a != b:
                        moves[f"{kind}: {a} -> {b}"] += 1
                moved_rows.append(f"| {cal.key} | {len(judged)} of {len(cases)} | "
                                  f"{sum(moves.values())} | "
                                  f"{', '.join(f'{k} ({n})' for k, n in moves.most_common()) or '-'} |")  # fmt: skip
            key = f"{emb}+reader" if reader else emb
            figures = [f"{d} {np.mean(o):.3f} -> {np.mean(n):.3f}"
                       for (d, h), (o, n) in sorted(f1.items()) if h == "test"]  # fmt: skip
            f1_rows.append(f"| {key} | {', '.join(figures)} |")
    print("| calibration | cases whose features differ | outcomes moved | moves |")
    print("| --- | --- | --- | --- |")
    print("\n".join(moved_rows))
    print(
        "\n| embeddings, reader | phrase F1 of answerable questions, test halves: before -> now |"
    )
    print("| --- | --- |")
    print("\n".join(f1_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
