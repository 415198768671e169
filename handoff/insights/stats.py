"""The small statistics the figures use, written out so a reader can check them by hand."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

Z_95 = 1.959964  # the standard normal quantile for a two-sided 95% interval


def share(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide (no data is not 0%)."""
    return part / whole if whole else None


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion: unlike p ± z·se it stays inside [0, 1] and is honest
    for small n and for proportions near 0 or 1. None without observations."""
    if n == 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `fraction` of them at or below
    it (always one of the values, never an interpolation)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]
