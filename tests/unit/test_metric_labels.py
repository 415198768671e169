"""The metrics' label values come from closed sets, and a bot turn's outcome is read from what Rasa
recorded of it (handoff/metrics/labels.py, handoff/metrics/bot_turns.py)."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, UserUttered

from handoff.channels.refusals import AgentsUnavailable, RateLimited
from handoff.channels.router import MessageRejected
from handoff.metrics.bot_turns import turn_outcome
from handoff.metrics.exposition import is_metrics_token
from handoff.metrics.labels import (
    channel_label,
    refusal_reason,
    route_label,
    trigger_label,
    triggers,
)

JUDGEMENT = frozenset({"complaint", "dispute_charge"})
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})


def test_channels_and_routes_keep_to_their_sets() -> None:
    assert [channel_label(name) for name in ("handoff_rest", "handoff_socketio", "handoff_slack")] == [
        "handoff_rest", "handoff_socketio", "handoff_slack"]
    assert channel_label("my_channel", {"my_channel"}) == "my_channel"
    assert [channel_label(odd) for odd in ("rest", "c-123", "", None, 7)] == ["other"] * 5
    assert [route_label(route) for route in ("bot", "human", "duplicate", "refused", "c-123")] == [
        "bot", "human", "duplicate", "other", "other"]


def test_a_refusal_is_labelled_by_its_kind_never_by_its_text() -> None:
    assert refusal_reason(RateLimited("messages", 3)) == "rate_limited"
    assert refusal_reason(AgentsUnavailable(2)) == "unavailable"
    assert refusal_reason(MessageRejected(413, "the message is 5000 bytes")) == "invalid"
    assert refusal_reason(MessageRejected(403, "unknown conversation")) == "invalid"


def test_triggers_are_the_detectors_reasons_or_a_configured_judgement_intent() -> None:
    for reason in ("explicit_request", "frustration", "low_nlu_confidence", "low_action_confidence",
                   "judgement:complaint"):
        assert trigger_label(reason, JUDGEMENT) == reason
    for odd in ("judgement:someone@example.com", "judgement:", "c-123", "", None):
        assert trigger_label(odd, JUDGEMENT) == "other"
    assert triggers(JUDGEMENT) == ["explicit_request", "frustration", "low_nlu_confidence", "low_action_confidence",
                                   "judgement:complaint", "judgement:dispute_charge", "other"]


def test_the_metrics_token_must_match_and_an_empty_setting_matches_nothing() -> None:
    assert is_metrics_token("s3cret-token", "s3cret-token")
    assert not is_metrics_token("s3cret-tokem", "s3cret-token")
    assert not is_metrics_token(None, "s3cret-token")
    assert not is_metrics_token("", "")
    assert not is_metrics_token("anything", "")


def user(intent: str) -> UserUttered:
    return UserUttered("text", intent={"name": intent, "confidence": 0.9})


def action(name: str) -> ActionExecuted:
    return ActionExecuted(name)


@pytest.mark.parametrize(("events", "outcome"), [
    ([action("action_listen"), user("faq"), action("utter_faq"), BotUttered("a"), action("action_listen")],
     "answered"),
    ([user("greet"), action("utter_greet"), action("action_listen"), user("nlu_fallback"),
      action("utter_please_rephrase"), action("action_listen")], "fallback"),
    ([user("out_of_scope"), action("utter_out_of_scope"), action("action_listen")], "fallback"),
    ([user("nlu_fallback"), action("action_handoff"), ConversationPaused()], "handoff"),
    ([user("complaint"), action("utter_handoff_complaint"), action("action_handoff"), ConversationPaused()],
     "handoff"),
    # A paused conversation: Rasa records the message and the bot stays silent.
    ([user("faq"), action("action_handoff"), ConversationPaused(), user("faq")], None),
    ([action("action_session_start"), action("action_listen")], None),
    ([], None),
])
def test_a_bot_turns_outcome_is_what_followed_the_latest_message(events: list, outcome: str | None) -> None:
    assert turn_outcome(events, FALLBACK_INTENTS, "action_handoff") == outcome
