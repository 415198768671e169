"""Pieces of the agent service checked without a running service: the tracker events a resolve sends to
Rasa, stream-id arithmetic and the pending-sync record (the agents file: test_agents_file.py)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jsonschema
import pytest
from rasa.shared.core.events import ConversationPaused, Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.schemas.events import EVENTS_SCHEMA

from handoff.agent_service.agents import Agent, hash_token
from handoff.agent_service.hub import MAX_PENDING_PUSHES, Connection
from handoff.agent_service.rasa_sync import handoff_messages, tracker_events
from handoff.agent_service.side_store import PendingSync
from handoff.detect import turns_from_events
from handoff.models import INBOX, OUTBOX, ChatMessage

INTENT = "handoff_customer_message"


def message(
        seq: int, direction: str, text: str, *, kind: str = "text", sender: str = "customer",
        ts: float = 100.0, **extra: str) -> ChatMessage:
    return ChatMessage(id=f"m{seq}", conversation_id="c", direction=direction, sender=sender, text=text,
                       kind=kind, ts=ts, stream_id=f"{seq}-0", seq=seq, extra=extra)


def pending(**fields: Any) -> PendingSync:
    return PendingSync(**{"conversation_id": "c", "agent_id": "alice", "agent_name": "Alice",
                          "channel": "rest", "since": 100.0, "until_seq": 10, "version": 3, **fields})


def test_only_the_handoffs_text_messages_are_synced() -> None:
    transcript = [
        message(1, INBOX, "from an earlier handoff", ts=50.0),
        message(2, INBOX, "hello"),
        message(3, OUTBOX, "", kind="typing", sender="alice"),
        message(4, OUTBOX, "internal", kind="note", sender="alice"),
        message(5, OUTBOX, "hi there", sender="alice", agent_name="Alice"),
        message(6, OUTBOX, "welcome back from a previous sync", sender="bot"),
        message(11, INBOX, "after the resolve"),
    ]
    assert [m.seq for m in handoff_messages(transcript, pending())] == [2, 5]
    assert [m.seq for m in handoff_messages(transcript, pending(until_seq=-1))] == [2, 5, 11]


def test_tracker_events_are_ordered_and_end_with_slots_and_resume() -> None:
    messages = [message(2, INBOX, "hello"), message(5, OUTBOX, "hi", sender="alice", agent_name="Alice")]
    events = tracker_events(pending(slots={"order_id": "A-1"}), messages, INTENT, resume=True)
    assert [event["event"] for event in events] == ["action", "user", "bot", "slot", "resume", "action"]
    assert events[0] == events[-1] == {"event": "action", "name": "action_listen"}
    assert events[1]["parse_data"]["intent"]["name"] == INTENT
    assert events[2]["metadata"]["agent_name"] == "Alice"
    assert events[3] == {"event": "slot", "name": "order_id", "value": "A-1"}
    paused = tracker_events(pending(), messages, "x", resume=False)
    assert [event["event"] for event in paused] == ["action", "user", "bot"]


def test_pending_sync_survives_the_round_trip_through_a_hash() -> None:
    record = pending(slots={"n": 1, "nested": {"a": [1, 2]}}, stage="trigger", attempts=2, last_error="down")
    assert PendingSync.from_hash(record.to_hash()) == record


def test_tracker_events_are_valid_rasa_events_that_unpause_the_tracker() -> None:
    """Checked against Rasa's own request schema and event classes (the installed Rasa 3.6)."""
    messages = [message(2, INBOX, "hello"), message(5, OUTBOX, "hi", sender="alice", agent_name="Alice")]
    events = tracker_events(pending(slots={"order_id": "A-1"}), messages, INTENT, resume=True)
    jsonschema.validate(events, EVENTS_SCHEMA)
    tracker = DialogueStateTracker("c", [])
    tracker.update(ConversationPaused())
    for event in events:
        tracker.update(Event.from_parameters(event))
    assert not tracker.is_paused()
    assert (tracker.latest_message.text, tracker.latest_message.input_channel) == ("hello", "rest")
    assert tracker.latest_bot_utterance.metadata["agent_id"] == "alice"
    # The handoff detection starts afresh at `resume`: what the customer told the agent does not
    # count towards the next handoff.
    assert turns_from_events([e.as_dict() for e in tracker.events]) == []


class RecordingSink:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed_with: tuple[int, str] | None = None

    async def send(self, data: str) -> None:
        self.sent.append(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = (code, reason)


@pytest.mark.asyncio
async def test_a_console_that_falls_too_far_behind_is_dropped_not_waited_for() -> None:
    sink = RecordingSink()
    connection = Connection(Agent("alice", "Alice", hash_token("x" * 16)), sink)
    for n in range(MAX_PENDING_PUSHES + 1):
        connection.push({"type": "queue", "n": n})  # never blocks, however slow the socket
    await connection.pump()
    assert sink.sent == []
    assert sink.closed_with is not None
    assert sink.closed_with[0] == 1013


@pytest.mark.asyncio
async def test_pushes_are_sent_in_order() -> None:
    sink = RecordingSink()
    connection = Connection(Agent("alice", "Alice", hash_token("x" * 16)), sink)
    pump = asyncio.create_task(connection.pump())
    for n in range(3):
        connection.push({"n": n})

    async def all_sent() -> None:
        while len(sink.sent) < 3:
            await asyncio.sleep(0)

    await asyncio.wait_for(all_sent(), timeout=5)
    pump.cancel()
    await asyncio.gather(pump, return_exceptions=True)
    assert [json.loads(text)["n"] for text in sink.sent] == [0, 1, 2]
