"""Page-Hinkley test for a rise of a Bernoulli rate (the share of an intent's turns that fall back or
hand off).

Each observation adds its log-likelihood ratio of "the rate rose by `rise`" against "the rate is the
reference": the cumulative sum drifts down while nothing changes and climbs once the rate rises. The
test alarms when the sum stands `threshold` above its minimum; the minimum's time estimates when the
change began. The reference rate is the subject's own rate so far, shrunk towards a prior (the rate
of all subjects) so a subject with few observations does not look like a rise from zero.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EXAMPLES = 5
LARGEST_RATE = 0.99


@dataclass(frozen=True)
class RateChange:
    """A detected rise: the rate before and since the change, and where it began."""

    reference_rate: float
    recent_rate: float
    since: datetime
    since_index: int
    observations_since: int
    statistic: float
    examples: list[str]


@dataclass
class RateRise:
    """The Page-Hinkley state of one subject's Bernoulli stream (serialisable as a plain dict)."""

    count: int = 0
    hits: int = 0
    cusum: float = 0.0
    # Observations after the cumulative sum's minimum: where the change would have begun.
    since_at: datetime | None = None
    since_index: int = 0
    since_count: int = 0
    since_hits: int = 0
    examples: deque[str] = field(default_factory=lambda: deque(maxlen=EXAMPLES))

    def reference_rate(self, prior_rate: float, prior_weight: float) -> float:
        """The subject's rate so far (a rise raises it too: fewer false alarms than leaving the rise
        out), shrunk towards `prior_rate` by `prior_weight` pseudo-observations."""
        return (self.hits + prior_weight * prior_rate) / (self.count + prior_weight)

    def observe(self, hit: bool, at: datetime, index: int, conversation_id: str, *, prior_rate: float,
                prior_weight: float, rise: float) -> None:
        """Adds one observation (`index`: the monitor's turn count)."""
        reference = min(max(self.reference_rate(prior_rate, prior_weight), 1e-4), LARGEST_RATE - 1e-3)
        risen = min(reference + rise, LARGEST_RATE)
        if risen - reference < rise / 2:
            # A rate this close to 1 cannot rise by `rise`; scored anyway, every hit would add a sliver
            # (log 0.99/0.989) and a subject that always hands off would alarm after some 9,000 turns.
            score = 0.0
        else:
            score = math.log(risen / reference) if hit else math.log((1 - risen) / (1 - reference))
        self.count += 1
        self.hits += hit
        self.cusum += score
        if self.cusum <= 0.0:  # a new minimum (the sum is kept relative to it): nothing has changed yet
            self.cusum = 0.0
            self.since_at, self.since_index, self.since_count, self.since_hits = None, index, 0, 0
            self.examples.clear()
            return
        if self.since_at is None:
            self.since_at, self.since_index = at, index
        self.since_count += 1
        self.since_hits += hit
        if hit:
            self.examples.append(conversation_id)

    def change(self, threshold: float, min_samples: int, prior_rate: float, prior_weight: float) -> RateChange | None:
        """The rise, once the statistic exceeds `threshold` after `min_samples` observations."""
        if self.count < min_samples or self.cusum <= threshold or self.since_at is None:
            return None
        before = max(self.count - self.since_count, 0)
        reference = (self.hits - self.since_hits + prior_weight * prior_rate) / (before + prior_weight)
        return RateChange(reference, self.since_hits / max(self.since_count, 1), self.since_at, self.since_index,
                          self.since_count, self.cusum, list(self.examples))

    def restart_from_change(self) -> None:
        """After an alarm: the observations since the change become the new reference."""
        self.count, self.hits = self.since_count, self.since_hits
        self.cusum, self.since_at, self.since_count, self.since_hits = 0.0, None, 0, 0
        self.examples.clear()

    def to_state(self) -> dict[str, Any]:
        return {"count": self.count, "hits": self.hits, "cusum": self.cusum,
                "since_at": self.since_at.isoformat() if self.since_at else None, "since_index": self.since_index,
                "since_count": self.since_count, "since_hits": self.since_hits, "examples": list(self.examples)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RateRise:
        since_at = state.get("since_at")
        return cls(int(state["count"]), int(state["hits"]), float(state["cusum"]),
                   datetime.fromisoformat(since_at) if since_at else None, int(state["since_index"]),
                   int(state["since_count"]), int(state["since_hits"]),
                   deque(state.get("examples") or [], maxlen=EXAMPLES))
