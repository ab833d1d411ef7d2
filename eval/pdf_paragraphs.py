"""How a PDF reads as paragraphs: how many, and how many end mid-sentence.

    python eval/pdf_paragraphs.py FILE.pdf [FILE.pdf ...]

A paragraph counts as cut when it ends in a lower-case letter or a comma and the next one
starts lower-case (code lines and headings count too, so the figure is an upper bound). Run it
at two commits (``git stash`` or a worktree) to compare readers on the same files.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(path: Path) -> tuple[int, int, int]:
    """(paragraphs, paragraphs cut mid-sentence, characters) of the PDF as read."""
    from index.formats.pdf import read_pdf

    text = read_pdf(path.read_bytes()).text
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    cut = sum(
        bool(re.search(r"[a-z,]$", a) and re.match(r"[a-z]", b))
        for a, b in itertools.pairwise(paragraphs)
    )
    return len(paragraphs), cut, len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    print("| file | paragraphs | cut mid-sentence | characters |")
    print("| --- | --- | --- | --- |")
    for path in args.files:
        n, cut, chars = measure(path)
        print(f"| {path.name} | {n} | {cut} | {chars} |")


if __name__ == "__main__":
    main()
