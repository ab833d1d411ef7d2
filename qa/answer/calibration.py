"""The calibrated decision's constants, one set per embedding model and reader setting.

``calibration.json`` beside this module is written by ``python eval/calibrate.py`` (never by
hand): for each key (``minilm``, ``minilm+reader``, ``e5``, ``e5+reader``, ``e5:meaning`` for
questions in another language, ``words`` and ``words+reader`` for embedding models without a
calibration: cosine left out) two logistic models over ``qa.answer.evidence.FEATURES``:

- ``topic``: the probability that the documents are about the question at all. Below
  ``refuse_below`` the outcome is a refusal: only questions the documents are plainly not about
  (asked of another corpus, in the tuning) are refused. A question whose best passage matches it
  in meaning as closely as ``meaning_floor`` (a cosine that nearly all of the fitting domains'
  cross-corpus questions stay below: eval/calibrate.py's MEANING_FLOOR, per embedding model) is
  never refused, whatever the topic model says.
- ``right``: the probability that the extractive answer is right. At or above ``confident_at`` it
  is given as the answer; below it, as the best guess, "not sure".

Each entry also says which domains it was fitted on and what the left-out domains measured, so
the README's table of tuned constants can be checked against it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from qa.answer.evidence import FEATURES, Evidence
from qa.errors import ConfigError

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Logistic:
    """p = sigmoid(bias + sum(weight * feature))."""

    weights: tuple[float, ...]
    bias: float

    def probability(self, evidence: Evidence) -> float:
        return self.of(evidence.features())

    def of(self, features: Sequence[float]) -> float:
        """The probability of a feature vector (``Evidence.features`` order)."""
        z = self.bias + sum(w * x for w, x in zip(self.weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0


@dataclass(frozen=True)
class Calibration:
    """Where a refusal ends and a confident answer begins, for one embedding model."""

    key: str
    topic: Logistic
    refuse_below: float
    right: Logistic
    confident_at: float
    meaning_floor: float | None = None  # cosine at or above which nothing is refused
    fitted_on: tuple[str, ...] = ()
    notes: dict = field(default_factory=dict, compare=False)

    def topic_probability(self, evidence: Evidence) -> float:
        return self.topic.probability(evidence)

    def right_probability(self, evidence: Evidence) -> float:
        return self.right.probability(evidence)

    def close_in_meaning(self, evidence: Evidence) -> bool:
        """Whether the best passage matches the question in meaning too closely for a refusal."""
        return self.meaning_floor is not None and evidence.cosine >= self.meaning_floor


def _logistic(raw: dict, where: str) -> Logistic:
    weights = raw.get("weights") or {}
    missing = [f for f in FEATURES if f not in weights]
    if missing:
        raise ConfigError(f"{where} lacks weights for {missing}; rerun python eval/calibrate.py")
    return Logistic(tuple(float(weights[f]) for f in FEATURES), float(raw["bias"]))


def parse(key: str, raw: dict) -> Calibration:
    """One entry of calibration.json."""
    where = f"{CALIBRATION_FILE.name}[{key!r}]"
    try:
        return Calibration(
            key=key,
            topic=_logistic(raw["topic"], f"{where}.topic"),
            refuse_below=float(raw["refuse_below"]),
            right=_logistic(raw["right"], f"{where}.right"),
            confident_at=float(raw["confident_at"]),
            meaning_floor=None if raw.get("meaning_floor") is None else float(raw["meaning_floor"]),
            fitted_on=tuple(raw.get("fitted_on", ())),
            notes=raw.get("notes", {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where} is malformed ({exc}); rerun python eval/calibrate.py") from exc


@lru_cache(maxsize=1)
def _table(path: Path = CALIBRATION_FILE) -> dict[str, dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["calibrations"]
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"cannot read {path} ({exc}); reinstall the package or rerun python eval/calibrate.py"
        ) from exc


def key_for(embeddings: str, reader: bool, meaning_only: bool = False) -> str:
    """The calibration key of an embedding model and reader setting: "minilm+reader"; "e5:meaning"
    for a question in another language than the documents' (judged by meaning alone: its words
    cannot match theirs, and the reader reads English only)."""
    if meaning_only:
        return f"{embeddings}:meaning"
    return f"{embeddings}+reader" if reader else embeddings


def calibration(embeddings: str, reader: bool, meaning_only: bool = False) -> Calibration:
    """The calibration for this embedding model and reader setting (a clear error when none).

    An embedding model without a calibration of its own (an OpenAI-compatible server's) is
    judged by words alone, with the "words" calibration: its cosines are on a scale none was
    fitted to."""
    table = _table()
    if embeddings not in table and f"{embeddings}+reader" not in table:
        embeddings, meaning_only = "words", False
    key = key_for(embeddings, reader, meaning_only)
    if key not in table:
        known = ", ".join(sorted(table)) or "none"
        raise ConfigError(
            f"No calibrated decision for QA_EMBEDDINGS={embeddings!r} "
            f"{'with' if reader else 'without'} the reader (calibrated: {known}). "
            "Use one of those, or run python eval/calibrate.py for it."
        )
    return parse(key, table[key])
