"""Handoff detection: message scores, conversation frustration, reasons, priorities and settings."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from handoff.detect import (
    CAPS,
    EXPLICIT_REQUEST,
    FRUSTRATION,
    LOW_ACTION_CONFIDENCE,
    LOW_NLU_CONFIDENCE,
    NEGATIVE_FEEDBACK,
    PROFANITY,
    PUNCTUATION,
    REPEATED_QUESTION,
    MessageFrustration,
    Turn,
    conversation_signals,
    decide,
    priority_for,
    score_message,
    turns_from_events,
)
from handoff.settings import HandoffSettings, get_handoff_settings


@pytest.fixture
def settings() -> HandoffSettings:
    return HandoffSettings()


def customer(texts_and_intents: list[tuple[str, str]]) -> list[Turn]:
    """Turns of a conversation in which the bot answered every message but the first."""
    return [
        Turn(text=text, intent=intent, intent_confidence=0.9, bot_answered_before=index > 0)
        for index, (text, intent) in enumerate(texts_and_intents)
    ]


SOURING = [
    ("where is my refund?", "check_refund_status"),
    ("I returned the item two weeks ago, where is my refund", "check_refund_status"),
    ("that's not what I asked. where is my refund??", "check_refund_status"),
    ("this is useless, WHY IS IT SO HARD TO GET MY MONEY BACK", "check_refund_status"),
]
FURIOUS = ("THIS IS USELESS!!! WHERE IS MY FUCKING REFUND", "check_refund_status")


# --- one message ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "where is my order",
        "Hi there",
        "How do late fees work?",
        "My order number is KL-123456",
        "jane.doe@example.com",
        "Can I pay in three instalments?",
    ],
)
def test_neutral_messages_score_about_zero(text: str, settings: HandoffSettings) -> None:
    assert score_message(text, settings).score < 0.1


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("WHERE IS MY REFUND", CAPS),
        ("where is my refund!!!", PUNCTUATION),
        ("where is my refund?!?", PUNCTUATION),
        ("where is my damn refund", PROFANITY),
        ("where is my fucking refund", PROFANITY),
        ("you don't understand, where is my refund", NEGATIVE_FEEDBACK),
        ("that's not what I asked, where is my refund", NEGATIVE_FEEDBACK),
        ("stupid bot, where is my refund", NEGATIVE_FEEDBACK),
    ],
)
def test_each_signal_raises_the_score(text: str, signal: str, settings: HandoffSettings) -> None:
    baseline = score_message("where is my refund", settings)
    scored = score_message(text, settings)
    assert scored.signals[signal] > 0
    assert scored.score > baseline.score


def test_strong_profanity_weighs_more_than_mild(settings: HandoffSettings) -> None:
    mild = score_message("where is my damn refund", settings).signals[PROFANITY]
    strong = score_message("where is my fucking refund", settings).signals[PROFANITY]
    assert 0 < mild < strong


def test_only_negative_sentiment_counts(settings: HandoffSettings) -> None:
    assert score_message("great, thank you so much, that was really helpful!", settings).score == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "My order KL-123456 was sent to JANE.DOE@EXAMPLE.COM",
        "order KL-123456 and KL-654321 please",
        "Where do I find the FAQ and my PIN",
        "I need help NOW",
        "see HTTPS://PAYLATER.EXAMPLE/HELP",
        "the PAYLATER.COM site",
    ],
)
def test_codes_emails_acronyms_and_single_emphasis_are_not_shouting(text: str, settings: HandoffSettings) -> None:
    assert score_message(text, settings).signals[CAPS] == 0.0


@pytest.mark.parametrize("text", ["hello, I'd like to assess my shell account", "Scunthorpe class assistant"])
def test_profanity_matches_whole_words_only(text: str, settings: HandoffSettings) -> None:
    assert score_message(text, settings).signals[PROFANITY] == 0.0


@pytest.mark.parametrize(
    "text",
    [None, "", "   \n\t", "😡😡😡🤬", "🙂", "日本語のテキスト!!", "это ужасно!!!", "ＷＨＥＲＥ ＩＳ ＭＹ ＭＯＮＥＹ！！！",
     "\x00\ud800 lone surrogate", "a" * 1_000_000, "! ? " * 50_000],
)
def test_odd_input_does_not_crash(text: Any, settings: HandoffSettings) -> None:
    scored = score_message(text, settings)
    assert 0.0 <= scored.score <= settings.single_message_cap
    assert all(0.0 <= value <= 1.0 for value in scored.signals.values())


def test_huge_message_is_cut_before_scoring(settings: HandoffSettings) -> None:
    hidden = "x " * settings.max_message_bytes + "fucking useless"
    started = time.perf_counter()
    scored = score_message(hidden * 100, settings)
    assert time.perf_counter() - started < 2.0
    assert scored.signals[PROFANITY] == 0.0  # the insult lies beyond the bytes read


def test_one_message_is_capped_below_the_threshold(settings: HandoffSettings) -> None:
    scored = score_message(FURIOUS[0], settings)
    assert scored.score == settings.single_message_cap < settings.frustration_threshold


def test_stored_form_round_trips_and_rejects_garbage() -> None:
    scored = MessageFrustration(score=0.4, signals={CAPS: 1.0})
    assert MessageFrustration.from_dict(scored.as_dict()) == scored
    for garbage in [None, "x", {"score": 1}, {"signals": {"caps": "loud"}}, {"signals": []}]:
        assert MessageFrustration.from_dict(garbage) is None
    tampered = MessageFrustration.from_dict({"score": 9, "signals": {CAPS: 50, PROFANITY: -3}})
    assert tampered is not None and tampered.signals == {CAPS: 1.0, PROFANITY: 0.0}


# --- the conversation ----------------------------------------------------------------------------


def test_single_angry_message_does_not_hand_off(settings: HandoffSettings) -> None:
    assert decide(customer([FURIOUS]), settings) is None


def test_one_rude_word_in_a_calm_conversation_does_not_hand_off(settings: HandoffSettings) -> None:
    turns = customer([
        ("hi", "greet"),
        ("where the hell is my order", "check_order_status"),
        ("KL-123456", "inform"),
        ("jane@example.com", "inform"),
        ("ok thanks", "thanks"),
    ])
    for end in range(1, len(turns) + 1):
        assert decide(turns[:end], settings) is None


def test_souring_conversation_hands_off_on_the_fourth_turn(settings: HandoffSettings) -> None:
    turns = customer(SOURING)
    for end in range(1, len(turns)):
        assert decide(turns[:end], settings) is None
    decision = decide(turns, settings)
    assert decision is not None and decision.reason == FRUSTRATION
    assert decision.frustration >= settings.frustration_threshold
    assert decision.details["turn_scores"][0] == 0.0
    assert decision.details["turns"] == 4


def test_two_furious_messages_in_a_row_hand_off(settings: HandoffSettings) -> None:
    decision = decide(customer([FURIOUS, ("you don't understand, WHERE IS MY MONEY??", "check_refund_status")]),
                      settings)
    assert decision is not None and decision.reason == FRUSTRATION


def test_decay_makes_old_anger_fade(settings: HandoffSettings) -> None:
    calm = [("ok, my order is KL-123456", "inform"), ("jane@example.com", "inform"), ("great, thanks", "thanks")]
    faded = conversation_signals(customer([FURIOUS, *calm]), settings).frustration
    assert faded == pytest.approx(settings.single_message_cap * settings.frustration_decay ** 3, abs=1e-3)
    assert decide(customer([FURIOUS, *calm, FURIOUS]), settings) is None
    assert decide(customer([FURIOUS, FURIOUS]), settings) is not None


def test_feedback_counts_only_as_a_reply_to_the_bot(settings: HandoffSettings) -> None:
    first = [Turn(text="this is useless", intent="complain_about_bot", bot_answered_before=False)]
    reply = [Turn(text="this is useless", intent="complain_about_bot", bot_answered_before=True)]
    assert conversation_signals(first, settings).latest_signals[NEGATIVE_FEEDBACK] == 0.0
    assert conversation_signals(reply, settings).turn_scores[0] > conversation_signals(first, settings).turn_scores[0]


def test_rephrased_question_raises_the_score(settings: HandoffSettings) -> None:
    turns = customer([("where is my order", "check_order_status"), ("I asked where my order is", "nlu_fallback")])
    signals = conversation_signals(turns, settings)
    assert signals.latest_signals[REPEATED_QUESTION] == 1.0
    assert signals.turn_scores[-1] > score_message(turns[-1].text, settings).score


def test_same_intent_after_an_answer_is_a_repeat(settings: HandoffSettings) -> None:
    turns = customer([("where is my refund", "check_refund_status"), ("and the money?", "check_refund_status")])
    assert conversation_signals(turns, settings).latest_signals[REPEATED_QUESTION] == 1.0


@pytest.mark.parametrize(
    "pair",
    [
        [("where is my order", "check_order_status"), ("where is my refund", "check_refund_status")],
        [("KL-123456", "inform"), ("KL-123457", "inform")],
        [("how do late fees work?", "faq/late_fees"), ("can I pay early?", "faq/early_payment")],
        [("thanks", "thanks"), ("thanks", "thanks")],
    ],
)
def test_different_questions_and_form_answers_are_not_repeats(
    pair: list[tuple[str, str]], settings: HandoffSettings
) -> None:
    assert conversation_signals(customer(pair), settings).latest_signals[REPEATED_QUESTION] == 0.0


def test_stored_signals_are_used_instead_of_scoring_again(settings: HandoffSettings) -> None:
    stored = MessageFrustration(score=0.5, signals={CAPS: 1.0, PROFANITY: 1.0})
    turn = Turn(text="fine", intent="inform", frustration=stored)
    assert conversation_signals([turn], settings).turn_scores == [0.7]


# --- reasons, in order ---------------------------------------------------------------------------


def test_explicit_request_wins_over_everything(settings: HandoffSettings) -> None:
    turns = customer([("blah", "nlu_fallback"), FURIOUS, ("get me a human", "request_human")])
    decision = decide(turns, settings)
    assert decision is not None and decision.reason == EXPLICIT_REQUEST
    assert decision.details["intent"] == "request_human"


@pytest.mark.parametrize("intent", ["complaint", "dispute_charge", "account_locked", "return_problem"])
def test_judgement_intents_hand_off_at_once(intent: str, settings: HandoffSettings) -> None:
    decision = decide(customer([("something about it", intent)]), settings)
    assert decision is not None and decision.reason == f"judgement:{intent}"


def test_two_angry_fallbacks_in_a_row_hand_off_for_frustration(settings: HandoffSettings) -> None:
    """The customer the bot did not understand twice is also angry: the apology and the warning fit."""
    turns = customer([("how long does a refund take?", "faq"),
                      ("that's not what I asked, this is useless!!", "nlu_fallback"),
                      ("THIS IS RIDICULOUS, WHY IS IT SO HARD TO GET MY MONEY BACK???", "nlu_fallback")])
    decision = decide(turns, settings)
    assert decision is not None and decision.reason == FRUSTRATION


def test_two_fallbacks_in_a_row_hand_off_but_one_does_not(settings: HandoffSettings) -> None:
    one = customer([("where is my order", "check_order_status"), ("blorp", "nlu_fallback")])
    assert decide(one, settings) is None
    two = customer([("blorp", "nlu_fallback"), ("qwzx", "nlu_fallback")])
    decision = decide(two, settings)
    assert decision is not None and decision.reason == LOW_NLU_CONFIDENCE
    assert decision.details["fallback_streak"] == 2


def test_a_fallback_streak_broken_by_an_understood_message_does_not_count(settings: HandoffSettings) -> None:
    turns = customer([("blorp", "nlu_fallback"), ("hi", "greet"), ("qwzx", "nlu_fallback")])
    assert decide(turns, settings) is None


def test_no_turns_no_decision(settings: HandoffSettings) -> None:
    assert decide([], settings) is None


# --- priority ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "frustration", "expected"),
    [
        ("judgement:account_locked", 0.0, 5),
        ("judgement:account_locked", 1.7, 5),
        ("judgement:dispute_charge", 0.0, 4),
        ("judgement:complaint", 0.0, 3),
        ("judgement:complaint", 1.2, 4),
        ("judgement:unlisted_intent", 0.0, 3),
        (EXPLICIT_REQUEST, 0.3, 3),
        (LOW_NLU_CONFIDENCE, 0.0, 2),
        (LOW_ACTION_CONFIDENCE, 0.0, 2),
        (FRUSTRATION, 1.0, 3),
        (FRUSTRATION, 1.6, 4),
    ],
)
def test_priority_from_reason_and_frustration(
    reason: str, frustration: float, expected: int, settings: HandoffSettings
) -> None:
    assert priority_for(reason, frustration, settings) == expected


# --- turns from events ---------------------------------------------------------------------------


def user(text: str, intent: str, **parse_data: Any) -> dict[str, Any]:
    return {"event": "user", "text": text, "timestamp": 1.0,
            "parse_data": {"intent": {"name": intent, "confidence": 0.8}, **parse_data}}


def test_turns_from_events_restart_after_handoff_resume_restart_and_new_session(settings: HandoffSettings) -> None:
    for boundary in [{"event": "action", "name": "action_handoff"}, {"event": "resume"}, {"event": "restart"},
                     {"event": "session_started"}]:
        events = [user("blorp", "nlu_fallback"), boundary, user("qwzx", "nlu_fallback")]
        assert [turn.text for turn in turns_from_events(events, settings)] == ["qwzx"]


def test_turns_from_events_read_intent_confidence_frustration_and_bot_replies(settings: HandoffSettings) -> None:
    stored = {"score": 0.3, "signals": {CAPS: 1.0}}
    events = [
        {"event": "action", "name": "action_listen"},
        user("WHERE IS IT", "check_order_status", frustration=stored),
        {"event": "action", "name": "utter_ask_order_number"},
        {"event": "bot", "text": "What is your order number?"},
        {"event": "user", "text": "/request_human", "metadata": {"is_external": True}},
        user("faq question", "faq", frustration="garbage"),
    ]
    events[-1]["parse_data"]["intent"]["full_retrieval_intent_name"] = "faq/late_fees"
    first, second = turns_from_events(events, settings)
    assert (first.intent, first.intent_confidence, first.bot_answered_before) == ("check_order_status", 0.8, False)
    assert first.frustration == MessageFrustration(score=0.3, signals={CAPS: 1.0})
    assert (second.intent, second.frustration, second.bot_answered_before) == ("faq/late_fees", None, True)


# --- settings ------------------------------------------------------------------------------------


def test_settings_defaults_are_documented() -> None:
    for name, model_field in HandoffSettings.__fields__.items():
        assert model_field.field_info.description, f"{name} has no description"
    defaults = HandoffSettings()
    assert (defaults.frustration_threshold, defaults.frustration_decay, defaults.single_message_cap) == (1.0, 0.6, 0.7)
    assert defaults.fallback_streak == 2 and defaults.handoff_action == "action_handoff"


def test_yaml_file_then_environment_override_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "handoff.yml"
    path.write_text("frustration_threshold: 2.0\nfrustration_decay: 0.5\njudgement_intents: [fraud]\n")
    monkeypatch.setenv("HANDOFF_SETTINGS", str(path))
    monkeypatch.setenv("HANDOFF_FRUSTRATION_DECAY", "0.4")
    loaded = get_handoff_settings()
    assert (loaded.frustration_threshold, loaded.frustration_decay, loaded.judgement_intents) == (2.0, 0.4, ["fraud"])


@pytest.mark.parametrize("override", [{"frustration_decay": 1.5}, {"frustration_threshold": 0}, {"fallback_streak": 0}])
def test_impossible_settings_are_rejected(override: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HandoffSettings(**override)
