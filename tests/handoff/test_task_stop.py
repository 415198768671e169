"""cancel_and_wait stops tasks that swallow a cancel (as redis-py 4.6's stock connections do, see
test_redis_client.py), and never holds up a shutdown for good."""

from __future__ import annotations

import asyncio
import logging

import pytest

from handoff.task_stop import cancel_and_wait

pytestmark = pytest.mark.asyncio


async def test_a_task_that_swallows_the_first_cancel_is_stopped() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert await asyncio.wait_for(cancel_and_wait([task]), timeout=5) == [None]
    assert task.cancelled() and swallowed == 1


async def test_how_tasks_ended_is_reported_and_a_task_that_never_stops_is_left_behind(
        caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise ValueError("broken")

    released = False

    async def immortal() -> None:
        while not released:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass

    failing, done, never = (asyncio.create_task(fails()), asyncio.create_task(asyncio.sleep(0)),
                            asyncio.create_task(immortal(), name="immortal"))
    await asyncio.sleep(0.01)
    with caplog.at_level(logging.ERROR, logger="handoff.task_stop"):
        outcomes = await cancel_and_wait([failing, done, never], give_up_after=0.3)
    assert isinstance(outcomes[0], ValueError) and outcomes[1:] == [None, None]
    assert not never.done() and "immortal did not stop" in caplog.text
    released = True
    await cancel_and_wait([never])
