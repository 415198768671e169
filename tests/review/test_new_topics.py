"""A new FAQ topic's name and answer: the bounds the API and the store hold to."""

from __future__ import annotations

import pytest

from handoff.review.new_topics import MAX_ANSWER_LENGTH, NewTopicError, clean_answer, new_topic_label

TAKEN = {"greet", "faq", "faq/late_fees"}


@pytest.mark.parametrize("topic", ["abc", "gift_cards_2", "a" * 40, "9_lives"])
def test_a_fresh_lower_case_name_becomes_an_faq_label(topic: str) -> None:
    assert new_topic_label(topic, TAKEN) == f"faq/{topic}"


@pytest.mark.parametrize("topic", ["ab", "a" * 41, "Gift_cards", "gift cards", "gift-cards", "faq/x", "late_fees",
                                   "greet", "faq", "", None, 12, "gift_cards\n"])
def test_a_malformed_or_used_name_is_refused(topic: object) -> None:
    with pytest.raises(NewTopicError):
        new_topic_label(topic, TAKEN)


def test_an_answer_is_stripped_and_bounded() -> None:
    assert clean_answer("  Yes, we do.\n") == "Yes, we do."
    assert clean_answer(f" {'a' * MAX_ANSWER_LENGTH} ") == "a" * MAX_ANSWER_LENGTH
    for wrong in ("", " \t\n", "a" * (MAX_ANSWER_LENGTH + 1), None, ["a"]):
        with pytest.raises(NewTopicError):
            clean_answer(wrong)
