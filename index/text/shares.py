"""Word shares: how much of a question's weighted words a text holds, the one definition.

``weights`` maps terms (``index.text.tokens.tokenize``) to weights, usually their IDF in the
documents (``KeywordIndex.weights``), so a rare word counts more than a common one; ``found`` is
the set of terms a text holds (``set(tokenize(text))``, or more when a caller counts other
forms as found too, as ``qa.question.asked.covered`` does).
"""

from __future__ import annotations

from collections.abc import Container, Mapping


def found_weight(weights: Mapping[str, float], found: Container[str]) -> float:
    """The summed weight of the weighted terms that ``found`` holds."""
    return sum(w for t, w in weights.items() if t in found)


def weighted_share(weights: Mapping[str, float], found: Container[str]) -> float:
    """The share (0-1) of the weighted terms' total weight that ``found`` holds; 0 without any."""
    total = sum(weights.values())
    if not total:
        return 0.0
    return found_weight(weights, found) / total
