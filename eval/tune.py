"""Tune the extractive answer's constants over every domain, leave-one-domain-out.

    python eval/tune.py                      # minutes once eval/calibrate.py has cached the cases
    python eval/tune.py --embeddings e5      # over the multilingual model's retrieval

The cases are ``eval/cases.py``'s (every domain's questions with the passages the product
retrieves, cached in ``.qa_store/cases-<embeddings>-<domains>.pkl``, shared with
``eval/calibrate.py``); the answer is the product's own ``qa.answer.extract.draft`` over each
answerable case's top TOP_K passages. Two figures per domain, each a mean over its answerable
questions:

- ``holds``: the answer text shown (markers stripped) holds a reference answer
  (``qa.evaluation.metrics.holds_answer``);
- ``phrase F1``: token F1 of the marked answer phrase(s) against the references (0 when none is
  marked). The product quotes whole sentences (``AnswerWeights.cut``), so the clause focus only
  places the phrase: it is tuned on phrase F1.

Constants are chosen one group at a time, on the MEAN OVER DOMAINS of their tune halves:

1. sentence weights (passage vs word overlap, answer kind): holds of the best sentence alone,
   unfocused;
2. clause focus (which sentences are cut, how wide; it places the phrase): phrase F1, one sentence;
3. the second-sentence rule (the share of question words it must add): holds + phrase F1.

Each group keeps the value in the code unless another gains at least NOISE (``settle``).
Leave-one-domain-out: for each domain D, the constants are tuned on the other domains' tune
halves and D's TEST half is measured with them (and with the values in the code, for
comparison); the final values are tuned on every domain's tune half. The seed questions (domain
"seeds") are never tuned on. The outcome decision is not tuned here: ``eval/calibrate.py``
calibrates it. Prints the tables; writes eval/out/tune.json and tune.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]
for _var in list(os.environ):  # the shipped defaults, offline, no model
    if _var.startswith("QA_") or _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        os.environ.pop(_var)

from cases import Case, build_cases, cache_path, pick  # noqa: E402

from qa.answer import extract  # noqa: E402
from qa.answer.focus import FocusWeights  # noqa: E402
from qa.answer.markers import strip_markers  # noqa: E402
from qa.evaluation.metrics import holds_answer, token_f1  # noqa: E402
from qa.evaluation.references import REFERENCE_SETS  # noqa: E402

log = logging.getLogger("tune")
# squad, hotpotqa, covidqa, cuad, doc2dial, tatqa; not xquad: its questions are Spanish and German
# over English documents, a measure of the multilingual embeddings, not a domain of the answer step.
DOMAINS = tuple(n for n in REFERENCE_SETS if n != "xquad")
TOP_K = 5  # passages the answer step reads (QA_TOP_K)
SENTENCES = 2  # QA_ANSWER_SENTENCES
NOISE = 0.01  # tune-half differences smaller than this keep the value in the code
NEVER_CUT = 10_000  # min_words that never cuts a sentence
NEVER_SECOND = 2.0  # second_gain that never adds a second sentence
GRID = {
    "passage": (0.3, 0.4, 0.5, 0.6, 0.7),
    "kind": (0.0, 0.05, 0.1, 0.2),
    "min_words": (15, 25, 35, 50, NEVER_CUT),
    "window": ((0, 1), (1, 1), (1, 2)),  # segments kept before and after
    "second_gain": (0.1, 0.2, 0.3, 0.5, NEVER_SECOND),
}
CODE = extract.AnswerWeights()  # the values in the code now


def grid(name: str, code) -> list:
    """A constant's grid, with the value in the code always among the choices."""
    return sorted({*GRID[name], code})


# ---------------------------------------------------------------------------- scoring


class Scorer:
    """Per-domain figures of the product's answer under given constants, each computed once.

    ``figures(aw, domain, half, sentences, focused)`` -> {"n", "holds", "phrase F1"}; the same
    constants are asked for again and again across the leave-one-out folds, so they are cached.
    """

    def __init__(self, cases: Sequence[Case]):
        self.groups: dict[tuple[str, str], list[Case]] = {}
        for c in cases:
            if c.kind == "answerable" and c.item.answers:
                self.groups.setdefault((c.domain, c.half), []).append(c)
        self.asks = {id(c): c.asked.ask for g in self.groups.values() for c in g}
        self.memo: dict[tuple, dict] = {}
        self.drafts = 0

    def figures(
        self, aw: extract.AnswerWeights, domain: str, half: str, sentences: int, focused: bool
    ) -> dict:
        key = (aw, domain, half, sentences, focused)
        if key not in self.memo:
            cases = self.groups.get((domain, half), [])
            holds = f1 = 0.0
            for c in cases:
                d = extract.draft(self.asks[id(c)], list(c.passages[:TOP_K]), c.weights,
                                  sentences, aw=aw, focused=focused)  # fmt: skip
                holds += holds_answer(strip_markers(d.text), c.item.answers)
                f1 += token_f1(d.phrase, c.item.answers) if d.phrase else 0.0
            n = max(len(cases), 1)
            self.drafts += len(cases)
            self.memo[key] = {"n": len(cases), "holds": holds / n, "phrase F1": f1 / n}
        return self.memo[key]

    def mean(self, aw, domains: Sequence[str], metrics: Sequence[str], sentences=SENTENCES,
             focused=True, half="tune") -> float:  # fmt: skip
        """The sum of ``metrics``, each the mean over ``domains`` of its per-domain figure."""
        figs = [self.figures(aw, d, half, sentences, focused) for d in domains]
        return sum(sum(f[m] for f in figs) / len(figs) for m in metrics)


