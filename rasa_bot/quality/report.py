"""The quality report (`make quality`): the held-out figures against their targets, printed and
written to `results/quality.json` and `results/quality.md`, with every miss listed for review."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from handoff.settings import HandoffSettings
from rasa_bot.quality.evaluate import Outcome
from rasa_bot.quality.metrics import MARGIN, Figure, QualityMeasure

# Figures whose misses are worth reading one by one (QualityMeasure.share_rules says what a miss is).
_MISS_GROUPS = ("answered_accuracy", "person_handoff_share", "judgement_share", "out_of_scope_share",
                "unknown_product_share", "near_miss_handoff_share")


def figure_table(figures: dict[str, Figure]) -> list[str]:
    """One line per figure: value, target, margin above it, and misses out of the messages counted."""
    lines = [f"{'figure':28} {'value':>7} {'target':>8} {'margin':>7} {'misses':>12}"]
    for figure in figures.values():
        target = str(figure.target) if figure.target else "report"
        margin = ""
        if figure.target:
            gap = figure.target.value - figure.value if figure.target.at_most else figure.value - figure.target.value
            margin = f"{gap:+.3f}" + ("" if gap >= MARGIN else " !")
        status = "" if figure.passed else "  FAIL"
        lines.append(f"{figure.name:28} {figure.value:7.3f} {target:>8} {margin:>7} "
                     f"{figure.misses:>5} of {figure.count:<4}{status}")
    return lines


def misses(outcomes: list[Outcome], settings: HandoffSettings) -> dict[str, list[dict[str, str]]]:
    """The messages behind each figure's misses, with what the bot did instead."""
    rules = QualityMeasure(settings).share_rules()
    return {name: [_described(o) for o in outcomes if rules[name].missed(o)] for name in _MISS_GROUPS}


def write_report(outcomes: list[Outcome], settings: HandoffSettings, out: Path, model: Path) -> list[str]:
    """Writes the JSON and Markdown reports under `out` and returns the printed lines."""
    figures = QualityMeasure(settings).figures(outcomes)
    kinds = Counter(o.example.kind for o in outcomes)
    header = [
        f"Held-out messages: {len(outcomes)} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})",
        (f"Model: {model}; thresholds: intent {settings.intent_threshold:.2f}, "
        f"answer {settings.answer_threshold:.2f}, answer closeness {settings.answer_closeness_threshold:.2f}"),
    ]
    lines = header + [""] + figure_table(figures)
    missed = misses(outcomes, settings)
    out.mkdir(parents=True, exist_ok=True)
    (out / "quality.json").write_text(json.dumps({
        "messages": len(outcomes),
        "kinds": dict(kinds),
        "thresholds": {"intent": settings.intent_threshold, "answer": settings.answer_threshold,
                       "answer_closeness": settings.answer_closeness_threshold},
        "figures": {name: {**asdict(f), "target": str(f.target) if f.target else None, "passed": f.passed}
                    for name, f in figures.items()},
        "misses": missed,
    }, indent=2))
    markdown = ["# Quality report", "", *header, "", "```", *figure_table(figures), "```", ""]
    for name, rows in missed.items():
        markdown += [f"## Misses: {name} ({len(rows)})", ""]
        markdown += [f"- `{row['label']}` ({row['kind']}): \"{row['text']}\" -> {row['action']} "
                     f"({row['intent']}, {row['decided_by']})" for row in rows] or ["none"]
        markdown.append("")
    (out / "quality.md").write_text("\n".join(markdown))
    return lines


def _described(outcome: Outcome) -> dict[str, str]:
    decision = outcome.decision
    answer = f", answer {outcome.answer}" if outcome.answer and outcome.intent == "faq" else ""
    return {
        "text": outcome.example.text,
        "label": outcome.example.label,
        "kind": outcome.example.kind,
        "action": outcome.action,
        "intent": outcome.intent + answer,
        "decided_by": f"{decision.source} {decision.confidence:.2f}" + ("" if decision.sure else " unsure"),
    }
