"""Draw the vendored subsets of COVID-QA, CUAD, doc2dial and TAT-QA from their original files.

Run once by hand when a subset is (re)drawn; nothing in the product or the tests runs it. Each
set gets an evaluation subset of whole documents, drawn with a written-down seed, and a reader
training pool over the documents NOT in that subset (``train.jsonl.gz``: one question a line,
``{"id", "question", "context", "answers": [{"text", "start"}]}`` with exact character offsets
into a window of about WINDOW characters of the document; ``answers`` is ``[]`` for a window of
the same document that does not hold the answer, or a CUAD clause type the contract lacks).

    python eval/datasets/draw_domains.py --covidqa 200423_covidQA.json \\
        --cuad CUAD_v1/ --cuad-categories category_descriptions.csv \\
        --doc2dial doc2dial_rc_val.csv --tatqa-dev tatqa_dataset_dev.json \\
        --tatqa-test tatqa_dataset_test_gold.json

Where each original comes from, and its licence, is in eval/datasets/README.md.
"""

from __future__ import annotations

import argparse
import ast
import csv
import gzip
import json
import random
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from qa.evaluation.domains import (  # noqa: E402
    CUAD_QUESTIONS,
    contract_name,
    locate,
    page_title,
    render_tatqa,
)

OUT = ROOT / "eval" / "datasets"
SEED = "qa-chat domains 2026-12-04"  # every draw below: random.Random(f"{SEED} {set name}")
WINDOW = 1500  # characters of document around an answer in a training row
NEGATIVE_EVERY = 3  # one answer-less window of the same document per this many questions
COVIDQA_MIN_QUESTIONS, COVIDQA_MAX_PER_PAPER = 300, 40
CUAD_CONTRACTS, CUAD_MAX_CHARS = 40, 60_000
DOC2DIAL_MIN_QUESTIONS = 250


def _rng(name: str) -> random.Random:
    return random.Random(f"{SEED} {name}")


def _window(text: str, start: int, end: int, rng: random.Random) -> tuple[int, int]:
    """A window of about WINDOW characters holding [start, end), cut at line or sentence ends."""
    slack = max(0, WINDOW - (end - start))
    ws = max(0, start - rng.randint(0, slack))
    cut = max(text.rfind("\n", 0, ws), text.rfind(". ", 0, ws))
    ws = cut + 1 if cut >= 0 and ws - cut < 300 else ws
    while ws < start and text[ws].isspace():
        ws += 1
    we = min(len(text), max(end, ws + WINDOW))
    stop = min((i for i in (text.find("\n", we), text.find(". ", we)) if i >= 0), default=-1)
    we = stop + 1 if stop >= 0 and stop - we < 300 else we
    return ws, max(we, end)


def _train_rows(qid, question, text, spans, rng, negative: bool) -> list[dict]:
    """A row with the first answer's window (and every answer inside it); maybe a negative."""
    rows = []
    if spans:
        ws, we = _window(text, *spans[0], rng)
        answers = [{"text": text[s:e], "start": s - ws} for s, e in spans if ws <= s and e <= we]
        rows.append({"id": qid, "question": question, "context": text[ws:we], "answers": answers})
    if negative or not spans:
        for _ in range(20):  # a window that overlaps no answer
            ws = rng.randrange(max(1, len(text) - WINDOW))
            ws, we = _window(text, ws, min(len(text), ws + 1), rng)
            window = " ".join(text[ws:we].split())
            if all(e <= ws or s >= we for s, e in spans) and not any(
                " ".join(text[s:e].split()) in window for s, e in spans
            ):
                rows.append(
                    {
                        "id": f"{qid}-none" if spans else qid,
                        "question": question,
                        "context": text[ws:we],
                        "answers": [],
                    }
                )
                break
    for row in rows:  # the offsets are exact, or the row is not written
        assert all(row["context"][a["start"] :].startswith(a["text"]) for a in row["answers"])
    return rows


def _outside(train: list[dict], eval_texts: list[str]) -> list[dict]:
    """The training rows whose window occurs in no evaluation document (a page repeated across
    the original's splits, a paragraph of boilerplate shared by two web pages)."""
    seen = "\n".join(" ".join(t.split()) for t in eval_texts)
    return [r for r in train if " ".join(r["context"].split()) not in seen]


def _write(name: str, eval_file: str | None, data, train: list[dict]) -> None:
    """The eval subset (unless None) and the training pool (gzip without a timestamp, so that a
    redraw gives the same bytes). The LICENSE files are written by hand."""
    folder = OUT / name
    folder.mkdir(parents=True, exist_ok=True)
    if eval_file:
        (folder / eval_file).write_text(
            json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in train)
    (folder / "train.jsonl.gz").write_bytes(gzip.compress(lines.encode(), 9, mtime=0))
    n_ans = sum(bool(r["answers"]) for r in train)
    print(f"{name}: {eval_file or 'eval file copied'}; train {len(train)} rows, {n_ans} answered")