# ---------------------------------------------------------------------------- tuning


def settle(scored: list[tuple[float, object]], key, incumbent: tuple) -> tuple[float, object]:
    """The best-scoring choice; among those within NOISE of it, the one nearest the incumbent.

    Differences under NOISE (about one question in a hundred) are not worth a change: moving a
    constant on noise is how a value fitted to one set fails on the next.
    """
    top = max(score for score, _ in scored)
    close = [(score, c) for score, c in scored if score >= top - NOISE]

    def distance(c) -> float:
        return sum(abs(a - b) for a, b in zip(key(c), incumbent, strict=True))

    return min(close, key=lambda sc: (distance(sc[1]), -sc[0]))


def tune(scorer: Scorer, domains: Sequence[str]) -> tuple[extract.AnswerWeights, list[dict]]:
    """Sentence weights, then clause focus, then the second-sentence rule, on the tune halves
    of ``domains`` (each domain weighing the same)."""
    steps: list[dict] = []

    def step(name, metric, scored, key, incumbent, fields):
        value, choice = settle(scored, key, incumbent)
        top = max(scored, key=lambda sc: sc[0])
        code = next(s for s, c in scored if key(c) == incumbent)
        steps.append({"step": name, "metric": metric, "chosen": fields(choice),
                      "value": round(value, 4), "code value": round(code, 4),
                      "best": round(top[0], 4), "best at": fields(top[1]),
                      "grid": [[round(s, 4), fields(c)] for s, c in scored]})  # fmt: skip
        return choice

    scored = [
        (scorer.mean(aw, domains, ("holds",), sentences=1, focused=False), aw)
        for p in grid("passage", CODE.passage)
        for k in grid("kind", CODE.kind)
        for aw in [replace(CODE, lexical=round(1 - p, 2), passage=p, kind=k)]
    ]
    best = step("sentence weights", "holds of the best sentence (unfocused)", scored,
                lambda aw: (aw.passage, aw.kind), (CODE.passage, CODE.kind),
                lambda aw: {"passage": aw.passage, "lexical": aw.lexical, "kind": aw.kind})  # fmt: skip
    scored = [
        (scorer.mean(aw, domains, ("phrase F1",), sentences=1), aw.focus)
        for m in grid("min_words", CODE.focus.min_words)
        for before, after in grid("window", (CODE.focus.before, CODE.focus.after))
        for aw in [replace(best, focus=FocusWeights(m, before, after), second_gain=NEVER_SECOND)]
    ]
    f = CODE.focus
    fw = step("clause focus", "phrase F1 (one sentence)", scored,
              lambda x: (x.min_words / 100, x.before, x.after),
              (f.min_words / 100, f.before, f.after), asdict)  # fmt: skip
    best = replace(best, focus=fw)
    scored = [
        (scorer.mean(replace(best, second_gain=g), domains, ("holds", "phrase F1")), g)
        for g in grid("second_gain", CODE.second_gain)
    ]
    gain = step("second sentence", "holds + phrase F1", scored, lambda g: (g,),
                (CODE.second_gain,), lambda g: {"second_gain": g})  # fmt: skip
    return replace(best, second_gain=gain), steps


def constants(aw: extract.AnswerWeights) -> dict:
    """The tuned constants by the names they have in the code."""
    return {
        "W_PASSAGE": aw.passage,
        "W_LEXICAL": aw.lexical,
        "W_TYPE": aw.kind,
        "MIN_WORDS": aw.focus.min_words,
        "BEFORE": aw.focus.before,
        "AFTER": aw.focus.after,
        "SECOND_MIN_GAIN": aw.second_gain,
    }


def measured(scorer: Scorer, aw, domain: str, half: str) -> dict:
    """The product's answer (SENTENCES sentences, focused) on one domain's half."""
    return scorer.figures(aw, domain, half, SENTENCES, True)


def lodo(scorer: Scorer, domains: Sequence[str]) -> dict:
    """Each domain's test half under the constants tuned without it (and under the code's)."""
    out = {}
    for d in domains:
        t0 = time.perf_counter()
        aw, steps = tune(scorer, [o for o in domains if o != d])
        out[d] = {"constants": constants(aw), "steps": steps,
                  "test": measured(scorer, aw, d, "test"),
                  "test (code)": measured(scorer, CODE, d, "test")}  # fmt: skip
        log.info("without %s: %s (%.0f s)", d, constants(aw), time.perf_counter() - t0)
    return out


# ---------------------------------------------------------------------------- report


def _kv(d: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in d.items())


