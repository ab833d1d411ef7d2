"""The pronouns a follow-up may hold, and the uses of "it" and "there" that stand for nothing.

``PRONOUNS``: each class ("he", "she", "it", "they") with its forms; ``OWNERS`` the possessive
ones. "How long did it take to ...?", "it rained" (``EXPLETIVE``, ``WEATHER``) and "Is there a
formal agreement?" (``EXISTENTIAL``) have no antecedent; "move there" becomes "move to X"
(``MOTION_BEFORE``). ``qa.question.followup`` reads them.
"""

from __future__ import annotations

import re

PRONOUNS = {
    "he": ("he", "him", "his", "himself"),
    "she": ("she", "her", "hers", "herself"),
    "it": ("it", "its", "itself"),
    "they": ("they", "them", "their", "theirs", "themselves"),
}
OWNERS = frozenset({"his", "its", "their", "theirs", "hers"})
ANY_PRONOUN = re.compile(
    r"\b(" + "|".join(w for words in PRONOUNS.values() for w in words) + r")\b", re.IGNORECASE
)
EXPLETIVE = re.compile(
    r"\bit\s+(?:rains?|rained|raining|snows?|snowed|snowing|seems?|seemed|takes?|took"
    r"|is\s+\w+\s+to|was\s+\w+\s+to)\b|\b(?:is|was|be|been|did|does|will)\s+it\s+"
    r"(?:like|true|possible|necessary|likely|important|that|take)\b",
    re.IGNORECASE,
)  # "How long did it take to ...", "What is it like to ...": "it" stands for nothing
WEATHER = re.compile(r"\bit\s+(?:rains?|rained|raining|snows?|snowed|snowing|hails?)\b", re.I)
EXISTENTIAL = re.compile(
    r"\bthere\s+(?:is|are|was|were|be|been|has|have|had|will|seems?|used)\b"
    r"|\b(?:is|are|was|were|be|been|has|have|had)\s+there\s+(?:a|an|any|no|some|many|much|more"
    r"|enough|the|another|other|several|few|plenty|one|two|\d+|[a-z]+s)\b",
    re.IGNORECASE,
)  # "Is there a formal agreement?": not a place
MOTION_BEFORE = re.compile(
    r"\b(?:go|goes|going|went|gone|come|came|coming|travel\w*|move[sd]?|moving|fly|flew|flown"
    r"|return\w*|head\w*|sail\w*|drive|drove|driven|get|got|sent|send|bring|brought)\s+there\b",
    re.IGNORECASE,
)  # "move there" -> "move to X"
