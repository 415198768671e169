"""A customer message's way from a channel to the router: to Rasa while the bot serves the
conversation, to the agent while a human does.

Every channel hands its messages over here, so all of them read the client's fields, name
themselves to Rasa, pass metadata and count the bot's replies alike; a channel only brings its own
output (where Rasa's replies go) and turns a refusal into its own kind of answer. On the way to
Rasa a message loses what a customer must not steer the bot with: a command the bot did not offer
(`commands.py`) and metadata keys that are not allowed (`CustomerRouter.check_metadata`). An agent
gets the text as the customer wrote it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage

from handoff.channels.commands import OfferedPayloads, text_for_bot
from handoff.channels.common import message_id_from
from handoff.channels.customer_limits import MESSAGES, CustomerLimits
from handoff.channels.refusals import AgentsUnavailable
from handoff.channels.router import CustomerMessage, CustomerRouter
from handoff.store import StoreUnavailable

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def customer_message_from(data: dict[str, Any], conversation_id: str, channel: str,
                          router: CustomerRouter) -> CustomerMessage:
    """The message in a client's JSON object: `message` (MessageRejected when missing, empty or too
    large), `metadata` (its allowed keys when it is an object; MessageRejected when too large), and
    `message_id` when usable (so a retry is recognised)."""
    return CustomerMessage(conversation_id, router.check(data.get("message")), message_id_from(data), channel,
                           router.check_metadata(data.get("metadata")))


@dataclass(frozen=True)
class CustomerTurns:
    """Routes one channel's customer messages, with Rasa's `on_new_message` for the bot's turns,
    `offered` naming the button payloads the bot offered in a conversation and `limits` counting
    each conversation's messages (the bot's turns are counted where Rasa saves them,
    `handoff/metrics/bot_turns.py`)."""

    router: CustomerRouter
    on_new_message: OnNewMessage
    offered: OfferedPayloads
    limits: CustomerLimits

    async def route(self, message: CustomerMessage, output: OutputChannel, replies: Callable[[], int]) -> str:
        """Delivers the message and returns where it went ("bot", "human" or "duplicate").

        `output` receives the bot's replies and `replies()` says how many it got: none while the
        bot handed over means the message belongs to the agent. Raises MessageRejected (a refusal
        the channel answers), AgentsUnavailable and RateLimited included.
        """
        await self.limits.conversation(MESSAGES, message.conversation_id)

        async def ask_bot() -> int:
            text = await text_for_bot(message.text, message.conversation_id, self.offered)
            await self.on_new_message(UserMessage(text, output, message.conversation_id,
                                                  input_channel=message.channel,
                                                  metadata=self.router.check_metadata(message.metadata)))
            return replies()

        try:
            return await self.router.route(message, ask_bot)
        except StoreUnavailable as error:
            raise AgentsUnavailable(self.router.retry_after_seconds) from error
