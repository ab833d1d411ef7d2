"""A cross-lingual reference set: questions in Spanish and German over English documents (XQuAD).

The product answers questions over English documents; with the multilingual embedding model
(``QA_EMBEDDINGS=e5``) it must answer them when they are asked in another language. ``xquad``
measures that: XQuAD's English SQuAD paragraphs are the documents (one per paragraph, its article
title as the first line, as ``qa.evaluation.converters.convert_squad`` makes them) and each of
its questions is asked twice, in Spanish and in German (XQuAD's professional translations), with
the ENGLISH reference answer: the answer is a span of the English document, whatever the
question's language. The articles of the SQuAD evaluation subset are not in it (see
eval/datasets/README.md and eval/datasets/draw_xquad.py).

A question's two versions share its document, so the tune and test halves (grouped by article,
``qa.evaluation.protocol``) always keep them together.
"""

from __future__ import annotations

from pathlib import Path

from qa.evaluation.converters import Converted, ReferenceSet, _slug
from qa.evaluation.domains import _answered, _load_json, _row, evidence_sentences, locate

LANGUAGES = ("es", "de")  # the translations asked; each question's row category


def xquad_document(title: str, index: int, context: str) -> tuple[str, str]:
    """The file name and text of one XQuAD paragraph, as the SQuAD converter names and writes it:
    ``<Article>_<NNN>.txt`` (NNN its place in the article) holding the title, then the paragraph."""
    return f"{_slug(title)}_{index:03d}.txt", f"{title.replace('_', ' ')}\n{context}"


def convert_xquad(src: Path, out: Path) -> Converted:
    """The XQuAD subset (SQuAD-like; each question with ``question_es``, ``question_de`` and the
    English ``answers``; ``question_en`` is not asked) to one document per English paragraph + two questions per question,
    ids ``<id>-es`` and ``<id>-de``, category the language."""
    docs: dict[str, str] = {}
    rows: list[dict] = []
    kind = "cross-lingual XQuAD subset (SQuAD-like, questions in es and de)"
    for article in _load_json(src, kind):
        for i, para in enumerate(article["paragraphs"]):
            name, text = xquad_document(article["title"], i, para["context"])
            shift = len(text) - len(para["context"])  # the title line before the paragraph
            docs[name] = text
            for qa in para["qas"]:
                spans = [
                    locate(text, a["text"], a.get("answer_start", -1) + shift)
                    for a in qa["answers"]
                ]
                found = sorted({s for s in spans if s})
                if not found:
                    continue
                answers = [text[s:e] for s, e in found]
                evidence = evidence_sentences(text, found)
                for lang in LANGUAGES:
                    question = qa[f"question_{lang}"]
                    qid = f"{qa['id']}-{lang}"
                    rows.append(_row(qid, question, answers, evidence, name, lang))
    return _answered(docs, rows, out)


XQUAD_SET = ReferenceSet("xquad", "xquad/xquad-es-de-subset.json", convert_xquad)
