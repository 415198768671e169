"""The regression set of reviewed examples: every example a lead accepted (data/reviewed.yml) must
still be predicted as labelled by every later model, or a retrain has unlearnt what people taught."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rasa_bot.quality.evaluate import Outcome
from rasa_bot.quality.examples import LabelledExample, load_examples

REVIEWED_DATA = Path("data/reviewed.yml")
REGRESSION_BAR = 0.98  # share of reviewed examples predicted as labelled that `make test` asserts


def reviewed_examples(project_root: Path) -> list[LabelledExample]:
    """The examples of data/reviewed.yml (none while no export wrote any)."""
    path = project_root / REVIEWED_DATA
    return load_examples(path) if path.exists() else []


def predicted_as_labelled(outcome: Outcome) -> bool:
    """An FAQ example must get its answer ("faq/late_fees"), any other its intent (a request for a
    person or a judgement cue the rules detected counts as the intent they stand for)."""
    label = outcome.example.label
    return outcome.answer == label if "/" in label else outcome.classified == label


def regression_share(outcomes: Sequence[Outcome]) -> float:
    """The share of outcomes predicted as labelled (1.0 for none)."""
    if not outcomes:
        return 1.0
    return sum(predicted_as_labelled(outcome) for outcome in outcomes) / len(outcomes)
