"""`action_handoff`: moves the conversation to a human agent through the handoff plugin.

The HandoffPolicy (or a rule, or the core fallback) chooses this action; the plugin recomputes
the same decision from the events, writes the ticket and queues the conversation. The customer is
told why and how long the wait is; the tracker is paused so the bot stays silent until the agent
hands back. If live support cannot be reached the bot says so and keeps serving the customer.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher

from handoff.handover import ALREADY_WITH_HUMAN, OFFLINE, QUEUED, UNAVAILABLE, HandoffOutcome, hand_over
from handoff.settings import get_handoff_settings
from handoff.store import HandoffStore, open_store

# Slots worth putting on the ticket: what the bot already verified or was told.
TICKET_SLOTS = ("order_number", "email", "verified_order", "lookup_type")

# A first line that fits the reason, before the queue message.
REASON_RESPONSES = {
    "judgement:complaint": "utter_handoff_complaint",
    "judgement:dispute_charge": "utter_handoff_dispute_charge",
    "judgement:account_locked": "utter_handoff_account_locked",
    "judgement:return_problem": "utter_handoff_return_problem",
    "explicit_request": "utter_handoff_request_human",
    "frustration": "utter_handoff_frustration",
    "low_nlu_confidence": "utter_handoff_low_confidence",
    "low_action_confidence": "utter_handoff_low_confidence",
}
STATUS_RESPONSES = {
    QUEUED: "utter_handoff_queued",
    OFFLINE: "utter_handoff_offline",
    UNAVAILABLE: "utter_handoff_unavailable",
    ALREADY_WITH_HUMAN: "utter_handoff_already_queued",
}

_store: HandoffStore | None = None


def shared_store() -> HandoffStore:
    """One store (one Redis connection pool) for the action server process."""
    global _store
    if _store is None:
        _store = open_store(get_handoff_settings())
    return _store


class ActionHandoff(Action):
    """Hands the conversation to a person and tells the customer what happens next."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        slots = {name: tracker.get_slot(name) for name in TICKET_SLOTS}
        channel = tracker.get_latest_input_channel() or "unknown"
        outcome = await hand_over(shared_store(), get_handoff_settings(), tracker.sender_id,
                                  list(tracker.events), slots, channel)
        self._tell_customer(dispatcher, outcome)
        if outcome.status == UNAVAILABLE:
            return [ActiveLoop(None)]
        return [ActiveLoop(None), ConversationPaused()]

    @staticmethod
    def _tell_customer(dispatcher: CollectingDispatcher, outcome: HandoffOutcome) -> None:
        reason_response = REASON_RESPONSES.get(outcome.decision.reason)
        if reason_response and outcome.status != ALREADY_WITH_HUMAN:
            dispatcher.utter_message(response=reason_response)
        dispatcher.utter_message(
            response=STATUS_RESPONSES[outcome.status],
            position=outcome.position or 1,
            wait_minutes=outcome.wait_minutes,
        )
