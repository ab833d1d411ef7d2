"""Calibrate the outcome decision across domains, leave-one-domain-out; write calibration.json.

    python eval/calibrate.py                      # MiniLM, reader on and off (cases cached)
    python eval/calibrate.py --embeddings e5      # the multilingual model's own calibration
    python eval/calibrate.py --no-write           # figures only
    python eval/calibrate.py --steadiness 10      # ... and how far they move on small changes

The decision (``qa.answer.verdict``) reads two logistic models over the evidence
(``qa.answer.evidence.FEATURES``): ``topic`` (are the documents about the question at all?) and
``right`` (is the extractive answer right?). This script fits both, and their thresholds:

- ``refuse_below``: the largest topic threshold refusing at most REFUSE_AT_MOST of the fitting
  domains' answerable questions, each domain weighing the same (topic fitted on answerable vs
  cross-corpus questions);
- ``meaning_floor``: the cosine that a share (MEANING_FLOOR, per embedding model) of the fitting
  domains' cross-corpus questions stay below; a question whose best passage reaches it is never
  refused (calibrations that read the cosine, over English questions);
- ``confident_at``: the lowest threshold on ``right`` at which the fitting domains' confident
  answers, pooled, are right RIGHT_AT_LEAST of the time and at most CONFIDENT_AT_MOST of each
  fitting domain's near-miss questions are answered with confidence. Whether confident answers
  are then right RIGHT_AT_LEAST of the time on a domain the model never saw is what the
  left-out figures tell.

Every figure reported for a domain comes from models and thresholds fitted WITHOUT it (its tune
and test halves both left out), on the tune halves of the others; the domain's test half is what
is measured. The final calibration (written to qa/answer/calibration.json) is fitted on every
domain's tune half; the seed questions are never fitted on.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]
for _var in list(os.environ):  # the shipped defaults, offline, no model
    if _var.startswith("QA_") or _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        os.environ.pop(_var)

import numpy as np  # noqa: E402
from cases import Case, shared_cases  # noqa: E402
from logistic import auc, fit, predict  # noqa: E402

from qa.answer.evidence import FEATURES, SHAPE_FEATURES  # noqa: E402

log = logging.getLogger("calibrate")
DOMAINS = ("squad", "hotpotqa", "covidqa", "cuad", "doc2dial", "tatqa")  # English questions
CROSSLINGUAL = ("xquad",)  # questions in other languages over English documents
REFUSE_AT_MOST = 0.03  # answerable questions refused, fitting domains together (target: 5%)
CONFIDENT_AT_MOST = 0.12  # near-miss questions answered with confidence, each domain (target 15%)
RIGHT_AT_LEAST = 0.80  # confident answers right at least this often (target)
CONFIDENT_STEP = 0.001  # the grid confident_at is chosen on (0.01 before 2026-12-07: README)
# Per embedding model, the share of the fitting domains' cross-corpus questions whose best cosine
# stays below the meaning floor. Chosen on the tune halves (each domain under a decision fitted
# without it) among 0.95, 0.975, 0.99, 0.995, 0.998 and 1.0: the one refusing the fewest
# answerable questions while refusing at most half a point fewer cross-corpus questions than no
# floor (README). Questions in another language (``e5:meaning``, one domain): none.
MEANING_FLOOR = {"minilm": 0.99, "e5": 0.998}
# Read by the right model only: whether one passage stands out from the next says how likely the
# answer is right, not whether the documents are about the question (in the topic model too it
# refused more of SQuAD's answerable questions, 5.0% -> 5.7%, left out, for no gain elsewhere).
# The answer's shape (``evidence.Shape``) says how likely an answer of that shape is right, not
# whether the documents are about the question: the right model's too.
RIGHT_ONLY = ("gap", *SHAPE_FEATURES)
TOPIC_MASK = np.array([0.0 if f in RIGHT_ONLY else 1.0 for f in FEATURES])
OUTCOMES = ("answered", "uncertain", "refused")
COSINE = FEATURES.index("cosine")


@dataclass
class Judged:
    """A case as the decision sees it: its features, and whether its answer would be right."""

    case: Case
    x: np.ndarray
    right: bool  # the extractive answer (as given with confidence) holds a reference answer
    shown_right: bool  # ... the text shown whatever the outcome (the tentative answer first)
    phrase_f1: float = 0.0
    settled: bool = False  # a yes or no the documents settle: confident unless refused


# ---------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class Fitted:
    topic_w: np.ndarray
    topic_b: float
    refuse_below: float
    right_w: np.ndarray
    right_b: float
    confident_at: float
    domains: tuple[str, ...]
    meaning_floor: float | None = None

    def refused(self, x: np.ndarray) -> np.ndarray:
        """Per row of x: refused (the topic model says no, and nothing is close in meaning)."""
        topic = predict(x, self.topic_w, self.topic_b) < self.refuse_below
        if self.meaning_floor is None:
            return topic
        return topic & (x[:, COSINE] < self.meaning_floor)

    def outcome(self, x: np.ndarray, settled: np.ndarray | None = None) -> np.ndarray:
        """0 answered, 1 uncertain, 2 refused, per row of x (``settled``: rows answered with
        confidence unless refused, as ``verdict.decide`` answers a settled yes or no)."""
        right = predict(x, self.right_w, self.right_b) >= self.confident_at
        out = np.where(right if settled is None else right | settled, 0, 1)
        return np.where(self.refused(x), 2, out)

    def to_json(self) -> dict:
        return {
            "topic": {"weights": dict(zip(FEATURES, map(float, self.topic_w), strict=True)),
                      "bias": self.topic_b},
            "refuse_below": self.refuse_below,
            "right": {"weights": dict(zip(FEATURES, map(float, self.right_w), strict=True)),
                      "bias": self.right_b},
            "confident_at": self.confident_at,
            "meaning_floor": self.meaning_floor,
            "fitted_on": list(self.domains),
        }  # fmt: skip


def _settled(js: Sequence[Judged]) -> np.ndarray:
    return np.array([j.settled for j in js], dtype=bool)


def _xs(js: Sequence[Judged]) -> np.ndarray:
    return np.array([j.x for j in js]) if js else np.zeros((0, len(FEATURES)))


def _balanced(groups: dict[str, list[Judged]]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of every group, weighted so that each group counts the same in all."""
    xs, ws = [], []
    for js in groups.values():
        if js:
            xs.append(_xs(js))
            ws.append(np.full(len(js), 1.0 / len(js)))
    return np.vstack(xs), np.concatenate(ws)


