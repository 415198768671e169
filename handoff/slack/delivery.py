"""Delivers what agents (and the bot, after a handoff) send to Slack customers: every new outbox
message of a Slack conversation is posted with chat.postMessage into the customer's conversation,
in the thread the customer wrote in (for a direct message: the one they wrote in last).

It runs as a leased tail (see `tail.py`) in the Rasa processes that serve the Slack channel:
Slack customers hold no open connection, so delivery cannot wait for one as the widget's does.
Its own cursor per conversation in Redis (reader `slack`) marks what was posted.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handoff.models import OUTBOX, ChatMessage, HandoffEvent
from handoff.slack.address import SlackAddress
from handoff.slack.state import SlackState
from handoff.slack.web import call, escape
from handoff.store import HandoffStore

logger = logging.getLogger(__name__)

READER = "slack"


def slack_text(message: ChatMessage) -> str:
    """How a message reads in Slack: an agent's words literally, under their name."""
    if message.sender == "bot":
        return message.text
    name = message.extra.get("agent_name") or "Agent"
    return f"*{escape(name)}*: {escape(message.text)}"


class SlackDelivery:
    """Handler of `message` events: posts new outbox messages of Slack conversations."""

    def __init__(self, store: HandoffStore, state: SlackState, client: AsyncWebClient) -> None:
        self._store = store
        self._state = state
        self._client = client

    async def __call__(self, event: HandoffEvent) -> None:
        if event.type != "message" or event.data.get("direction") != OUTBOX:
            return
        address = SlackAddress.parse(event.conversation_id)
        if address is None:
            return
        conversation_id = event.conversation_id
        thread = address.thread_ts or await self._state.reply_thread(conversation_id)
        cursor = await self._store.get_cursor(conversation_id, READER)
        for message in await self._store.read_messages(conversation_id, OUTBOX, cursor):
            if message.kind == "text":
                try:
                    await call(self._client.chat_postMessage(
                        channel=address.channel, thread_ts=thread, text=slack_text(message)))
                except SlackApiError as exc:  # lasting (e.g. the app left the channel): report, go on
                    logger.error("message %s could not be posted to Slack for %s: %s",
                                 message.id, conversation_id, exc.response.get("error"))
            await self._store.set_cursor(conversation_id, READER, message.stream_id)
