"""Reference sets from other kinds of documents: papers, contracts, service pages, annual reports.

SQuAD and HotpotQA are both Wikipedia. These four let every tuned constant be chosen
leave-one-domain-out (see eval/datasets/README.md for licences and how each subset was drawn):

- ``covidqa``: COVID-QA (deepset), questions on whole scientific papers (CC BY papers only);
- ``cuad``: CUAD (Atticus Project), clauses of whole commercial contracts, asked as questions
  that name the contract (a contract review question means nothing in a corpus of contracts);
- ``doc2dial``: doc2dial (IBM), the first user turn of each dialogue over a government service
  web page (DMV, SSA, VA, student aid), answered by the page's grounding span (of MIN_WORDS
  words or more: a shorter one is a heading or a link);
- ``tatqa``: TAT-QA, the single-span answers from the text of annual-report pages (table and
  paragraphs); arithmetic, multi-span and table-cell answers are left out.

Each original document becomes one file, as a user would index it (the product chunks it). Each
question keeps its reference answer(s) verbatim, the sentence(s) holding each answer as
``evidence`` (found with the indexer's own sentence splitter) and its document as ``sources``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from qa.errors import QAError
from qa.evaluation.converters import (
    Converted,
    ReferenceSet,
    _slug,
    _write_docs,
    _write_questions,
)

# ---------------------------------------------------------------------------- answers


def locate(
    text: str, answer: str, hint: int = -1, ignore_case: bool = False
) -> tuple[int, int] | None:
    """Where ``answer`` occurs in ``text``: at ``hint`` if it is there, else the occurrence nearest
    to it, else a match that differs only in whitespace (PDF-converted text), and in case too
    with ``ignore_case``; None if nowhere."""
    answer = answer.strip()
    if not answer:
        return None
    if hint >= 0 and text.startswith(answer, hint):
        return hint, hint + len(answer)
    starts = [m.start() for m in re.finditer(re.escape(answer), text)]
    if starts:
        best = min(starts, key=lambda s: abs(s - hint)) if hint >= 0 else starts[0]
        return best, best + len(answer)
    loose = r"\s+".join(map(re.escape, answer.split()))
    m = re.search(loose, text, re.IGNORECASE if ignore_case else 0)
    return (m.start(), m.end()) if m else None


def evidence_sentences(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """The verbatim sentences that overlap the answer spans (a line break ends a sentence)."""
    from index.text import sentence_spans  # sentencex: loaded only when a set is converted

    out: list[str] = []
    for start, end in spans:
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        for s, e in sentence_spans(text, line_start, line_end):
            if s < end and e > start and text[s:e] not in out:
                out.append(text[s:e])
    return out


def _row(
    qid: str, question: str, answers: list[str], evidence: list[str], source: str, category: str
) -> dict:
    return {
        "id": qid,
        "question": question.strip(),
        "answers": list(dict.fromkeys(a.strip() for a in answers if a.strip())),
        "evidence": evidence,
        "sources": [source],
        "category": category,
    }


def _load_json(src: Path, kind: str, key: str | None = "data"):
    try:
        data = json.loads(Path(src).read_text(encoding="utf-8"))
        return data[key] if key else data
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise QAError(
            f"{src} is not a {kind} file ({exc}); pass the vendored copy or the "
            f"original with --source PATH"
        ) from exc


def _name(title: str, key: str) -> str:
    return f"{_slug(title)[:50]}_{hashlib.sha1(key.encode()).hexdigest()[:6]}.txt"


def _answered(docs: dict[str, str], rows: list[dict], out: Path) -> Converted:
    if not rows:
        raise QAError(f"no answer of this set could be found in its documents ({out})")
    return Converted(_write_docs(out, docs), _write_questions(out, rows), len(docs), len(rows))


# ---------------------------------------------------------------------------- COVID-QA


def paper_title(context: str) -> str:
    """A COVID-QA paper's title: its first non-empty line (the set puts it there)."""
    return next((line.strip() for line in context.splitlines() if line.strip()), "paper")