def fit_decision(
    judged: Sequence[Judged], domains: Sequence[str], mask: np.ndarray, floor_at: float | None
) -> Fitted:
    """Both models and both thresholds on the tune halves of ``domains``; the meaning floor at
    the ``floor_at`` quantile of their cross-corpus questions' cosines (None: no floor)."""
    tune = [j for j in judged if j.case.half == "tune" and j.case.domain in domains]
    by = lambda kind: {d: [j for j in tune if j.case.domain == d and j.case.kind == kind]  # noqa: E731
                       for d in domains}  # fmt: skip
    answerable, nearmiss, cross = by("answerable"), by("near-miss"), by("cross")
    # topic: answerable (1) vs cross-corpus (0), each domain weighing the same
    xa, wa = _balanced(answerable)
    xc, wc = _balanced(cross)
    topic = mask * TOPIC_MASK
    x = np.vstack([xa, xc]) * topic
    y = np.concatenate([np.ones(len(xa)), np.zeros(len(xc))])
    tw, tb = fit(x, y, np.concatenate([wa, wc]))
    refuse = _refuse_threshold(answerable, tw, tb, topic)
    floor = None
    if floor_at is not None and mask[COSINE]:  # a cosine that few cross-corpus questions reach
        floor = float(np.quantile(_balanced(cross)[0][:, COSINE], floor_at))
    # right: answerable answered right (1) vs answered wrong or near-miss (0)
    groups = {d: answerable[d] + nearmiss[d] for d in domains}
    xr, wr = _balanced(groups)
    yr = np.array([float(j.right and j.case.kind == "answerable")
                   for d in domains for j in groups[d] if groups[d]])  # fmt: skip
    rw, rb = fit(xr * mask, yr, wr)
    confident = _confident_threshold(answerable, nearmiss, rw, rb, mask)
    return Fitted(tw * topic, tb, refuse, rw * mask, rb, confident, tuple(domains), floor)


