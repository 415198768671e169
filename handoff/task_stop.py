"""Stopping background tasks so that they really stop.

A single `task.cancel()` is not enough with redis-py 4.6 (the newest release Rasa 3.6 allows) on
Python 3.10: before each command, redis-py checks the pooled connection under `async_timeout(0)`,
and a cancel that lands during that check is taken for the check's own timeout and swallowed. The
cancelled task then simply runs on, and whoever awaits it waits forever (a server that never
shuts down, a test that never ends). So tasks are cancelled again until they have ended.
"""

from __future__ import annotations

import asyncio
import logging

logger = logging.getLogger(__name__)

RECANCEL_SECONDS = 0.1


async def cancel_and_wait(tasks: list[asyncio.Task], give_up_after: float = 10.0) -> list[BaseException | None]:
    """Cancels `tasks` until each has ended; returns how each ended (None: cancelled or returned).

    After `give_up_after` seconds the ones still running are left behind (and logged) rather than
    holding up a shutdown for good."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    running = {task for task in tasks if not task.done()}
    while running and loop.time() < deadline:
        for task in running:
            task.cancel()
        _, running = await asyncio.wait(running, timeout=RECANCEL_SECONDS)
    for task in running:
        logger.error("task %s did not stop within %.0f s; left running", task.get_name(), give_up_after)
    return [_outcome(task) if task.done() else None for task in tasks]


def _outcome(task: asyncio.Task) -> BaseException | None:
    if task.cancelled():
        return None
    return task.exception()
