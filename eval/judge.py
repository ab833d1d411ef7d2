"""A case as the product's extractive answer sees it: evidence features and whether it is right.

Runs the product's own steps (``Engine.find`` and ``Engine.answer``: the reader's readings,
``qa.answer.extract.draft``, ``qa.answer.evidence.weigh``) over a case's retrieved passages, so
calibrating and tuning measure what ``ask`` does.

With the reader, each case is read by a model that never trained on its domain
(``readers[domain]``: the leave-one-domain-out model trained without it; the seed questions,
never trained on, by the shipped model): the calibration then sees readings as good as they
will be on documents the model has not met, not better.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from calibrate import DOMAINS, Judged
from cases import Case, shared_cases, ways_table

from index.text import ENGLISH, detect
from qa.answer import extract, reader
from qa.answer.evidence import shape_of, weigh
from qa.answer.markers import strip_markers
from qa.answer.reader import Reader, Reading
from qa.answer.reading import Found, read, reread, spot
from qa.evaluation.metrics import holds_answer, token_f1

log = logging.getLogger("judge")
TOP_K = 5  # passages the answer step reads (QA_TOP_K)
SENTENCES = 2  # QA_ANSWER_SENTENCES


def readers_from(folder: Path, domains: list[str]) -> dict[str, Reader]:
    """The leave-one-domain-out readers of ``folder`` (``without-<domain>/``) and the shipped
    one (``all/``, for questions of no training domain)."""
    out = {
        d: Reader(folder / f"without-{d}") for d in domains if (folder / f"without-{d}").is_dir()
    }
    if (folder / "all").is_dir():
        out["*"] = Reader(folder / "all")
    return out


def reader_of(folder: Path | None, domains: list[str]) -> Callable[[str], Reader]:
    """The reader a domain's cases are read with: the shipped one for every domain, or, given a
    folder of leave-one-domain-out models, ``folder/without-<domain>/`` (``folder/all/`` for a
    domain it has no model for: the seed article, never trained on)."""
    if folder is None:
        shipped = reader.load()
        if shipped is None:
            raise SystemExit("no reader model in qa/answer/models/reader/")
        return lambda domain: shipped
    models = readers_from(folder, domains)
    return lambda domain: models.get(domain) or models["*"]


def output_name(script: str, folder: Path | None) -> str:
    """``script``, or ``script-<folder>`` when read with another folder of models."""
    return script if folder is None else f"{script}-{folder.name}"


@dataclass(frozen=True)
class ReaderRun:
    """What a script that reads the answerable cases with the reader works on (``reader_run``)."""

    domains: list[str]  # as ``--domains`` names them
    readers: Path | None  # ``--readers``: a folder of leave-one-domain-out models, or None
    cases: list[Case]  # those domains' answerable cases with a reference (and the seed article's)
    model_for: Callable[[str], Reader]  # the reader each domain's cases are read with


def reader_run(description: str, argv: list[str] | None, seeds: bool = True) -> ReaderRun:
    """The command line such scripts share (``--domains``, ``--readers``) and what it picks;
    the seed article's cases too with ``seeds``."""
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.RawTextHelpFormatter)  # fmt: skip
    p.add_argument("--domains", default=",".join(DOMAINS))
    p.add_argument("--readers", type=Path, default=None, help="leave-one-domain-out models")
    args = p.parse_args(argv)
    domains = args.domains.split(",")
    asked = {*domains, "seeds"} if seeds else set(domains)
    cases = [c for c in shared_cases(DOMAINS)
             if c.domain in asked and c.kind == "answerable" and c.item.answers]  # fmt: skip
    return ReaderRun(domains, args.readers, cases, reader_of(args.readers, list(DOMAINS)))


_READ: dict[tuple[int, int], Found] = {}  # (reader, case): the reading, shared by every variant
_QUOTED: dict[tuple[int, int, str], Reading | None] = {}  # ... and of the answer as quoted


def _for_reader(case: Case) -> str:
    """The question as ``Engine`` gives it to the reader: the ask, then its context."""
    return f"{case.asked.ask} {case.asked.context}".strip()


def found_for(case: Case, reader: Reader | None) -> Found:
    """What ``Engine.find`` gives for the case's passages (read once per reader and case)."""
    if reader is None:
        return Found(tuple(case.passages[:TOP_K]), None, case.weights)
    key = (id(reader), id(case))
    if key not in _READ:
        _READ[key] = read(reader, _for_reader(case), case.passages[:TOP_K], case.weights)
        if len(_READ) % 500 == 0:
            log.info("read %d cases with the reader", len(_READ))
    return _READ[key]


_VECTORS: dict[str, np.ndarray] = {}  # a sentence's embedding, shared by every variant


def _embedded(embedder, texts: list[str]) -> list[np.ndarray]:
    """The embeddings of ``texts`` (each sentence embedded once per run)."""
    todo = [t for t in dict.fromkeys(texts) if t not in _VECTORS]
    if todo:
        _VECTORS.update(zip(todo, embedder.embed(todo), strict=True))
    return [_VECTORS[t] for t in texts]


_SPOT: dict[tuple[int, int, str], tuple[int, int] | None] = {}  # (reader, case, sentence)