def _refuse_threshold(answerable, tw, tb, mask) -> float:
    """The largest topic threshold refusing at most REFUSE_AT_MOST of the fitting domains'
    answerable questions, each domain weighing the same (one odd domain cannot set it alone: its
    own left-out figure shows what it costs there)."""
    probs = [predict(_xs(js) * mask, tw, tb) for js in answerable.values() if js]
    lo, hi = 0.0, 1.0
    for _ in range(40):  # bisection on the mean share refused
        mid = (lo + hi) / 2
        if float(np.mean([np.mean(p < mid) for p in probs])) <= REFUSE_AT_MOST:
            lo = mid
        else:
            hi = mid
    return lo


def _confident_threshold(answerable, nearmiss, rw, rb, mask) -> float:
    """The lowest threshold on ``right`` at which the fitting domains' confident answers, pooled
    (each domain's answerable questions weighing the same), are right at least RIGHT_AT_LEAST of
    the time, and at most CONFIDENT_AT_MOST of each fitting domain's near-miss questions pass.
    The model's output is a ranking more than a probability (near-miss questions weigh as much as
    answerable ones in its fit), so the boundary is set on what it lets through, not on its
    value. Thresholds are tried CONFIDENT_STEP apart (README: a coarser grid made the left-out
    figures jump with small changes of the fitting data)."""
    grid = np.round(np.arange(0.05, 1.0, CONFIDENT_STEP), 4)
    passes = lambda p: p[None, :] >= grid[:, None]  # noqa: E731  (threshold x case)
    passed, right = np.zeros(len(grid)), np.zeros(len(grid))
    for js in answerable.values():
        if js:  # each domain weighing the same
            through = passes(predict(_xs(js) * mask, rw, rb)) | _settled(js)[None, :]
            passed += through.mean(axis=1)
            right += (through & np.array([j.right for j in js])[None, :]).mean(axis=1)
    near_ok = np.ones(len(grid), dtype=bool)
    for n in nearmiss.values():
        if n:
            through = passes(predict(_xs(n) * mask, rw, rb)) | _settled(n)[None, :]
            near_ok &= through.mean(axis=1) <= CONFIDENT_AT_MOST
    ok = (passed > 0) & (right >= RIGHT_AT_LEAST * passed) & near_ok
    return float(grid[ok.argmax()]) if ok.any() else 0.99


# ---------------------------------------------------------------------------- measuring


def measure(judged: Sequence[Judged], fitted: Fitted, mask: np.ndarray, domain: str,
            half: str = "test") -> dict:  # fmt: skip
    """The targets' figures for one domain's half under a fitted decision."""
    out: dict = {}
    for kind in ("answerable", "near-miss", "cross", "unanswerable"):
        js = [j for j in judged if j.case.domain == domain and j.case.half == half
              and j.case.kind == kind]  # fmt: skip
        if not js:
            continue
        o = fitted.outcome(_xs(js) * mask, _settled(js))
        row = {"n": len(js), **{name: float(np.mean(o == k)) for k, name in enumerate(OUTCOMES)}}
        if kind == "answerable":
            right = np.array([j.right for j in js])
            shown = np.array([j.shown_right for j in js])
            conf = o == 0
            row["confident right"] = float(np.mean(right[conf])) if conf.any() else float("nan")
            row["shown contains"] = float(np.mean(shown[o != 2]) * np.mean(o != 2))
            row["phrase F1"] = float(np.mean([j.phrase_f1 for j in js]))
        out[kind] = row
    return out