def convert_covidqa(src: Path, out: Path) -> Converted:
    """COVID-QA (SQuAD format, one paper per entry) to one document per paper + questions."""
    docs: dict[str, str] = {}
    rows: list[dict] = []
    for entry in _load_json(src, "COVID-QA (SQuAD format)"):
        for para in entry["paragraphs"]:
            text, title = para["context"], paper_title(para["context"])
            name = _name(title, str(para.get("document_id", title)))
            docs[name] = text
            for qa in para["qas"]:
                spans = [locate(text, a["text"], a.get("answer_start", -1)) for a in qa["answers"]]
                found = [s for s in spans if s]
                if found:
                    answers = [text[s:e] for s, e in found]
                    rows.append(
                        _row(
                            str(qa["id"]),
                            qa["question"],
                            answers,
                            evidence_sentences(text, found),
                            name,
                            title[:80],
                        )
                    )
    return _answered(docs, rows, out)


# ---------------------------------------------------------------------------- CUAD

# The clause types asked about, as a reader of the contract would ask. "Parties" and "Document
# Name" are left out: the question names the contract by them.
CUAD_QUESTIONS = {
    "Agreement Date": "What is the date of {c}?",
    "Effective Date": "When does {c} take effect?",
    "Expiration Date": "When does {c} expire?",
    "Renewal Term": "How does {c} renew after its initial term?",
    "Notice Period To Terminate Renewal": "How much notice stops {c} from renewing?",
    "Governing Law": "Which jurisdiction's law governs {c}?",
    "Termination For Convenience": "Can {c} be terminated without cause?",
    "Anti-Assignment": "May a party assign {c} or its rights under it to someone else?",
    "Cap On Liability": "Is liability limited under {c}?",
    "Audit Rights": "What audit or inspection rights does {c} give?",
    "Insurance": "What insurance does {c} require?",
    "Warranty Duration": "How long is the warranty under {c}?",
    "Non-Compete": "Does {c} restrict a party from competing?",
    "Exclusivity": "What exclusivity does {c} provide for?",
}
_SMALL = {"and", "or", "of", "the", "for", "to", "in", "on", "a", "an", "with", "by"}


def _title_case(name: str) -> str:
    """ "CO-BRANDING AND SERVICES AGREEMENT" -> "Co-Branding and Services Agreement"."""
    words = name.lower().split()
    return " ".join(
        w if i and w in _SMALL else "-".join(p[:1].upper() + p[1:] for p in w.split("-"))
        for i, w in enumerate(words)
    )


def contract_name(answers: dict[str, str]) -> str:
    """The contract as a question names it: its name and first two parties, from CUAD's answers
    ("the Marketing Affiliate Agreement between Birch First Global Investments Inc. and ...")."""
    title = _title_case(" ".join(answers.get("Document Name-Answer", "").split()) or "agreement")
    parties = []
    for part in answers.get("Parties-Answer", "").split(";"):
        party = re.sub(r"\s*\([^)]*\)", "", " ".join(part.split())).strip(" ,")
        if party and party not in parties:
            parties.append(party)
    if len(parties) >= 2:
        return f"the {title} between {parties[0]} and {parties[1]}"
    return f"the {title} of {parties[0]}" if parties else f"the {title}"


def cuad_category(qid: str) -> str:
    """The clause type of a CUAD question id ("<contract>__<Category>")."""
    return qid.rsplit("__", 1)[-1]


def convert_cuad(src: Path, out: Path) -> Converted:
    """CUAD (SQuAD 2.0 format, one contract per entry, with CUAD's own answers per entry) to one
    document per contract + a question per clause type of CUAD_QUESTIONS the contract has."""
    docs: dict[str, str] = {}
    rows: list[dict] = []
    for entry in _load_json(src, "CUAD (SQuAD 2.0 format)"):
        name = _name(entry["title"], entry["title"])
        contract = contract_name(entry.get("answers", {}))
        for para in entry["paragraphs"]:
            text = para["context"]
            docs[name] = text
            for qa in para["qas"]:
                category = cuad_category(qa["id"])
                if category not in CUAD_QUESTIONS or qa.get("is_impossible"):
                    continue
                spans = [locate(text, a["text"], a.get("answer_start", -1)) for a in qa["answers"]]
                found = sorted({s for s in spans if s})
                if found:
                    question = CUAD_QUESTIONS[category].format(c=contract)
                    rows.append(
                        _row(
                            qa["id"],
                            question,
                            [text[s:e] for s, e in found],
                            evidence_sentences(text, found),
                            name,
                            category,
                        )
                    )
    return _answered(docs, rows, out)


# ---------------------------------------------------------------------------- doc2dial


MIN_WORDS = 4  # doc2dial grounding spans shorter than this are headings or link texts


def page_title(title: str) -> str:
    """A doc2dial page title without its "#3_0" suffix."""
    return title.split("#", 1)[0].strip()


