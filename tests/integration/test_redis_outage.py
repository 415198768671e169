"""Chaos: redis-server killed (SIGKILL) under steady two-way traffic, down about a second, restarted
from its append-only file. Ten customers on socket.io each chat with an agent, a message every
200 ms each way; every client sends a message again, with the same id, until it is acknowledged,
as the widget and the console do. Nothing acknowledged may be lost, doubled or reordered in either
direction, and no customer with a person may hear from the bot.

This test kills and restarts the shared test system's redis-server, and leaves it running."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from rasa_bot.processes import ManagedProcess
from rasa_bot.system import SystemLayout
from tests.integration.agent_client import AgentClient
from tests.integration.socket_customer import SocketCustomer
from tests.system_fixtures import AGENTS, MAX_CONCURRENT_CHATS

pytestmark = pytest.mark.model

CUSTOMERS = 2 * MAX_CONCURRENT_CHATS  # every place of both agents
SEND_INTERVAL_SECONDS = 0.2
TRAFFIC_BEFORE_KILL_SECONDS = 2.0
REDIS_DOWN_SECONDS = 1.0
TRAFFIC_AFTER_RESTART_SECONDS = 3.0
RETRY_PAUSE_SECONDS = 0.2
DELIVERY_DEADLINE_SECONDS = 60.0  # a message not acknowledged by then fails the test
RESTART_TIMEOUT_SECONDS = 60.0
ACK_TIMEOUT_SECONDS = 15.0


@dataclass
class Chat:
    """One customer and the agent who holds the conversation, and what each side had acknowledged."""

    customer: SocketCustomer
    agent: AgentClient
    from_customer: list[str] = field(default_factory=list)  # acknowledged message ids, in order
    from_agent: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    refused: int = 0  # sends answered "not delivered" (customer) or 503 / no answer (agent)

    @property
    def conversation_id(self) -> str:
        assert self.customer.conversation_id
        return self.customer.conversation_id


class Outage:
    """Kills redis-server, waits, starts it again; the traffic goes on until a while after that."""

    def __init__(self, redis: ManagedProcess) -> None:
        self.redis = redis
        self.traffic_ends_at: float | None = None  # a while after Redis is back

    async def run(self) -> None:
        await asyncio.sleep(TRAFFIC_BEFORE_KILL_SECONDS)
        assert self.redis.process is not None
        os.kill(self.redis.process.pid, signal.SIGKILL)
        await asyncio.to_thread(self.redis.process.wait, 10)
        await asyncio.sleep(REDIS_DOWN_SECONDS)
        await asyncio.to_thread(self.restart)
        self.traffic_ends_at = asyncio.get_running_loop().time() + TRAFFIC_AFTER_RESTART_SECONDS

    def traffic_goes_on(self) -> bool:
        return self.traffic_ends_at is None or asyncio.get_running_loop().time() < self.traffic_ends_at

    def restart(self) -> None:
        self.redis.stop()
        self.redis.start()
        self.redis.wait_ready(RESTART_TIMEOUT_SECONDS)

    def ensure_running(self) -> None:
        if self.redis.process is None or self.redis.process.poll() is not None:
            self.restart()


async def customer_sends(chat: Chat, outage: Outage) -> None:
    number = 0
    while outage.traffic_goes_on():
        message_id = uuid.uuid4().hex
        route, refused = await deliver_from_customer(chat.customer, f"customer {number}", message_id)
        chat.routes.append(route)
        chat.refused += refused
        chat.from_customer.append(message_id)
        number += 1
        await asyncio.sleep(SEND_INTERVAL_SECONDS)


async def deliver_from_customer(customer: SocketCustomer, text: str, message_id: str) -> tuple[str, int]:
    """Sends until acknowledged, with the same id each time; returns the acknowledged route and how
    many sends were refused first."""
    deadline = asyncio.get_running_loop().time() + DELIVERY_DEADLINE_SECONDS
    payload = {"message": text, "session_id": customer.conversation_id, "message_id": message_id}
    refused = 0
    while asyncio.get_running_loop().time() < deadline:
        try:
            ack: Any = await customer.client.call("user_uttered", payload, timeout=ACK_TIMEOUT_SECONDS)
        except TimeoutError:
            ack = None
        if isinstance(ack, dict) and ack.get("ok"):
            return str(ack["route"]), refused
        assert ack is None or "retry_after" in ack, f"refused for good: {ack}"
        refused += 1
        await asyncio.sleep(RETRY_PAUSE_SECONDS)
    raise AssertionError(f"{text!r} was never acknowledged")


async def agent_sends(chat: Chat, outage: Outage) -> None:
    number = 0
    while outage.traffic_goes_on():
        message_id = uuid.uuid4().hex
        chat.refused += await deliver_from_agent(chat, f"agent {number}", message_id)
        chat.from_agent.append(message_id)
        number += 1
        await asyncio.sleep(SEND_INTERVAL_SECONDS)


async def deliver_from_agent(chat: Chat, text: str, message_id: str) -> int:
    """Sends until stored, with the same id each time; returns how many sends failed first."""
    deadline = asyncio.get_running_loop().time() + DELIVERY_DEADLINE_SECONDS
    refused = 0
    while asyncio.get_running_loop().time() < deadline:
        try:
            reply = await asyncio.to_thread(chat.agent.send, chat.conversation_id, text, message_id)
        except requests.ConnectionError:
            reply = None
        if reply is not None and reply.status_code in (200, 201):
            return refused
        assert reply is None or reply.status_code == 503, f"refused for good: {reply.status_code} {reply.text}"
        refused += 1
        await asyncio.sleep(RETRY_PAUSE_SECONDS)
    raise AssertionError(f"{text!r} was never acknowledged")


def inbox_ids(chat: Chat) -> list[str]:
    """What the agent's side has from the customer, in stream order (the agent API's catch-up)."""
    reply = chat.agent.call("GET", f"/api/conversations/{chat.conversation_id}/messages",
                            params={"direction": "inbox", "limit": "1000"})
    reply.raise_for_status()
    return [message["id"] for message in reply.json()["messages"] if message["kind"] == "text"]


async def received_from_agent(chat: Chat, seen: list[dict[str, Any]], wanted: int) -> list[dict[str, Any]]:
    """Collects what reaches the customer until `wanted` agent messages arrived (or time runs out)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DELIVERY_DEADLINE_SECONDS
    while sum(1 for data in seen if _sender(data) == "agent") < wanted and loop.time() < deadline:
        try:
            _, data = await chat.customer.next_event("bot_uttered", timeout=max(0.1, deadline - loop.time()))
        except TimeoutError:
            break
        seen.append(data)
    return seen