def separation(judged: Sequence[Judged], domain: str, mask: np.ndarray, fitted: Fitted) -> dict:
    """AUCs of the two models on the domain's test half."""
    test = [j for j in judged if j.case.domain == domain and j.case.half == "test"]
    a = [j for j in test if j.case.kind == "answerable"]
    topic = lambda js: predict(_xs(js) * mask, fitted.topic_w, fitted.topic_b)  # noqa: E731
    right = lambda js: predict(_xs(js) * mask, fitted.right_w, fitted.right_b)  # noqa: E731
    cross = [j for j in test if j.case.kind == "cross"]
    near = [j for j in test if j.case.kind == "near-miss"]
    return {
        "topic AUC (answerable vs cross)": auc(topic(a), topic(cross)) if a and cross else None,
        "right AUC (answerable vs near-miss)": auc(right(a), right(near)) if a and near else None,
    }


def lodo(judged: Sequence[Judged], domains: Sequence[str], mask: np.ndarray,
         floor_at: float | None) -> dict:  # fmt: skip
    """Each domain measured under a decision fitted without it."""
    out = {}
    for d in domains:
        fitted = fit_decision(judged, [o for o in domains if o != d], mask, floor_at)
        out[d] = {**measure(judged, fitted, mask, d), **separation(judged, d, mask, fitted),
                  "refuse_below": fitted.refuse_below, "confident_at": fitted.confident_at,
                  "meaning_floor": fitted.meaning_floor}  # fmt: skip
    return out


