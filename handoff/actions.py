"""`action_handoff`: moves the conversation to a human agent through the handoff plugin.

Any Rasa 3.6 assistant runs it: import this module in the action package the action server loads
(see docs/adopting.md); its responses come with the domain fragment `handoff/domain/handoff.yml`.

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

from handoff.detect import JUDGEMENT_PREFIX
from handoff.handover import ALREADY_WITH_HUMAN, OFFLINE, QUEUED, UNAVAILABLE, HandoffOutcome, hand_over
from handoff.settings import get_handoff_settings
from handoff.store import HandoffStore, open_store

# A first line that fits the reason, before the queue message. A judgement case `judgement:<intent>`
# gets the assistant's `utter_handoff_<intent>` when its domain has one.
REASON_RESPONSES = {
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

# Slots Rasa keeps for itself: bookkeeping, not something the customer told the bot.
RASA_INTERNAL_SLOTS = frozenset({"requested_slot", "session_started_metadata"})

_store: HandoffStore | None = None


def shared_store() -> HandoffStore:
    """One store (one Redis connection pool) for the action server process."""
    global _store
    if _store is None:
        _store = open_store(get_handoff_settings())
    return _store


def ticket_slots(tracker: Tracker, names: list[str] | None) -> dict[str, Any]:
    """The slots the agent sees on the ticket: the named ones, or (no names) every slot that is set."""
    if names is not None:
        return {name: tracker.get_slot(name) for name in names}
    return {name: value for name, value in tracker.slots.items()
            if value is not None and name not in RASA_INTERNAL_SLOTS}


def reason_response_name(reason: str) -> str | None:
    """The response that explains the handoff reason to the customer."""
    if reason.startswith(JUDGEMENT_PREFIX):
        return f"utter_handoff_{reason.removeprefix(JUDGEMENT_PREFIX)}"
    return REASON_RESPONSES.get(reason)


class ActionHandoff(Action):
    """Hands the conversation to a person and tells the customer what happens next."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        settings = get_handoff_settings()
        slots = ticket_slots(tracker, settings.ticket_slots)
        channel = tracker.get_latest_input_channel() or "unknown"
        outcome = await hand_over(shared_store(), settings, tracker.sender_id,
                                  list(tracker.events), slots, channel)
        self._tell_customer(dispatcher, outcome, domain.get("responses") or {})
        if outcome.status == UNAVAILABLE:
            return [ActiveLoop(None)]
        return [ActiveLoop(None), ConversationPaused()]

    @staticmethod
    def _tell_customer(dispatcher: CollectingDispatcher, outcome: HandoffOutcome,
                       responses: dict[str, Any]) -> None:
        reason_response = reason_response_name(outcome.decision.reason)
        if reason_response in responses and outcome.status != ALREADY_WITH_HUMAN:
            dispatcher.utter_message(response=reason_response)
        dispatcher.utter_message(
            response=STATUS_RESPONSES[outcome.status],
            position=outcome.position or 1,
            wait_minutes=outcome.wait_minutes,
        )
