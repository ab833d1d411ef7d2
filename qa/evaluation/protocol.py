"""The evaluation protocol: tune and test halves, near-miss and cross-corpus unanswerable questions.

Every constant the answering pipeline depends on is tuned on the TUNE half of a reference set and
reported on its TEST half (and on the other set: cross-set transfer). A half is a set of whole
topics, so no article (SQuAD) or paragraph (HotpotQA) has questions on both sides.

Unanswerable questions come in two kinds:

- **near-miss**: the question's gold paragraph(s) are removed from the corpus; the topic, its
  other paragraphs and similar wording stay, only the answer is gone.
- **cross-corpus**: a question asked of another set's documents (nothing on the topic at all).
"""

from __future__ import annotations

import random
import shutil
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from qa.evaluation.dataset import EvalItem

Half = Literal["tune", "test"]
# Written down so that every run, on every machine, draws the same halves.
SPLIT_SEED = "qa-chat protocol 2026-12-01"
NEAR_MISS_SEED = "qa-chat near-miss 2026-12-01"
NEAR_MISS_SHARE = 0.5  # of a half's questions (in groups sharing gold) whose gold is removed
NEAR_MISS = "near-miss"  # the category given to near-miss unanswerable questions


def source_article(item: EvalItem) -> str:
    """The article of a question whose document is one paragraph named ``<Article>_<NNN>.txt``
    (the SQuAD converter's names; XQuAD's, whose category is the question's language)."""
    return min(item.sources, default=item.id).rsplit("_", 1)[0]


# How each set's questions are grouped into topics, beyond shared gold files: True where the
# question category names the article (SQuAD), paper (COVID-QA) or web page (doc2dial: the
# sections of one page, each a document, share its title); a function giving a question's topic
# where the category is something else (XQuAD: the language, so the article comes from the
# document's name; a question's Spanish and German versions share their document); False where
# shared gold files are enough: a CUAD contract or a TAT-QA report page is one document (their
# categories are the clause type and the answer type, no topic).
TopicKey = bool | Callable[[EvalItem], str]
GROUP_BY_CATEGORY: dict[str, TopicKey] = {
    "squad": True,
    "hotpotqa": False,
    "covidqa": True,
    "cuad": False,
    "doc2dial": True,
    "tatqa": False,
    "xquad": source_article,
}


def topic_groups(items: Sequence[EvalItem], by_category: TopicKey) -> list[list[EvalItem]]:
    """Questions grouped so that questions sharing an article or a gold file share a group
    (``by_category``: True, the category is the article; a function, it gives the article)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for item in items:
        keys = [f"q:{item.id}", *(f"s:{s}" for s in item.sources)]
        if callable(by_category):
            keys.append(f"c:{by_category(item)}")
        elif by_category:
            keys.append(f"c:{item.category}")
        for k in keys[1:]:
            parent[find(k)] = find(keys[0])
    groups: dict[str, list[EvalItem]] = defaultdict(list)
    for item in items:
        groups[find(f"q:{item.id}")].append(item)
    # A stable order that does not depend on the input order.
    return sorted(groups.values(), key=lambda g: min(i.id for i in g))


def split(items: Sequence[EvalItem], by_category: TopicKey) -> dict[Half, list[EvalItem]]:
    """The tune and test halves: whole topic groups, shuffled with SPLIT_SEED, sizes balanced."""
    groups = topic_groups(items, by_category)
    random.Random(SPLIT_SEED).shuffle(groups)
    halves: dict[Half, list[EvalItem]] = {"tune": [], "test": []}
    for group in groups:  # each group to the half with fewer questions so far
        smaller: Half = "tune" if len(halves["tune"]) <= len(halves["test"]) else "test"
        halves[smaller].extend(group)
    order = {item.id: n for n, item in enumerate(items)}
    return {h: sorted(qs, key=lambda i: order[i.id]) for h, qs in halves.items()}


def split_reference(name: str, items: Sequence[EvalItem]) -> dict[Half, list[EvalItem]]:
    """The halves of a bundled reference set (a name in references.REFERENCE_SETS)."""
    return split(items, GROUP_BY_CATEGORY[name])


@dataclass(frozen=True)
class NearMiss:
    """A corpus without some questions' gold paragraphs, and the questions asked of it."""

    docs_dir: Path
    removed: tuple[str, ...]  # the gold files left out
    unanswerable: tuple[EvalItem, ...]  # every gold file gone: category NEAR_MISS, answers ()
    answerable: tuple[EvalItem, ...]  # every gold file still there


def near_miss(
    docs_dir: Path,
    items: Sequence[EvalItem],
    out: Path,
    share: float = NEAR_MISS_SHARE,
) -> NearMiss:
    """Copy ``docs_dir`` into ``out`` without the gold files of a share of the items.

    Questions are drawn in groups that share a gold file, so an article keeps its other
    paragraphs: the topic stays, the answer goes. Questions that lose only some of their gold
    files (a multi-hop question with one of two paragraphs left) are in neither list.
    """
    groups = topic_groups([i for i in items if i.sources], by_category=False)
    rng = random.Random(NEAR_MISS_SEED)
    chosen = rng.sample(groups, round(len(groups) * share)) if groups else []
    removed = sorted({s for group in chosen for item in group for s in item.sources})
    gone = set(removed)
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for path in sorted(Path(docs_dir).iterdir()):
        if path.is_file() and path.name not in gone:
            shutil.copy2(path, out / path.name)
    unanswerable, answerable = [], []
    for item in items:
        lost = [s for s in item.sources if s in gone]
        if item.sources and len(lost) == len(item.sources):
            unanswerable.append(replace(item, answers=(), evidence=(), category=NEAR_MISS))
        elif not lost:
            answerable.append(item)
    return NearMiss(out, tuple(removed), tuple(unanswerable), tuple(answerable))


def cross_corpus(items: Sequence[EvalItem], corpus_name: str) -> list[EvalItem]:
    """The questions as unanswerable ones, for asking of another set's documents."""
    return [
        replace(i, answers=(), evidence=(), sources=(), category=f"cross:{corpus_name}")
        for i in items
    ]
