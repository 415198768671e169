"""The running system throttles a flood with its default limits: REST answers 429 with Retry-After
and a JSON error, socket.io the `handoff_error` event with the seconds to wait, and waiting REST
reads past the per-address cap are refused. Each flood uses a conversation of its own (the limit
per conversation), so the rest of the suite is not slowed by it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from handoff.settings import HandoffSettings
from rasa_bot.system import SystemLayout
from tests.integration.rest_client import RestCustomer
from tests.integration.socket_customer import SocketCustomer

pytestmark = pytest.mark.model

DEFAULTS = HandoffSettings()
FLOOD = DEFAULTS.conversation_message_limit.count + 5


def test_a_rest_flood_on_one_conversation_gets_429_with_retry_after(bot_system: SystemLayout) -> None:
    customer = RestCustomer(bot_system)
    with ThreadPoolExecutor(FLOOD) as pool:
        replies = list(pool.map(lambda number: customer.send(f"hello {number}"), range(FLOOD)))
    refused = [reply for reply in replies if reply.status_code == 429]
    assert len(refused) >= FLOOD - DEFAULTS.conversation_message_limit.count
    assert all(reply.status_code in (200, 429) for reply in replies)
    for reply in refused:
        assert 1 <= int(reply.headers["Retry-After"]) <= DEFAULTS.conversation_message_limit.seconds
        assert reply.json()["error"].startswith("too many messages; please wait")
    assert RestCustomer(bot_system).say("hi")  # another conversation is answered


@pytest.mark.asyncio
async def test_a_socketio_flood_gets_the_error_event_with_retry_after(bot_system: SystemLayout) -> None:
    customer = SocketCustomer(bot_system)
    await customer.connect()
    try:
        for number in range(FLOOD):
            await customer.say(f"hello {number}")
            await asyncio.sleep(0.02)  # one polling POST may carry at most 16 packets (engine.io)
        _, error = await customer.next_event("handoff_error")
        assert error["status"] == 429 and error["retry_after"] >= 1
        assert error["error"].startswith("too many messages; please wait")
    finally:
        await customer.close()


def test_waiting_reads_past_the_cap_per_address_get_429(bot_system: SystemLayout) -> None:
    customer = RestCustomer(bot_system)
    url = f"{customer.base}/conversations/{customer.conversation_id}/messages"
    polls = DEFAULTS.long_polls_per_address + 3
    with ThreadPoolExecutor(polls) as pool:
        replies = list(pool.map(lambda _: requests.get(url, params={"wait": 3}, timeout=15), range(polls)))
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses.count(200) <= DEFAULTS.long_polls_per_address and statuses.count(429) >= 3
    assert all(reply.headers["Retry-After"] == "1" for reply in replies if reply.status_code == 429)
    assert requests.get(url, params={"wait": 0.2}, timeout=10).status_code == 200  # the slots were given back
