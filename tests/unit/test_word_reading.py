"""Labels (here FAQ answers) read from a message's words, and how that reading is combined with the sentence
vector's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rasa_bot.word_reading import WordReading, combined

TEXTS = {
    "faq/pay_early": ["can i pay early", "pay off my order early", "is paying early free", "settle early please"],
    "faq/late_fees": ["is there a fee if i pay late", "what does paying late cost", "late fee amount",
                      "fine for a late payment"],
    "faq/change_payment_date": ["can i move my payment date", "change the date of my instalment",
                                "pay on a different day", "shift my due date"],
}


@pytest.fixture(scope="module")
def choice() -> WordReading:
    texts = [text for answer_texts in TEXTS.values() for text in answer_texts]
    keys = [key for key, answer_texts in TEXTS.items() for _ in answer_texts]
    return WordReading.fit(texts, keys, regularisation=100.0)


def test_the_words_that_tell_neighbouring_answers_apart_decide(choice: WordReading) -> None:
    assert choice.labels == sorted(TEXTS)
    probabilities = choice.probabilities(["paying it all off early, any fee?", "what if i pay late"])
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), [1.0, 1.0])
    assert [choice.labels[index] for index in probabilities.argmax(axis=1)] == ["faq/pay_early", "faq/late_fees"]


def test_a_stored_layer_gives_the_same_probabilities(choice: WordReading, tmp_path: Path) -> None:
    choice.save(tmp_path / "words.joblib")
    loaded = WordReading.load(tmp_path / "words.joblib")
    assert loaded.labels == choice.labels
    texts = ["move my due date please", "early payment"]
    np.testing.assert_allclose(loaded.probabilities(texts), choice.probabilities(texts))


def test_one_answer_is_always_given() -> None:
    choice = WordReading.fit(["a", "b"], ["faq/only", "faq/only"], regularisation=1.0)
    assert choice.labels == ["faq/only"]
    np.testing.assert_allclose(choice.probabilities(["anything", "else"]), [[1.0], [1.0]])


def test_combined_confidence_is_high_only_where_both_readings_agree() -> None:
    vectors = np.array([[0.9, 0.1, 0.0], [0.5, 0.5, 0.0]])
    words = np.array([[0.9, 0.1, 0.0], [0.0, 0.9, 0.1]])
    both = combined(vectors, words)
    np.testing.assert_allclose(both.sum(axis=1), [1.0, 1.0])
    assert both[0].argmax() == 0 and both[0, 0] == pytest.approx(0.9)
    # An answer one reading rules out stays out, however sure the other reading is.
    assert both[1, 0] == 0.0 and both[1, 2] == 0.0 and both[1, 1] == pytest.approx(1.0)


@pytest.mark.parametrize("answers", [sorted(TEXTS), sorted(TEXTS)[:2]], ids=["three answers", "two answers"])
def test_the_reading_gives_scikit_learns_probabilities(answers: list[str]) -> None:
    """The layer reads messages with the fitted arithmetic directly (about seven times faster); it must agree with the
    pipeline it was fitted as, for known words, unknown words and no words at all."""
    texts = [text for answer in answers for text in TEXTS[answer]]
    keys = [answer for answer in answers for _ in TEXTS[answer]]
    reading = WordReading.fit(texts, keys, regularisation=100.0)
    messages = ["PAYING it all off early, any fee?", "zzzz qqqq", "", "late late late", "shift the due-date!!"]
    np.testing.assert_allclose(reading.probabilities(messages),
                               reading._pipeline.predict_proba(messages), rtol=0, atol=1e-12)
