"""The WebSocket connections of THIS process and what each one is told.

Only sockets live here (they cannot be shared anyway); everything a push says is read from Redis
when it is sent, so any number of service processes can run side by side, each fanning the same
store events out to its own consoles.

Server -> console messages:
- `hello`   {agent, queue, mine}: the full picture; first on connect, again after a Redis outage
            (the console replaces what it had).
- `queue`   {queue}: the waiting list after any ticket was created, claimed, transferred,
            resolved, abandoned or requeued.
- `message` {conversation_id, message}: a new customer message (inbox) of a conversation the agent
            holds; `message.kind` is `text`, or `typing` for the customer's typing indicator.
- `event`   {event, conversation_id, data, ts, id, mine}: a claim / transfer / resolve / abandon
            that involves the agent, with their conversations afterwards.
- `sent` {id, conversation_id, kind, stream_id, duplicate}: a `send` from the console was stored.
- `pong` (reply to `ping`), `error` {error} (with `id` and `status` for a refused `send`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from typing import Any, Protocol

from handoff.agent_service.agents import Agent
from handoff.agent_service.views import conversation_item, queue_item
from handoff.models import ASSIGNED, INBOX, HandoffEvent
from handoff.store import HandoffStore

logger = logging.getLogger(__name__)

TICKET_EVENTS = frozenset({"ticket_created", "ticket_claimed", "ticket_transferred", "ticket_resolved",
                           "ticket_abandoned", "ticket_requeued"})
# Pushes a console may fall behind by before it is dropped (it reconnects and gets a fresh hello).
MAX_PENDING_PUSHES = 1000


class Sink(Protocol):
    async def send(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class Connection:
    """One console socket with its own send queue, so one slow console never holds up the others."""

    def __init__(self, agent: Agent, sink: Sink) -> None:
        self.agent = agent
        self._sink = sink
        self._pending: asyncio.Queue[str | None] = asyncio.Queue(MAX_PENDING_PUSHES)
        self._dropped = False

    def push(self, payload: dict[str, Any]) -> None:
        if self._dropped:
            return
        if self._pending.full():
            logger.warning("console of %s fell %d pushes behind; dropping it",
                           self.agent.id, MAX_PENDING_PUSHES)
            self._dropped = True
            while not self._pending.empty():
                self._pending.get_nowait()
            self._pending.put_nowait(None)
            return
        self._pending.put_nowait(json.dumps(payload))

    async def pump(self) -> None:
        """Sends queued pushes in order until the connection is dropped."""
        while (text := await self._pending.get()) is not None:
            await self._sink.send(text)
        await self._sink.close(code=1013, reason="console too slow; reconnect")


class Hub:
    """Connected consoles of this process, by agent, and the fan-out of store events to them."""

    def __init__(self, store: HandoffStore) -> None:
        self._store = store
        self._connections: dict[str, set[Connection]] = defaultdict(set)

    def add(self, connection: Connection) -> None:
        self._connections[connection.agent.id].add(connection)

    def remove(self, connection: Connection) -> None:
        connections = self._connections.get(connection.agent.id)
        if connections is not None:
            connections.discard(connection)
            if not connections:
                del self._connections[connection.agent.id]

    def _all(self) -> list[Connection]:
        return [connection for connections in self._connections.values() for connection in connections]

    async def queue(self) -> list[dict[str, Any]]:
        return [queue_item(entry) for entry in await self._store.list_queue()]

    async def mine(self, agent_id: str) -> list[dict[str, Any]]:
        """Conversations the agent holds right now (the chat set may briefly hold leftovers)."""
        conversation_ids = await self._store.agent_chats(agent_id)
        states = await asyncio.gather(*(self._store.get_state(c) for c in conversation_ids))
        return [conversation_item(state) for state in states
                if state.mode == ASSIGNED and state.agent_id == agent_id]

    async def hello(self, agent: Agent) -> dict[str, Any]:
        return {"type": "hello", "agent": agent.public(), "queue": await self.queue(),
                "mine": await self.mine(agent.id)}

    async def resync(self) -> None:
        """Sends every console a fresh hello (after an outage, when events may have been missed)."""
        for connection in self._all():
            connection.push(await self.hello(connection.agent))

    async def dispatch(self, events: list[HandoffEvent]) -> None:
        """Turns a batch of store events into pushes; the queue is sent once per batch."""
        if not self._connections:
            return
        queue_changed = False
        for event in events:
            if event.type == "message":
                self._customer_message(event)
            elif event.type in TICKET_EVENTS:
                queue_changed = True
                await self._ticket_event(event)
        if queue_changed and self._connections:
            payload = {"type": "queue", "queue": await self.queue()}
            for connection in self._all():
                connection.push(payload)

    def _customer_message(self, event: HandoffEvent) -> None:
        """Pushes a customer message to the consoles of the agent who held the conversation when
        it was stored; the event carries the message, so nothing is read back from Redis."""
        agent_id = event.data.get("agent_id")
        if event.data.get("direction") != INBOX or agent_id not in self._connections:
            return
        payload = {"type": "message", "conversation_id": event.conversation_id, "message": event.data["message"]}
        for connection in list(self._connections.get(agent_id, ())):
            connection.push(payload)

    async def _ticket_event(self, event: HandoffEvent) -> None:
        involved = {event.data.get(key) for key in ("agent_id", "from_agent", "to_agent")}
        for agent_id in sorted(a for a in involved if isinstance(a, str) and a in self._connections):
            payload = {"type": "event", "event": event.type, "conversation_id": event.conversation_id,
                       "data": event.data, "ts": event.ts, "id": event.id, "mine": await self.mine(agent_id)}
            for connection in list(self._connections.get(agent_id, ())):
                connection.push(payload)
