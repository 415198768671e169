"""The held-out set (tests/nlu, used only for the quality gates) and the tuning set (tests/nlu_tuning,
used only to choose thresholds) are big and varied enough, and neither was trained on: no message in
them is too close to a training example."""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest

from handoff.review.closeness import TOO_CLOSE, closest, jaccard, tokens
from handoff.settings import HandoffSettings
from rasa_bot.quality.examples import ANGRY, MIXED, NEAR_MISS, LabelledExample, load_examples
from rasa_bot.settings import PROJECT_ROOT

SETTINGS = HandoffSettings(_env_file=None)


@cache
def examples(folder: str) -> tuple[LabelledExample, ...]:
    return tuple(load_examples(PROJECT_ROOT / folder))


def test_held_out_set_is_big_and_varied() -> None:
    held_out = examples("tests/nlu")
    intents = Counter(e.intent for e in held_out)
    topics = Counter(e.label for e in held_out if e.intent == "faq")
    person = [e for e in held_out if e.label in SETTINGS.human_request_intents]
    judgement = [e for e in held_out if e.label in SETTINGS.judgement_intents]
    assert len(held_out) >= 800
    assert min(intents.values()) >= 15, intents
    trained_topics = {e.label for e in examples("data") if e.intent == "faq"}
    assert set(topics) == trained_topics and min(topics.values()) >= 8, topics
    assert len(person) >= 150
    assert sum(e.kind in (ANGRY, MIXED) for e in person) * 2 >= len(person)
    assert len(judgement) >= 100
    assert sum(e.kind in (ANGRY, MIXED) for e in judgement) >= 25
    assert intents["out_of_scope"] - sum(e.kind == NEAR_MISS for e in held_out if e.intent == "out_of_scope") >= 100
    assert sum(e.kind == NEAR_MISS for e in held_out) >= 40


def test_tuning_set_covers_every_group() -> None:
    tuning = examples("tests/nlu_tuning")
    groups = Counter(e.intent for e in tuning)
    assert len(tuning) >= 400
    assert groups["faq"] >= 24 * 6 and groups["out_of_scope"] >= 50
    assert sum(groups[name] for name in SETTINGS.human_request_intents) >= 50
    assert sum(e.kind == NEAR_MISS for e in tuning) >= 20


@pytest.mark.parametrize("folder", ["tests/nlu", "tests/nlu_tuning"])
def test_no_message_is_a_copy_of_a_training_example(folder: str) -> None:
    training = [tokens(e.text) for e in examples("data")]
    close = []
    for example in examples(folder):
        best = closest(example.text, training)
        if best >= TOO_CLOSE:
            close.append((round(best, 2), example.text))
    assert not close, close


def test_held_out_and_tuning_sets_do_not_share_messages() -> None:
    """Same words in any order (same characters for a message without words)."""

    def key(example: LabelledExample) -> str:
        return " ".join(sorted(tokens(example.text)))

    held_out = {key(e) for e in examples("tests/nlu")}
    shared = [e.text for e in examples("tests/nlu_tuning") if key(e) in held_out]
    assert not shared, shared


def test_the_closeness_check_can_fail() -> None:
    """The check above flags a reworded copy (guards against a tokenizer that sees nothing)."""
    assert jaccard(tokens("Where is my order?"), tokens("where is my order")) >= TOO_CLOSE
    assert jaccard(tokens("where is my order"), tokens("how do late fees work")) < TOO_CLOSE
