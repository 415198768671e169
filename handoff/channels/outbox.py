"""Delivers what agents (and the bot, after a handoff) send to a customer, from the conversation's
outbox Stream to the customer's open connection, in whichever process holds that connection.

A few readers per process (`outbox_readers`) each wait on the outboxes of their share of its
customers with a single blocking read, instead of a task and a Redis connection per customer:
under load one round trip brings the messages of many conversations, and a thousand open chats
do not hold a thousand connections. Not one reader for all: Redis redoes a multi-stream read in
full each time it wakes it, at a cost per stream, which over many streams cost more than it saved
(docs/benchmarks.md).
A newly followed conversation wakes its reader's read through a small stream of the reader's own.

A cursor in Redis remembers the last entry handed to each customer's channel, so after a reconnect
(to this process or another) delivery resumes right after it: nothing sent meanwhile is lost. The
cursors of one batch are saved in the same round trip as the next read.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handoff.models import ChatMessage
from handoff.store import HandoffStore, StoreUnavailable
from handoff.task_stop import cancel_and_wait

logger = logging.getLogger(__name__)

# Kinds the customer gets: messages, and typing as an indicator. Everything else (internal notes,
# system entries) stays between agents.
CUSTOMER_KINDS = ("text", "typing")
RETRY_SECONDS = 1.0

Deliver = Callable[[ChatMessage], Awaitable[None]]


@dataclass
class Followed:
    """A conversation this process delivers to: where delivery stands, and whether anyone still
    listens (False once the customer's last connection closed; dropped at the next read)."""

    deliver: Deliver
    cursor: str | None = None  # None until read from Redis
    wanted: bool = True
    paused_until: float = 0.0  # after a failed delivery, retried from the cursor at this time


class OutboxReader:
    """Follows the outboxes of the conversations with an open connection in this process."""

    def __init__(self, store: HandoffStore, reader: str, block_ms: int) -> None:
        self.store = store
        self.reader = reader
        self.block_ms = block_ms
        self._followed: dict[str, Followed] = {}
        self._delivered: dict[str, str] = {}  # cursors not yet saved in Redis
        self._wake_key = store.keys.outbox_wake(uuid.uuid4().hex)
        self._wake_after = "0-0"
        self._woken = False  # a wake-up was sent since the current read was prepared
        self._task: asyncio.Task | None = None
        self._wakers: set[asyncio.Task] = set()

    def follow(self, conversation_id: str, deliver: Deliver) -> None:
        """Starts delivering the conversation's outbox here, unless this process already does
        (then only `deliver` is renewed)."""
        followed = self._followed.get(conversation_id)
        if followed is not None:
            followed.deliver = deliver
            followed.wanted = True
            return
        self._followed[conversation_id] = Followed(deliver)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        elif not self._woken:
            self._woken = True
            waker = asyncio.create_task(self._wake())
            self._wakers.add(waker)
            waker.add_done_callback(self._wakers.discard)

    def is_following(self, conversation_id: str) -> bool:
        """Whether the conversation is still among those the reader reads."""
        return conversation_id in self._followed

    def stop(self, conversation_id: str) -> None:
        """Stops delivering once the current read returns (the customer's last connection closed);
        what that read brings for the conversation is left for the customer's next connection."""
        followed = self._followed.get(conversation_id)
        if followed is not None:
            followed.wanted = False

    async def stop_all(self) -> None:
        """Ends the reader now (the server is shutting down), saving the cursors it still holds."""
        await cancel_and_wait([task for task in (self._task, *self._wakers) if task is not None])
        self._followed.clear()
        try:
            await asyncio.gather(*(self.store.set_cursor(conversation_id, self.reader, cursor)
                                   for conversation_id, cursor in self._delivered.items()))
            await self.store.forget_reader(self._wake_key)
        except StoreUnavailable as error:
            logger.warning("outbox cursors not saved at shutdown: %s", error)

    async def _wake(self) -> None:
        try:
            await self.store.wake_reader(self._wake_key)
        except StoreUnavailable as error:  # the read still ends after block_ms
            logger.warning("outbox reader not woken: %s", error)

    async def _run(self) -> None:
        while self._followed:
            try:
                await self._read_and_deliver()
            except StoreUnavailable as error:
                logger.warning("outboxes unreachable, retrying: %s", error)
                await asyncio.sleep(RETRY_SECONDS)
            except Exception:  # a bug must not end delivery for every customer of the process
                logger.exception("reading the outboxes failed; retrying")
                await asyncio.sleep(RETRY_SECONDS)

    async def _read_and_deliver(self) -> None:
        self._woken = False  # from here on, a new conversation needs a wake-up to be read at once
        for conversation_id in [c for c, followed in self._followed.items() if not followed.wanted]:
            del self._followed[conversation_id]
        unread = [c for c, followed in self._followed.items() if followed.cursor is None]
        if unread:
            for conversation_id, cursor in (await self.store.get_cursors(unread, self.reader)).items():
                self._followed[conversation_id].cursor = cursor
        now = asyncio.get_running_loop().time()
        after = {c: followed.cursor for c, followed in self._followed.items()
                 if followed.cursor is not None and followed.paused_until <= now}
        delivered, self._delivered = self._delivered, {}
        try:
            self._wake_after, batches = await self.store.read_outboxes(
                after, self.reader, delivered, (self._wake_key, self._wake_after), self._block_ms(now))
        except BaseException:
            self._delivered = {**delivered, **self._delivered}  # saved with a later read
            raise
        for conversation_id, messages in batches.items():
            followed = self._followed.get(conversation_id)
            if followed is not None and followed.wanted:  # else the customer left during the read
                await self._deliver(conversation_id, followed, messages)

    def _block_ms(self, now: float) -> int:
        """`block_ms`, or less while a paused conversation waits for its retry."""
        resume = min((f.paused_until for f in self._followed.values() if f.paused_until > now), default=None)
        if resume is None:
            return self.block_ms
        return max(1, min(self.block_ms, int((resume - now) * 1000) + 1))

    async def _deliver(self, conversation_id: str, followed: Followed, messages: list[ChatMessage]) -> None:
        """Hands the messages over in order; a failure pauses the conversation at the message
        that failed, so it is tried again (a broken delivery never ends the reader)."""
        for message in messages:
            if message.kind in CUSTOMER_KINDS:
                try:
                    await followed.deliver(message)
                except Exception:
                    logger.exception("delivering the outbox of %s failed; retrying", conversation_id)
                    followed.paused_until = asyncio.get_running_loop().time() + RETRY_SECONDS
                    break
            followed.cursor = message.stream_id
            self._delivered[conversation_id] = message.stream_id


class OutboxReaders:
    """`count` OutboxReaders, each following the conversations whose id hashes to it."""

    def __init__(self, store: HandoffStore, reader: str, block_ms: int, count: int) -> None:
        self._readers = [OutboxReader(store, reader, block_ms) for _ in range(count)]

    def _reader_of(self, conversation_id: str) -> OutboxReader:
        return self._readers[zlib.crc32(conversation_id.encode()) % len(self._readers)]

    def follow(self, conversation_id: str, deliver: Deliver) -> None:
        self._reader_of(conversation_id).follow(conversation_id, deliver)

    def is_following(self, conversation_id: str) -> bool:
        return self._reader_of(conversation_id).is_following(conversation_id)

    def stop(self, conversation_id: str) -> None:
        self._reader_of(conversation_id).stop(conversation_id)

    async def stop_all(self) -> None:
        await asyncio.gather(*(reader.stop_all() for reader in self._readers))
