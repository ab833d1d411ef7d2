"""Public QA sets (SQuAD JSON, HotpotQA JSONL) as documents + evaluation JSONL, and the bundled ones.

The sets from documents other than Wikipedia (COVID-QA, CUAD, doc2dial, TAT-QA) have their
converters in ``qa.evaluation.domains`` and are registered in REFERENCE_SETS below.

Each paragraph becomes one document (its title as the first line); each question becomes one
line of the evaluation format: ``question``, ``answers``, ``evidence``, ``sources``, ``id``,
``category``. The reference sets ship with the project in ``eval/datasets/`` (see its README for
the attribution and licence), so ``qa eval squad`` needs nothing outside the checkout.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError

# The vendored originals, inside the repository (a path, not a read: nothing happens at import).
DATASETS_DIR = Path(__file__).resolve().parents[2] / "eval" / "datasets"


@dataclass(frozen=True)
class Converted:
    """A converted set: a folder of documents and the questions about them."""

    docs_dir: Path
    questions: Path
    n_docs: int
    n_questions: int


def _slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")[:60] or "doc"


def hotpot_document(ctx: dict) -> tuple[str, str]:
    """A HotpotQA context paragraph as a document: (file name, text); the name is its title's
    slug and a digest of the text, so the same paragraph is one file across questions."""
    text = f"{ctx['title']}\n{ctx['paragraph_text']}"
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    return f"{_slug(ctx['title'])}_{digest}.txt", text


def _write_docs(out: Path, docs: dict[str, str]) -> Path:
    docs_dir = out / "docs"
    docs_dir.mkdir(parents=True, exist_ok=True)
    existing = {p.name for p in docs_dir.iterdir()}
    for name, text in docs.items():
        path = docs_dir / name
        if name not in existing or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    for stale in existing - set(docs):
        (docs_dir / stale).unlink()
    return docs_dir


def _write_questions(out: Path, rows: list[dict]) -> Path:
    path = out / "questions.jsonl"
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def convert_squad(src: Path, out: Path) -> Converted:
    """SQuAD v1.1 JSON (ExpMRC's ``evidences`` used when present) to documents + questions."""
    try:
        data = json.loads(Path(src).read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError) as exc:
        raise QAError(f"{src} is not a SQuAD JSON file ({exc})") from exc
    docs: dict[str, str] = {}
    rows: list[dict] = []
    for article in data:
        title = article["title"].replace("_", " ")
        for i, para in enumerate(article["paragraphs"]):
            name = f"{_slug(article['title'])}_{i:03d}.txt"
            docs[name] = f"{title}\n{para['context']}"
            for qa in para["qas"]:
                answers = list(dict.fromkeys(a["text"] for a in qa["answers"]))
                rows.append(
                    {
                        "id": qa["id"],
                        "question": qa["question"],
                        "answers": answers,
                        "evidence": list(dict.fromkeys(qa.get("evidences", []))),
                        "sources": [name],
                        "category": title,
                    }
                )
    return Converted(_write_docs(out, docs), _write_questions(out, rows), len(docs), len(rows))


def convert_hotpotqa(src: Path, out: Path) -> Converted:
    """HotpotQA JSONL (IRCoT's sample format) to one document per unique paragraph + questions."""
    docs: dict[str, str] = {}
    rows: list[dict] = []
    try:
        lines = Path(src).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QAError(f"cannot read {src}: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            gold = []
            for ctx in rec["contexts"]:
                name, text = hotpot_document(ctx)
                docs[name] = text
                if ctx.get("is_supporting"):
                    gold.append(name)
            answers = [s for a in rec["answers_objects"] for s in a.get("spans", [])]
            rows.append(
                {
                    "id": rec["question_id"],
                    "question": rec["question_text"],
                    "answers": list(dict.fromkeys(answers)),
                    "sources": gold,
                    "category": "multi-hop",
                }
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise QAError(f"{src}:{n}: not a HotpotQA record ({exc})") from exc
    return Converted(_write_docs(out, docs), _write_questions(out, rows), len(docs), len(rows))


@dataclass(frozen=True)
class ReferenceSet:
    """A bundled public set: its original file (relative to a datasets folder) and converter."""

    name: str
    relpath: str
    convert: Callable[[Path, Path], Converted]

    def source(self, datasets_dir: Path = DATASETS_DIR) -> Path:
        """The original file in ``datasets_dir`` (default: the copy vendored in eval/datasets)."""
        return Path(datasets_dir) / self.relpath
