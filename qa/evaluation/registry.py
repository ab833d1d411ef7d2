"""The metric registry: every summary metric once, with how it is computed and how it is shown.

The summary (summary.json), the text table, report.html (table, legend, plot) and ``--compare``
all iterate over ``METRICS``; a metric added here appears in each of them, and no other module
lists metric keys or labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from qa.answer.markers import strip_markers
from qa.evaluation import metrics
from qa.evaluation.records import GroupSummary, ResultRecord, RunMeta, Summary, status_of

Aggregate = Callable[[Sequence[ResultRecord]], float | None]


@dataclass(frozen=True)
class Metric:
    """One summary metric: its key in summary.json, how people see it, how it is aggregated."""

    key: str
    label: str  # short column header of the table
    name: str  # spelled out, for --compare and plot legends
    legend: str  # one line: what it measures
    aggregate: Aggregate  # over the answered (not failed) records of a group
    unit: Literal["share", "ms", "chars"] = "share"
    shown: bool = True  # False: only in summary.json
    plotted: bool = False  # one of the bars of the by-category plot
    optional: bool = False  # left out of summary.json when it applies to no question (judge)

    def format(self, value: float | int | None) -> str:
        """The value in a table cell: 3 decimals for a share, whole milliseconds."""
        if value is None:
            return "–"
        return f"{value:.3f}" if self.unit == "share" else f"{value:.0f}"

    def delta(self, a: float | int | None, b: float | int | None) -> str:
        """The signed difference b - a, as --compare prints it."""
        if a is None or b is None:
            return "–"
        return f"{b - a:+.3f}" if self.unit == "share" else f"{b - a:+.0f}"


def per_question(key: str) -> Aggregate:
    """The mean of one per-question score over the questions it applies to."""
    return lambda records: metrics.mean(r["scores"].get(key) for r in records)


def _share(answerable: bool, status: str) -> Aggregate:
    """The share of the (un)answerable questions whose answer had this status."""

    def aggregate(records: Sequence[ResultRecord]) -> float | None:
        group = [r for r in records if bool(r["answers"]) == answerable]
        return metrics.mean(float(status_of(r) == status) for r in group)

    return aggregate


def _answer_chars(records: Sequence[ResultRecord]) -> float | None:
    """Median length in characters of the confident answers, [n] markers left out."""
    sizes = [len(strip_markers(r["answer"])) for r in records if status_of(r) == "answered"]
    return round(metrics.percentile(sizes, 50), 1) if sizes else None


def _latency(q: float) -> Aggregate:
    def aggregate(records: Sequence[ResultRecord]) -> float | None:
        values = [r["latency_ms"] for r in records if r["latency_ms"] is not None]
        return round(metrics.percentile(values, q), 1) if values else None

    return aggregate


GOLD = "one containing an evidence string (or, without evidence, from a gold source)"

METRICS: tuple[Metric, ...] = (
    Metric(
        "contains", "contains", "contains answer",
        "a reference answer occurs in the answer (SQuAD normalisation); answerable questions",
        per_question("contains"), plotted=True,
    ),
    Metric(
        "em", "EM", "exact match",
        "the answer equals a reference answer (SQuAD normalisation); answerable questions",
        per_question("em"),
    ),
    Metric(
        "f1", "F1", "token F1",
        "word overlap (F1) with the best reference answer; answerable questions",
        per_question("f1"), plotted=True,
    ),
    Metric(
        "refusal_correct", "refusal acc", "refusal accuracy",
        "refused exactly when the documents do not answer (answers = [])",
        per_question("refusal_correct"), plotted=True,
    ),
    Metric(
        "answerable_answered", "answered", "answerable answered",
        "share of the answerable questions answered with confidence",
        _share(True, "answered"),
    ),
    Metric(
        "answerable_uncertain", "not sure", "answerable not sure",
        "share of the answerable questions given 'not sure' and the closest passages "
        "(neither right nor a refusal)",
        _share(True, "uncertain"),
    ),
    Metric(
        "answerable_refused", "wrongly refused", "answerable refused",
        "share of the answerable questions refused",
        _share(True, "refused"), plotted=False,
    ),
    Metric(
        "unanswerable_refused", "unans. refused", "unanswerable refused",
        "share of the unanswerable questions that were refused",
        _share(False, "refused"),
    ),
    Metric(
        "unanswerable_uncertain", "unans. not sure", "unanswerable not sure",
        "share of the unanswerable questions given 'not sure' and the closest passages",
        _share(False, "uncertain"),
    ),
    Metric(
        "unanswerable_answered", "unans. answered", "unanswerable answered",
        "share of the unanswerable questions answered with confidence (the worst outcome)",
        _share(False, "answered"),
    ),
    Metric(
        "answer_chars_p50", "chars p50", "answer length p50",
        "median length of the confident answers in characters, without [n] markers",
        _answer_chars, unit="chars",
    ),
    Metric(
        "hit1", "hit@1", "hit@1",
        f"the first retrieved passage is gold: {GOLD}",
        per_question("hit1"),
    ),
    Metric(
        "hit5", "hit@5", "hit@5",
        "a gold passage is among the first five retrieved",
        per_question("hit5"), plotted=True,
    ),
    Metric(
        "mrr10", "MRR@10", "MRR@10",
        "1 / rank of the first gold passage in the top 10 (0 when none is)",
        per_question("mrr10"),
    ),
    Metric(
        "citation_precision", "cit. P", "citation precision",
        "share of the cited passages that are gold",
        per_question("citation_precision"), plotted=True,
    ),
    Metric(
        "citation_recall", "cit. R", "citation recall",
        "share of the gold evidence strings (or gold sources) that the citations cover",
        per_question("citation_recall"),
    ),
    Metric(
        "judge_correct", "judged correct", "judged correct",
        "the model judged the answer correct against the references (4 or 5 of 5)",
        per_question("judge_correct"), optional=True,
    ),
    Metric(
        "judge_faithful", "judged faithful", "judged faithful",
        "the model judged the answer supported by the passages it cites",
        per_question("judge_faithful"), optional=True,
    ),
    Metric(
        "latency_p50_ms", "p50 ms", "latency p50 ms",
        "median time of one ask, question to answer",
        _latency(50), unit="ms",
    ),
    Metric(
        "latency_p95_ms", "p95 ms", "latency p95 ms",
        "95th percentile of the time of one ask",
        _latency(95), unit="ms",
    ),
)  # fmt: skip


def shown() -> list[Metric]:
    """The metrics that tables, the report and --compare show, in their order."""
    return [m for m in METRICS if m.shown]


def summarize_group(records: Sequence[ResultRecord]) -> GroupSummary:
    """Counts and every registered metric over a group of result records."""
    ok = [r for r in records if not r.get("error")]
    answerable = sum(1 for r in ok if r["answers"])
    out: GroupSummary = {
        "n": len(records),
        "answerable": answerable,
        "unanswerable": len(ok) - answerable,
        "errors": len(records) - len(ok),
    }
    for m in METRICS:
        value = m.aggregate(ok)
        if value is not None or not m.optional:
            out[m.key] = value
    return out


def summarize(records: Sequence[ResultRecord], meta: RunMeta) -> Summary:
    """The summary.json contents: run information, overall and per-category metrics."""
    categories = sorted({r["category"] for r in records})
    return {
        **meta,
        "overall": summarize_group(records),
        "by_category": {
            c: summarize_group([r for r in records if r["category"] == c]) for c in categories
        },
    }
