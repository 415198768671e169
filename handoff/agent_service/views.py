"""The JSON shapes the API and the WebSocket send, built from the store's records in one place so
HTTP responses and live pushes always agree."""

from __future__ import annotations

from typing import Any

from handoff.models import ChatMessage, ConversationState, QueueEntry, Ticket


def ticket_brief(ticket: Ticket | None) -> dict[str, Any]:
    """What a list needs to triage a ticket; the full ticket (slots, bot transcript) is served
    only with the conversation, to keep queue pushes small."""
    if ticket is None:
        return {"reason": "", "frustration": 0.0, "summary": "", "intents": []}
    return {"reason": ticket.reason, "frustration": ticket.frustration, "summary": ticket.summary,
            "intents": ticket.intents}


def queue_item(entry: QueueEntry) -> dict[str, Any]:
    return {"conversation_id": entry.conversation_id, "position": entry.position, "priority": entry.priority,
            "queued_at": entry.queued_at, "wait_seconds": entry.wait_seconds, "channel": entry.channel,
            **ticket_brief(entry.ticket)}


def state_view(state: ConversationState) -> dict[str, Any]:
    """The conversation's mode and ownership, without the ticket."""
    return {"conversation_id": state.conversation_id, "mode": state.mode, "agent_id": state.agent_id,
            "priority": state.priority, "channel": state.channel, "queued_at": state.queued_at,
            "assigned_at": state.assigned_at, "updated_at": state.updated_at, "version": state.version}


def conversation_item(state: ConversationState) -> dict[str, Any]:
    """One entry of an agent's 'mine' list."""
    return {**state_view(state), **ticket_brief(state.ticket)}


def message_view(message: ChatMessage) -> dict[str, Any]:
    return message.to_dict()
