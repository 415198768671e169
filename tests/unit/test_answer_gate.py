"""The answer gate answers only what the bot is sure of, and a request for a person always wins."""

import pytest

from handoff.answer_gate import (
    FALLBACK_INTENT,
    SOURCE_CLOSENESS,
    SOURCE_DETAILS,
    SOURCE_INTENT,
    SOURCE_PERSON_REQUEST,
    SOURCE_RESPONSE,
    AnswerDecision,
    SelectedAnswer,
    decide_answer,
    only_details,
    selected_answer,
)
from handoff.settings import HandoffSettings

SETTINGS = HandoffSettings(intent_threshold=0.5, answer_threshold=0.6)


def test_a_request_for_a_person_wins_over_a_confident_faq() -> None:
    decision = decide_answer("THIS IS USELESS!!! I want to talk to a real person now", "faq", 0.99999,
                             SelectedAnswer("faq/delete_account", 0.13), SETTINGS)
    assert (decision.intent, decision.source, decision.sure) == ("request_human", SOURCE_PERSON_REQUEST, True)
    assert decision.classified_intent == "faq"


def test_an_unsure_faq_answer_becomes_a_fallback() -> None:
    decision = decide_answer("is it going to snow", "faq", 0.558, SelectedAnswer("faq/return_item", 0.11), SETTINGS)
    assert decision == AnswerDecision(
        intent=FALLBACK_INTENT, confidence=0.11, source=SOURCE_RESPONSE, sure=False, threshold=0.6,
        answer="faq/return_item", classified_intent="faq",
    )


def test_a_sure_faq_answer_is_kept_with_the_answers_confidence() -> None:
    decision = decide_answer("how do late fees work", "faq", 0.97, SelectedAnswer("faq/late_fees", 0.81), SETTINGS)
    assert (decision.intent, decision.confidence, decision.source, decision.sure) == ("faq", 0.81, SOURCE_RESPONSE, True)


def test_a_low_intent_confidence_becomes_a_fallback_before_the_answer_is_read() -> None:
    decision = decide_answer("hmm", "faq", 0.3, SelectedAnswer("faq/late_fees", 0.99), SETTINGS)
    assert (decision.intent, decision.source, decision.confidence) == (FALLBACK_INTENT, SOURCE_INTENT, 0.3)


def test_other_intents_are_decided_by_their_own_confidence() -> None:
    assert decide_answer("bye", "goodbye", 0.9, None, SETTINGS).intent == "goodbye"
    assert decide_answer("bye?", "goodbye", 0.49, None, SETTINGS).intent == FALLBACK_INTENT


def test_the_stored_form_reads_back_and_bad_data_gives_none() -> None:
    decision = decide_answer("how do late fees work", "faq", 0.97, SelectedAnswer("faq/late_fees", 0.81), SETTINGS)
    assert AnswerDecision.from_dict(decision.as_dict()) == decision
    assert AnswerDecision.from_dict({"intent": "faq"}) is None
    assert AnswerDecision.from_dict("nonsense") is None


def test_the_selected_answer_is_read_from_rasas_output() -> None:
    output = {"all_retrieval_intents": ["faq"],
              "faq": {"response": {"intent_response_key": "faq/late_fees", "confidence": 0.7}}}
    assert selected_answer(output, "faq") == SelectedAnswer("faq/late_fees", 0.7)
    assert selected_answer(output, "greet") is None
    assert selected_answer({"all_retrieval_intents": ["faq"],
                            "default": {"response": {"intent_response_key": "faq/x", "confidence": 0.2}}},
                           "faq") == SelectedAnswer("faq/x", 0.2)
    assert selected_answer(None, "faq") is None
    with_closeness = {"faq": {"response": {"intent_response_key": "faq/late_fees", "confidence": 0.7, "closeness": 0.64}}}
    assert selected_answer(with_closeness, "faq") == SelectedAnswer("faq/late_fees", 0.7, 0.64)


def test_a_confident_answer_to_a_question_unlike_its_examples_becomes_a_fallback() -> None:
    gated = SETTINGS.copy(update={"answer_closeness_threshold": 0.7})
    foreign = decide_answer("do you sell travel insurance", "faq", 0.95, SelectedAnswer("faq/interest_and_fees", 0.9, 0.55),
                            gated)
    assert foreign == AnswerDecision(
        intent=FALLBACK_INTENT, confidence=0.55, source=SOURCE_CLOSENESS, sure=False, threshold=0.7,
        answer="faq/interest_and_fees", classified_intent="faq",
    )
    taught = decide_answer("how do late fees work", "faq", 0.95, SelectedAnswer("faq/late_fees", 0.9, 0.85), gated)
    unmeasured = decide_answer("how do late fees work", "faq", 0.95, SelectedAnswer("faq/late_fees", 0.9), gated)
    assert taught.source == unmeasured.source == SOURCE_RESPONSE and taught.sure and unmeasured.sure
    # An unsure answer stays decided by its confidence: the closeness check only holds back sure ones.
    unsure = decide_answer("hm", "faq", 0.95, SelectedAnswer("faq/late_fees", 0.3, 0.2), gated)
    assert (unsure.source, unsure.confidence) == (SOURCE_RESPONSE, 0.3)


