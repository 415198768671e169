"""Delivers what agents (and the bot, after a handoff) send to a customer, from the conversation's
outbox Stream to the customer's open connection, in whichever process holds that connection.

A cursor in Redis remembers the last entry handed to the customer's channel, so after a reconnect
(to this process or another) delivery resumes right after it: nothing sent meanwhile is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from handoff.models import OUTBOX, ChatMessage
from handoff.store import HandoffStore, StoreUnavailable
from handoff.task_stop import cancel_and_wait

logger = logging.getLogger(__name__)

# Kinds the customer gets: messages, and typing as an indicator. Everything else (internal notes,
# system entries) stays between agents.
CUSTOMER_KINDS = ("text", "typing")
RETRY_SECONDS = 1.0

Deliver = Callable[[ChatMessage], Awaitable[None]]


class OutboxFollowers:
    """One follower task per conversation with an open connection in this process.

    Stopping is cooperative: the follower ends after its current blocking read instead of being
    cancelled in the middle of it, which keeps its Redis connection in a clean state. A customer
    who reconnects before that simply keeps the same follower, so nothing is delivered twice.
    """

    def __init__(self, store: HandoffStore, reader: str, block_ms: int) -> None:
        self.store = store
        self.reader = reader
        self.block_ms = block_ms
        self._wanted: set[str] = set()
        self._tasks: dict[str, asyncio.Task] = {}

    def follow(self, conversation_id: str, deliver: Deliver) -> None:
        """Starts following the conversation unless this process already does."""
        self._wanted.add(conversation_id)
        task = self._tasks.get(conversation_id)
        if task is None or task.done():
            self._tasks[conversation_id] = asyncio.create_task(self._run(conversation_id, deliver))

    def is_following(self, conversation_id: str) -> bool:
        """Whether a follower task for the conversation still runs in this process."""
        task = self._tasks.get(conversation_id)
        return task is not None and not task.done()

    def stop(self, conversation_id: str) -> None:
        """Stops following once the current read returns (the customer's last connection closed)."""
        self._wanted.discard(conversation_id)

    async def stop_all(self) -> None:
        """Ends every follower now (the server is shutting down)."""
        self._wanted.clear()
        await cancel_and_wait(list(self._tasks.values()))

    async def _run(self, conversation_id: str, deliver: Deliver) -> None:
        cursor: str | None = None
        try:
            while conversation_id in self._wanted:
                cursor = await self._deliver_next(conversation_id, cursor, deliver)
        finally:
            if self._tasks.get(conversation_id) is asyncio.current_task():
                del self._tasks[conversation_id]

    async def _deliver_next(self, conversation_id: str, cursor: str | None, deliver: Deliver) -> str | None:
        """Waits up to `block_ms` for new outbox entries and delivers them; returns the new cursor."""
        try:
            if cursor is None:
                cursor = await self.store.get_cursor(conversation_id, self.reader)
            messages = await self.store.read_messages(conversation_id, OUTBOX, cursor, block_ms=self.block_ms)
            if conversation_id not in self._wanted:
                # The customer left during the read: leave these for their next connection.
                return cursor
            for message in messages:
                if message.kind in CUSTOMER_KINDS:
                    await deliver(message)
                cursor = message.stream_id
            if messages:
                await self.store.set_cursor(conversation_id, self.reader, cursor)
        except StoreUnavailable as error:
            logger.warning("outbox of %s unreachable, retrying: %s", conversation_id, error)
            await asyncio.sleep(RETRY_SECONDS)
        except Exception:  # a broken delivery must not end the follower
            logger.exception("delivering the outbox of %s failed", conversation_id)
            await asyncio.sleep(RETRY_SECONDS)
        return cursor
