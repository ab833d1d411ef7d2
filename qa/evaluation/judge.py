"""Judged metrics for ``qa eval --judge``: correctness and faithfulness scored by the language model.

In the spirit of llama-index's CorrectnessEvaluator (a 1-5 score against the reference, passing at
4) and FaithfulnessEvaluator (YES/NO: do the cited passages support the answer). Plain prompts in
``prompts/`` through ``qa.llm.client`` (the openai client), so any OpenAI-compatible server can judge.
"""

from __future__ import annotations

import logging
import re

from qa.errors import ConfigError, LLMError
from qa.evaluation.dataset import EvalItem
from qa.evaluation.records import JudgeScores
from qa.llm.client import make_llm
from qa.llm.prompts import render
from qa.settings import Settings
from qa.types import Answer

log = logging.getLogger(__name__)

PASSING_SCORE = 4  # llama-index's CorrectnessEvaluator default threshold
MAX_FAILURES_IN_A_ROW = 3
_SCORE = re.compile(r"^\W*([1-5])(?:\.\d+)?\b")
_LABELLED_SCORE = re.compile(r"\bscore\W{0,3}([1-5])(?:\.\d+)?\b", re.IGNORECASE)
_VERDICT = re.compile(r"\b(YES|NO)\b", re.IGNORECASE)


def parse_score(text: str) -> int | None:
    """The 1-5 score that opens a correctness verdict (or follows "score"), else None."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    m = _SCORE.search(first) or _LABELLED_SCORE.search(text)
    return int(m.group(1)) if m else None


def parse_verdict(text: str) -> bool | None:
    """True for YES, False for NO (the first one said), None if neither."""
    m = _VERDICT.search(text)
    return m.group(1).upper() == "YES" if m else None


class Judge:
    """Asks the configured model to judge answers; needs a key or a base URL."""

    def __init__(self, settings: Settings):
        self.llm = make_llm(settings)
        if self.llm is None:
            raise ConfigError(
                "--judge needs a language model, and none is configured. Set OPENAI_API_KEY "
                "(OpenAI) or OPENAI_BASE_URL (any OpenAI-compatible server, e.g. one started with "
                "`qa llm-server`) and QA_LLM_MODEL, or run without --judge."
            )
        self.prompts_dir = settings.prompts_dir
        self.failures_in_a_row = 0

    def _complete(self, prompt: str) -> str:
        return self.llm.complete([{"role": "user", "content": prompt}], max_tokens=96).text

    def correctness(
        self, question: str, references: list[str], answer: str
    ) -> tuple[int | None, str]:
        """The 1-5 correctness score of an answer against the references, and the raw verdict."""
        prompt = render(
            "judge_correctness",
            self.prompts_dir,
            question=question,
            references="\n".join(f"- {r}" for r in references),
            answer=answer,
        )
        raw = self._complete(prompt)
        return parse_score(raw), raw

    def faithfulness(self, answer: str, contexts: list[str]) -> tuple[bool | None, str]:
        """Whether the contexts support the answer, and the raw verdict."""
        raw = self._complete(
            render(
                "judge_faithfulness", self.prompts_dir, context="\n\n".join(contexts), answer=answer
            )
        )
        return parse_verdict(raw), raw

    def judge(self, item: EvalItem, answer: Answer) -> JudgeScores:
        """Judged scores for one answered question; None where a score does not apply.

        A failed judgement is recorded and the run goes on; several in a row stop it, since the
        model server is then most likely down.
        """
        out: JudgeScores = {"judge_correct": None, "judge_score": None, "judge_faithful": None}
        if answer.refused:
            if item.answerable:
                out["judge_correct"] = 0.0  # refusing an answerable question is not correct
            return out
        try:
            if item.answerable:
                s, raw = self.correctness(item.question, list(item.answers), answer.text)
                out["judge_score"] = s
                out["judge_correct"] = None if s is None else float(s >= PASSING_SCORE)
                out["judge_correctness_raw"] = raw[:300]
            contexts = [c.text for c in answer.citations]
            if contexts:
                v, raw = self.faithfulness(answer.text, contexts)
                out["judge_faithful"] = None if v is None else float(v)
                out["judge_faithfulness_raw"] = raw[:300]
            else:
                out["judge_faithful"] = 0.0  # an answer that cites nothing is supported by nothing
        except LLMError as exc:
            self.failures_in_a_row += 1
            if self.failures_in_a_row >= MAX_FAILURES_IN_A_ROW:
                raise LLMError(
                    f"judging stopped after {self.failures_in_a_row} failures in a row: {exc}"
                ) from exc
            log.warning("judging %s failed: %s", item.id, exc)
            out["judge_error"] = str(exc)[:300]
            return out
        self.failures_in_a_row = 0
        return out
