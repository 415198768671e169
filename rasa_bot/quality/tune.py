"""Chooses the answer gate's thresholds on the tuning set (`make tune`), never on the held-out set.

The tuning set is run once with every threshold at zero; every combination of the intent, answer
and answer-closeness thresholds on a grid is then replayed from the recorded confidences (a message
under a threshold becomes a fallback, which asks to rephrase on a first message). The chosen
combination meets every target with the margin and answers the most questions or, while none meets
them all, comes closest to all of them; the coverage/accuracy curve is printed and plotted. Questions
about products we do not have (kind `unknown_product`) are what the closeness threshold is for: a
confident FAQ answer to them counts against `unknown_product_share`.

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
    SOURCE_PERSON_REQUEST,
    MessageReading,
    SelectedAnswer,
    decide_answer,
)
from handoff.settings import HandoffSettings
from rasa_bot.quality.evaluate import REPHRASE_ACTION, Outcome
from rasa_bot.quality.metrics import MARGIN, RETRIEVAL_INTENT, Figure, QualityMeasure

GRID = [round(step * 0.05, 2) for step in range(20)]
# Closeness of a question to its answer's nearest training example: taught questions sit above 0.5.
CLOSENESS_GRID = [0.0, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75]

HANDED_OFF_RULES = (SOURCE_JUDGEMENT_CUE, SOURCE_PERSON_REQUEST)  # rules whose decision the handoff policy hands off


@dataclasses.dataclass(frozen=True)
class Point:
    """The figures the tuning set gives at one pair of thresholds."""

    intent_threshold: float
    answer_threshold: float
    closeness_threshold: float
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


def replay(outcomes: Iterable[Outcome], intent_threshold: float, answer_threshold: float, closeness_threshold: float,
           settings: HandoffSettings, readings: list[MessageReading] | None = None) -> list[Outcome]:
    """The outcomes as they would be at these thresholds, from a run with every threshold at zero: the
    answer gate decides each message again from its recorded classifier output, so that a judgement case
    the classifier was unsure of still reaches its cue, as it would in the running bot. `readings` are the
    messages' rule readings, made once for a whole sweep."""
    gated = settings.copy(update={"intent_threshold": intent_threshold, "answer_threshold": answer_threshold,
                                  "answer_closeness_threshold": closeness_threshold})
    outcomes = list(outcomes)
    readings = readings or [MessageReading(outcome.example.text, settings) for outcome in outcomes]
    return [_decided_again(outcome, reading, gated) for outcome, reading in zip(outcomes, readings, strict=True)]


def _decided_again(outcome: Outcome, reading: MessageReading, settings: HandoffSettings) -> Outcome:
    classified = outcome.decision.classified_intent or outcome.intent
    selected = (SelectedAnswer(outcome.answer, outcome.answer_confidence, outcome.answer_closeness)
                if classified == RETRIEVAL_INTENT and outcome.answer and outcome.answer_confidence is not None else None)
    decision = decide_answer(outcome.example.text, classified, outcome.intent_confidence, selected, settings,
                             details_only=outcome.decision.source == SOURCE_DETAILS, reading=reading)
    if decision.intent == FALLBACK_INTENT:
        return dataclasses.replace(outcome, action=REPHRASE_ACTION, intent=FALLBACK_INTENT, decision=decision)
    if decision.source in HANDED_OFF_RULES and outcome.decision.source != decision.source:
        # A rule the recorded run did not decide by (a judgement cue the open gates never reached, or a person
        # request the rules read now and did not when the outcomes were recorded): the handoff policy hands
        # the message off.
        return dataclasses.replace(outcome, action=settings.handoff_action, intent=decision.intent, decision=decision)
    return outcome


def sweep(outcomes: list[Outcome], settings: HandoffSettings) -> list[Point]:
    """The figures at every combination of thresholds on the grids."""
    measure = QualityMeasure(settings)
    readings = [MessageReading(outcome.example.text, settings) for outcome in outcomes]
    return [Point(i, a, c, measure.figures(replay(outcomes, i, a, c, settings, readings)))
            for c in CLOSENESS_GRID for i in GRID for a in GRID]


def worst_of(sweeps: list[list[Point]]) -> list[Point]:
    """Per pair of thresholds, each figure at its worst over the models' sweeps (all on the same grid)."""
    return [
        Point(point.intent_threshold, point.answer_threshold, point.closeness_threshold,
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
                                      p.intent_threshold, p.answer_threshold, p.closeness_threshold))


def curve_lines(points: list[Point], chosen: Point) -> list[str]:
    """The coverage/accuracy curve along the answer threshold at the chosen intent and closeness
    thresholds, then along the closeness threshold at the chosen pair."""
    lines = [(f"answer threshold curve at intent threshold {chosen.intent_threshold:.2f}, closeness "
             f"{chosen.closeness_threshold:.2f}:"), _curve_header("answer")]
    lines += [_curve_line(point.answer_threshold, point, chosen) for point in points
              if (point.intent_threshold, point.closeness_threshold)
              == (chosen.intent_threshold, chosen.closeness_threshold)]
    lines += ["", (f"closeness threshold curve at intent {chosen.intent_threshold:.2f}, answer "
              f"{chosen.answer_threshold:.2f}:"), _curve_header("close")]
    lines += [_curve_line(point.closeness_threshold, point, chosen) for point in points
              if (point.intent_threshold, point.answer_threshold) == (chosen.intent_threshold, chosen.answer_threshold)]
    return lines


def _curve_header(name: str) -> str:
    return f"{name:>7} {'answered':>9} {'accuracy':>9} {'out of scope':>13} {'unknown products':>17} {'targets met':>12}"


def _curve_line(threshold: float, point: Point, chosen: Point) -> str:
    mark = "  <- chosen" if point is chosen else ""
    return (f"{threshold:7.2f} {point.coverage:9.3f} {point.accuracy:9.3f} "
            f"{point.figures['out_of_scope_share'].value:13.3f} {point.figures['unknown_product_share'].value:17.3f} "
            f"{point.targets_with_margin:>12}{mark}")


def plot(points: list[Point], chosen: Point, path: Path) -> None:
    """Accuracy of the answered questions against the share answered, one line per intent threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5))
    at_chosen_closeness = [p for p in points if p.closeness_threshold == chosen.closeness_threshold]
    for intent_threshold in sorted({p.intent_threshold for p in at_chosen_closeness})[::2]:
        row = [p for p in at_chosen_closeness if p.intent_threshold == intent_threshold]
        axes.plot([p.coverage for p in row], [p.accuracy for p in row], marker=".", label=f"intent {intent_threshold:.2f}")
    axes.scatter([chosen.coverage], [chosen.accuracy], s=120, facecolors="none", edgecolors="black", zorder=5,
                 label=f"chosen ({chosen.intent_threshold:.2f}, {chosen.answer_threshold:.2f}, "
                       f"closeness {chosen.closeness_threshold:.2f})")
    axes.set_xlabel("share of FAQ and look-up questions answered")
    axes.set_ylabel("share of answered that were right")
    axes.set_title(f"Answer gate on the tuning set at closeness {chosen.closeness_threshold:.2f} "
                   "(each point: one answer threshold)")
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