def test_a_classified_request_for_a_person_that_names_nobody_is_a_guess() -> None:
    """Intent classifiers hear "request_human" in any message with a person word; without a person of
    ours named, the bot asks to rephrase rather than hand off."""
    decision = decide_answer("who is the manager of manchester united", "request_human", 0.99, None, SETTINGS)
    assert (decision.intent, decision.sure) == (FALLBACK_INTENT, False)
    kept = decide_answer("the human touch, that's what i miss with you lot", "request_human", 0.9, None, SETTINGS)
    assert (kept.intent, kept.source, kept.sure) == ("request_human", SOURCE_INTENT, True)


@pytest.mark.parametrize(("text", "classified"), [
    ("not a complaint at all, just wondering how returns work", "complaint"),
    ("thanks, the return went fine in the end and the money's back", "return_problem"),
    ("my bank blocked my card over fraud somewhere else, how do i add the new one", "account_locked"),
    ("my paypal account has been limited, what does that mean", "account_locked"),
    ("my brother complains about every shop he buys from", "complaint"),
    ("the charge i asked about was actually my husband's order, my mistake", "dispute_charge"),
])
def test_a_judgement_intent_read_into_no_case_of_ours_is_a_guess(text: str, classified: str) -> None:
    """Praise, a settled case, a complaint declined or someone else's bank or provider: the bot asks to
    rephrase rather than hand off on the classifier's word alone."""
    decision = decide_answer(text, classified, 0.99, None, SETTINGS)
    assert (decision.intent, decision.sure) == (FALLBACK_INTENT, False)


def test_small_talk_stands_when_the_judgement_reading_is_ruled_out() -> None:
    """A thank-you that mentions a settled case is answered as a thank-you: the classifier's next reading,
    its confidence taken over what the ruled-out judgement and person readings leave."""
    text = "thanks, the return went fine in the end and the money's back"
    ranking = [("return_problem", 0.80), ("thanks", 0.15), ("request_human", 0.02), ("faq", 0.03)]
    decision = decide_answer(text, "return_problem", 0.80, None, SETTINGS, ranking=ranking)
    assert (decision.intent, decision.source, decision.sure) == ("thanks", SOURCE_INTENT, True)
    assert decision.classified_intent == "thanks"
    assert decision.confidence == pytest.approx(0.15 / 0.18, abs=1e-4)


@pytest.mark.parametrize(("ranking", "why"), [
    ([("return_problem", 0.80), ("faq", 0.12), ("thanks", 0.08)], "the next reading is no small talk"),
    ([("return_problem", 0.80), ("thanks", 0.09), ("faq", 0.08), ("greet", 0.03)],
     "the next reading is unsure: 0.09 of the 0.20 left"),
    ([], "no ranking"),
])
def test_no_second_reading_without_sure_small_talk(ranking: list[tuple[str, float]], why: str) -> None:
    decision = decide_answer("thanks, the return went fine in the end and the money's back", "return_problem",
                             0.80, None, SETTINGS, ranking=ranking)
    assert (decision.intent, decision.sure) == (FALLBACK_INTENT, False), why


def test_a_second_reading_has_its_own_bar_however_low_the_intent_threshold() -> None:
    """The bare text "request_human" reads as a request naming nobody; what is left is no clear greeting."""
    lenient = HandoffSettings(intent_threshold=0.15, answer_threshold=0.3)
    ranking = [("request_human", 0.772), ("greet", 0.039), ("inform", 0.038), ("thanks", 0.03)]
    decision = decide_answer("request_human", "request_human", 0.772, None, lenient, ranking=ranking)
    assert (decision.intent, decision.sure) == (FALLBACK_INTENT, False)


def test_an_unsure_first_reading_gets_no_second_one() -> None:
    """Below the intent threshold the classifier is guessing already: the bot asks to rephrase."""
    decision = decide_answer("thanks, the return went fine in the end and the money's back", "return_problem",
                             0.40, None, SETTINGS, ranking=[("return_problem", 0.40), ("thanks", 0.55)])
    assert decision.intent == FALLBACK_INTENT


def test_a_kept_judgement_reading_is_not_second_guessed() -> None:
    kept = decide_answer("it was not my mistake, you charged me twice", "dispute_charge", 0.9, None, SETTINGS,
                         ranking=[("dispute_charge", 0.9), ("thanks", 0.1)])
    assert kept.intent == "dispute_charge"


def test_a_mistake_denied_is_no_settled_case() -> None:
    kept = decide_answer("it was not my mistake, you charged me twice", "dispute_charge", 0.99, None, SETTINGS)
    assert (kept.intent, kept.sure) == ("dispute_charge", True)


def test_a_message_of_details_only_is_the_details_intent_whatever_the_classifier_says() -> None:
    text = "anna.berg@example.com , KL-100001"
    entities = [{"entity": "email", "start": 0, "end": 21}, {"entity": "order_number", "start": 24, "end": 33}]
    assert only_details(text, entities)
    decision = decide_answer(text, "check_order_status", 0.59, None, SETTINGS, details_only=True)
    assert (decision.intent, decision.source, decision.sure, decision.classified_intent) == (
        "inform", SOURCE_DETAILS, True, "check_order_status")
    unset = HandoffSettings(intent_threshold=0.5, answer_threshold=0.6, details_intent=None)
    assert decide_answer(text, "check_order_status", 0.59, None, unset, details_only=True).intent == "check_order_status"


def test_words_beside_the_details_leave_the_decision_to_the_classifier() -> None:
    text = "my email is anna.berg@example.com"
    assert not only_details(text, [{"entity": "email", "start": 12, "end": 33}])
    assert not only_details("anna.berg@example.com", [])
    assert not only_details("anna.berg@example.com", [{"entity": "email"}])  # no span: cannot tell
    assert not only_details(None, None)