def _values(c: dict) -> str:
    return (f"passage {c['W_PASSAGE']} / lexical {c['W_LEXICAL']}, type {c['W_TYPE']}; "
            f"focus {c['MIN_WORDS']} words, {c['BEFORE']}-{c['AFTER']}; "
            f"second {c['SECOND_MIN_GAIN']}")  # fmt: skip


def render(res: dict) -> str:
    code, final = res["code"], res["final"]["constants"]
    lines = [
        f"# Answer constants, tuned over {', '.join(res['domains'])} (leave-one-domain-out)",
        "",
        f"Cases: `{res['cases']}`; top {TOP_K} passages, {SENTENCES} sentences, whole sentences "
        f"quoted (cut={CODE.cut}); NOISE {NOISE}. {res['seconds']} s, {res['drafts']} drafts.",
        "",
        "## Final values (tuned on every domain's tune half)",
        "",
        "| constant | in the code | chosen | differs |",
        "| --- | --- | --- | --- |",
    ]
    for k, v in final.items():
        lines.append(f"| {k} | {code[k]} | {v} | {'**yes**' if v != code[k] else 'no'} |")
    lines += ["", "| step | metric (mean over domains, tune halves) | chosen | value | code's | "
              "best in grid |", "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for s in res["final"]["steps"]:
        lines.append(f"| {s['step']} | {s['metric']} | {_kv(s['chosen'])} | {s['value']:.4f} | "
                     f"{s['code value']:.4f} | {s['best']:.4f} at {_kv(s['best at'])} |")  # fmt: skip
    lines += ["", "Per domain, final values (code's values in brackets):", "",
              "| domain | half | n | holds | phrase F1 |", "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for d, halves in res["final"]["per domain"].items():
        for half, r in halves.items():
            c = r["code"]
            lines.append(f"| {d} | {half} | {r['n']} | {r['holds']:.3f} ({c['holds']:.3f}) | "
                         f"{r['phrase F1']:.3f} ({c['phrase F1']:.3f}) |")  # fmt: skip
    lines += ["", "## Leave-one-domain-out: each domain's TEST half, constants tuned without it",
              "", "| left out | chosen without it | n | holds | phrase F1 | holds (code) | "
              "phrase F1 (code) |", "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for d, r in res["lodo"].items():
        t, c = r["test"], r["test (code)"]
        lines.append(f"| {d} | {_values(r['constants'])} | {t['n']} | {t['holds']:.3f} | "
                     f"{t['phrase F1']:.3f} | {c['holds']:.3f} | {c['phrase F1']:.3f} |")  # fmt: skip
    m = res["lodo mean"]
    lines.append(f"| mean | | | {m['holds']:.3f} | {m['phrase F1']:.3f} | {m['holds (code)']:.3f} "
                 f"| {m['phrase F1 (code)']:.3f} |")  # fmt: skip
    s = res["seeds"]
    lines += ["", "## Seed questions (never tuned on)", "",
              "| constants | n | holds | phrase F1 |", "| --- | --- | --- | --- |",
              f"| final | {s['final']['n']} | {s['final']['holds']:.3f} | "
              f"{s['final']['phrase F1']:.3f} |",
              f"| code | {s['code']['n']} | {s['code']['holds']:.3f} | "
              f"{s['code']['phrase F1']:.3f} |"]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--embeddings", default="minilm")
    p.add_argument("--domains", default=",".join(DOMAINS))
    p.add_argument("--out", type=Path, default=ROOT / "eval" / "out")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "chromadb", "bm25s", "index", "qa"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from index.offline import quiet

    quiet()
    t0 = time.perf_counter()
    domains = args.domains.split(",")
    cache = cache_path(domains, args.embeddings)
    cases = build_cases(domains, ROOT / ".qa_store" / "calib", cache, args.embeddings)
    scorer = Scorer(cases)
    for d in domains:
        if not pick(cases, [d], "tune") or not pick(cases, [d], "test"):
            raise SystemExit(f"domain {d!r} has no answerable questions in one of its halves")
    folds = lodo(scorer, domains)
    aw, steps = tune(scorer, domains)
    log.info("final: %s", constants(aw))
    per_domain = {
        d: {h: {**measured(scorer, aw, d, h), "code": measured(scorer, CODE, d, h)}
            for h in ("tune", "test")}
        for d in domains
    }  # fmt: skip
    mean = lambda key, k: sum(r[key][k] for r in folds.values()) / len(folds)  # noqa: E731
    res = {
        "domains": domains,
        "cases": str(cache.relative_to(ROOT)),
        "code": constants(CODE),
        "final": {"constants": constants(aw), "steps": steps, "per domain": per_domain},
        "lodo": folds,
        "lodo mean": {
            "holds": mean("test", "holds"),
            "phrase F1": mean("test", "phrase F1"),
            "holds (code)": mean("test (code)", "holds"),
            "phrase F1 (code)": mean("test (code)", "phrase F1"),
        },
        "seeds": {
            "final": measured(scorer, aw, "seeds", "test"),
            "code": measured(scorer, CODE, "seeds", "test"),
        },
        "drafts": scorer.drafts,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    table = render(res)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tune.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    (args.out / "tune.md").write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
