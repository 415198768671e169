"""When two messages count as copies of each other: the check that keeps held-out and tuning sets
(the shop's tests/nlu, tests/nlu_tuning) apart from anything trained on, shared by the review queue's
export (handoff/review/export.py), which never exports a copy of a held-out message, and by the test
of those sets (tests/test_held_out_data.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Token Jaccard similarity at which a message counts as a copy of another.
TOO_CLOSE = 0.8
HELD_OUT_FOLDERS = ("tests/nlu", "tests/nlu_tuning")  # under the project root


def tokens(text: str) -> frozenset[str]:
    """The words, or for a message without words (emoji, "%%% &&"), its characters."""
    return frozenset(re.findall(r"\w+", text.lower())) or frozenset(text.replace(" ", ""))


def jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    return len(first & second) / len(first | second) if first | second else 1.0


def closest(text: str, others: Iterable[frozenset[str]]) -> float:
    """The highest token Jaccard similarity of `text` to any of `others` (token sets); 0 for none."""
    words = tokens(text)
    return max((jaccard(words, other) for other in others), default=0.0)


def is_copy(text: str, others: Iterable[frozenset[str]]) -> bool:
    """Whether `text` is too close to one of `others` (token sets) to count as a different message."""
    return closest(text, others) >= TOO_CLOSE