def covidqa(src: Path) -> tuple[dict, list[dict]]:
    """Papers whose header says "License:cc-by"; the eval subset: whole papers of at most
    COVIDQA_MAX_PER_PAPER questions, in seeded order, until COVIDQA_MIN_QUESTIONS."""
    data = json.loads(src.read_text(encoding="utf-8"))["data"]
    cc_by = [
        e for e in data if re.search(r"\nLicense:\s*cc-by\s*\n", e["paragraphs"][0]["context"])
    ]
    rng = _rng("covidqa")
    order = sorted(cc_by, key=lambda e: e["paragraphs"][0]["document_id"])
    rng.shuffle(order)
    chosen, n = [], 0
    for e in order:
        q = len(e["paragraphs"][0]["qas"])
        if n < COVIDQA_MIN_QUESTIONS and q <= COVIDQA_MAX_PER_PAPER:
            chosen.append(e)
            n += q
    train = []
    for e in (e for e in order if e not in chosen):
        for para in e["paragraphs"]:
            for i, qa in enumerate(para["qas"]):
                a = qa["answers"][0]
                span = locate(para["context"], a["text"], a["answer_start"])
                train += _train_rows(
                    f"covidqa-{qa['id']}",
                    qa["question"],
                    para["context"],
                    [span] if span else [],
                    rng,
                    i % NEGATIVE_EVERY == 0,
                )
    return {"version": "COVID-QA 2020-04-23, CC BY papers", "data": chosen}, train


def cuad(folder: Path, categories: Path) -> tuple[dict, list[dict]]:
    """CUAD v1 rebuilt in its SQuAD 2.0 form (CUAD_v1.json's) from master_clauses.csv and the
    contracts' text; the eval subset: CUAD_CONTRACTS contracts under CUAD_MAX_CHARS, seeded."""
    details = {}
    for row in csv.reader(categories.open(encoding="utf-8-sig")):
        if row and row[0].startswith("Category: "):
            details[row[0].removeprefix("Category: ").strip().lower()] = (
                row[1].removeprefix("Description: ").strip()
            )
    rows = list(csv.DictReader((folder / "master_clauses.csv").open(encoding="utf-8")))
    entries = []
    for row in rows:
        stem = re.sub(r"\.pdf$", "", row["Filename"], flags=re.IGNORECASE)
        path = folder / "full_contract_txt" / f"{stem}.txt"
        if not path.exists():
            continue  # 12 of 510 names differ between the CSV and the text files
        text = path.read_text(encoding="utf-8")
        answers = {k: v for k, v in row.items() if k.endswith("Answer") and v}
        qas = []
        for cat in (k for k in row if k != "Filename" and not k.strip().endswith("Answer")):
            found = []
            for clause in ast.literal_eval(row[cat] or "[]"):
                for piece in clause.split("<omitted>"):
                    span = locate(text, piece)
                    if span and span not in found:
                        found.append(span)
            desc = details.get(cat.lower(), cat)
            qas.append(
                {
                    "id": f"{stem}__{cat}",
                    "question": f'Highlight the parts (if any) of this contract related to "{cat}" '
                    f"that should be reviewed by a lawyer. Details: {desc}",
                    "answers": [{"text": text[s:e], "answer_start": s} for s, e in sorted(found)],
                    "is_impossible": not found,
                }
            )
        entries.append(
            {"title": stem, "answers": answers, "paragraphs": [{"context": text, "qas": qas}]}
        )
    rng = _rng("cuad")
    fit = [
        e
        for e in entries
        if len(e["paragraphs"][0]["context"]) <= CUAD_MAX_CHARS
        and e["answers"].get("Document Name-Answer")
        and ";" in e["answers"].get("Parties-Answer", "")
    ]
    chosen = rng.sample(sorted(fit, key=lambda e: e["title"]), CUAD_CONTRACTS)
    train = []
    for e in sorted((e for e in entries if e not in chosen), key=lambda e: e["title"]):
        text, contract = e["paragraphs"][0]["context"], contract_name(e["answers"])
        for i, qa in enumerate(e["paragraphs"][0]["qas"]):
            cat = qa["id"].rsplit("__", 1)[-1]
            if cat in CUAD_QUESTIONS:
                spans = [
                    (a["answer_start"], a["answer_start"] + len(a["text"])) for a in qa["answers"]
                ]
                question = CUAD_QUESTIONS[cat].format(c=contract)
                if spans or rng.random() < 0.25:  # absent clause types: a quarter of them
                    train += _train_rows(
                        f"cuad-{qa['id']}",
                        question,
                        text,
                        spans,
                        rng,
                        bool(spans) and i % NEGATIVE_EVERY == 0,
                    )
    return {"version": "CUAD v1 (SQuAD 2.0 form, rebuilt)", "data": chosen}, train


