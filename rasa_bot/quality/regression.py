"""The regression set of reviewed examples: every example a lead accepted (data/reviewed.yml) must
still be predicted as labelled by every later model, or a retrain has unlearnt what people taught;
and each example's test conversation (tests/test_reviewed_conversations.yml, the export writes
both) must still be answered with the action it names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rasa.shared.utils.io import read_yaml_file

from rasa_bot.quality.evaluate import Outcome
from rasa_bot.quality.examples import LabelledExample, load_examples

REVIEWED_DATA = Path("data/reviewed.yml")
REVIEWED_CONVERSATIONS = Path("tests/test_reviewed_conversations.yml")
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


@dataclass(frozen=True)
class ReviewedConversation:
    """A one-turn test conversation: the customer's first message, its label, the bot's next action."""

    example: LabelledExample
    action: str | None  # None: only the intent (or FAQ answer) is checked


def reviewed_conversations(project_root: Path) -> list[ReviewedConversation]:
    """The conversations of tests/test_reviewed_conversations.yml (none while no export wrote any)."""
    path = project_root / REVIEWED_CONVERSATIONS
    stories = (read_yaml_file(path) or {}).get("stories") or [] if path.exists() else []
    return [_conversation(story) for story in stories]


def _conversation(story: dict) -> ReviewedConversation:
    """Raises ValueError for a story that does not open with a customer message and its intent."""
    steps = story.get("steps") or []
    if not steps or "user" not in steps[0] or "intent" not in steps[0]:
        raise ValueError(f"{story.get('story')!r} does not open with a customer message and its intent")
    actions = [step["action"] for step in steps[1:2] if "action" in step]
    return ReviewedConversation(LabelledExample(text=str(steps[0]["user"]).strip(), label=str(steps[0]["intent"])),
                                actions[0] if actions else None)


def played_as_written(outcome: Outcome, action: str | None) -> bool:
    """The conversation's message is predicted as labelled and followed by the action it names."""
    return predicted_as_labelled(outcome) and (action is None or outcome.action == action)


def conversation_share(outcomes: Sequence[Outcome], actions: Sequence[str | None]) -> float:
    """The share of conversations (outcome of its message, expected action) played as written (1.0 for none)."""
    if not outcomes:
        return 1.0
    return sum(played_as_written(outcome, action) for outcome, action in zip(outcomes, actions, strict=True)) / len(
        outcomes)
