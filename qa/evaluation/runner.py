"""The resumable evaluation run: ask every question through the engine, score, write the files.

``OUT`` gets ``results.jsonl`` (one flushed line per question, so a killed run keeps what it
has), ``run.json`` (what a resumed run must share with this one), ``summary.json`` and
``report.html``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import ConfigError, QAError
from qa.evaluation.dataset import EvalItem
from qa.evaluation.judge import Judge
from qa.evaluation.records import ResultRecord, RunMeta, Summary, read_results, to_line
from qa.evaluation.registry import summarize
from qa.evaluation.report import write_report
from qa.evaluation.scoring import RANK_DEPTH, error_record, result_record
from qa.settings import Settings

if TYPE_CHECKING:  # the engine loads the embedding model and Chroma: imported by the caller
    from qa.engine import Engine

log = logging.getLogger(__name__)

MAX_ERRORS_IN_A_ROW = 10


def fingerprint(settings: Settings, dataset: Path, judge: bool) -> dict:
    """What a resumed run must share with the run it continues."""
    keep = settings.model_dump(mode="json", exclude={"openai_api_key", "openai_base_url"})
    return {"settings": keep, "dataset": str(Path(dataset).resolve()), "judge": judge}


def _kept_results(
    out: Path, items: Sequence[EvalItem], fp: dict, resume: bool
) -> dict[str, ResultRecord]:
    """The answers of an earlier run in ``out`` that ``--resume`` keeps (none without it)."""
    results_path, run_path = out / "results.jsonl", out / "run.json"
    if not (resume and results_path.exists()):
        return {}
    previous = json.loads(run_path.read_text()) if run_path.exists() else None
    if previous and previous.get("fingerprint") != fp:
        raise ConfigError(
            f"{out} holds results from a run with other settings or another dataset; "
            "drop --resume to start afresh, or choose another --out."
        )
    wanted = {i.id: i.question for i in items}
    return {
        r["id"]: r
        for r in read_results(results_path)
        if not r.get("error") and wanted.get(r["id"]) == r["question"]
    }


def evaluate(
    engine: Engine,
    items: Sequence[EvalItem],
    out: Path,
    *,
    dataset: Path,
    judge: Judge | None = None,
    resume: bool = False,
    show_progress: bool = True,
) -> Summary:
    """Ask every question through ``engine.ask``, score it, and write results, summary and report.

    Results are appended (and flushed) one line per question, so an interrupted run keeps what
    it has; with ``resume`` the questions already answered in ``out`` are not asked again.
    Returns the summary; ``summary["complete"]`` is False when the run was interrupted.
    """
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.jsonl"
    fp = fingerprint(engine.settings, dataset, judge is not None)
    done = _kept_results(out, items, fp, resume)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    (out / "run.json").write_text(json.dumps({"fingerprint": fp, "started": started}, indent=2))
    # Rewrite what is kept (dropping a torn last line), then append one flushed line per answer.
    results_path.write_text("".join(to_line(r) for r in done.values()))
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
                f.write(to_line(rec))
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
    meta: RunMeta = {
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
    from tqdm import tqdm  # imported when a run starts: it adds ~0.4 s to every `qa` command

    return tqdm(total=total, initial=initial, desc="Asking", unit="q", file=sys.stderr, leave=False)


def ask_one(engine: Engine, item: EvalItem, judge: Judge | None = None) -> ResultRecord:
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
    from qa.engine import ingest  # loads Chroma and the embedding model: only when indexing

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
    report = ingest(settings, progress=_ingest_bar() if show_progress else None)
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
