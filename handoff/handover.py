"""The handoff itself, for a custom action to call: decide why, write the ticket, queue the
conversation (or keep it for when an agent comes online), and report what to tell the customer.

Kept free of rasa_sdk so any assistant's action can call it with its tracker's events and slots.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handoff.detect import (
    LOW_ACTION_CONFIDENCE,
    HandoffDecision,
    conversation_signals,
    decide,
    priority_for,
    turns_from_events,
)
from handoff.models import Ticket
from handoff.settings import HandoffSettings
from handoff.store import HandoffStore, StoreUnavailable
from handoff.ticket import build_ticket

logger = logging.getLogger(__name__)

QUEUED = "queued"
OFFLINE = "offline"
UNAVAILABLE = "unavailable"
ALREADY_WITH_HUMAN = "already_with_human"


@dataclass(frozen=True)
class HandoffOutcome:
    """What happened to a handoff request; `status` is one of the constants above."""

    status: str
    decision: HandoffDecision
    ticket: Ticket
    position: int | None = None
    wait_seconds: float | None = None

    @property
    def wait_minutes(self) -> int:
        """The estimate rounded up to whole minutes, as customers are told it."""
        return max(1, -(-int(self.wait_seconds or 0) // 60))


def decision_for(events: list[dict[str, Any]], settings: HandoffSettings) -> HandoffDecision:
    """The same decision the HandoffPolicy made; when no trigger fired, the action was chosen by
    the core fallback (the bot did not know what to do), so that is the reason."""
    turns = turns_from_events(events, settings)
    decision = decide(turns, settings)
    if decision is not None:
        return decision
    frustration = conversation_signals(turns, settings).frustration
    return HandoffDecision(LOW_ACTION_CONFIDENCE, {}, frustration,
                           priority_for(LOW_ACTION_CONFIDENCE, frustration, settings))


async def hand_over(store: HandoffStore, settings: HandoffSettings, conversation_id: str,
                    events: list[dict[str, Any]], slots: Mapping[str, Any], channel: str) -> HandoffOutcome:
    """Queues the conversation for an agent with a full ticket; never raises for Redis trouble."""
    decision = decision_for(events, settings)
    ticket = build_ticket(conversation_id, decision, events, slots, channel)
    try:
        agents_online = bool(await store.online_agents())
        result = await store.request_handoff(conversation_id, ticket, ticket.priority, channel,
                                             agents_online=agents_online)
    except StoreUnavailable as error:
        logger.warning("handoff of %s impossible, redis unavailable: %s", conversation_id, error)
        return HandoffOutcome(UNAVAILABLE, decision, ticket)
    if not result.ok:
        return HandoffOutcome(ALREADY_WITH_HUMAN, decision, ticket)
    logger.info("handoff of %s: reason=%s priority=%s frustration=%.2f agents_online=%s",
                conversation_id, decision.reason, decision.priority, decision.frustration, agents_online)
    if not agents_online:
        return HandoffOutcome(OFFLINE, decision, ticket)
    return HandoffOutcome(QUEUED, decision, ticket, result.position, result.estimated_wait_seconds)
