"""The cross-lingual reference set: XQuAD's Spanish and German questions over English paragraphs.

Read from its vendored file: every English reference answer occurs in its document, no article
or paragraph is shared with the SQuAD evaluation subset, the halves keep whole articles and both
versions of a question together, and the product's language guess (``index.text.detect``) tells
the questions' languages apart.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from conftest import DATASETS

from index.text import detect
from qa.cli import main
from qa.evaluation.crosslingual import LANGUAGES, xquad_document
from qa.evaluation.dataset import load_dataset
from qa.evaluation.metrics import contains_text
from qa.evaluation.protocol import (
    GROUP_BY_CATEGORY,
    NEAR_MISS,
    near_miss,
    source_article,
    split_reference,
)
from qa.evaluation.references import REFERENCE_SETS, convert_reference

MB = 1 << 20
ARTICLES, PARAGRAPHS, QUESTIONS = 36, 180, 924  # XQuAD's 48, 240, 1,190 less the SQuAD subset's
# The share of each language's questions index.text.detect must take for that language.
DETECTED = {"es": 0.95, "de": 0.95}
# German: 715 of 924 (77%) with the base forms only; 861 (93%) since the inflected forms
# ("welchem", "viele") joined and one function word counts in a question with no English one.
# The rest hold none of the list ("Wer sang die Nationalhymne?": "die" is left out as an English
# word). A floor so that it gets no worse until it is better.
DETECTED_NOW = {"es": 0.95, "de": 0.90}


def _subset() -> list[dict]:
    return json.loads(REFERENCE_SETS["xquad"].source().read_text(encoding="utf-8"))["data"]


def _squeeze(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The set converted once from its vendored file: (Converted, items, {name: text})."""
    conv = convert_reference("xquad", tmp_path_factory.mktemp("xquad"))
    items, problems = load_dataset(conv.questions)
    assert problems == []
    docs = {p.name: p.read_text(encoding="utf-8") for p in conv.docs_dir.iterdir()}
    return conv, items, docs


def test_registered_with_its_file_licence_and_readme_line():
    ref = REFERENCE_SETS["xquad"]
    folder = ref.source().parent
    assert ref.source().is_file() and ref.source().stat().st_size <= 2 * MB
    licence = (folder / "LICENSE").read_text(encoding="utf-8")
    assert "Attribution-ShareAlike 4.0 International" in licence and "xquad" in licence
    assert "xquad" in GROUP_BY_CATEGORY
    readme = (DATASETS / "README.md").read_text(encoding="utf-8")
    assert "`xquad/xquad-es-de-subset.json`" in readme


def test_no_article_or_paragraph_of_the_squad_subset():
    squad = json.loads((DATASETS / "squad-expmrc" / "expmrc-squad-dev.json").read_text())["data"]
    subset = _subset()
    titles = [a["title"] for a in subset]
    assert len(titles) == len(set(titles)) == ARTICLES
    assert set(titles).isdisjoint(a["title"] for a in squad)
    squad_paragraphs = {_squeeze(p["context"]) for a in squad for p in a["paragraphs"]}
    ours = [_squeeze(p["context"]) for a in subset for p in a["paragraphs"]]
    assert len(ours) == PARAGRAPHS and squad_paragraphs.isdisjoint(ours)


def test_every_english_answer_is_in_its_document(converted):
    conv, items, docs = converted
    assert conv.n_docs == len(docs) == PARAGRAPHS
    assert len(items) == conv.n_questions == len(LANGUAGES) * QUESTIONS
    for item in items:
        assert item.answerable and len(item.sources) == 1 and item.sources[0] in docs
        doc = docs[item.sources[0]]
        assert all(a in doc for a in item.answers), item.id
        assert item.evidence and all(e in doc for e in item.evidence), item.id
        assert any(contains_text(" ".join(item.evidence), a) for a in item.answers), item.id
    # Each answer at its original offset in the English paragraph (after the title line).
    by_id = {i.id: i for i in items}
    for article in _subset():
        for n, para in enumerate(article["paragraphs"]):
            _, text = xquad_document(article["title"], n, para["context"])
            shift = len(text) - len(para["context"])
            for qa in para["qas"]:
                a = qa["answers"][0]
                assert text.startswith(a["text"], a["answer_start"] + shift)
                assert by_id[f"{qa['id']}-es"].answers[0] == a["text"].strip()