def convert_doc2dial(src: Path, out: Path) -> Converted:
    """doc2dial reading-comprehension pages (SQuAD-like, one page per entry) to one document per
    page (its title as the first line) + the first user turns as questions. The category is the
    page's title: the variants of one web page (its sections, one entry each) share it."""
    docs: dict[str, str] = {}
    rows: list[dict] = []
    for entry in _load_json(src, "doc2dial (SQuAD-like)"):
        title, context = page_title(entry["title"]), entry["context"]
        name = f"{entry['domain']}_{_name(title, entry['title'])}"
        text = f"{title}\n\n{context.strip()}\n"
        shift = len(title) + 2 - (len(context) - len(context.lstrip()))  # original -> text offset
        docs[name] = text
        for qa in entry["qas"]:
            spans = [
                locate(text, a["text"], a.get("answer_start", -1) + shift) for a in qa["answers"]
            ]
            # A grounding span of a few words is a heading or a link ("Citizenship"), no answer.
            found = sorted({s for s in spans if s and len(text[s[0] : s[1]].split()) >= MIN_WORDS})
            if found:
                question = re.sub(r"^user:\s*", "", qa["question"])
                rows.append(
                    _row(
                        qa["id"],
                        question,
                        [text[s:e] for s, e in found],
                        evidence_sentences(text, found),
                        name,
                        title,
                    )
                )
    return _answered(docs, rows, out)


# ---------------------------------------------------------------------------- TAT-QA


def render_tatqa(entry: dict) -> tuple[str, dict[str, int]]:
    """An annual-report page of TAT-QA as text: its paragraphs in order, then its table, a row a
    line with cells separated by " | " (as a PDF or HTML reader would give it); and where each
    paragraph (by its "order") starts in that text."""
    parts, starts, at = [], {}, 0
    for p in sorted(entry["paragraphs"], key=lambda p: p.get("order", 0)):
        starts[str(p.get("order"))] = at
        parts.append(p["text"].strip())
        at += len(parts[-1]) + 2
    table = "\n".join(" | ".join(c.strip() for c in row) for row in entry["table"]["table"])
    return "\n\n".join([*parts, table]) + "\n", starts


def _in_paragraph(text: str, answer: str, start: int) -> tuple[int, int] | None:
    """The answer's first occurrence in the paragraph starting at ``start``, else anywhere."""
    end = text.find("\n\n", start)
    at = text.find(answer.strip(), start, len(text) if end < 0 else end)
    return (at, at + len(answer.strip())) if at >= 0 and answer.strip() else locate(text, answer)


def tatqa_kept(question: dict) -> bool:
    """True for the questions kept: one span quoted from the page's paragraphs. (A multi-span
    answer needs all its parts, which "contains a reference answer" cannot score.)"""
    return question["answer_type"] == "span" and question["answer_from"] == "text"


def convert_tatqa(src: Path, out: Path) -> Converted:
    """TAT-QA (its own JSON: table, paragraphs, questions per page) to one document per page +
    the questions whose answers are spans of the page's text."""
    docs: dict[str, str] = {}
    rows: list[dict] = []
    for entry in _load_json(src, "TAT-QA", key=None):
        text, starts = render_tatqa(entry)
        name = f"report_page_{entry['table']['uid'][:8]}.txt"
        docs[name] = text
        for q in entry["questions"]:
            if not tatqa_kept(q):
                continue
            at = next((starts[p] for p in q.get("rel_paragraphs", []) if p in starts), 0)
            found = [_in_paragraph(text, a, at) for a in q["answer"]]
            if found and all(found):
                spans = sorted(set(found))
                rows.append(
                    _row(
                        q["uid"],
                        q["question"],
                        [text[s:e] for s, e in spans],
                        evidence_sentences(text, spans),
                        name,
                        q["answer_type"],
                    )
                )
    return _answered(docs, rows, out)


# The sets and their vendored files in eval/datasets/ (registered in qa.evaluation.references).
DOMAIN_SETS = (
    ReferenceSet("covidqa", "covidqa/covid-qa-cc-by-subset.json", convert_covidqa),
    ReferenceSet("cuad", "cuad/cuad-subset.json", convert_cuad),
    ReferenceSet("doc2dial", "doc2dial/doc2dial-rc-subset.json", convert_doc2dial),
    ReferenceSet("tatqa", "tatqa/tatqa_dataset_dev.json", convert_tatqa),
)
