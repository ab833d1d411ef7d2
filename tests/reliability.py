"""Figures the reliability tests report: how much was thrown at the product, and what was lost.

Each test adds counts with ``add(figure, n, detail)``; the session writes them to
``test-output/reliability.json`` and prints a table (``pytest_terminal_summary`` in conftest).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from pathlib import Path

# The headline figures, in the order the summary prints them.
FIGURES = (
    "files_fuzzed",
    "questions_fuzzed",
    "kills_survived",
    "concurrent_requests",
    "faults_injected",
    "losses",
    "cases_tried",  # known faults (issues 17, 27) tried again: each held, or failed
    "cases_held",
    "cases_failed",
)

_totals: Counter[str] = Counter()
_details: dict[str, Counter[str]] = defaultdict(Counter)
_notes: list[str] = []
_started = time.time()


def add(figure: str, n: int = 1, detail: str = "") -> None:
    """Count ``n`` more of a figure (one of FIGURES or any extra name), with an optional detail."""
    _totals[figure] += n
    if detail:
        _details[figure][detail] += n


def case(what: str, held: bool, n: int = 1) -> bool:
    """``n`` tries of a known fault (``what``: "issue 27.1: ..."), held or failed; returns held
    so that the test can assert it."""
    add("cases_tried", n, what)
    add("cases_held" if held else "cases_failed", n, what)
    return held


def lost(n: int, what: str) -> None:
    """Record losses (files, chunks, answers or uploads that went missing); tests assert zero."""
    add("losses", n, what)


def note(text: str) -> None:
    """A line of context for the report (for example which disk-full method was used)."""
    if text not in _notes:
        _notes.append(text)


def collected() -> bool:
    """True when any reliability test recorded something this session."""
    return bool(_totals) or bool(_notes)


def report() -> dict:
    """Everything recorded, as a JSON-ready dict."""
    figures = {f: _totals.get(f, 0) for f in FIGURES}
    figures.update({k: v for k, v in sorted(_totals.items()) if k not in figures})
    return {
        "figures": figures,
        "details": {k: dict(sorted(v.items())) for k, v in sorted(_details.items())},
        "notes": list(_notes),
        "seconds": round(time.time() - _started, 1),
    }


def write(path: Path) -> dict:
    """Write the report as JSON and return it."""
    data = report()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return data


def summary_lines(data: dict) -> list[str]:
    """The figures as a small table, then the details under each."""
    lines = [f"{'figure':<24}{'count':>10}"]
    for name, value in data["figures"].items():
        lines.append(f"{name:<24}{value:>10,}")
        for detail, n in data["details"].get(name, {}).items():
            lines.append(f"    {detail[:58]:<58}{n:>8,}")
    lines += [f"note: {n}" for n in data["notes"]]
    return lines
