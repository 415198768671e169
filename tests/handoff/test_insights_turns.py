"""Rasa events -> capture events -> turn rows (no Redis, no database)."""

from __future__ import annotations

from typing import Any

from handoff.insights.events import slim_event, text_version
from handoff.insights.turns import TurnAssembler, TurnRules

RULES = TurnRules(frozenset({"nlu_fallback", "out_of_scope"}), "action_handoff")
METADATA = {"model_id": "m-123", "assistant_id": "paylater"}


def user(text: str, intent: str, confidence: float, decision: dict[str, Any] | None = None) -> dict[str, Any]:
    parse_data: dict[str, Any] = {
        "text": text, "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence, "extra": 1},
                           *({"name": f"other{i}", "confidence": 0.01} for i in range(8))],
    }
    if decision is not None:
        parse_data["decision"] = decision
    return {"sender_id": "c1", "event": "user", "timestamp": 1_700_000_000.5, "text": text,
            "input_channel": "socketio", "parse_data": parse_data, "metadata": METADATA}


def bot(text: str, response: str) -> dict[str, Any]:
    return {"sender_id": "c1", "event": "bot", "timestamp": 1_700_000_001.0, "text": text,
            "metadata": {**METADATA, "utter_action": response}}


def action(name: str) -> dict[str, Any]:
    return {"sender_id": "c1", "event": "action", "timestamp": 1_700_000_001.0, "name": name,
            "policy": "RulePolicy", "confidence": 1.0, "metadata": METADATA}


def rows_of(*events: dict[str, Any]) -> list[dict[str, Any]]:
    assembler = TurnAssembler(RULES)
    slim = [(f"1-{index}", slim_event(event)) for index, event in enumerate(events)]
    return assembler.read([(entry_id, event) for entry_id, event in slim if event is not None]).rows


def test_a_templated_answer_keeps_one_version_until_the_domain_rewords_it() -> None:
    responses = {"utter_queued": [{"text": "You are number {position} in the queue."}]}
    first = slim_event(bot("You are number 3 in the queue.", "utter_queued"), responses)
    later = slim_event(bot("You are number 1 in the queue.", "utter_queued"), responses)
    reworded = slim_event(bot("You are number 1 in the queue.", "utter_queued"),
                          {"utter_queued": [{"text": "{position} people are before you."}]})
    assert first is not None and later is not None and reworded is not None
    assert first["version"] == later["version"] != reworded["version"]
    unnamed = slim_event(bot("Your order 42 ships today", "utter_status"), responses)  # not in the domain
    assert unnamed is not None and unnamed["version"] == text_version("Your order 42 ships today")


def test_the_capture_event_keeps_no_customer_words_and_no_answer_text() -> None:
    slim_user = slim_event(user("my email is ann@example.com", "inform", 0.9))
    slim_bot = slim_event(bot("Your order 42 ships today", "utter_status"))
    assert slim_user is not None and slim_bot is not None
    assert "ann@example.com" not in str(slim_user) and "order 42" not in str(slim_bot)
    assert slim_bot["version"] == text_version("Your order 42 ships today")
    assert len(slim_user["intent_ranking"]) == 5 and set(slim_user["intent_ranking"][0]) == {"name", "confidence"}
    assert slim_event({"event": "slot", "name": "email", "value": "ann@example.com"}) is None


def test_an_faq_answer_turn_takes_the_response_selectors_confidence() -> None:
    decision = {"intent": "faq", "confidence": 0.81, "source": "response", "sure": True, "answer": "faq/fees"}
    [row] = rows_of(user("what are the fees", "faq", 0.97, decision), action("utter_faq"),
                    bot("No fees if you pay on time.", "utter_faq/fees"), action("action_listen"))
    assert row["event_id"] == "1-0" and row["conversation_id"] == "c1"
    assert (row["intent"], row["confidence"], row["confidence_source"]) == ("faq", 0.81, "response")
    assert (row["channel"], row["model_id"]) == ("socketio", "m-123")
    assert row["answer"] == "utter_faq/fees" and row["answer_version"] == text_version("No fees if you pay on time.")
    # The FAQ entry carries the answer the gate chose, for the review queue; the others are as ranked.
    assert row["top_intents"][0] == {"name": "faq", "confidence": 0.97, "answer": "faq/fees"}
    assert row["top_intents"][1] == {"name": "other0", "confidence": 0.01}
    assert row["fallback"] is False and row["handoff_trigger"] is None
    assert row["at"].year == 2023


