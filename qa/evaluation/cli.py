"""``qa eval``: a dataset, a reference set (squad, hotpotqa), ``convert`` or ``--compare``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qa.errors import QAError
from qa.evaluation.converters import Converted
from qa.evaluation.references import REFERENCE_SETS, convert_reference
from qa.settings import Settings

SETS = "|".join(REFERENCE_SETS)


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
            "  qa eval squad | qa eval hotpotqa            the bundled reference sets, converted and evaluated\n"
            "  qa eval feedback                            the web chat's thumbs and corrections as a set\n"
            "  qa eval DATA.jsonl --resume                 continue an interrupted run\n"
            f"  qa eval convert {SETS} [SRC [OUT]]  convert only\n"
            "  qa eval --compare OUT_A OUT_B               what changed between two runs\n"
        ),
    )
    sp.add_argument(
        "target",
        nargs="*",
        metavar="DATASET",
        help=f"a .jsonl dataset, one of {', '.join(REFERENCE_SETS)}, 'feedback' (or a feedback "
        "file), or 'convert KIND [SRC [OUT]]'",
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
        help="the original file of a reference set (default: the copy in eval/datasets/)",
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


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def cmd_eval(args: argparse.Namespace) -> int:
    """The ``qa eval`` command."""
    # Imported here: `qa ingest` and `qa ask` build this parser and need none of it.
    from qa.evaluation.compare import compare
    from qa.evaluation.dataset import load_dataset
    from qa.evaluation.feedback import feedback_dataset
    from qa.evaluation.judge import Judge
    from qa.evaluation.report import format_table
    from qa.evaluation.runner import evaluate, prepare_index

    target = list(args.target)
    if args.compare:
        if target:
            return _error("give either --compare OUT_A OUT_B or a dataset, not both")
        print(compare(*args.compare))
        return 0
    if not target:
        return _error(f"give a dataset (.jsonl, {SETS}) or --compare OUT_A OUT_B")
    settings = _settings(args)
    if target[0] == "convert":
        return _cmd_convert(target[1:], settings)
    if len(target) > 1:
        return _error(f"one dataset at a time, got {len(target)}: {' '.join(target)}")
    docs = args.docs
    dataset = Path(target[0])
    from_feedback = feedback_dataset(
        target[0], Path(settings.store_dir), Path(settings.store_dir) / "datasets" / "feedback"
    )
    if from_feedback is not None:
        dataset, name = from_feedback, "feedback"
    elif target[0] in REFERENCE_SETS and not dataset.exists():
        out_dir = Path(settings.store_dir) / "datasets" / target[0]
        converted = _convert(target[0], args.source, out_dir)
        dataset, docs = converted.questions, docs or converted.docs_dir
        name = target[0]
    else:
        name = dataset.stem
    out = args.out or Path("eval") / "out" / name
    # Fails with a clear message when no model is configured, before anything is indexed.
    judge = Judge(settings) if args.judge else None
    items, problems = load_dataset(dataset)
    for p in problems:
        print(f"{dataset}:{p.line}: {p.message} (line skipped)", file=sys.stderr)
    if args.limit:
        items = items[: args.limit]
    if not items:
        raise QAError(f"no usable question in {dataset}")
    settings = prepare_index(settings, docs, args.collection)
    from qa.engine import get_engine  # loads the embedding model and Chroma
    from qa.library.signals import started  # Ctrl-C reaches this thread

    summary = evaluate(
        started(lambda: get_engine(settings)),
        items,
        out,
        dataset=dataset,
        judge=judge,
        resume=args.resume,
    )
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


def _convert(kind: str, src: Path | None, out: Path) -> Converted:
    converted = convert_reference(kind, out, src)
    print(
        f"{kind}: {converted.n_docs} documents in {converted.docs_dir}, "
        f"{converted.n_questions} questions in {converted.questions}",
        file=sys.stderr,
    )
    return converted


def _cmd_convert(rest: list[str], settings: Settings) -> int:
    if len(rest) not in (1, 2, 3) or rest[0] not in REFERENCE_SETS:
        print(f"usage: qa eval convert {{{SETS}}} [SRC [OUT]]", file=sys.stderr)
        return 2
    kind = rest[0]
    src = Path(rest[1]) if len(rest) > 1 else None
    out = Path(rest[2]) if len(rest) == 3 else Path(settings.store_dir) / "datasets" / kind
    converted = _convert(kind, src, out)
    print(f"evaluate with: qa eval {converted.questions} --docs {converted.docs_dir}")
    return 0
