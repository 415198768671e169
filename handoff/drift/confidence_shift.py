"""Has the deciding confidence of an intent moved? Its latest window against its reference window.

The two-sample Kolmogorov-Smirnov test says whether the windows differ beyond chance (its p-value is
compared with a significance the monitor divides by the number of intents tested: Bonferroni); the
population stability index (PSI, over ten equal bins of [0, 1]) says by how much, so a tiny shift on
many samples does not alarm. When the change began is estimated inside the window, as the point after
which the confidences stray furthest from the reference mean (a cumulative-sum change point).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from scipy.stats import ks_2samp

PSI_BINS = 10
PSI_FLOOR = 1e-3  # share given to an empty bin, so the index stays finite
EXAMPLES = 5


def population_stability_index(reference: np.ndarray, recent: np.ndarray) -> float:
    """Σ (recent − reference share) · ln(recent / reference share) over equal bins of [0, 1]."""
    edges = np.linspace(0.0, 1.0, PSI_BINS + 1)
    before = np.histogram(np.clip(reference, 0.0, 1.0), edges)[0] / max(len(reference), 1)
    after = np.histogram(np.clip(recent, 0.0, 1.0), edges)[0] / max(len(recent), 1)
    before, after = np.maximum(before, PSI_FLOOR), np.maximum(after, PSI_FLOOR)
    return float(np.sum((after - before) * np.log(after / before)))


@dataclass(frozen=True)
class ConfidenceChange:
    """A shift found: the windows' means, the test's p-value, the PSI, where it began."""

    reference_mean: float
    recent_mean: float
    p_value: float
    psi: float
    since: datetime
    since_index: int
    examples: list[str]


@dataclass
class ConfidenceShift:
    """One intent's reference confidences (the first after a reset) and its latest window."""

    reference_size: int
    window: int
    reference: list[float] = field(default_factory=list)
    recent: deque[tuple[float, datetime, int, str]] = field(default_factory=deque)
    untested: int = 0  # confidences added since the last test

    def observe(self, confidence: float, at: datetime, index: int, conversation_id: str) -> None:
        if len(self.reference) < self.reference_size:
            self.reference.append(confidence)
            return
        self.recent.append((confidence, at, index, conversation_id))
        if len(self.recent) > self.window:
            self.recent.popleft()
        self.untested += 1

    def ready(self, test_every: int) -> bool:
        """Whether both windows are full and enough is new since the last test."""
        return len(self.reference) >= self.reference_size and len(self.recent) >= self.window \
            and self.untested >= test_every

    def test(self, alpha: float, min_psi: float) -> ConfidenceChange | None:
        """The shift when the windows differ at significance `alpha` and by a PSI of `min_psi`."""
        self.untested = 0
        reference = np.asarray(self.reference)
        recent = np.asarray([value for value, _, _, _ in self.recent])
        p_value = float(ks_2samp(reference, recent).pvalue)
        if p_value >= alpha:
            return None
        psi = population_stability_index(reference, recent)
        if psi < min_psi:
            return None
        start = self._change_point(recent - reference.mean())
        changed = list(self.recent)[start:]
        strays = sorted(changed, key=lambda item: -abs(item[0] - reference.mean()))
        return ConfidenceChange(float(reference.mean()), float(recent.mean()), p_value, psi, changed[0][1],
                                changed[0][2], list(dict.fromkeys(item[3] for item in strays))[:EXAMPLES])

    @staticmethod
    def _change_point(deviations: np.ndarray) -> int:
        """Index in the window where the sum of deviations from the reference mean, taken from the end,
        is largest in the direction of the shift."""
        from_end = np.cumsum(deviations[::-1])[::-1]
        return int(np.argmax(from_end * np.sign(deviations.sum())))

    def restart_from(self, index: int) -> None:
        """After an alarm: the confidences since the change start the new reference."""
        self.reference = [value for value, _, at_index, _ in self.recent if at_index >= index]
        self.recent.clear()
        self.untested = 0

    def to_state(self) -> dict[str, Any]:
        return {"reference": self.reference, "untested": self.untested,
                "recent": [[value, at.isoformat(), index, conversation] for value, at, index, conversation in
                           self.recent]}

    @classmethod
    def from_state(cls, state: dict[str, Any], reference_size: int, window: int) -> ConfidenceShift:
        recent = deque((float(value), datetime.fromisoformat(at), int(index), str(conversation))
                       for value, at, index, conversation in state.get("recent") or [])
        return cls(reference_size, window, [float(value) for value in state.get("reference") or []], recent,
                   int(state.get("untested") or 0))
