"""A case as the product's extractive answer sees it: evidence features and whether it is right.

Runs the product's own code (``qa.answer``) over a case's retrieved passages, so calibrating
and tuning measure what ``ask`` does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from calibrate import Judged
from cases import Case

from qa.answer import extract
from qa.answer.evidence import weigh
from qa.answer.markers import strip_markers
from qa.answer.verdict import Thresholds
from qa.evaluation.metrics import holds_answer, token_f1

TOP_K = 5  # passages the answer step reads (QA_TOP_K)
ALWAYS = Thresholds(float("-inf"), float("-inf"))  # the answer as it would be given confidently


def extractive_judge(reader: bool = False) -> Callable[[Case], Judged] | None:
    """The judge of the product's extractive answer (None when the reader is asked and absent)."""
    if reader:
        return None  # the reader joins once it ships in qa/answer

    def judge(case: Case) -> Judged:
        q, passages, weights = case.item.question, case.passages[:TOP_K], case.weights
        scored = extract.score_sentences(q, passages, weights) if passages else []
        ev = weigh(passages, weights, scored[0].lexical if scored else 0.0)
        draft = extract.answer(q, list(passages), weights, ALWAYS, 2) if passages else None
        text = strip_markers(draft.text) if draft else ""
        answers = case.item.answers
        right = bool(answers) and bool(holds_answer(text, answers))
        phrases = [p.text for c in (draft.citations if draft else ()) for p in c.phrases]
        f1 = token_f1(" ".join(phrases), answers) if answers and phrases else 0.0
        return Judged(case, np.array(ev.features()), right, right, f1)

    return judge
