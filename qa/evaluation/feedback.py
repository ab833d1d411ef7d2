"""Feedback from the web chat as an evaluation set: what users said becomes the reference.

- a correction ("the right answer is ...") becomes the reference answer;
- "the documents don't answer this" makes the question unanswerable (``answers: []``);
- a thumbs-up answer becomes a reference: its answer-bearing phrases and its text (either is
  accepted), its supporting sentences the evidence and its sources the gold sources; a thumbs-up
  on a refusal makes the question unanswerable;
- a thumbs-down without a correction says what is wrong but not what is right: it is skipped
  (counted), since nothing could be scored against it.

Follow-up questions are asked as the standalone question they were looked up as.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from qa.errors import QAError
from qa.evaluation.dataset import EvalItem, load_dataset
from qa.library.feedback import FeedbackRecord, feedback_path, read

KIND = "feedback"


def item_from_feedback(rec: FeedbackRecord) -> EvalItem | None:
    """The evaluation question a feedback record makes, or None when it gives no reference."""
    question = (rec.get("standalone_question") or rec["question"]).strip()
    if not question:
        return None
    cites = rec.get("citations") or []
    base = dict(id=f"feedback-{rec['id']}", question=question)
    if rec.get("unanswerable"):
        return EvalItem(answers=(), category="feedback: unanswerable", **base)
    correction = (rec.get("correction") or "").strip()
    if correction:
        return EvalItem(answers=(correction,), category="feedback: corrected", **base)
    if rec["rating"] != "up":
        return None
    if rec.get("status") == "refused":
        return EvalItem(answers=(), category="feedback: confirmed refusal", **base)
    phrases = [p for c in cites for p in c.get("phrases", []) if p.strip()]
    answers = tuple(dict.fromkeys([*phrases, (rec.get("answer") or "").strip()]))
    answers = tuple(a for a in answers if a)
    if not answers:
        return None
    evidence = tuple(dict.fromkeys(s for c in cites for s in c.get("sentences", []) if s.strip()))
    sources = tuple(dict.fromkeys(c["source"] for c in cites if c.get("source")))
    return EvalItem(
        answers=answers,
        evidence=evidence,
        sources=sources,
        category="feedback: confirmed answer",
        **base,
    )


def feedback_items(path: Path) -> tuple[list[EvalItem], Counter[str]]:
    """The evaluation questions of a feedback file, and how many records gave none (by reason)."""
    records, problems = read(path)
    skipped: Counter[str] = Counter()
    if problems:  # lines that are not whole, well-formed records: skipped, counted
        skipped["malformed records"] += len(problems)
    items: list[EvalItem] = []
    seen: set[str] = set()
    for rec in records:
        item = item_from_feedback(rec)
        if item is None:
            skipped["thumbs down without a correction (no reference)"] += 1
        elif item.question.casefold() in seen:
            skipped["question already in the set"] += 1
        else:
            seen.add(item.question.casefold())
            items.append(item)
    return items, skipped


def is_feedback_file(path: Path) -> bool:
    """True when a JSONL file holds feedback records rather than dataset questions."""
    try:
        with Path(path).open("rb") as f:
            for line in f:
                if line.strip():
                    rec = json.loads(line.decode("utf-8", errors="replace"))
                    return isinstance(rec, dict) and "rating" in rec and "answers" not in rec
    except (OSError, ValueError, RecursionError):
        return False
    return False


def convert_feedback(src: Path, out: Path) -> tuple[Path, int, Counter[str]]:
    """Write a feedback file as a dataset (JSONL) at ``out``; (path, questions, skipped)."""
    items, skipped = feedback_items(src)
    if not items:
        reasons = "; ".join(f"{n} {why}" for why, n in skipped.items()) or "it is empty"
        raise QAError(f"{src} gives no question to evaluate ({reasons}).")
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps(
            {
                "id": it.id,
                "question": it.question,
                "answers": list(it.answers),
                "evidence": list(it.evidence),
                "sources": list(it.sources),
                "category": it.category,
            },
            ensure_ascii=False,
        )
        for it in items
    ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_dataset(out)  # what was written reads back as a dataset
    return out, len(items), skipped


def feedback_dataset(target: str, store_dir: Path, out_dir: Path) -> Path | None:
    """The dataset to evaluate for ``qa eval TARGET`` when TARGET is feedback, else None.

    ``feedback`` names the store's own feedback file; a path to a feedback file is converted too.
    """
    if target == KIND and not Path(target).exists():
        src = feedback_path(store_dir)
    elif Path(target).is_file() and is_feedback_file(Path(target)):
        src = Path(target)
    else:
        return None
    path, n, skipped = convert_feedback(src, out_dir / "questions.jsonl")
    note = "".join(f"; {k} skipped: {v}" for k, v in skipped.items())
    print(f"feedback: {n} questions from {src} in {path}{note}", file=sys.stderr)
    return path
