"""2,000 widget customers connecting to one Rasa process and leaving at once: afterwards the
process holds no more Redis connections than its bound (it used to keep one per customer who was
served in the burst), and the bot still answers."""

from __future__ import annotations

import asyncio
import time

import pytest

from handoff.settings import HandoffSettings
from rasa_bot.system import SystemLayout
from tests.integration.rest_client import RestCustomer
from tests.socket_storm import SocketStorm, pid_listening_on, redis_connections

pytestmark = pytest.mark.model

CUSTOMERS = 2_000


def test_customers_leaving_at_once_leave_at_most_the_bound_of_redis_connections(bot_system: SystemLayout) -> None:
    bound = HandoffSettings().redis_max_connections  # the system runs with the default
    rasa = pid_listening_on(bot_system.rasa_port)
    assert RestCustomer(bot_system).say("hi")

    async def storm() -> int:
        most = 0
        async with SocketStorm(bot_system.rasa_url, CUSTOMERS) as sockets:
            await sockets.open_all()
            most = max(most, redis_connections(rasa, bot_system.redis_port))
            await sockets.drop_all()
        for _ in range(20):  # the departures being stored
            most = max(most, redis_connections(rasa, bot_system.redis_port))
            await asyncio.sleep(0.1)
        return most

    started = time.monotonic()
    most_during = asyncio.run(storm())
    assert time.monotonic() - started < 300
    assert 0 < most_during <= bound
    assert redis_connections(rasa, bot_system.redis_port) <= bound
    assert RestCustomer(bot_system).say("hi")  # replies still arrive
