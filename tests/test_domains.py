"""The reference sets from other kinds of documents: COVID-QA, CUAD, doc2dial and TAT-QA.

Each is read from its vendored file: every reference answer and evidence sentence occurs in its
gold document, the halves never share a document, a near-miss corpus can be built from it, and
the reader training pool has exact offsets over documents outside the evaluation subset.
"""

from __future__ import annotations

import gzip
import json

import pytest
from conftest import DATASETS

from qa.cli import main
from qa.evaluation.dataset import load_dataset
from qa.evaluation.domains import DOMAIN_SETS, contract_name, locate, render_tatqa
from qa.evaluation.metrics import contains_text
from qa.evaluation.protocol import GROUP_BY_CATEGORY, NEAR_MISS, near_miss, split_reference
from qa.evaluation.references import REFERENCE_SETS, convert_reference

NAMES = [s.name for s in DOMAIN_SETS]
MB = 1 << 20


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Each set converted once from its vendored file: (Converted, items, {name: text})."""
    out = {}
    for name in NAMES:
        conv = convert_reference(name, tmp_path_factory.mktemp(name))
        items, problems = load_dataset(conv.questions)
        assert problems == []
        docs = {p.name: p.read_text(encoding="utf-8") for p in conv.docs_dir.iterdir()}
        out[name] = (conv, items, docs)
    return out


def test_every_set_is_registered_with_its_files_licence_and_readme_line():
    readme = (DATASETS / "README.md").read_text(encoding="utf-8")
    for name in NAMES:
        ref = REFERENCE_SETS[name]
        folder = ref.source().parent
        assert ref.source().is_file() and (folder / "LICENSE").is_file()
        assert name in GROUP_BY_CATEGORY
        assert f"`{folder.name}/" in readme
        size = sum(p.stat().st_size for p in folder.iterdir() if p.name != "train.jsonl.gz")
        assert size <= 5 * MB and (folder / "train.jsonl.gz").stat().st_size <= 5 * MB


@pytest.mark.parametrize("name", NAMES)
def test_answers_and_evidence_are_in_their_gold_documents(converted, name):
    conv, items, docs = converted[name]
    assert 150 <= len(items) <= 500 and conv.n_docs == len(docs)
    for item in items:
        assert item.answerable and item.sources and item.evidence
        assert all(s in docs for s in item.sources)
        gold = " ".join(docs[s] for s in item.sources)
        assert all(contains_text(gold, a) for a in item.answers), item.id
        assert all(contains_text(gold, e) for e in item.evidence), item.id
        # Each answer lies inside the evidence sentences that were found for it.
        assert any(contains_text(" ".join(item.evidence), a) for a in item.answers), item.id


@pytest.mark.parametrize("name", NAMES)
def test_halves_never_share_a_document_and_near_miss_works(converted, tmp_path, name):
    conv, items, _ = converted[name]
    halves = split_reference(name, items)
    tune, test = halves["tune"], halves["test"]
    assert len(tune) + len(test) == len(items) and abs(len(tune) - len(test)) < 0.25 * len(items)
    assert {s for i in tune for s in i.sources}.isdisjoint({s for i in test for s in i.sources})
    if GROUP_BY_CATEGORY[name]:
        assert {i.category for i in tune}.isdisjoint({i.category for i in test})
    nm = near_miss(conv.docs_dir, items, tmp_path / "nm")
    left = {p.name for p in nm.docs_dir.iterdir()}
    assert nm.removed and left.isdisjoint(nm.removed) and len(left) + len(nm.removed) == conv.n_docs
    assert nm.unanswerable and nm.answerable
    assert all(i.category == NEAR_MISS and not i.answers for i in nm.unanswerable)
    assert all(not set(i.sources) & set(nm.removed) for i in nm.answerable)


@pytest.mark.parametrize("name", NAMES)
def test_training_pool_has_exact_offsets_and_no_evaluation_document(converted, name):
    docs = converted[name][2]
    path = REFERENCE_SETS[name].source().parent / "train.jsonl.gz"
    rows = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    assert len(rows) >= 300 and len({r["id"] for r in rows}) == len(rows)
    assert any(not r["answers"] for r in rows) and sum(
        bool(r["answers"]) for r in rows
    ) > 0.5 * len(rows)
    for r in rows:
        assert set(r) == {"id", "question", "context", "answers"} and r["question"].strip()
        for a in r["answers"]:
            assert r["context"][a["start"] : a["start"] + len(a["text"])] == a["text"]
    # No training window comes from an evaluation document (a whole window would be in one).
    eval_text = "\n".join(docs.values())
    windows = [r["context"] for r in rows if len(r["context"]) > 800]
    assert windows and not any(w in eval_text for w in windows[:: max(1, len(windows) // 200)])


def test_convert_command_takes_each_new_set_like_squad(tmp_path, capsys):
    for name in NAMES:
        out = tmp_path / name
        assert main(["eval", "convert", name, str(REFERENCE_SETS[name].source()), str(out)]) == 0
        assert f"qa eval {out / 'questions.jsonl'}" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(Exception, match="not a CUAD"):
        convert_reference("cuad", tmp_path / "x", bad)


def test_answer_location_and_contract_names():
    text = "Intro.\nThe term is  two\n years. Then the term lasts two years again."
    assert locate(text, "two years", hint=len(text) - 20) == (
        text.rindex("two years"),
        len(text) - 7,
    )
    start, end = locate(text, "term is two years", hint=0)
    assert text[start:end] == "term is  two\n years"  # found across the PDF line break
    assert locate(text, "three years") is None
    name = contract_name(
        {
            "Document Name-Answer": "CO-BRANDING AND ADVERTISING AGREEMENT",
            "Parties-Answer": 'I-Escrow, Inc. ("iEscrow"); 2TheMart.com, Inc. ("2TM")',
        }
    )
    assert (
        name
        == "the Co-Branding and Advertising Agreement between I-Escrow, Inc. and 2TheMart.com, Inc."
    )
    page = {
        "table": {"uid": "u", "table": [["", "2019"], ["Sales", " $1 "]]},
        "paragraphs": [{"order": 2, "text": "Second."}, {"order": 1, "text": "First. "}],
    }
    text, starts = render_tatqa(page)
    assert text == "First.\n\nSecond.\n\n | 2019\nSales | $1\n" and text[starts["2"] :].startswith(
        "Second"
    )
