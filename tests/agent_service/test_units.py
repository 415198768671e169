"""Pieces of the agent service checked without a running service: the agents file, the tracker events a
resolve sends to Rasa, stream-id arithmetic and the pending-sync record."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rasa.shared.core.events import ConversationPaused, Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.schemas.events import EVENTS_SCHEMA

from handoff.agent_service.agents import (
    DEMO_AGENT_ID,
    Agent,
    AgentRegistry,
    AgentsFileError,
    add_agent,
    ensure_demo,
    main,
    read_agents,
)
from handoff.agent_service.hub import MAX_PENDING_PUSHES, Connection
from handoff.agent_service.rasa_sync import handoff_messages, tracker_events
from handoff.agent_service.side_store import PendingSync
from handoff.detect import turns_from_events
from handoff.models import INBOX, OUTBOX, ChatMessage
from tests.agent_service.service_process import ServiceProcess


def test_ensure_demo_creates_a_private_file_once_and_prints_the_token(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "var" / "agents.yml"
    assert main(["ensure-demo", str(path)]) == 0
    token = capsys.readouterr().out.strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (agent,) = read_agents(path)
    assert (agent.id, agent.name, agent.token) == (DEMO_AGENT_ID, "Demo Agent", token)
    assert len(token) >= 32
    assert main(["ensure-demo", str(path)]) == 0
    assert capsys.readouterr().out.strip() == token  # left alone the second time
    assert ensure_demo(path) == (agent, False)


def test_add_appends_an_agent_with_its_own_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "agents.yml"
    ensure_demo(path)
    assert main(["add", str(path), "alice", "Alice Martin"]) == 0
    token = capsys.readouterr().out.strip()
    registry = AgentRegistry.load(path)
    assert registry.authenticate(token).name == "Alice Martin"
    assert main(["add", str(path), "alice", "Alice Again"]) == 2
    assert "already exists" in capsys.readouterr().err
    with pytest.raises(AgentsFileError, match="id"):
        add_agent(path, "has space", "Bad Id")


def test_authenticate_matches_whole_tokens_only(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    alice = add_agent(path, "alice", "Alice")
    registry = AgentRegistry.load(path)
    assert registry.authenticate(alice.token) == alice
    for wrong in (None, "", alice.token[:-1], alice.token + "x", alice.token.upper()):
        assert registry.authenticate(wrong) is None


@pytest.mark.parametrize(("content", "message"), [
    (None, "does not exist"),
    ("agents: [", "cannot be read"),
    ("agents: []", "non-empty list"),
    ("- just a list", "non-empty list"),
    ("agents: [{id: a, name: A}]", "token of at least"),
    ("agents: [{id: a, name: A, token: short}]", "token of at least"),
    ("agents: [{id: '{a}', name: A, token: 0123456789abcdef}]", "needs an id"),
    ("agents: [{id: a, token: 0123456789abcdef}]", "needs a name"),
    ("agents: [{id: a, name: A, token: 0123456789abcdef}, {id: a, name: B, token: 0123456789abcdeX}]",
     "same id"),
    ("agents: [{id: a, name: A, token: 0123456789abcdef}, {id: b, name: B, token: 0123456789abcdef}]",
     "same token"),
])
def test_a_bad_agents_file_is_a_clear_error(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "agents.yml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(AgentsFileError, match=message):
        read_agents(path)


def test_the_service_refuses_to_start_without_an_agents_file(
        tmp_path: Path, service_settings: dict[str, str]) -> None:
    process = ServiceProcess(tmp_path, {**service_settings, "agents_file": str(tmp_path / "missing.yml")})
    assert process.launch().wait(timeout=30) == 2
    assert "ensure-demo" in process.log_file.read_text()


def test_the_service_refuses_to_start_without_a_secret_for_rasas_api(
        tmp_path: Path, service_settings: dict[str, str]) -> None:
    process = ServiceProcess(tmp_path, {**service_settings, "rasa_jwt_secret": ""})
    assert process.launch().wait(timeout=30) == 2
    assert "HANDOFF_RASA_JWT_SECRET" in process.log_file.read_text()


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
    connection = Connection(Agent("alice", "Alice", "x" * 16), sink)
    for n in range(MAX_PENDING_PUSHES + 1):
        connection.push({"type": "queue", "n": n})  # never blocks, however slow the socket
    await connection.pump()
    assert sink.sent == []
    assert sink.closed_with is not None
    assert sink.closed_with[0] == 1013


@pytest.mark.asyncio
async def test_pushes_are_sent_in_order() -> None:
    sink = RecordingSink()
    connection = Connection(Agent("alice", "Alice", "x" * 16), sink)
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
