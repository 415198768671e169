"""Handoff precision per trigger, from the agents' verdicts: of the handoffs a trigger made that got a
verdict, the share a person was needed for.

`needed` counts for the trigger; `not_needed` against it. `wrong_answer` and `outdated` say the bot's
own answer failed, so a person had to step in: they count as needed too (the verdict is about the
answers, not about the handoff). The interval is Wilson's at 95%. Where the trigger is clearly
imprecise (at least `MIN_VERDICTS` verdicts and even the interval's upper bound under `LOW_PRECISION`)
the figure names the settings that decide that trigger.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from handoff.detect import (
    EXPLICIT_REQUEST,
    FRUSTRATION,
    JUDGEMENT_PREFIX,
    LOW_ACTION_CONFIDENCE,
    LOW_NLU_CONFIDENCE,
)
from handoff.insights.stats import share, wilson_interval
from handoff.verdicts import KINDS, NEEDED, OUTDATED, WRONG_ANSWER

MIN_VERDICTS = 10
LOW_PRECISION = 0.7
COUNTS_AS_NEEDED = frozenset({NEEDED, WRONG_ANSWER, OUTDATED})
UNKNOWN_TRIGGER = "unknown"

# The settings (handoff/settings.py, or config.yml for the core fallback) that decide each trigger.
SETTINGS_TO_LOOK_AT: dict[str, list[str]] = {
    FRUSTRATION: ["frustration_threshold"],
    LOW_NLU_CONFIDENCE: ["intent_threshold", "answer_threshold", "fallback_streak"],
    EXPLICIT_REQUEST: ["human_request_intents"],
    LOW_ACTION_CONFIDENCE: ["RulePolicy core_fallback_threshold (config.yml)"],
}
JUDGEMENT_SETTINGS = ["judgement_intents", "judgement_cues"]


def settings_for(trigger: str) -> list[str]:
    """The settings to look at when `trigger` hands off too often."""
    if trigger.startswith(JUDGEMENT_PREFIX):
        return JUDGEMENT_SETTINGS
    return SETTINGS_TO_LOOK_AT.get(trigger, [])


def precision(handoffs: Iterable[Any]) -> list[dict[str, Any]]:
    """One entry per trigger with verdicts (most verdicts first): the verdicts of each kind, how many
    count as needed, the precision with its interval, and `look_at` (settings) when it is low."""
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    for handoff in handoffs:
        verdict = handoff.verdict if isinstance(handoff.verdict, dict) else None
        if verdict and verdict.get("kind") in KINDS:
            kinds[handoff.reason or UNKNOWN_TRIGGER][verdict["kind"]] += 1
    figures = []
    for trigger, counts in kinds.items():
        n = sum(counts.values())
        needed = sum(counts[kind] for kind in COUNTS_AS_NEEDED)
        interval = wilson_interval(needed, n)
        assert interval is not None  # every trigger listed has a verdict
        low = n >= MIN_VERDICTS and interval[1] < LOW_PRECISION
        figures.append({"trigger": trigger, "n": n, "counted_needed": needed,
                        "verdicts": {kind: counts[kind] for kind in KINDS},
                        "precision": share(needed, n), "interval": [interval[0], interval[1]],
                        "look_at": settings_for(trigger) if low else []})
    return sorted(figures, key=lambda figure: (-figure["n"], figure["trigger"]))
