"""The widget's own socket events on the real system: the customer's status (bot, queue position
and wait, agent name, rating due), their typing indicator and the satisfaction rating, each for
the socket's own conversation only."""

from __future__ import annotations

import asyncio

import pytest

from rasa_bot.system import SystemLayout
from tests.integration.agent_client import AgentClient
from tests.integration.socket_customer import SocketCustomer
from tests.system_fixtures import AGENTS

pytestmark = [pytest.mark.model, pytest.mark.asyncio]


async def status(customer: SocketCustomer) -> dict:
    await customer.client.emit("status_request", {})
    return (await customer.next_event("handoff_status"))[1]


async def rating_reply(customer: SocketCustomer, rating: object) -> dict:
    await customer.client.emit("satisfaction", {"rating": rating})
    return (await customer.next_event("satisfaction_saved"))[1]


async def test_status_follows_the_conversation_from_bot_to_agent_and_back(bot_system: SystemLayout) -> None:
    agent = AgentClient(bot_system, AGENTS[1]["token"])
    agent.go_online()
    customer = SocketCustomer(bot_system)
    conversation_id = await customer.connect()
    try:
        assert await status(customer) == {"mode": "bot", "position": None, "wait_seconds": None,
                                          "agent_name": "", "rating_due": False}
        assert (await rating_reply(customer, 5))["saved"] is False, "no handoff to rate yet"

        await customer.say("I want to talk to a real person")
        await customer.texts(2)
        queued = await status(customer)
        assert queued["mode"] == "queued" and queued["position"] >= 1 and queued["wait_seconds"] > 0

        assert agent.claim(conversation_id).status_code == 200
        assert (await status(customer))["agent_name"] == AGENTS[1]["name"]
        assert agent.resolve(conversation_id).status_code == 200
        await customer.texts(1)  # the welcome back

        back = await status(customer)
        assert (back["mode"], back["rating_due"]) == ("bot", True)
        for bad in (0, 6, "5", 4.0, True, None):
            assert (await rating_reply(customer, bad))["saved"] is False, bad
        assert (await rating_reply(customer, 3))["saved"] is True
        assert (await rating_reply(customer, 4))["saved"] is False, "a handoff is rated once"
        closed = (await asyncio.to_thread(agent.conversation, conversation_id))["closed_tickets"]
        assert [record["satisfaction"] for record in closed] == [3]
    finally:
        await customer.close()
