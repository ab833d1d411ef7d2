"""The evaluation protocol: halves by topic, fixed by a written-down seed; near-miss corpora."""

from __future__ import annotations

from conftest import DATASETS

from qa.evaluation.dataset import EvalItem, load_dataset
from qa.evaluation.protocol import NEAR_MISS, near_miss, split, split_reference
from qa.evaluation.references import convert_reference


def _item(i: int, category: str, sources: tuple[str, ...]) -> EvalItem:
    return EvalItem(str(i), f"q{i}?", ("a",), sources=sources, category=category)


def test_halves_keep_topics_whole_and_are_the_same_every_time():
    items = [_item(i, f"art{i % 5}", (f"art{i % 5}_{i % 3}.txt",)) for i in range(40)]
    a, b = split(items, by_category=True), split(list(reversed(items)), by_category=True)
    assert [i.id for i in a["test"]] == sorted((i.id for i in b["test"]), key=int)
    tune_topics = {i.category for i in a["tune"]}
    assert tune_topics.isdisjoint({i.category for i in a["test"]})
    assert len(a["tune"]) + len(a["test"]) == 40 and a["tune"] and a["test"]


def test_multi_hop_questions_sharing_a_paragraph_share_a_half():
    items = [
        _item(1, "multi-hop", ("A.txt", "B.txt")),
        _item(2, "multi-hop", ("B.txt", "C.txt")),
        _item(3, "multi-hop", ("D.txt", "E.txt")),
        _item(4, "multi-hop", ("F.txt", "G.txt")),
    ]
    halves = split(items, by_category=False)
    side = {i.id: h for h, qs in halves.items() for i in qs}
    assert side["1"] == side["2"]


def test_reference_halves_are_balanced_and_disjoint(tmp_path):
    conv = convert_reference(
        "squad", tmp_path / "squad", DATASETS / "squad-expmrc" / "expmrc-squad-dev.json"
    )
    items, _ = load_dataset(conv.questions)
    halves = split_reference("squad", items)
    n_tune, n_test = len(halves["tune"]), len(halves["test"])
    assert n_tune + n_test == len(items) and abs(n_tune - n_test) < 0.25 * len(items)
    assert {i.category for i in halves["tune"]}.isdisjoint({i.category for i in halves["test"]})


def test_near_miss_corpus_lacks_exactly_the_removed_gold_files(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a1.txt", "a2.txt", "b1.txt", "c1.txt", "c2.txt"):
        (docs / name).write_text(f"text of {name}")
    items = [
        _item(1, "multi-hop", ("a1.txt", "a2.txt")),
        _item(2, "multi-hop", ("b1.txt",)),
        _item(3, "multi-hop", ("c1.txt", "c2.txt")),
        _item(4, "multi-hop", ("c2.txt",)),
    ]
    nm = near_miss(docs, items, tmp_path / "nm", share=0.5)
    left = {p.name for p in nm.docs_dir.iterdir()}
    assert left == {"a1.txt", "a2.txt", "b1.txt", "c1.txt", "c2.txt"} - set(nm.removed)
    assert nm.removed  # half of the three topic groups, rounded
    for item in nm.unanswerable:
        assert item.category == NEAR_MISS and not item.answers
        assert all(s in nm.removed for s in items[int(item.id) - 1].sources)
    for item in nm.answerable:
        assert not set(item.sources) & set(nm.removed)
    assert len(nm.unanswerable) + len(nm.answerable) == 4  # no partial loss in this layout
