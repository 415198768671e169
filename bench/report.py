"""Figures and tables the benchmarks print. Not a script; the benchmarks import it."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of `samples`; NaN when there are none."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = math.ceil(round(fraction * len(ordered), 6))
    index = min(len(ordered), max(1, rank)) - 1
    return ordered[index]


def millis(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain right-aligned table with a rule under the header."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(header)), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    print("  ".join(str(header).rjust(width) for header, width in zip(headers, widths, strict=True)))
    print("  ".join("-" * width for width in widths))
    for row in cells:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