def test_a_fallback_turn_and_a_handoff_turn() -> None:
    decision = {"intent": "nlu_fallback", "confidence": 0.3, "source": "intent", "sure": False}
    fallback, handoff = rows_of(
        user("blorp", "nlu_fallback", 0.3, decision), action("utter_ask_rephrase"),
        bot("Could you rephrase?", "utter_ask_rephrase"), action("action_listen"),
        user("a person please", "request_human", 1.0), action("action_handoff"),
        bot("Connecting you", "utter_handoff_request_human"), bot("You are number 1", "utter_handoff_queued"),
        action("action_listen"))
    assert fallback["fallback"] is True and fallback["confidence"] == 0.3
    assert "answer" not in fallback["top_intents"][0]  # no answer was chosen
    assert handoff["fallback"] is False and handoff["handoff_trigger"] == "action_handoff"
    assert handoff["confidence_source"] == "intent" and handoff["confidence"] == 1.0
    assert handoff["answer"] == "utter_handoff_request_human,utter_handoff_queued"


def test_a_turn_stays_open_until_the_bot_listens_and_bot_only_events_need_no_row() -> None:
    assembler = TurnAssembler(RULES)
    greeting = assembler.read([("1-0", slim_event(action("action_session_start")) or {}),
                               ("1-1", slim_event(bot("Hi!", "utter_greet")) or {})])
    assert greeting.rows == [] and greeting.done_ids == ["1-0", "1-1"]
    half = assembler.read([("2-0", slim_event(user("hi", "greet", 0.99)) or {})])
    assert half.rows == [] and half.done_ids == []
    rest = assembler.read([("2-1", slim_event(action("action_listen")) or {})])
    assert [row["intent"] for row in rest.rows] == ["greet"] and rest.done_ids == ["2-0", "2-1"]


def test_an_intent_triggered_from_outside_ends_the_open_turn_and_is_no_turn_itself() -> None:
    """The hand-back after a handoff is an external `handoff_resolved` intent: the handoff turn it
    follows (paused, so no `action_listen`) ends there, and the welcome back makes no row."""
    hand_back = {**user("EXTERNAL: handoff_resolved", "handoff_resolved", 1.0),
                 "metadata": {**METADATA, "is_external": True}}
    rows = rows_of(user("a person please", "request_human", 1.0), action("action_handoff"),
                   bot("You are number 1", "utter_handoff_queued"),
                   hand_back, action("utter_welcome_back"), bot("Welcome back", "utter_welcome_back"),
                   action("action_listen"))
    assert [(row["intent"], row["handoff_trigger"]) for row in rows] == [("request_human", "action_handoff")]
    assert slim_event(hand_back) == {**(slim_event(hand_back) or {}), "external": True}
    assert (slim_event(user("EXTERNAL: hi", "greet", 0.9)) or {})["external"] is False  # typed by a customer


def test_with_text_a_customer_message_carries_its_scrubbed_words_and_an_external_one_none() -> None:
    slim_user = slim_event(user("I'm Anna, my email is ann@example.com, order KL-123456", "inform", 0.9),
                           with_text=True)
    assert slim_user is not None and slim_user["text"] == "I'm <name>, my email is <email>, order <order>"
    hand_back = {**user("EXTERNAL: handoff_resolved", "handoff_resolved", 1.0),
                 "metadata": {**METADATA, "is_external": True}}
    assert "text" not in (slim_event(hand_back, with_text=True) or {})
    assert "text" not in (slim_event(bot("Hi", "utter_greet"), with_text=True) or {})


def test_only_fallback_and_handoff_turns_keep_their_words_for_review() -> None:
    assembler = TurnAssembler(RULES)
    events = [user("what are the fees", "faq", 0.97), action("utter_faq"), action("action_listen"),
              user("blorp KL-123456", "nlu_fallback", 0.3), action("utter_ask_rephrase"), action("action_listen"),
              user("a person please", "request_human", 1.0), action("action_handoff"), action("action_listen")]
    finished = assembler.read([(f"1-{index}", slim_event(event, with_text=True) or {})
                               for index, event in enumerate(events)])
    assert len(finished.rows) == 3
    assert [(row["text"], row["normalised"], row["reason"]) for row in finished.utterances] == [
        ("blorp <order>", "blorp <order>", "fallback"), ("a person please", "a person please", "handoff")]
    assert finished.utterances[0]["top_intents"][0] == {"name": "nlu_fallback", "confidence": 0.3}
    assert finished.utterances[1]["event_id"] == "1-6" and finished.utterances[1]["model_id"] == "m-123"
    without_text = TurnAssembler(RULES).read([(f"1-{index}", slim_event(event) or {})
                                              for index, event in enumerate(events)])
    assert len(without_text.rows) == 3 and without_text.utterances == []
