"""A rate over all intents' turns, and which intents a rise of it falls on.

A topic the bot never learned falls back under whatever intent the bot ranks first for each message
(in the drift benchmark's shop: `faq` for most, then `out_of_scope`, `complaint`, ...), and its
confidences drop under as many intents, so each intent's own rate rises a little and slowly gives
evidence, while the same rate over all turns rises clearly and at once. One Page-Hinkley test
(rate_rise.py) watches such a pooled stream (the monitor keeps two: fallbacks, and confidences in the
lowest fifth of the model's first turns); when it alarms, the rise is put on the intents that collected
more hits per turn of traffic since the change than before it, so the alarm still names the intents a
lead should look at.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from handoff.drift.rate_rise import RateChange, RateRise

NAMED_SHARE = 0.8  # the intents named hold at least this share of the excess hits...
NAMED_MOST = 3  # ...or are this many


class PooledRise:
    """Page-Hinkley on one yes/no of every turn, with per-intent counts of the yeses before and since the change."""

    def __init__(self) -> None:
        self.rate = RateRise()
        self.reference: Counter[str] = Counter()  # hits per intent before the change
        self.since: Counter[str] = Counter()  # hits per intent since the cumulative sum's minimum

    def observe(self, intent: str, hit: bool, at: datetime, index: int, conversation_id: str, *,
                prior_rate: float, prior_weight: float, rise: float) -> None:
        """Adds one turn (`index`: the monitor's turn count)."""
        self.rate.observe(hit, at, index, conversation_id, prior_rate=prior_rate, prior_weight=prior_weight,
                          rise=rise)
        if self.rate.since_at is None:  # back at the minimum: what came since belongs to the reference
            self.reference += self.since
            self.since.clear()
            self.reference[intent] += hit
            return
        self.since[intent] += hit

    @property
    def reference_turns(self) -> int:
        """Turns before the change: the test's own count less the turns since its minimum."""
        return self.rate.count - self.rate.since_count

    def change(self, threshold: float, min_samples: int, prior_rate: float, prior_weight: float) -> RateChange | None:
        return self.rate.change(threshold, min_samples, prior_rate, prior_weight)

    def risen_intents(self, change: RateChange) -> list[tuple[str, float]]:
        """The intents the rise falls on, with their share of the excess hits, largest first: an intent's
        excess is its hits since the change less what its hits per turn before would have given."""
        turns_since = change.observations_since
        excess = {intent: count - turns_since * self.reference[intent] / max(self.reference_turns, 1)
                  for intent, count in self.since.items()}
        positive = sorted(((intent, value) for intent, value in excess.items() if value > 0),
                          key=lambda item: (-item[1], item[0]))
        total = sum(value for _, value in positive)
        named: list[tuple[str, float]] = []
        for intent, value in positive[:NAMED_MOST]:
            named.append((intent, value / total))
            if sum(share for _, share in named) >= NAMED_SHARE:
                break
        return named

    def restart_from_change(self) -> None:
        """After an alarm: the turns since the change become the new reference."""
        self.reference, self.since = self.since, Counter()
        self.rate.restart_from_change()

    def to_state(self) -> dict[str, Any]:
        return {"rate": self.rate.to_state(), "reference": dict(self.reference), "since": dict(self.since)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> PooledRise:
        pooled = cls()
        pooled.rate = RateRise.from_state(state["rate"])
        pooled.reference = Counter({str(k): int(v) for k, v in state["reference"].items()})
        pooled.since = Counter({str(k): int(v) for k, v in state["since"].items()})
        return pooled