def _spot(reader: Reader, case: Case, sentence: str) -> tuple[int, int] | None:
    """``reading.spot`` as ``Engine._decide`` calls it (read once per reader, case, sentence)."""
    key = (id(reader), id(case), sentence)
    if key not in _SPOT:
        _SPOT[key] = spot(reader, _for_reader(case), sentence)
    return _SPOT[key]


def judged(case: Case, found: Found, embedder=None, reader: Reader | None = None) -> Judged:
    """The features, rightness and phrase F1 of the answer ``Engine.answer`` would give.

    ``embedder``: a multilingual embedding model; a question in another language than English is
    then answered by meaning, as ``Engine._meaning`` does. ``reader``: the one that read
    ``found``; it reads the answer as quoted too, as ``Engine._decide`` does."""
    ask = case.asked.ask
    passages, weights = list(found.passages), found.weights or {}
    meaning = None
    if embedder is not None and detect(case.item.question) != ENGLISH:
        query = embedder.embed_query(ask)
        meaning = lambda texts: [float(v @ query) for v in _embedded(embedder, texts)]  # noqa: E731
    reads = reader if found.readings is not None else None
    spotted = partial(_spot, reads, case) if reads else None
    draft = extract.draft(ask, passages, weights, SENTENCES, spans=found.spans, meaning=meaning,
                          spot=spotted)  # fmt: skip
    text = strip_markers(draft.text)
    quoted = None
    if reads is not None:
        key = (id(reader), id(case), text)
        if key not in _QUOTED:
            _QUOTED[key] = reread(reader, _for_reader(case), text)
        quoted = _QUOTED[key]
    shape = shape_of(case.asked.question, text, draft.verdict is not None)
    ev = weigh(passages, weights, draft.sentence, found.relevance, found.margin, quoted, found.gap,
               shape)  # fmt: skip
    answers = case.item.answers
    right = bool(answers) and bool(holds_answer(text, answers))
    f1 = token_f1(draft.phrase, answers) if answers and draft.phrase else 0.0
    case.extra["draft"] = draft
    return Judged(case, np.array(ev.features()), right, right, f1, ev.settled)


def extractive_judge(
    readers: Mapping[str, Reader] | None = None, embedder=None
) -> Callable[[Case], Judged]:
    """The judge of the product's extractive answer, with or without the reader (which reads
    English only: a question in another language is judged without it)."""

    def judge(case: Case) -> Judged:
        reader = None
        if readers is not None and detect(case.item.question) == ENGLISH:
            reader = readers.get(case.domain) or readers.get("*")
            if reader is None:
                raise KeyError(f"no reader for domain {case.domain!r}")
        return judged(case, found_for(case, reader), embedder, reader)

    return judge


Drafted = list[tuple[Case, list["extract.Draft"]]]  # each case with its draft by each way


def drafted_ways(run: ReaderRun, owner: object, name: str, ways: Mapping[str, Callable]) -> Drafted:
    """Every case of ``run`` drafted as ``Engine`` drafts it, once with ``owner.name`` set to
    each of ``ways`` in turn (the shipped one put back after): a rule with and without."""
    shipped = getattr(owner, name)
    out: Drafted = []
    try:
        for c in run.cases:
            model = run.model_for(c.domain)
            found = found_for(c, model).top(TOP_K)
            ask, passages, weights = c.asked.ask, list(found.passages), found.weights or {}
            drafts = []
            for way in ways.values():
                setattr(owner, name, way)
                drafts.append(extract.draft(ask, passages, weights, SENTENCES, spans=found.spans,
                                            spot=partial(_spot, model, c)))  # fmt: skip
            out.append((c, drafts))
    finally:
        setattr(owner, name, shipped)
    return out


def ways_figures(
    run: ReaderRun,
    drafted: Drafted,
    ways: Sequence[str],
    counted: str,
    count: Callable[[list[extract.Draft]], Sequence[int]] | None = None,
) -> tuple[list[str], dict]:
    """The tables of ``drafted``: the focused answer's F1 by way (``ways_table``: with each fold's
    choice), then whether the answer as shown holds a reference. ``count``: what each case counts
    per way, shown in brackets as ``counted`` (by default, whether its text differs from the
    first way's)."""
    count = count or (lambda ds: [int(d.text != ds[0].text) for d in ds])
    rows: dict[tuple[str, str], list[list[float]]] = {}
    shown: dict[tuple[str, str], list[list[float]]] = {}
    counts: dict[tuple[str, str], np.ndarray] = {}
    for c, ds in drafted:
        key, answers = (c.domain, c.half), c.item.answers
        rows.setdefault(key, []).append([token_f1(d.phrase, answers) if d.phrase else 0.0
                                         for d in ds])  # fmt: skip
        shown.setdefault(key, []).append([float(holds_answer(strip_markers(d.text), answers))
                                          for d in ds])  # fmt: skip
        counts[key] = counts.get(key, 0) + np.array(count(ds))
    lines, out = ways_table(rows, list(ways), run.domains, counts, counted)
    lines += ["", "| domain | half | " + " | ".join(f"shown contains, {w}" for w in ways) + " |",
              "| --- | --- | " + "--- | " * len(ways)]  # fmt: skip
    for (d, h), v in sorted(shown.items()):
        m = np.mean(v, axis=0)
        out[f"{d}|{h}"]["shown contains"] = dict(zip(ways, map(float, m), strict=True))
        lines.append(f"| {d} | {h} | " + " | ".join(f"{x:.3f}" for x in m) + " |")
    return lines, out
