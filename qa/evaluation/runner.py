"""Evaluation against reference answers: ``qa eval DATASET.jsonl``, ``--compare`` and converters.

Dataset: JSONL, one question a line: ``question``, ``answers`` (``[]``: the documents do not
answer it), optional ``evidence`` (verbatim text), ``sources`` (file names), ``id``, ``category``.

A retrieved or cited passage is *gold* when it contains one of the question's evidence strings
(whitespace normalised) and, if ``sources`` are given, comes from one of them; a question with
sources but no evidence counts every passage of those sources as gold. (With evidence present
the evidence decides, because a one-document corpus would make every passage "from the source".)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from qa import metrics
from qa.errors import ConfigError, QAError
from qa.markers import strip_markers
from qa.settings import Settings
from qa.types import Answer, Passage

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
SHARED_SETS = {
    "squad": SHARED_DATASETS / "squad-expmrc" / "expmrc-squad-dev.json",
    "hotpotqa": SHARED_DATASETS / "hotpotqa-dev500" / "dev_subsampled.jsonl",
}
RANK_DEPTH = 10  # retrieval is ranked this deep for hit@k / MRR@10
MAX_ERRORS_IN_A_ROW = 10


@dataclass(frozen=True)
class EvalItem:
    """One question of an evaluation set."""

    id: str
    question: str
    answers: tuple[str, ...]
    evidence: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    category: str = "uncategorised"
    line: int = 0

    @property
    def answerable(self) -> bool:
        """False when the documents do not answer it (an empty ``answers`` list)."""
        return bool(self.answers)


@dataclass(frozen=True)
class DatasetProblem:
    """A dataset line that was skipped, and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _strings(rec: dict, key: str, required: bool = False) -> tuple[str, ...]:
    if key not in rec or rec[key] is None:
        if required:
            raise ValueError(
                f"'{key}' is missing (use [] for a question the documents do not answer)"
            )
        return ()
    value = rec[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"'{key}' must be a list of strings, got {json.dumps(value)[:80]}")
    return tuple(dict.fromkeys(v for v in value if v.strip()))