def _sender(data: dict[str, Any]) -> str:
    return str((data.get("metadata") or {}).get("sender", "bot"))


async def hand_over(chat: Chat) -> None:
    """The customer asks for a person and the chat's agent claims the conversation."""
    await chat.customer.connect()
    assert (await deliver_from_customer(chat.customer, "I want to talk to a real person", uuid.uuid4().hex))[0] == "bot"
    await asyncio.to_thread(chat.agent.wait_for_ticket, chat.conversation_id)
    assert (await asyncio.to_thread(chat.agent.claim, chat.conversation_id)).status_code == 200
    while not chat.customer.received.empty():  # the bot's handoff replies, all before the ack
        chat.customer.received.get_nowait()


@pytest.mark.asyncio
async def test_redis_killed_under_two_way_traffic_loses_doubles_and_reorders_nothing(
        bot_system: SystemLayout, system_processes: dict[str, ManagedProcess]) -> None:
    outage = Outage(system_processes["redis-server"])
    tokens = [agent["token"] for agent in AGENTS]
    for token in tokens:
        await asyncio.to_thread(AgentClient(bot_system, token).go_online)
    # One agent client per chat: each has its own HTTP session, used from its own thread.
    chats = [Chat(SocketCustomer(bot_system), AgentClient(bot_system, tokens[number % len(tokens)]))
             for number in range(CUSTOMERS)]
    try:
        for chat in chats:
            await hand_over(chat)
        await asyncio.gather(outage.run(), *(customer_sends(chat, outage) for chat in chats),
                             *(agent_sends(chat, outage) for chat in chats))

        for chat in chats:
            assert set(chat.routes) <= {"human", "duplicate"}, chat.routes
            assert inbox_ids(chat) == chat.from_customer  # none lost, doubled or out of order
            seen = await received_from_agent(chat, [], len(chat.from_agent))
            await asyncio.sleep(0.5)  # a doubled delivery would arrive now
            while not chat.customer.received.empty():
                event, data = chat.customer.received.get_nowait()
                if event == "bot_uttered":
                    seen.append(data)
            assert [data["metadata"]["message_id"] for data in seen if _sender(data) == "agent"] == chat.from_agent
            assert not [data for data in seen if _sender(data) not in ("agent", "system")], "the bot answered"
        assert sum(len(chat.from_customer) for chat in chats) >= CUSTOMERS * 10  # the traffic really ran
        assert sum(chat.refused for chat in chats) > 0  # and met the outage
    finally:
        await asyncio.to_thread(outage.ensure_running)
        for chat in chats:
            if chat.customer.conversation_id:
                await asyncio.to_thread(chat.agent.resolve, chat.conversation_id)
            await chat.customer.close()
