"""How a PDF reads as paragraphs: how many, and how many end mid-sentence.

    python eval/pdf_paragraphs.py FILE.pdf [FILE.pdf ...]
    python eval/pdf_paragraphs.py --time FILE.pdf ...   # also: pages read per second, in all

A paragraph counts as cut when it ends in a lower-case letter or a comma and the next one
starts lower-case (code lines and headings count too, so the figure is an upper bound). Run it
at two commits (``git stash`` or a worktree) to compare readers on the same files.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(path: Path) -> tuple[int, int, int, int]:
    """(paragraphs, paragraphs cut mid-sentence, characters, pages) of the PDF as read."""
    from index.formats.pdf import read_pdf

    parsed = read_pdf(path.read_bytes())
    text = parsed.text
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    cut = sum(
        bool(re.search(r"[a-z,]$", a) and re.match(r"[a-z]", b))
        for a, b in itertools.pairwise(paragraphs)
    )
    return len(paragraphs), cut, len(text), len(parsed.pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--time", action="store_true", help="print pages read per second only")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.time:
        start, pages = time.perf_counter(), 0
        for path in args.files:
            pages += measure(path)[3]
        took = time.perf_counter() - start
        print(f"{len(args.files)} files, {pages} pages in {took:.1f} s: {pages / took:.1f} pages/s")
        return
    print("| file | paragraphs | cut mid-sentence | characters |")
    print("| --- | --- | --- | --- |")
    for path in args.files:
        n, cut, chars, _ = measure(path)
        print(f"| {path.name} | {n} | {cut} | {chars} |")


if __name__ == "__main__":
    main()