def parse_item(line: str, n: int) -> EvalItem:
    """One dataset line as an EvalItem, or a ValueError that says what is wrong."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(rec, dict):
        raise ValueError(f"expected a JSON object, got {type(rec).__name__}")
    question = rec.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("'question' is missing or not a non-empty string")
    ident = rec.get("id", f"line-{n}")
    if not isinstance(ident, str | int) or isinstance(ident, bool):
        raise ValueError("'id' must be a string or a number")
    category = rec.get("category") or "uncategorised"
    if not isinstance(category, str):
        raise ValueError("'category' must be a string")
    return EvalItem(
        id=str(ident),
        question=question,
        answers=_strings(rec, "answers", required=True),
        evidence=_strings(rec, "evidence"),
        sources=_strings(rec, "sources"),
        category=category,
        line=n,
    )


def load_dataset(path: Path) -> tuple[list[EvalItem], list[DatasetProblem]]:
    """The questions of a JSONL dataset, and the lines that had to be skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise QAError(f"dataset {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QAError(f"cannot read dataset {path}: {exc}") from exc
    items: list[EvalItem] = []
    problems: list[DatasetProblem] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = parse_item(line, n)
        except ValueError as exc:
            problems.append(DatasetProblem(n, str(exc)))
            continue
        if item.id in seen:
            problems.append(
                DatasetProblem(n, f"duplicate id '{item.id}' (first on line {seen[item.id]})")
            )
            continue
        seen[item.id] = n
        items.append(item)
    return items, problems


# ---------------------------------------------------------------------------- scoring


def from_sources(source: str, sources: Sequence[str]) -> bool:
    """True if a passage's source path is one of the named files."""
    return any(
        source == s or PurePosixPath(source).name == s or source.endswith("/" + s) for s in sources
    )


def is_gold(item: EvalItem, passage: Passage) -> bool | None:
    """Whether a passage supports the reference answer; None when the item names no gold."""
    if item.evidence:
        if item.sources and not from_sources(passage.source, item.sources):
            return False
        return any(metrics.contains_text(passage.text, e) for e in item.evidence)
    if item.sources:
        return from_sources(passage.source, item.sources)
    return None


def citation_recall(item: EvalItem, cited: Sequence[Passage]) -> float:
    """Share of the gold evidence strings (or else gold sources) that the cited passages cover."""
    if item.evidence:
        ok = [p for p in cited if not item.sources or from_sources(p.source, item.sources)]
        covered = [any(metrics.contains_text(p.text, e) for p in ok) for e in item.evidence]
    else:
        covered = [any(from_sources(p.source, [s]) for p in cited) for s in item.sources]
    return sum(covered) / len(covered)


def score(item: EvalItem, answer: Answer, ranked: Sequence[Passage]) -> dict:
    """The per-question scores; a score that does not apply to this question is None."""
    has_gold = item.answerable and bool(item.evidence or item.sources)
    prediction = "" if answer.refused else strip_markers(answer.text)
    s: dict = {"refusal_correct": float(answer.refused == (not item.answerable))}
    for key, fn in (
        ("contains", metrics.contains_answer),
        ("em", metrics.exact_match),
        ("f1", metrics.token_f1),
    ):
        s[key] = fn(prediction, item.answers) if item.answerable else None
    flags = [bool(is_gold(item, p)) for p in ranked[:RANK_DEPTH]] if has_gold else []
    s["gold_rank"] = metrics.first_gold_rank(flags) if has_gold else None
    s["hit1"] = metrics.hit_at(flags, 1) if has_gold else None
    s["hit5"] = metrics.hit_at(flags, 5) if has_gold else None
    s["mrr10"] = metrics.mrr_at(flags, RANK_DEPTH) if has_gold else None
    cited = [c.passage for c in answer.citations]
    if has_gold and cited and not answer.refused:
        s["citation_precision"] = sum(bool(is_gold(item, p)) for p in cited) / len(cited)
    else:
        s["citation_precision"] = None
    s["citation_recall"] = (
        (0.0 if answer.refused else citation_recall(item, cited)) if has_gold else None
    )
    return s


def _passage_dict(rank: int, p: Passage, gold: bool | None) -> dict:
    return {
        "rank": rank,
        "source": p.source,
        "start": p.start,
        "end": p.end,
        "score": round(p.score, 6),
        "gold": gold,
        "text": p.text,
    }


def _item_fields(item: EvalItem) -> dict:
    """The dataset fields that every results.jsonl line repeats."""
    return {
        "id": item.id,
        "category": item.category,
        "question": item.question,
        "answers": list(item.answers),
        "evidence": list(item.evidence),
        "sources": list(item.sources),
    }


def result_record(
    item: EvalItem, answer: Answer, ranked: Sequence[Passage], latency_ms: float, judged: dict
) -> dict:
    """The results.jsonl line for one answered question."""
    scores = score(item, answer, ranked)
    scores.update(judged)
    return {
        **_item_fields(item),
        "answer": answer.text,
        "refused": answer.refused,
        "mode": answer.mode,
        "notice": answer.notice,
        "citations": [
            {
                "n": c.n,
                "source": c.source,
                "start": c.start,
                "end": c.end,
                "gold": is_gold(item, c.passage),
                "text": c.text,
            }
            for c in answer.citations
        ],
        "answer_passages": len(answer.retrieved),
        "retrieved": [
            _passage_dict(i, p, is_gold(item, p)) for i, p in enumerate(ranked[:RANK_DEPTH], 1)
        ],
        "scores": scores,
        "latency_ms": round(latency_ms, 2),
        "error": None,
    }


def error_record(item: EvalItem, message: str) -> dict:
    """The results.jsonl line for a question that could not be asked."""
    return {
        **_item_fields(item),
        "answer": "",
        "refused": False,
        "mode": "",
        "citations": [],
        "retrieved": [],
        "scores": {},
        "latency_ms": None,
        "error": message,
    }


# ---------------------------------------------------------------------------- summary

SCORES = (  # per-question scores averaged over the questions where they apply
    "contains",
    "em",
    "f1",
    "refusal_correct",
    "hit1",
    "hit5",
    "mrr10",
    "citation_precision",
    "citation_recall",
    "judge_correct",
    "judge_faithful",
)


def _mean(values: Iterable[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return round(sum(xs) / len(xs), 4) if xs else None


def summarize_group(records: Sequence[dict]) -> dict:
    """Counts, mean scores and latency percentiles of a group of result records."""
    ok = [r for r in records if not r.get("error")]
    answerable = [r for r in ok if r["answers"]]
    unanswerable = [r for r in ok if not r["answers"]]
    latencies = [r["latency_ms"] for r in ok]
    out: dict = {
        "n": len(records),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "errors": len(records) - len(ok),
    }
    for key in SCORES:
        value = _mean(r["scores"].get(key) for r in ok)
        if value is not None or not key.startswith("judge_"):
            out[key] = value
    out["answerable_answered"] = _mean(float(not r["refused"]) for r in answerable)
    out["unanswerable_refused"] = _mean(float(r["refused"]) for r in unanswerable)
    out["latency_p50_ms"] = round(metrics.percentile(latencies, 50), 1) if latencies else None
    out["latency_p95_ms"] = round(metrics.percentile(latencies, 95), 1) if latencies else None
    return out


def summarize(records: Sequence[dict], meta: dict) -> dict:
    """The summary.json contents: run information, overall and per-category metrics."""
    categories = sorted({r["category"] for r in records})
    return {
        **meta,
        "overall": summarize_group(records),
        "by_category": {
            c: summarize_group([r for r in records if r["category"] == c]) for c in categories
        },
    }


# ---------------------------------------------------------------------------- running


def read_results(path: Path) -> list[dict]:
    """The records of a results.jsonl, last one per id winning; a torn last line is ignored."""
    records: dict[str, dict] = {}
    if not path.exists():
        return []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # the line being written when the run was killed
        if isinstance(rec, dict) and "id" in rec:
            records.pop(rec["id"], None)
            records[rec["id"]] = rec
    return list(records.values())


def fingerprint(settings: Settings, dataset: Path, judge: bool) -> dict:
    """What a resumed run must share with the run it continues."""
    keep = settings.model_dump(mode="json", exclude={"openai_api_key", "openai_base_url"})
    return {"settings": keep, "dataset": str(Path(dataset).resolve()), "judge": judge}


def evaluate(
    engine,
    items: Sequence[EvalItem],
    out: Path,
    *,
    dataset: Path,
    judge=None,
    resume: bool = False,
    show_progress: bool = True,
) -> dict:
    """Ask every question through ``engine.ask``, score it, and write results, summary and report.

    Results are appended (and flushed) one line per question, so an interrupted run keeps what
    it has; with ``resume`` the questions already answered in ``out`` are not asked again.
    Returns the summary; ``summary["complete"]`` is False when the run was interrupted.
    """
    from qa.report import write_report

    out.mkdir(parents=True, exist_ok=True)
    results_path, run_path = out / "results.jsonl", out / "run.json"
    fp = fingerprint(engine.settings, dataset, judge is not None)
    done: dict[str, dict] = {}
    if resume and results_path.exists():
        previous = json.loads(run_path.read_text()) if run_path.exists() else None
        if previous and previous.get("fingerprint") != fp:
            raise ConfigError(
                f"{out} holds results from a run with other settings or another dataset; "
                "drop --resume to start afresh, or choose another --out."
            )
        wanted = {i.id: i.question for i in items}
        done = {
            r["id"]: r
            for r in read_results(results_path)
            if not r.get("error") and wanted.get(r["id"]) == r["question"]
        }
    started = datetime.now(UTC).isoformat(timespec="seconds")
    run_path.write_text(json.dumps({"fingerprint": fp, "started": started}, indent=2))
    # Rewrite what is kept (dropping a torn last line), then append one flushed line per answer.
    results_path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in done.values())
    )
    todo = [i for i in items if i.id not in done]
    records = dict(done)
    complete, stopped_by = True, None
    errors_in_a_row = 0
    t0 = time.perf_counter()
    bar = _bar(len(items), len(done)) if show_progress else None
    try:
        with results_path.open("a", encoding="utf-8") as f:
            for item in todo:
                rec = ask_one(engine, item, judge)
                records[item.id] = rec
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                f.flush()
                errors_in_a_row = errors_in_a_row + 1 if rec["error"] else 0
                if bar is not None:
                    bar.update(1)
                if errors_in_a_row >= MAX_ERRORS_IN_A_ROW:
                    raise QAError(
                        f"stopped: {errors_in_a_row} questions in a row failed, the last with: "
                        f"{rec['error']}"
                    )
    except KeyboardInterrupt:
        complete = False
    except QAError as exc:  # e.g. the judge's model server went away: keep what was done
        complete, stopped_by = False, exc
    finally:
        if bar is not None:
            bar.close()
    ordered = [records[i.id] for i in items if i.id in records]
    meta = {
        "dataset": str(dataset),
        "docs": str(engine.settings.docs_dir),
        "collection": engine.settings.collection,
        "mode": next((r["mode"] for r in ordered if r.get("mode")), ""),
        "retrieval": engine.settings.retrieval,
        "top_k": engine.settings.top_k,
        "judged": judge is not None,
        "questions": len(items),
        "asked": len(ordered),
        "complete": complete,
        "started": started,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    summary = summarize(ordered, meta)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    write_report(out / "report.html", summary, ordered)
    if stopped_by is not None:
        raise QAError(
            f"{stopped_by}. The {len(ordered)} answers so far are kept in {results_path}; "
            "continue with the same command plus --resume."
        ) from stopped_by
    return summary


def _bar(total: int, initial: int):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc="Asking", unit="q", file=sys.stderr, leave=False)


def ask_one(engine, item: EvalItem, judge=None) -> dict:
    """Ask one question through the engine (as the UI does) and score the answer."""
    t = time.perf_counter()
    try:
        answer = engine.ask(item.question)
    except QAError as exc:
        return error_record(item, str(exc))
    latency_ms = (time.perf_counter() - t) * 1000
    ranked = list(answer.retrieved)
    if len(ranked) < RANK_DEPTH:  # rank deeper than the answer step looks, for MRR@10
        try:
            ranked = engine.retrieve(item.question, k=RANK_DEPTH)
        except QAError as exc:
            log.warning("ranking %s failed: %s", item.id, exc)
    judged = judge.judge(item, answer) if judge is not None else {}
    return result_record(item, answer, ranked, latency_ms, judged)


def collection_for(docs: Path) -> str:
    """A Chroma collection name of its own for an evaluation corpus (never the user's)."""
    resolved = docs.resolve()
    name = resolved.name if resolved.name != "docs" else f"{resolved.parent.name}-docs"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:40] or "docs"
    return f"eval-{slug}-{hashlib.sha1(str(resolved).encode()).hexdigest()[:8]}"