def doc2dial(src: Path) -> tuple[dict, list[dict]]:
    """doc2dial v1.0.1 reading-comprehension validation rows: the first user turn of each
    dialogue, grouped by page; the eval subset: whole pages in seeded order until
    DOC2DIAL_MIN_QUESTIONS questions."""
    csv.field_size_limit(1 << 30)
    pages: dict[str, dict] = {}
    for row in csv.DictReader(src.open(encoding="utf-8")):
        if row["question"].count("user:") != 1 or "agent:" in row["question"]:
            continue  # a later turn: it leans on the dialogue before it
        page = pages.setdefault(
            row["title"],
            {"title": row["title"], "domain": row["domain"], "context": row["context"], "qas": []},
        )
        a = ast.literal_eval(row["answers"])
        page["qas"].append(
            {
                "id": row["id"],
                "question": row["question"],
                "answers": [
                    {"text": t, "answer_start": s}
                    for t, s in zip(a["text"], a["answer_start"], strict=True)
                ],
            }
        )
    rng = _rng("doc2dial")
    # The variants of one web page ("...#4_0", "...#8_0": its sections) share a title and some
    # text: they go to the same side, as one group.
    groups: dict[str, list[str]] = {}
    for title in sorted(pages):
        groups.setdefault(page_title(title), []).append(title)
    order = sorted(groups)
    rng.shuffle(order)
    chosen, n = [], 0
    for base in order:
        if n < DOC2DIAL_MIN_QUESTIONS:
            chosen += [pages[t] for t in groups[base]]
            n += sum(len(pages[t]["qas"]) for t in groups[base])
    train = []
    for title in (t for base in order for t in groups[base] if pages[t] not in chosen):
        p = pages[title]
        text = f"{page_title(title)}\n\n{p['context'].strip()}\n"
        for i, qa in enumerate(p["qas"]):
            spans = [s for a in qa["answers"] if (s := locate(text, a["text"]))]
            question = re.sub(r"^user:\s*", "", qa["question"])
            train += _train_rows(
                f"doc2dial-{qa['id']}", question, text, spans, rng, i % NEGATIVE_EVERY == 0
            )
    return {"version": "doc2dial v1.0.1 rc validation, first turns", "data": chosen}, train


def tatqa_train(test: Path) -> list[dict]:
    """TAT-QA test (gold) pages: every single-span answer found verbatim in the rendered page
    (text and table cells alike: a reader should learn both; a multi-span answer is no single
    span to point at, so it is left out)."""
    rng, train = _rng("tatqa"), []
    for e in json.loads(test.read_text(encoding="utf-8")):
        text, _ = render_tatqa(e)
        for i, q in enumerate(e["questions"]):
            if q["answer_type"] == "span":
                spans = [locate(text, a) for a in q["answer"]]
                if spans and all(spans):
                    train += _train_rows(
                        f"tatqa-{q['uid']}",
                        q["question"],
                        text,
                        sorted(set(spans)),
                        rng,
                        i % NEGATIVE_EVERY == 0,
                    )
    return train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--covidqa", type=Path, help="COVID-QA 200423_covidQA.json")
    ap.add_argument("--cuad", type=Path, help="the CUAD_v1 folder (master_clauses.csv, ...)")
    ap.add_argument("--cuad-categories", type=Path, help="CUAD's category_descriptions.csv")
    ap.add_argument("--doc2dial", type=Path, help="doc2dial_rc_val.csv (v1.0.1)")
    ap.add_argument("--tatqa-dev", type=Path, help="tatqa_dataset_dev.json (copied unchanged)")
    ap.add_argument("--tatqa-test", type=Path, help="tatqa_dataset_test_gold.json (training)")
    args = ap.parse_args()
    if args.covidqa:
        data, train = covidqa(args.covidqa)
        texts = [p["context"] for e in data["data"] for p in e["paragraphs"]]
        _write("covidqa", "covid-qa-cc-by-subset.json", data, _outside(train, texts))
    if args.cuad:
        data, train = cuad(args.cuad, args.cuad_categories)
        texts = [p["context"] for e in data["data"] for p in e["paragraphs"]]
        _write("cuad", "cuad-subset.json", data, _outside(train, texts))
    if args.doc2dial:
        data, train = doc2dial(args.doc2dial)
        texts = [f"{page_title(e['title'])}\n\n{e['context'].strip()}" for e in data["data"]]
        _write("doc2dial", "doc2dial-rc-subset.json", data, _outside(train, texts))
    if args.tatqa_dev and args.tatqa_test:
        (OUT / "tatqa").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.tatqa_dev, OUT / "tatqa" / "tatqa_dataset_dev.json")
        dev = json.loads(args.tatqa_dev.read_text(encoding="utf-8"))
        texts = [render_tatqa(e)[0] for e in dev]
        _write("tatqa", None, None, _outside(tatqa_train(args.tatqa_test), texts))


if __name__ == "__main__":
    main()
