"""The figures of a drift benchmark over several seeds, against the issue's targets, as a table to
print and as bench/results/drift.md and drift.json. Not a script; bench/drift.py imports it.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.drift_replay import TARGETS, ProposalQuality
from bench.report import verdict

FALSE_ALARM_TURNS = 20_000  # false alarms are reported per this many no-drift turns
FALSE_ALARM_TARGET = 1.0
QUALITY_TARGETS: dict[str, float | None] = {  # None: reported, no target
    "new_topic_purity": 0.8, "new_topic_coverage": 0.5, "handed_off_proposed": 0.6, "proposed_labelled_right": 0.95,
    "fallbacks_labelled_right": None}


@dataclass(frozen=True)
class SeedResult:
    seed: int
    delays: Mapping[str, int | None]   # per drift kind; None: not detected
    quality: ProposalQuality
    early_alarms: int                  # alarms before the drift point of the drift run
    no_drift_turns: int
    no_drift_alarms: int


def _delay_figures(values: Sequence[int | None], target: int) -> dict[str, Any]:
    """Median and worst delay; a missed detection counts as infinitely late."""
    as_numbers = [math.inf if value is None else value for value in values]
    median, worst = statistics.median(as_numbers), max(as_numbers)
    return {"median": None if math.isinf(median) else median, "worst": None if math.isinf(worst) else worst,
            "missed": sum(value is None for value in values), "target": target,
            "pass": not math.isinf(worst) and worst <= target}


def _quality_figures(values: Sequence[float | None], target: float | None) -> dict[str, Any]:
    measured = [value for value in values if value is not None]
    worst = min(measured) if len(measured) == len(values) else None
    return {"median": statistics.median(measured) if measured else None, "worst": worst, "target": target,
            "pass": target is None or (worst is not None and worst >= target)}


def summarise(results: Sequence[SeedResult]) -> dict[str, Any]:
    """Per drift kind median and worst delay, false alarms per 20,000 no-drift turns, and the
    proposals' quality (median and worst over seeds), each with its target and pass/fail."""
    no_drift_turns = sum(result.no_drift_turns for result in results)
    alarms = sum(result.no_drift_alarms for result in results)
    rate = alarms * FALSE_ALARM_TURNS / no_drift_turns if no_drift_turns else math.nan
    return {
        "seeds": [result.seed for result in results],
        "delays": {kind: _delay_figures([result.delays.get(kind) for result in results], target)
                   for kind, target in TARGETS.items()},
        "false_alarms": {"alarms": alarms, "turns": no_drift_turns, "per_20000": rate, "target": FALSE_ALARM_TARGET,
                         "pass": rate <= FALSE_ALARM_TARGET,
                         "before_drift_point": sum(result.early_alarms for result in results)},
        "quality": {name: _quality_figures([getattr(result.quality, name) for result in results], target)
                    for name, target in QUALITY_TARGETS.items()},
        "per_seed": [{**asdict(result), "quality": asdict(result.quality)} for result in results],
    }


def machine() -> dict[str, str]:
    """Machine and date, for docs/benchmarks.md."""
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    return {"arch": platform.machine(), "cpu": model, "cores": str(os.cpu_count()),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d")}


def _number(value: float | None, digits: int = 0, absent: str = "missed") -> str:
    return absent if value is None else f"{value:.{digits}f}"


def table_rows(summary: Mapping[str, Any]) -> list[list[str]]:
    """One row per figure: what, median, worst, target, pass/fail."""
    rows = [[f"turns to alarm: {kind}" + (f" ({figures['missed']} missed)" if figures["missed"] else ""),
             _number(figures["median"]), _number(figures["worst"]), f"<= {figures['target']}",
             verdict(figures["pass"])] for kind, figures in summary["delays"].items()]
    false = summary["false_alarms"]
    rows.append([f"false alarms per 20,000 no-drift turns ({false['alarms']} in {false['turns']})",
                 f"{false['per_20000']:.2f}", "", f"<= {false['target']:.0f}", verdict(false["pass"])])
    for name, figures in summary["quality"].items():
        reported = figures["target"] is None
        rows.append([name.replace("_", " "), _number(figures["median"], 3, "n/a"), _number(figures["worst"], 3, "n/a"),
                     "report" if reported else f">= {figures['target']}", "" if reported else verdict(figures["pass"])])
    return rows


def markdown(summary: Mapping[str, Any], scenario: str, where: Mapping[str, str]) -> str:
    headers = ["figure", "median", "worst", "target", ""]
    lines = [f"# Drift benchmark: scenario {scenario}", "",
             (f"{where['date']}, {where['arch']}, {where['cpu']}, {where['cores']} cores; "
              f"evaluation seeds {', '.join(map(str, summary['seeds']))}; "
              f"alarms before the drift point of drift runs: {summary['false_alarms']['before_drift_point']}."), "",
             "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(summary)]
    return "\n".join(lines) + "\n"
