"""The evaluation dataset format: JSONL, one question a line, read into frozen EvalItems.

Fields: ``question``, ``answers`` (``[]``: the documents do not answer it), optional ``evidence``
(verbatim text), ``sources`` (file names), ``id``, ``category``. A bad line is reported and
skipped, never fatal: one typo should not cost a whole run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError


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
    except RecursionError:
        raise ValueError("nested too deeply to be a question") from None
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
        data = Path(path).read_bytes().removeprefix(b"\xef\xbb\xbf")
    except FileNotFoundError:
        raise QAError(f"dataset {path} does not exist") from None
    except OSError as exc:
        raise QAError(f"cannot read dataset {path} ({exc.strerror or exc})") from exc
    items: list[EvalItem] = []
    problems: list[DatasetProblem] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:  # one bad line is skipped, not the whole file
            problems.append(DatasetProblem(n, "not UTF-8 text"))
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
