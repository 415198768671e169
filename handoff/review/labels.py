"""Which known label (an intent, or "faq/<topic>") a reviewable message is more of, if any.

A message's closeness to a label is the mean cosine similarity of its TF-IDF vector to the label's
`NEIGHBOURS` nearest training examples. The nearest label is proposed only when the bot's own
classifier ranked that label's intent first too, and for an FAQ topic chose that topic's answer when
the turn recorded its choice (two different readings agree), and it is near
enough and clearly nearer than the runner-up; a message near nothing known is a candidate for a new
topic; anything else is left out: a wrong label would teach the bot wrong. The same tests apply to
the centroid of a cluster of messages (handoff.review.clusters). The thresholds were
chosen on the training data itself (bench/review_thresholds.py, docs/review.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import spmatrix

NEIGHBOURS = 3  # training examples of a label a message is compared with (the nearest ones)
LABEL_SIMILARITY = 0.35  # at least this close to the label's examples ...
LABEL_MARGIN = 0.06  # ... and this much closer than to the runner-up label
NEW_TOPIC_SIMILARITY = 0.35  # nearer than this to no label: nothing known is near (a new topic?)
KNOWN_MEMBER_SIMILARITY = 0.50  # a new-topic cluster's member this near a label the bot ranked first, or clearly
# nearest (is_clear), is not new
IGNORED_RANKING = frozenset({"nlu_fallback"})  # not an intent a message can be "more examples" of


@dataclass(frozen=True)
class Nearest:
    """A message's nearest label, how near, and the runner-up's closeness."""

    label: str
    similarity: float
    runner_up: float


class LabelIndex:
    """The training examples' vectors grouped by label, for nearest-label look-ups."""

    def __init__(self, labels: Sequence[str], vectors: spmatrix) -> None:
        self.names = sorted(set(labels))
        self._rows = {name: np.array([i for i, label in enumerate(labels) if label == name]) for name in self.names}
        self.vectors = vectors

    def nearest(self, vectors: spmatrix) -> list[Nearest]:
        """The nearest label of each row of `vectors` (rows L2-normalised, as TF-IDF gives them)."""
        similarities = (vectors @ self.vectors.T).toarray()
        scores = np.column_stack([_top_mean(similarities[:, self._rows[name]]) for name in self.names])
        order = np.argsort(-scores, axis=1)
        return [Nearest(self.names[row[0]], float(scores[i, row[0]]),
                        float(scores[i, row[1]]) if len(row) > 1 else 0.0)
                for i, row in enumerate(order)]


def _top_mean(similarities: np.ndarray) -> np.ndarray:
    """Per row, the mean of the `NEIGHBOURS` largest values."""
    count = min(NEIGHBOURS, similarities.shape[1])
    return np.sort(similarities, axis=1)[:, -count:].mean(axis=1)


def bot_label(top_intents: Sequence[dict]) -> str | None:
    """What the bot's classifier ranked first (a fallback counts for the intent below it): the intent, or
    for a retrieval intent the answer the bot chose, "faq/fees", when the turn recorded it (the capture
    puts it on that intent's entry only: handoff.insights.turns.ranking_with_answer)."""
    for entry in top_intents:
        name = entry.get("name")
        if name and name not in IGNORED_RANKING:
            return str(entry.get("answer") or name)
    return None


def decide(nearest: Nearest, bot_ranked_first: str | None) -> str | None:
    """The label to propose for a message, or None when unsure (see the module docstring)."""
    return nearest.label if is_clear(nearest) and agrees(nearest.label, bot_ranked_first) else None


def agrees(label: str, bot_ranked_first: str | None) -> bool:
    """Whether the bot ranked the label first: the same FAQ topic when the bot's choice of answer is known
    ("faq/fees"), else the label's intent ("faq" for "faq/fees")."""
    if bot_ranked_first is None:
        return False
    if "/" in bot_ranked_first:
        return label == bot_ranked_first
    return label.split("/", 1)[0] == bot_ranked_first


def is_unknown(nearest: Nearest) -> bool:
    """Whether nothing known is near (a message, or the centroid of a cluster of them)."""
    return nearest.similarity < NEW_TOPIC_SIMILARITY


def belongs_to_known(nearest: Nearest, bot_ranked_first: str | None) -> bool:
    """Whether a message is near a known label that the bot ranked first too, or that is clearly its
    nearest whatever the bot ranked (a judgement handoff of an FAQ question): it may sit in a cluster
    whose centroid is near nothing known (DBSCAN chains neighbours), but it is no example of a new
    topic."""
    return nearest.similarity >= KNOWN_MEMBER_SIMILARITY and (
        agrees(nearest.label, bot_ranked_first) or is_clear(nearest))


def is_clear(nearest: Nearest) -> bool:
    """Whether the nearest label is near enough and clearly nearer than the runner-up."""
    return nearest.similarity >= LABEL_SIMILARITY and nearest.similarity - nearest.runner_up >= LABEL_MARGIN
