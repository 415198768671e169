"""Customer text never selects an intent or sets slots by itself; a click on a button the bot offered does.

Rasa 3.6 reads every text that starts with "/" (once stripped) as `/intent{"entity": value}`: the
intent is taken with confidence 1 and the entities may fill slots. That happens in the last node of
the predict graph, after our NLU components, so none of them can refuse it; buttons rely on it (a
click sends the button's payload). So the channels decide before Rasa sees the text: a "/" text
goes to Rasa as it is only when it is the payload of a button the bot offered in the
conversation's current session (read from Rasa's tracker store); any other loses its leading
slashes and is read like any message, so "/help" is answered as "help".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.events import BotUttered, Event
from sanic import Sanic

from handoff.channels.router import MessageRejected

# Where a bot message keeps its choices (Rasa's `BotUttered.data`): buttons, and quick replies.
CHOICE_FIELDS = ("buttons", "quick_replies")
ONLY_SLASHES = "the message must contain more than slashes"

OfferedPayloads = Callable[[str], Awaitable[set[str]]]


def is_command(text: str) -> bool:
    """Whether Rasa would try to read the text as an intent with entities."""
    return text.strip().startswith(INTENT_MESSAGE_PREFIX)


def as_plain_words(text: str) -> str:
    """The text without the leading slashes (and the spaces between them) that make it a command."""
    words = text.strip()
    while words.startswith(INTENT_MESSAGE_PREFIX):
        words = words[len(INTENT_MESSAGE_PREFIX):].strip()
    return words


def offered_payloads(events: Iterable[Event]) -> set[str]:
    """The payloads of every button (or quick reply) in the bot's messages among `events`."""
    payloads = set()
    for event in events:
        if not isinstance(event, BotUttered):
            continue
        for field in CHOICE_FIELDS:
            choices = event.data.get(field)
            for choice in choices if isinstance(choices, list) else []:
                payload = choice.get("payload") if isinstance(choice, dict) else None
                if isinstance(payload, str):
                    payloads.add(payload.strip())
    return payloads


async def text_for_bot(text: str, conversation_id: str, offered: OfferedPayloads) -> str:
    """What Rasa gets of the customer's text: as sent, unless it is a command the bot did not
    offer, which becomes plain words. Raises MessageRejected for slashes with nothing after them."""
    if not is_command(text) or text.strip() in await offered(conversation_id):
        return text
    words = as_plain_words(text)
    if not words:
        raise MessageRejected(400, ONLY_SLASHES)
    return words


class TrackerButtons:
    """The buttons the bot offered in a conversation, as Rasa's tracker store holds them.

    The Rasa server's agent (and so its tracker store) is known once the server started, and is
    looked up on every call: loading a new model through Rasa's API replaces the agent."""

    def __init__(self) -> None:
        self._app: Sanic | None = None

    async def attach(self, app: Sanic, _loop: Any = None) -> None:
        """The server's `after_server_start` listener: remembers the app that holds the agent."""
        self._app = app

    async def payloads(self, conversation_id: str) -> set[str]:
        """The payloads offered in the conversation's current session; none before the server
        started or without an agent (then every command is read as plain words)."""
        agent = getattr(self._app.ctx, "agent", None) if self._app is not None else None
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            return set()
        tracker = await tracker_store.retrieve(conversation_id)
        return offered_payloads(tracker.events) if tracker is not None else set()
