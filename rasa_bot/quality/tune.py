"""Chooses the answer gate's thresholds on the tuning set (`make tune`), never on the held-out set.

The tuning set is run once with both thresholds at zero; every pair of thresholds on a grid is then
replayed from the recorded confidences (a message under a threshold becomes a fallback, which asks to
rephrase on a first message). The chosen pair meets every target with the margin and answers the
most questions or, while no pair meets them all, comes closest to all of them; the coverage/accuracy
curve is printed and plotted.

Given several models (trainings with different seeds), each pair is judged by its worst figure over
them: thresholds fitted to one training's confidences would be fitted to its luck, and the shipped
thresholds must serve whatever model a machine trains.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from handoff.answer_gate import (
    FALLBACK_INTENT,
    SOURCE_DETAILS,
    SOURCE_JUDGEMENT_CUE,
    SelectedAnswer,
    decide_answer,
)
from handoff.settings import HandoffSettings
from rasa_bot.quality.evaluate import REPHRASE_ACTION, Outcome
from rasa_bot.quality.metrics import MARGIN, RETRIEVAL_INTENT, Figure, QualityMeasure

GRID = [round(step * 0.05, 2) for step in range(20)]


@dataclasses.dataclass(frozen=True)
class Point:
    """The figures the tuning set gives at one pair of thresholds."""

    intent_threshold: float
    answer_threshold: float
    figures: dict[str, Figure]

    @property
    def targets_with_margin(self) -> int:
        """How many targets the figures meet with the margin to spare."""
        return sum(1 for f in self.figures.values() if f.target and _gap(f) >= MARGIN)

    @property
    def shortfall(self) -> float:
        """How far, summed over the targets, the figures fall short of target plus margin."""
        return sum(max(0.0, MARGIN - _gap(f)) for f in self.figures.values() if f.target)

    @property
    def coverage(self) -> float:
        return self.figures["answered_share"].value

    @property
    def accuracy(self) -> float:
        return self.figures["answered_accuracy"].value


def replay(outcomes: Iterable[Outcome], intent_threshold: float, answer_threshold: float,
           settings: HandoffSettings) -> list[Outcome]:
    """The outcomes as they would be at these thresholds, from a run with both thresholds at zero: the
    answer gate decides each message again from its recorded classifier output, so that a judgement case
    the classifier was unsure of still reaches its cue, as it would in the running bot."""
    gated = settings.copy(update={"intent_threshold": intent_threshold, "answer_threshold": answer_threshold})
    return [_decided_again(outcome, gated) for outcome in outcomes]


def _decided_again(outcome: Outcome, settings: HandoffSettings) -> Outcome:
    classified = outcome.decision.classified_intent or outcome.intent
    selected = (SelectedAnswer(outcome.answer, outcome.answer_confidence)
                if classified == RETRIEVAL_INTENT and outcome.answer and outcome.answer_confidence is not None else None)
    decision = decide_answer(outcome.example.text, classified, outcome.intent_confidence, selected, settings,
                             details_only=outcome.decision.source == SOURCE_DETAILS)
    if decision.intent == FALLBACK_INTENT:
        return dataclasses.replace(outcome, action=REPHRASE_ACTION, intent=FALLBACK_INTENT, decision=decision)
    if decision.source == SOURCE_JUDGEMENT_CUE and outcome.decision.source != SOURCE_JUDGEMENT_CUE:
        # A cue the open gates never reached: the handoff policy hands a judgement intent off.
        return dataclasses.replace(outcome, action=settings.handoff_action, intent=decision.intent, decision=decision)
    return outcome


def sweep(outcomes: list[Outcome], settings: HandoffSettings) -> list[Point]:
    """The figures at every pair of thresholds on the grid."""
    measure = QualityMeasure(settings)
    return [Point(i, a, measure.figures(replay(outcomes, i, a, settings))) for i in GRID for a in GRID]


def worst_of(sweeps: list[list[Point]]) -> list[Point]:
    """Per pair of thresholds, each figure at its worst over the models' sweeps (all on the same grid)."""
    return [
        Point(point.intent_threshold, point.answer_threshold,
              {name: _worst([sweep[index].figures[name] for sweep in sweeps]) for name in point.figures})
        for index, point in enumerate(sweeps[0])
    ]


def choose(points: list[Point]) -> Point:
    """Among the points that meet every target with the margin, the one answering the most questions;
    while no point does, the one that falls short of target plus margin by the least in total (so it
    comes as close to all targets as it can, rather than trading one away for another); ties go to
    more questions answered, then to the higher thresholds: a stricter gate that costs nothing the tuning
    set can measure still keeps out what it cannot (a confident classifier's figures stay the same from
    intent threshold 0 up to its lowest confidences, and 0 would answer any reading at all)."""
    every = len(points[0].figures) and sum(1 for f in points[0].figures.values() if f.target)
    return max(points, key=lambda p: (p.targets_with_margin == every, round(-p.shortfall, 4), round(p.coverage, 4),
                                      p.intent_threshold, p.answer_threshold))


def curve_lines(points: list[Point], chosen: Point) -> list[str]:
    """The coverage/accuracy curve along the answer threshold, at the chosen intent threshold."""
    lines = [f"answer threshold curve at intent threshold {chosen.intent_threshold:.2f}:",
             f"{'answer':>7} {'answered':>9} {'accuracy':>9} {'out of scope':>13} {'targets met':>12}"]
    for point in points:
        if point.intent_threshold != chosen.intent_threshold:
            continue
        mark = "  <- chosen" if point is chosen else ""
        lines.append(f"{point.answer_threshold:7.2f} {point.coverage:9.3f} {point.accuracy:9.3f} "
                     f"{point.figures['out_of_scope_share'].value:13.3f} {point.targets_with_margin:>12}{mark}")
    return lines


def plot(points: list[Point], chosen: Point, path: Path) -> None:
    """Accuracy of the answered questions against the share answered, one line per intent threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5))
    for intent_threshold in sorted({p.intent_threshold for p in points})[::2]:
        row = [p for p in points if p.intent_threshold == intent_threshold]
        axes.plot([p.coverage for p in row], [p.accuracy for p in row], marker=".", label=f"intent {intent_threshold:.2f}")
    axes.scatter([chosen.coverage], [chosen.accuracy], s=120, facecolors="none", edgecolors="black", zorder=5,
                 label=f"chosen ({chosen.intent_threshold:.2f}, {chosen.answer_threshold:.2f})")
    axes.set_xlabel("share of FAQ and look-up questions answered")
    axes.set_ylabel("share of answered that were right")
    axes.set_title("Answer gate on the tuning set (each point: one answer threshold)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, ncol=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)


def _worst(figures: list[Figure]) -> Figure:
    """The worst of one figure's values; a figure without a target (calibration error) is worse higher."""
    lower_is_better = figures[0].target is None or figures[0].target.at_most
    return (max if lower_is_better else min)(figures, key=lambda figure: figure.value)


def _gap(figure: Figure) -> float:
    assert figure.target is not None
    return figure.target.value - figure.value if figure.target.at_most else figure.value - figure.target.value
