"""Every example a lead accepted from the review queue (data/reviewed.yml) is still predicted as
labelled by the trained model (in-process, each the first message of a conversation), and each of
their test conversations (tests/test_reviewed_conversations.yml) is played as written: at least
`REGRESSION_BAR` of each. The checker itself is shown to fail on a deliberately mislabelled set and on
conversations expecting the wrong action."""

from __future__ import annotations

from dataclasses import replace
from itertools import islice

import pytest

from handoff.review.first_actions import first_actions
from rasa_bot.quality.evaluate import Outcome, evaluate
from rasa_bot.quality.examples import LabelledExample, load_examples
from rasa_bot.quality.regression import (
    REGRESSION_BAR,
    conversation_share,
    regression_share,
    reviewed_conversations,
    reviewed_examples,
)
from rasa_bot.settings import PROJECT_ROOT
from rasa_bot.system import MODEL_PATH

pytestmark = pytest.mark.model

CHECKED_LABELS = ("check_order_status", "request_human", "faq/late_fees", "faq/app_login", "complaint")
PER_LABEL = 4
WRONG_LABEL = {"check_order_status": "greet", "request_human": "thanks", "faq/late_fees": "faq/app_login",
               "faq/app_login": "faq/late_fees", "complaint": "affirm"}


PLAIN_TRAINING_FILES = ("data/nlu.yml", "data/faq.yml")  # not the hard cases, which a model may still miss


def trained_examples() -> list[LabelledExample]:
    """A few plain training examples of several labels (the model knows them: a correct set)."""
    examples = [example for name in PLAIN_TRAINING_FILES for example in load_examples(PROJECT_ROOT / name)]
    return [example for label in CHECKED_LABELS
            for example in islice((e for e in examples if e.label == label), PER_LABEL)]


@pytest.fixture(scope="module")
def outcomes() -> dict[str, list[Outcome]]:
    """One model load for the reviewed set, its conversations and the checker's own correct and
    mislabelled sets."""
    sets = {"reviewed": reviewed_examples(PROJECT_ROOT),
            "conversations": [conversation.example for conversation in reviewed_conversations(PROJECT_ROOT)],
            "correct": trained_examples()}
    sets["mislabelled"] = [replace(example, label=WRONG_LABEL[example.label]) for example in sets["correct"]]
    found = iter(evaluate(MODEL_PATH, [example for examples in sets.values() for example in examples], progress=False))
    return {name: list(islice(found, len(examples))) for name, examples in sets.items()}


def test_reviewed_examples_are_still_predicted_as_labelled(outcomes: dict[str, list[Outcome]]) -> None:
    reviewed = outcomes["reviewed"]
    if not reviewed:
        pytest.skip("data/reviewed.yml holds no accepted examples yet")
    misses = [(o.example.text, o.example.label, o.answer or o.classified) for o in reviewed
              if regression_share([o]) < 1.0]
    print(f"\nreviewed regression set: {regression_share(reviewed):.3f} of {len(reviewed)} (bar {REGRESSION_BAR})")
    assert regression_share(reviewed) >= REGRESSION_BAR, misses


def test_reviewed_conversations_are_played_as_written(outcomes: dict[str, list[Outcome]]) -> None:
    expected = [conversation.action for conversation in reviewed_conversations(PROJECT_ROOT)]
    played = outcomes["conversations"]
    if not played:
        pytest.skip("tests/test_reviewed_conversations.yml holds no conversations yet")
    misses = [(o.example.text, o.example.label, action, o.answer or o.classified, o.action)
              for o, action in zip(played, expected, strict=True) if conversation_share([o], [action]) < 1.0]
    print(f"\nreviewed conversations: {conversation_share(played, expected):.3f} of {len(played)} (bar {REGRESSION_BAR})")
    assert conversation_share(played, expected) >= REGRESSION_BAR, misses


def test_the_conversation_checker_wants_the_intent_and_the_action(outcomes: dict[str, list[Outcome]]) -> None:
    actions = first_actions(PROJECT_ROOT)
    correct = outcomes["correct"]
    right_actions = [actions[outcome.example.intent] for outcome in correct]
    assert conversation_share(correct, right_actions) >= REGRESSION_BAR
    assert conversation_share(correct, [None] * len(correct)) >= REGRESSION_BAR  # the intent alone
    wrong_actions = [next(other for other in sorted(set(actions.values())) if other != action)
                     for action in right_actions]
    assert conversation_share(correct, wrong_actions) < REGRESSION_BAR
    assert conversation_share(outcomes["mislabelled"], right_actions) < REGRESSION_BAR


def test_the_checker_passes_a_correct_set_and_fails_a_mislabelled_one(outcomes: dict[str, list[Outcome]]) -> None:
    assert len(outcomes["correct"]) == len(CHECKED_LABELS) * PER_LABEL
    assert regression_share(outcomes["correct"]) >= REGRESSION_BAR
    assert regression_share(outcomes["mislabelled"]) < REGRESSION_BAR
