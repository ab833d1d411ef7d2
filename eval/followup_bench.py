"""Follow-ups resolved without a model (``qa.question.followup.resolve``), scored on a fixed set.

    python eval/followup_bench.py            # the share resolved right, per kind, tune and test
    python eval/followup_bench.py --failures # and each follow-up resolved wrong
    python eval/followup_bench.py --json out.json

``eval/followups.jsonl``: one follow-up a line, with the conversation before it (real answers: the
engine's over the seed article, SQuAD/ExpMRC evidence sentences, HotpotQA paragraphs), the
standalone question a careful reader would write (``expected``), the antecedent words the
resolved question must hold (``must_contain``; an entry that is a list holds alternatives, any
one of which will do, e.g. "Ned Price" or "the spokesman") and words it must not
(``must_not_contain``: the wrong antecedent, the pronoun left in place). A question that is not a
follow-up (``expected`` == ``question``) must come back unchanged. Words match whole and
case-insensitively, apostrophes (’ ') alike. The set is split by id: even ids tune, odd ids test.
fu-001 to fu-124 were written before ``resolve`` was changed; the even ids after them (marked
"added") are tune probes written after each round of changes, over new conversations. Time is
CPU time, each follow-up resolved from scratch (nothing cached), best of three.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa.question.followup import resolve  # noqa: E402
from qa.question.mentions import clear_caches  # noqa: E402

DATASET = ROOT / "eval" / "followups.jsonl"


def load(path: Path = DATASET) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def split(item: dict) -> str:
    """``tune`` for an even id, ``test`` for an odd one."""
    return "tune" if int(re.sub(r"\D", "", item["id"])) % 2 == 0 else "test"


def _norm(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").split())


def has(text: str, words: str) -> bool:
    """``words`` occur in ``text`` as whole words, case-insensitively."""
    pattern = r"(?<!\w)" + re.escape(_norm(words)) + r"(?!\w)"
    return re.search(pattern, _norm(text), re.IGNORECASE) is not None


def check(item: dict, resolved: str) -> list[str]:
    """What is wrong with ``resolved`` for ``item`` (empty: resolved right)."""
    wrong = []
    for want in item["must_contain"]:
        options = [want] if isinstance(want, str) else want
        if not any(has(resolved, w) for w in options):
            wrong.append(f"lacks {' / '.join(options)!r}")
    wrong += [f"has {w!r}" for w in item["must_not_contain"] if has(resolved, w)]
    stands_alone = _norm(item["expected"]) == _norm(item["question"])
    if stands_alone and _norm(resolved) != _norm(item["question"]):
        wrong.append("changed a question that stands alone")
    return wrong


def _key(text: str) -> str:
    return re.sub(r"[^\w ]", "", _norm(text).lower().replace("'s", "s")).strip()


def timings(items: list[dict], repeats: int = 3) -> list[float]:
    """CPU seconds to resolve each follow-up from scratch (nothing read before; CPU time and the
    best of ``repeats``, as the machine may be busy with other work)."""
    for item in items:
        resolve(item["question"], item["history"])  # regular expressions compiled once
    out = []
    for item in items:
        best = float("inf")
        for _ in range(repeats):
            clear_caches()
            t0 = time.thread_time()
            resolve(item["question"], item["history"])
            best = min(best, time.thread_time() - t0)
        out.append(best)
    return out


def run(items: list[dict]) -> dict:
    """Every follow-up resolved and scored; the rows and the figures."""
    rows = []
    for item in items:
        resolved = resolve(item["question"], item["history"])
        wrong = check(item, resolved)
        rows.append({
            "id": item["id"], "kind": item["kind"], "split": split(item),
            "question": item["question"], "expected": item["expected"], "resolved": resolved,
            "right": not wrong, "exact": _key(resolved) == _key(item["expected"]), "wrong": wrong,
        })  # fmt: skip
    table: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in rows:
        for kind in (r["kind"], "all"):
            for part in (r["split"], "all"):
                cell = table[kind][part]
                cell[0] += r["right"]
                cell[1] += 1
    per_question = sorted(timings(items))
    probes = [r for r, item in zip(rows, items, strict=True) if item.get("added")]
    return {
        "rows": rows,
        "table": {k: dict(v) for k, v in table.items()},
        "right": {p: _share(table["all"][p]) for p in ("tune", "test", "all")},
        "exact": {
            p: sum(r["exact"] for r in rows if p in ("all", r["split"]))
            / max(1, sum(1 for r in rows if p in ("all", r["split"])))
            for p in ("tune", "test", "all")
        },
        "probes": [sum(r["right"] for r in probes), len(probes)],
        "ms_mean": 1000 * sum(per_question) / max(1, len(per_question)),
        "ms_p90": 1000 * per_question[int(0.9 * (len(per_question) - 1))] if per_question else 0.0,
        "ms_max": 1000 * per_question[-1] if per_question else 0.0,
    }


def _share(cell) -> float:
    return cell[0] / cell[1] if cell[1] else 0.0


def report(result: dict) -> str:
    lines = [f"{'kind':<16}{'tune':>12}{'test':>12}{'all':>12}"]
    kinds = [k for k in result["table"] if k != "all"]
    for kind in [*kinds, "all"]:
        cells = [result["table"][kind].get(p, [0, 0]) for p in ("tune", "test", "all")]
        lines.append(
            f"{kind:<16}" + "".join(f"{f'{c[0]}/{c[1]} {_share(c):4.0%}':>12}" for c in cells)
        )
    ex = result["exact"]
    lines.append(
        f"same words as the expected question: tune {ex['tune']:.0%}, test {ex['test']:.0%}, "
        f"all {ex['all']:.0%}"
    )
    right, n = result["probes"]
    if n:
        lines.append(f"of the tune half, the {n} probes added after the first round: {right}/{n}")
    lines.append(
        f"CPU time, from scratch: {result['ms_mean']:.2f} ms a question on average, "
        f"{result['ms_p90']:.2f} ms p90, {result['ms_max']:.2f} ms at most"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATASET)
    ap.add_argument("--failures", action="store_true", help="list each follow-up resolved wrong")
    ap.add_argument("--split", choices=("tune", "test", "all"), default="all",
                    help="which follow-ups --failures lists")  # fmt: skip
    ap.add_argument("--json", type=Path, help="write the rows and figures here")
    args = ap.parse_args(argv)
    result = run(load(args.data))
    print(report(result))
    if args.failures:
        for r in result["rows"]:
            if not r["right"] and args.split in ("all", r["split"]):
                print(f"\n{r['id']} [{r['kind']}, {r['split']}] {r['question']}")
                print(f"  resolved: {r['resolved']}\n  expected: {r['expected']}")
                print(f"  wrong:    {'; '.join(r['wrong'])}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