def ceiling(judged: Sequence[Judged], domains: Sequence[str], mask: np.ndarray,
            floor_at: float | None) -> str:  # fmt: skip
    """What a threshold chosen on each domain's own test half could do with its left-out right
    model (no real folder can: it has no reference answers): the largest share answered with
    confidence at RIGHT_AT_LEAST right and at most 15% of its near-miss questions confident."""
    lines = ["| domain | shown answers right | AUC right vs wrong answers | shipped rule: confident "
             "(right) | best threshold for this domain alone: confident |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for d in domains:
        fitted = fit_decision(judged, [o for o in domains if o != d], mask, floor_at)
        test = [j for j in judged if j.case.domain == d and j.case.half == "test"]
        a = [j for j in test if j.case.kind == "answerable"]
        n = [j for j in test if j.case.kind == "near-miss"]
        pa = predict(_xs(a) * mask, fitted.right_w, fitted.right_b)
        pn = predict(_xs(n) * mask, fitted.right_w, fitted.right_b)
        r = np.array([j.right for j in a])
        best = 0.0
        for t in np.arange(0.0, 1.0, 0.005):
            c = pa >= t
            if c.any() and r[c].mean() >= RIGHT_AT_LEAST and np.mean(pn >= t) <= 0.15:
                best = max(best, float(c.mean()))
        c = (pa >= fitted.confident_at) | _settled(a)
        ok = r.any() and (~r).any()
        lines.append(f"| {d} | {r.mean():.3f} | {auc(pa[r], pa[~r]) if ok else float('nan'):.3f} | "
                     f"{c.mean():.3f} ({r[c].mean() if c.any() else float('nan'):.3f}) | "
                     f"{best:.3f} |")  # fmt: skip
    return "\n".join(lines)


def steadiness(judged: Sequence[Judged], domains: Sequence[str], mask: np.ndarray,
               floor_at: float | None, k: int, share: float = 0.02) -> str:  # fmt: skip
    """How far each left-out figure moves when ``share`` of the tune cases are left out of the
    fit at random, ``k`` times (seeded): the noise band a change of figures must stand out of
    before it says anything (README: "How steady these figures are")."""
    rng = np.random.default_rng(0)
    tune = [i for i, j in enumerate(judged) if j.case.half == "tune"]
    drops = [set(rng.choice(tune, int(len(tune) * share), replace=False)) for _ in range(k)]
    kept = [[j for i, j in enumerate(judged) if i not in drop] for drop in drops]
    names = ("refused", "uncertain", "answered", "confident right")
    lines = ["| domain (left out) | confident_at | answerable refused | not sure | confident | "
             "confident right |", "|" + " --- |" * 6]  # fmt: skip
    for d in domains:
        rows = []
        for fit_on in kept:
            fitted = fit_decision(fit_on, [o for o in domains if o != d], mask, floor_at)
            a = measure(judged, fitted, mask, d).get("answerable", {})
            rows.append([fitted.confident_at, *(a.get(n, float("nan")) for n in names)])
        m, sd = np.nanmean(rows, axis=0), np.nanstd(rows, axis=0)
        cells = (f"{a:.3f} ± {b:.3f}" for a, b in zip(m, sd, strict=True))
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- report


def table(res: dict) -> str:
    """The left-out figures, with the thresholds the fold fitted without the domain (a fold's
    ``confident_at`` one grid step apart moves a domain's confident share by points: shown so
    that a change of figures can be traced to a change of boundary)."""
    head = ("| domain (left out) | answerable refused | not sure | confident | confident right | "
            "shown contains | phrase F1 | near-miss confident | near-miss refused | "
            "cross refused | topic AUC | right AUC | fold refuse_below / confident_at |")  # fmt: skip
    lines = [head, "|" + " --- |" * 13]
    for d, r in res.items():
        a, n, c = r.get("answerable", {}), r.get("near-miss", {}), r.get("cross", {})
        cells = [a.get("refused"), a.get("uncertain"), a.get("answered"), a.get("confident right"),
                 a.get("shown contains"), a.get("phrase F1"), n.get("answered"), n.get("refused"),
                 c.get("refused"), r.get("topic AUC (answerable vs cross)"),
                 r.get("right AUC (answerable vs near-miss)")]  # fmt: skip
        fold = f"{r.get('refuse_below', 0):.3f} / {r.get('confident_at', 0):.3f}"
        lines.append(
            f"| {d} | "
            + " | ".join("" if v is None else f"{v:.3f}" for v in cells)
            + f" | {fold} |"
        )
    return "\n".join(lines)


Judge = Callable[[Case], Judged]
READER_FEATURES = ("reader", "margin", "quoted", "quoted_margin", "gap")  # 0 without the reader
MULTILINGUAL = ("e5",)  # embedding models that read other languages: a meaning-only variant


def variants(embeddings: str, readers: bool) -> list[tuple[str, bool, np.ndarray, bool]]:
    """(calibration key, with the reader, feature mask, fitted on the cross-lingual sets) for
    each calibration to fit."""
    at = FEATURES.index
    plain = np.ones(len(FEATURES))
    plain[[at(f) for f in READER_FEATURES]] = 0.0
    out = [(embeddings, False, plain, False)]
    if readers:
        out.append((f"{embeddings}+reader", True, np.ones(len(FEATURES)), False))
    if embeddings in MULTILINGUAL:  # another language than the documents': meaning alone
        meaning = np.zeros(len(FEATURES))
        meaning[[at("cosine"), at("sentence")]] = 1.0  # the sentence's similarity, by meaning
        out.append((f"{embeddings}:meaning", False, meaning, True))
    if embeddings == "minilm":  # embedding models without a calibration: words alone
        words = plain.copy()
        words[[at("cosine"), at("relevance")]] = 0.0
        out.append(("words", False, words, False))
        if readers:
            wr = np.ones(len(FEATURES))
            wr[[at("cosine"), at("relevance")]] = 0.0
            out.append(("words+reader", True, wr, False))
    return out


def run(cases: list[Case], judge: Judge, domains: Sequence[str], mask: np.ndarray,
        floor_at: float | None = None) -> dict:  # fmt: skip
    """Judge the cases of ``domains`` (and the seed and multilingual questions, never fitted
    on), then fit: leave-one-domain-out figures and the final calibration. With one domain only
    (the cross-lingual set), its tune half is fitted and its test half measured."""
    t0 = time.perf_counter()
    judged = [judge(c) for c in cases if c.domain in (*domains, "seeds", "multilingual")]
    log.info("judged %d cases in %.0f s", len(judged), time.perf_counter() - t0)
    final = fit_decision(judged, domains, mask, floor_at)
    if len(domains) > 1:
        res = lodo(judged, domains, mask, floor_at)
    else:
        res = {d: {**measure(judged, final, mask, d), **separation(judged, d, mask, final),
                   "refuse_below": final.refuse_below, "confident_at": final.confident_at,
                   "meaning_floor": final.meaning_floor}
               for d in domains}  # fmt: skip
    seeds = measure(judged, final, mask, "seeds")
    multilingual = measure(judged, final, mask, "multilingual")
    return {"lodo": res, "final": final, "seeds": seeds, "multilingual": multilingual,
            "judged": judged}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from judge import extractive_judge, readers_from  # the product's answer, case by case

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--embeddings", default="minilm")
    p.add_argument("--domains", default=",".join(DOMAINS))
    p.add_argument(
        "--readers",
        type=Path,
        help="folder of leave-one-domain-out reader models "
        "(without-<domain>/, all/): calibrates the decision with the reader too",
    )
    p.add_argument("--no-write", action="store_true")
    p.add_argument(
        "--steadiness",
        type=int,
        default=0,
        metavar="K",
        help="refit each fold K times with 2%% of the tune cases left out at random and print "
        "how far the left-out figures move (mean ± sd)",
    )
    p.add_argument("--out", type=Path, default=ROOT / "eval" / "out")
    args = p.parse_args(argv)
    domains = args.domains.split(",")
    cases = shared_cases(domains, args.embeddings)
    results, entries = {}, {}
    embedder = None
    if args.embeddings in MULTILINGUAL:
        from index import make_embedder
        from qa.settings import Settings

        embedder = make_embedder(Settings(embeddings=args.embeddings).embed_config)
    english = [d for d in domains if d not in CROSSLINGUAL]
    crosslingual = [d for d in domains if d in CROSSLINGUAL]
    readers = readers_from(args.readers, english) if args.readers else None  # read once
    for key, reader, mask, other_languages in variants(args.embeddings, bool(args.readers)):
        fit_on = crosslingual if other_languages else english
        if not fit_on:
            log.info("%s: none of %s among the domains: not fitted", key, CROSSLINGUAL)
            continue
        judge = extractive_judge(readers if reader else None, embedder)
        floor_at = None if other_languages else MEANING_FLOOR.get(args.embeddings)
        res = run(cases, judge, fit_on, mask, floor_at)
        results[key] = res
        notes = {"lodo": res["lodo"], "seeds": res["seeds"], "multilingual": res["multilingual"]}
        entries[key] = res["final"].to_json() | {"notes": notes}
        how = "each domain left out" if len(fit_on) > 1 else "tune half fitted, test half measured"
        print(f"\n## {key}: {how}\n\n{table(res['lodo'])}\n")
        if len(fit_on) > 1:
            print(f"The ceiling (README):\n\n{ceiling(res['judged'], fit_on, mask, floor_at)}\n")
        if len(fit_on) > 1 and args.steadiness:
            band = steadiness(res["judged"], fit_on, mask, floor_at, args.steadiness)
            print(f"How steady ({args.steadiness} refits, 2% of tune cases out):\n\n{band}\n")
        print(f"seeds (final fit): {json.dumps(res['seeds'], indent=1)}")
        print(f"multilingual (final fit): {json.dumps(res['multilingual'], indent=1)}")
    if not args.no_write and entries:
        path = ROOT / "qa" / "answer" / "calibration.json"
        table_json = json.loads(path.read_text()) if path.exists() else {"calibrations": {}}
        table_json["calibrations"].update(entries)
        table_json["written_by"] = "python eval/calibrate.py"
        path.write_text(json.dumps(table_json, indent=1, default=float) + "\n")
        log.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
