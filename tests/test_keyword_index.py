"""The keyword index's files: an index grown by many small updates (and compacted) answers
exactly as one built at once from the same chunks; BM25's top k found without scoring every
chunk equals the top k of every score; a snapshot never reads rows added after it."""

from __future__ import annotations

import random

import numpy as np
import pytest

from index import keyword_files
from index.keyword import KeywordIndex
from index.stored import StoredChunk

WORDS = [
    "harbor",
    "ledger",
    "quartz",
    "meadow",
    "signal",
    "lantern",
    "copper",
    "willow",
    "falcon",
    "granite",
    "orbit",
    "cedar",
    "thunder",
    "velvet",
    "maple",
    "summit",
    "ember",
    "canyon",
    "prairie",
    "glacier",
    "beacon",
    "tundra",
    "harvest",
    "compass",
]


def _chunks(rng: random.Random, source: str, version: int, n: int) -> list[StoredChunk]:
    out = []
    for k in range(n):
        words = rng.choices(WORDS, weights=[1 / (i + 1) for i in range(len(WORDS))], k=40)
        text = f"{source} v{version} " + " ".join(words)
        out.append(StoredChunk(f"{source}:{version}:{k}", source, k * 100, k * 100 + len(text),
                               text, f"Title of {source}"))  # fmt: skip
    return out


QUERIES = ["harbor ledger", "quartz summit glacier", "beacon", "tundra harvest compass orbit",
           "willow willow falcon", "nothing matches this"]  # fmt: skip


def _same(a: KeywordIndex, b: KeywordIndex) -> None:
    assert len(a) == len(b)
    assert sorted(c.id for c in a.chunks) == sorted(c.id for c in b.chunks)
    for q in QUERIES:
        assert a.weights(q) == pytest.approx(b.weights(q), abs=1e-12)
        ta, tb = a.search(q, 10), b.search(q, 10)
        assert [c.id for c in ta] == [c.id for c in tb], q
        assert [c.score for c in ta] == pytest.approx([c.score for c in tb], rel=1e-6), q


def test_an_index_grown_by_updates_answers_as_one_built_at_once(tmp_path):
    rng = random.Random(3)
    state = {f"doc{i}.txt": _chunks(rng, f"doc{i}.txt", 0, rng.randrange(1, 5)) for i in range(30)}
    folder = tmp_path / "kw"
    keyword_files.build(folder, [[c for cs in state.values() for c in cs]], 1, "col")
    generation = 1
    for step in range(keyword_files.MAX_SEGMENTS + 6):  # enough updates to be compacted
        generation += 1
        changed = set(rng.sample(sorted(state), 3)) | {f"new{step}.txt"}
        for source in changed:
            if source.startswith("doc") and rng.random() < 0.3:
                state.pop(source, None)  # removed
            else:
                state[source] = _chunks(rng, source, step + 1, rng.randrange(1, 5))
        now = [c for s in sorted(changed) for c in state.get(s, [])]
        keyword_files.update(folder, changed, now, generation)
        keyword_files.compact(folder)
        grown = KeywordIndex(folder=folder)
        assert grown.generation == generation
        fresh = KeywordIndex([c for cs in state.values() for c in cs], generation)
        _same(grown, fresh)
    assert len(KeywordIndex(folder=folder).segments) <= keyword_files.MAX_SEGMENTS


def test_top_k_without_scoring_everything_equals_the_top_of_all_scores():
    rng = random.Random(5)
    chunks = [c for i in range(200) for c in _chunks(rng, f"d{i}.txt", 0, 3)]
    index = KeywordIndex(chunks, 1)
    for q in [*QUERIES[:-1], "harbor beacon glacier compass ember cedar"]:
        scores = index.scores(q)
        every = np.asarray(scores)  # every position scored
        fast, full = index.top(scores, 10), index.top(every, 10)
        assert [c.id for c in fast] == [c.id for c in full], q
        for p in rng.sample(range(len(every)), 20):
            assert index.scores(q)[p] == every[p]  # one position, looked up exactly
    assert index.scores("nothing matches this") is None


def test_a_snapshot_ignores_rows_an_update_added_after_it(tmp_path):
    rng = random.Random(8)
    folder = tmp_path / "kw"
    keyword_files.build(folder, [_chunks(rng, "a.txt", 0, 3)], 1, "col")
    old = KeywordIndex(folder=folder)
    added = _chunks(rng, "b.txt", 0, 3)
    keyword_files.update(folder, {"b.txt"}, added, 2)
    assert added[0].id not in old.position  # its row exists now, beyond the snapshot
    assert all(c.source == "a.txt" for c in old.search("harbor ledger quartz beacon", 10))
    new = KeywordIndex(folder=folder)
    assert added[0].id in new.position and len(new) == 6
