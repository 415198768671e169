"""The decision every customer message goes through: the bot answers, or it goes to a human.

Shared by all customer channels so they behave the same: while a human owns the conversation
(queued, assigned or waiting for an agent to come online) the message bypasses Rasa and is stored
in the conversation's inbox Stream for the agent; otherwise Rasa answers.

If Redis cannot be reached the mode cannot be read, and a message given to the bot while a person
owns the chat would be lost to the agent (and answered by the bot). So the bot answers during an
outage only a conversation this process recently saw with the bot (`mode_memory.py`); any other
message raises StoreUnavailable, which the channels turn into "not delivered, retry" (a socket.io
ack with an error, HTTP 503 with Retry-After). The client sends it again with the same message id
and, once Redis is back, the store's dedup by message id lands it exactly once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from handoff.channels.mode_memory import ModeMemory
from handoff.models import ASSIGNED, BOT, INBOX, QUEUED, WAITING_OFFLINE
from handoff.settings import HandoffSettings
from handoff.store import HandoffStore, StoreUnavailable
from handoff.utf8_text import NOT_UTF8, is_utf8_text

logger = logging.getLogger(__name__)

HUMAN_MODES = (QUEUED, ASSIGNED, WAITING_OFFLINE)
CUSTOMER = "customer"


class MessageRejected(ValueError):
    """A customer message the channel refuses, with the HTTP status and a message for the client."""

    def __init__(self, status: int, error: str, retry_after: int | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.retry_after = retry_after  # seconds after which sending it again may work, if it may


@dataclass(frozen=True)
class CustomerMessage:
    """One message as a channel received it; `message_id` lets retries be recognised."""

    conversation_id: str
    text: str
    message_id: str
    channel: str
    metadata: dict[str, Any] = field(default_factory=dict)


class CustomerRouter:
    """Routes customer messages to the bot or to the conversation's agent."""

    def __init__(self, store: HandoffStore, settings: HandoffSettings) -> None:
        self.store = store
        self.max_message_bytes = settings.max_message_bytes
        self.max_metadata_bytes = settings.max_metadata_bytes
        self.metadata_keys = frozenset(settings.customer_metadata_keys)
        self.retry_after_seconds = settings.outage_retry_after_seconds
        self.modes = ModeMemory(settings.outage_mode_memory, settings.outage_mode_max_age_seconds)

    def check(self, text: object) -> str:
        """The message text, or MessageRejected for text that is missing, not UTF-8 or too large."""
        if not isinstance(text, str) or not text.strip():
            raise MessageRejected(400, "the message must be a non-empty string")
        if not is_utf8_text(text):
            raise MessageRejected(400, f"the message {NOT_UTF8}")
        size = len(text.encode("utf-8"))
        if size > self.max_message_bytes:
            raise MessageRejected(
                413, f"the message is {size} bytes; at most {self.max_message_bytes} bytes are accepted"
            )
        return text

    def check_metadata(self, metadata: object) -> dict[str, Any]:
        """The metadata Rasa may get: only the allowed keys of an object (anything else is no
        metadata), or MessageRejected when what the client sent is too large as JSON (413) or holds text
        UTF-8 cannot carry (400)."""
        if metadata is None:
            return {}
        as_json = json.dumps(metadata, ensure_ascii=False, separators=(",", ":"), default=str)
        if not is_utf8_text(as_json):
            raise MessageRejected(400, f"the metadata {NOT_UTF8}")
        size = len(as_json.encode("utf-8"))
        if size > self.max_metadata_bytes:
            raise MessageRejected(
                413, f"the metadata is {size} bytes of JSON; at most {self.max_metadata_bytes} bytes are accepted"
            )
        if not isinstance(metadata, dict):
            return {}
        return {key: value for key, value in metadata.items() if key in self.metadata_keys}

    async def route(self, message: CustomerMessage, ask_bot: Callable[[], Awaitable[int]]) -> str:
        """Delivers `message` and returns where it went: "bot", "human" or "duplicate".

        `ask_bot` hands the message to Rasa and returns how many replies the bot sent. Raises
        StoreUnavailable when Redis is down and the conversation may be a person's: the message
        was neither stored nor given to the bot.
        """
        self.check(message.text)
        conversation_id = message.conversation_id
        try:
            accepted = await self.store.accept_customer_message(
                conversation_id, message.message_id, CUSTOMER, message.text, HUMAN_MODES,
                extra={"channel": message.channel})
        except StoreUnavailable as error:
            if not self.modes.surely_with_bot(conversation_id):
                logger.warning("redis unavailable and %s may be with a person: message refused: %s",
                               conversation_id, error)
                raise
            logger.warning("redis unavailable, the bot answers %s (last seen with the bot): %s",
                           conversation_id, error)
            await ask_bot()
            return BOT
        self.modes.remember(conversation_id, accepted.mode)
        if accepted.outcome == "duplicate":
            return "duplicate"
        if accepted.outcome == "appended":
            return "human"
        if accepted.outcome == "refused":  # abandoned: the customer came back, the bot answers
            await self.store.return_to_bot(conversation_id)
            self.modes.remember(conversation_id, BOT)
            if not await self.store.mark_handled_by_bot(conversation_id, message.message_id):
                return "duplicate"
        replies = await ask_bot()
        with_human = await self._now_with_human(conversation_id)  # the turn may have handed over
        if replies == 0 and with_human:
            # The bot handed over while this message waited for the conversation lock: Rasa's
            # paused tracker kept it silent, so the agent must get the message instead.
            result = await self.store.append_message(
                conversation_id, INBOX, f"{message.message_id}:late", CUSTOMER, message.text,
                extra={"channel": message.channel})
            return "duplicate" if result.duplicate else "human"
        return BOT

    async def _now_with_human(self, conversation_id: str) -> bool:
        """Reads the mode after a bot turn (which may have handed over) and remembers it; unknown
        if Redis went away meanwhile."""
        try:
            mode = (await self.store.get_state(conversation_id)).mode
        except StoreUnavailable:
            self.modes.forget(conversation_id)
            return False
        self.modes.remember(conversation_id, mode)
        return mode in HUMAN_MODES
