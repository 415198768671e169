"""Which rate limits a customer's actions count against, and the cap on waiting REST reads.

Messages, sessions, typing indicators and bot-only feedback each have a limit per conversation and one per client
address (settings `*_limit`). The per-conversation limits hold on every channel (`CustomerTurns`
checks messages, so Slack too); the per-address ones on the web channels, which know the address
(REST, socket.io; see `client_address.py`). An action over a limit raises `RateLimited` (429, with
the seconds to wait), which every channel answers like any other refusal.

Waiting REST reads (long polls) are capped per address and per process: each holds a Redis
connection while it waits, so without a cap a few clients could take every connection.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from handoff.channels.refusals import RateLimited
from handoff.rate_limits import RateLimiter, retry_after_seconds
from handoff.settings import HandoffSettings, RateLimit

MESSAGES, SESSIONS, TYPING, FEEDBACK = "messages", "sessions", "typing indicators", "feedback"
SCOPES = {MESSAGES: "message", SESSIONS: "session", TYPING: "typing", FEEDBACK: "feedback"}
POLL_RETRY_SECONDS = 1


def address_subject(address: str) -> str:
    """A client address as it is named in Redis: hashed, so no address is written there."""
    return hashlib.sha256(address.encode()).hexdigest()[:32]


class CustomerLimits:
    """Counts a customer's actions against the limits of the settings."""

    def __init__(self, limiter: RateLimiter, settings: HandoffSettings) -> None:
        self.limiter = limiter
        self.per_conversation = {MESSAGES: settings.conversation_message_limit,
                                 SESSIONS: settings.conversation_session_limit,
                                 TYPING: settings.conversation_typing_limit,
                                 FEEDBACK: settings.conversation_feedback_limit}
        self.per_address = {MESSAGES: settings.address_message_limit, SESSIONS: settings.address_session_limit,
                            TYPING: settings.address_typing_limit, FEEDBACK: settings.address_feedback_limit}

    async def conversation(self, what: str, conversation_id: str) -> None:
        """Counts one of `what` (MESSAGES, SESSIONS, TYPING, FEEDBACK) for the conversation; RateLimited when over."""
        await self._count(what, "conversation", conversation_id, self.per_conversation[what])

    async def address(self, what: str, address: str) -> None:
        """Counts one of `what` for the client address; RateLimited when over."""
        await self._count(what, "address", address_subject(address), self.per_address[what])

    async def client(self, what: str, address: str, conversation_id: str) -> None:
        """Counts one of `what` for the client address and for its conversation; RateLimited when
        either is over."""
        await self.address(what, address)
        await self.conversation(what, conversation_id)

    async def _count(self, what: str, per: str, subject: str, limit: RateLimit) -> None:
        wait = await self.limiter.hit(f"{SCOPES[what]}:{per}", subject, limit)
        if wait > 0:
            raise RateLimited(what, retry_after_seconds(wait))


class LongPollSlots:
    """The waiting reads this process holds, per client address and in all."""

    def __init__(self, per_address: int, per_process: int) -> None:
        self.per_address = per_address
        self.per_process = per_process
        self.held: Counter[str] = Counter()

    @contextmanager
    def slot(self, address: str) -> Iterator[None]:
        """Holds one slot while the read waits; RateLimited when the address or the process has none left."""
        if self.held[address] >= self.per_address or self.held.total() >= self.per_process:
            raise RateLimited("waiting reads", POLL_RETRY_SECONDS)
        self.held[address] += 1
        try:
            yield
        finally:
            self.held[address] -= 1
            if not self.held[address]:
                del self.held[address]