def prepare_index(
    settings: Settings, docs: Path | None, collection: str | None = None, show_progress: bool = True
) -> Settings:
    """Settings for the corpus to evaluate on, its index built or brought up to date.

    Another folder than the configured documents gets a collection of its own (unless one is
    named), because indexing mirrors the folder and would drop the user's documents.
    """
    from index.ingest import ingest

    if docs is not None:
        if not docs.is_dir():
            raise QAError(f"--docs {docs} is not a folder of documents")
        same = docs.resolve() == Path(settings.docs_dir).resolve()
        update: dict = {"docs_dir": docs}
        if not same:
            update["collection"] = collection or collection_for(docs)
        settings = settings.model_copy(update=update)
    elif not Path(settings.docs_dir).is_dir():
        raise QAError(f"the documents folder {settings.docs_dir} does not exist; pass --docs DIR")
    report = ingest(settings.ingest_config, progress=_ingest_bar() if show_progress else None)
    print(f"index '{settings.collection}': {report.summary()}", file=sys.stderr)
    if report.chunks_total == 0:
        raise QAError(f"no document in {settings.docs_dir} could be indexed")
    return settings


def _ingest_bar():
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="Indexing", unit="file", file=sys.stderr, leave=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


# ---------------------------------------------------------------------------- CLI


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def register(subparsers, common) -> None:
    """Add ``qa eval`` to the ``qa`` command."""
    sp = subparsers.add_parser(
        "eval",
        help="evaluate answers against reference answers",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Ask every question of a dataset and score answers, refusals, retrieval and citations.",
        epilog=(
            "examples:\n"
            "  qa eval eval/seeds_qa.jsonl                 the seed set against the configured documents\n"
            "  qa eval DATA.jsonl --docs DIR --out OUT     another corpus (indexed in a collection of its own)\n"
            "  qa eval squad | qa eval hotpotqa            the shared sets, converted and evaluated\n"
            "  qa eval DATA.jsonl --resume                 continue an interrupted run\n"
            "  qa eval convert squad|hotpotqa [SRC [OUT]]  convert only\n"
            "  qa eval --compare OUT_A OUT_B               what changed between two runs\n"
        ),
    )
    sp.add_argument(
        "target",
        nargs="*",
        metavar="DATASET",
        help="a .jsonl dataset, 'squad', 'hotpotqa' or 'convert KIND [SRC [OUT]]'",
    )
    sp.add_argument(
        "--docs", type=Path, help="documents folder to answer from (default: QA_DOCS_DIR)"
    )
    sp.add_argument("--out", type=Path, help="output folder (default: eval/out/<dataset name>)")
    sp.add_argument(
        "--judge",
        action="store_true",
        help="also have the language model judge correctness and faithfulness",
    )
    sp.add_argument("--limit", type=_positive, help="ask only the first N questions")
    sp.add_argument(
        "--resume", action="store_true", help="keep the answers already in OUT and ask the rest"
    )
    sp.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("OUT_A", "OUT_B"),
        help="compare two finished runs",
    )
    sp.add_argument(
        "--source",
        type=Path,
        help="the original file for 'squad'/'hotpotqa' (default: the shared copy)",
    )
    sp.add_argument(
        "-k", "--top-k", dest="top_k", type=int, help="passages handed to the answer step"
    )
    sp.add_argument("--mode", dest="retrieval", choices=["hybrid", "dense", "bm25"])
    common(sp)
    sp.set_defaults(func=cmd_eval)


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {k: getattr(args, k) for k in ("store_dir", "collection", "top_k", "retrieval")}
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def cmd_eval(args: argparse.Namespace) -> int:
    """The ``qa eval`` command."""
    target = list(args.target)
    if args.compare:
        if target:
            print(
                "error: give either --compare OUT_A OUT_B or a dataset, not both", file=sys.stderr
            )
            return 2
        from qa.report import compare

        print(compare(*args.compare))
        return 0
    if not target:
        print(
            "error: give a dataset (.jsonl, 'squad' or 'hotpotqa') or --compare OUT_A OUT_B",
            file=sys.stderr,
        )
        return 2
    settings = _settings(args)
    if target[0] == "convert":
        return _cmd_convert(target[1:], settings)
    if len(target) > 1:
        print(
            f"error: one dataset at a time, got {len(target)}: {' '.join(target)}", file=sys.stderr
        )
        return 2
    docs = args.docs
    dataset = Path(target[0])
    if target[0] in SHARED_SETS and not dataset.exists():
        converted = _convert(
            target[0],
            args.source or SHARED_SETS[target[0]],
            Path(settings.store_dir) / "datasets" / target[0],
        )
        dataset, docs = converted.questions, docs or converted.docs_dir
        name = target[0]
    else:
        name = dataset.stem
    out = args.out or Path("eval") / "out" / name
    judge = None
    if args.judge:
        from qa.judge import Judge

        judge = Judge(settings)  # fails with a clear message when no model is configured
    items, problems = load_dataset(dataset)
    for p in problems:
        print(f"{dataset}:{p.line}: {p.message} (line skipped)", file=sys.stderr)
    if args.limit:
        items = items[: args.limit]
    if not items:
        raise QAError(f"no usable question in {dataset}")
    settings = prepare_index(settings, docs, args.collection)
    from qa.pipeline import get_engine

    engine = get_engine(settings)
    summary = evaluate(engine, items, out, dataset=dataset, judge=judge, resume=args.resume)
    from qa.report import format_table

    print(format_table(summary))
    if problems:
        print(f"\n{len(problems)} dataset line(s) skipped (see above)")
    print(f"\nresults: {out / 'results.jsonl'}\nreport:  {out / 'report.html'}")
    if not summary["complete"]:
        print(
            f"interrupted after {summary['asked']} of {summary['questions']} questions; they are kept "
            f"in {out / 'results.jsonl'}. Continue with the same command plus --resume.",
            file=sys.stderr,
        )
        return 130
    return 0


def _convert(kind: str, src: Path, out: Path):
    from qa.datasets import CONVERTERS

    if not Path(src).exists():
        raise QAError(f"{src} does not exist; pass the original {kind} file with --source PATH")
    converted = CONVERTERS[kind](Path(src), out)
    print(
        f"{kind}: {converted.n_docs} documents in {converted.docs_dir}, "
        f"{converted.n_questions} questions in {converted.questions}",
        file=sys.stderr,
    )
    return converted


def _cmd_convert(rest: list[str], settings: Settings) -> int:
    from qa.datasets import CONVERTERS

    if len(rest) not in (1, 2, 3) or rest[0] not in CONVERTERS:
        print(f"usage: qa eval convert {{{'|'.join(CONVERTERS)}}} [SRC [OUT]]", file=sys.stderr)
        return 2
    kind = rest[0]
    src = Path(rest[1]) if len(rest) > 1 else SHARED_SETS[kind]
    out = Path(rest[2]) if len(rest) == 3 else Path(settings.store_dir) / "datasets" / kind
    converted = _convert(kind, src, out)
    print(f"evaluate with: qa eval {converted.questions} --docs {converted.docs_dir}")
    return 0
