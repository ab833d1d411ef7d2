"""The extra reader training sets, eval/datasets/train-extra/ (drawn by draw_train_extra.py).

Every answer is at its exact offset in its context, contexts are of bounded size, each set has
its licence file and README row, and no context shares a passage with a paragraph of the SQuAD
evaluation subset (the SQuAD test domain): SQuAD dev is one of the sources.
"""

from __future__ import annotations

import gzip
import json
import re

import pytest
from conftest import DATASETS

EXTRA = DATASETS / "train-extra"
FILES = sorted(EXTRA.glob("*.jsonl.gz"))
SHINGLE = 12  # words: as draw_train_extra.SHINGLE
MB = 1 << 20


def _rows(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _shingles(text: str) -> set[tuple[str, ...]]:
    w = re.findall(r"\w+", text.lower())
    return {tuple(w[i : i + SHINGLE]) for i in range(len(w) - SHINGLE + 1)}


@pytest.fixture(scope="module")
def rows() -> dict[str, list[dict]]:
    return {p.name.removesuffix(".jsonl.gz"): _rows(p) for p in FILES}


def test_every_set_has_its_licence_its_readme_row_and_fits_the_size_budget():
    readme = (DATASETS / "README.md").read_text(encoding="utf-8")
    assert len(FILES) >= 5
    for p in FILES:
        name = p.name.removesuffix(".jsonl.gz")
        assert (EXTRA / f"LICENSE-{name}").is_file(), name
        assert f"`train-extra/{p.name}`" in readme, name
        assert p.stat().st_size <= 5 * MB, name
    assert sum(p.stat().st_size for p in FILES) <= 20 * MB


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_answers_are_at_their_exact_offsets(rows, path):
    name = path.name.removesuffix(".jsonl.gz")
    ids = set()
    for r in rows[name]:
        assert set(r) == {"id", "question", "context", "answers"}, r["id"]
        assert r["id"] not in ids, r["id"]
        ids.add(r["id"])
        assert r["question"].strip() and r["context"].strip(), r["id"]
        assert len(r["context"]) <= 4200, r["id"]
        for a in r["answers"]:
            assert a["text"].strip(), r["id"]
            assert r["context"][a["start"] : a["start"] + len(a["text"])] == a["text"], r["id"]
        if r["id"].endswith("-none"):
            assert not r["answers"], r["id"]
    answered = sum(bool(r["answers"]) for r in rows[name])
    assert answered >= 1000 and answered >= len(rows[name]) / 3, name


def test_no_context_shares_a_passage_with_the_squad_evaluation_subset(rows):
    squad = json.loads((DATASETS / "squad-expmrc" / "expmrc-squad-dev.json").read_text("utf-8"))
    seen = set().union(*(_shingles(p["context"]) for e in squad["data"] for p in e["paragraphs"]))
    assert len(seen) > 20_000
    for name, rs in rows.items():
        for r in rs:
            assert not (_shingles(r["context"]) & seen), (name, r["id"])