def test_each_question_twice_in_spanish_and_german_with_the_same_answers(converted):
    _, items, _ = converted
    pairs: dict[str, dict[str, object]] = defaultdict(dict)
    for item in items:
        base, lang = item.id.rsplit("-", 1)
        assert item.category == lang and lang in LANGUAGES
        pairs[base][lang] = item
    assert len(pairs) == QUESTIONS and all(set(p) == set(LANGUAGES) for p in pairs.values())
    for p in pairs.values():
        es, de = p["es"], p["de"]
        assert (es.answers, es.evidence, es.sources) == (de.answers, de.evidence, de.sources)
        assert es.question != de.question


def test_halves_keep_whole_articles_and_both_languages_together(converted, tmp_path):
    conv, items, _ = converted
    halves = split_reference("xquad", items)
    tune, test = halves["tune"], halves["test"]
    assert len(tune) + len(test) == len(items) and abs(len(tune) - len(test)) < 0.1 * len(items)
    articles = {h: {source_article(i) for i in qs} for h, qs in halves.items()}
    assert articles["tune"].isdisjoint(articles["test"])
    assert len(articles["tune"] | articles["test"]) == ARTICLES
    base = {h: {i.id.rsplit("-", 1)[0] for i in qs} for h, qs in halves.items()}
    assert base["tune"].isdisjoint(base["test"])
    assert len(tune) == 2 * len(base["tune"]) and len(test) == 2 * len(base["test"])
    nm = near_miss(conv.docs_dir, items, tmp_path / "nm")
    assert nm.removed and nm.unanswerable and nm.answerable
    assert all(i.category == NEAR_MISS and not i.answers for i in nm.unanswerable)
    gone = {i.id.rsplit("-", 1)[0] for i in nm.unanswerable}
    assert len(nm.unanswerable) == 2 * len(gone)  # both versions lose their paragraph


def _detected(items) -> tuple[dict[str, float], dict[str, list[tuple[str, str]]]]:
    """Per language: the share detected as it, and the misses (what was guessed, the question)."""
    misses: dict[str, list[tuple[str, str]]] = {lang: [] for lang in LANGUAGES}
    for item in items:
        guess = detect(item.question)
        if guess != item.category:
            misses[item.category].append((guess, item.question))
    share = {lang: 1 - len(misses[lang]) / QUESTIONS for lang in LANGUAGES}
    return share, misses


def test_detect_tells_the_languages_apart(converted):
    share, misses = _detected(converted[1])
    for lang in LANGUAGES:
        assert share[lang] >= DETECTED_NOW[lang], (lang, share[lang], misses[lang][:20])
    # Hardly ever taken for each other (one German question is: "Es wird diskutiert, dass es
    # ..."), and the same questions in English are English.
    assert sum(g in LANGUAGES for g, _ in misses["es"] + misses["de"]) <= 2
    english = [
        detect(qa["question_en"]) for a in _subset() for p in a["paragraphs"] for qa in p["qas"]
    ]
    assert english.count("en") == len(english) == QUESTIONS


@pytest.mark.xfail(strict=True, reason="German questions: about 93% detected, not 95% (see above)")
def test_detect_takes_95_percent_of_each_language_for_it(converted):
    share, misses = _detected(converted[1])
    assert all(share[lang] >= DETECTED[lang] for lang in LANGUAGES), (share, misses)


def test_convert_command_takes_it_like_squad(tmp_path, capsys):
    out = tmp_path / "xquad"
    assert main(["eval", "convert", "xquad", str(REFERENCE_SETS["xquad"].source()), str(out)]) == 0
    assert f"qa eval {out / 'questions.jsonl'}" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(Exception, match="not a cross-lingual XQuAD"):
        convert_reference("xquad", tmp_path / "x", bad)
