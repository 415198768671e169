"""Reads Slack Events API payloads (and button clicks): which ones are a customer's new message,
and which are noise.

Slack also sends the app its own posts, edits and deletions of messages, people joining channels
and more; answering any of those would make the bot talk to itself or answer a message twice.
Only a person's new message (`message` without a subtype, or with one of the few subtypes that
are still a person writing, and `app_mention`) comes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa.core.channels.slack import SlackInput

from handoff.slack.address import SlackAddress

MESSAGE_EVENTS = ("message", "app_mention")
# Subtypes that are still a person's new message; all others (bot_message, message_changed,
# message_deleted, channel_join, ...) are not.
PERSON_SUBTYPES = (None, "thread_broadcast", "file_share")


class MalformedEvent(ValueError):
    """A payload that claims to be an event but lacks what every Slack event has."""


@dataclass(frozen=True)
class SlackMessage:
    """A customer's message as the channel routes it."""

    event_id: str
    address: SlackAddress
    text: str
    ts: str
    mention: bool  # an app_mention event (the bot was addressed by name)
    direct: bool  # a direct message to the app
    in_thread: bool
    reply_thread: str | None  # where answers go: the customer's thread, if any


    @property
    def message_id(self) -> str:
        """The same for every event about this one message (a mention in a channel the app also
        listens to arrives twice, as `message` and as `app_mention`), so it is answered once."""
        return f"{self.address.channel}:{self.ts}"


def _text_field(data: Any, name: str) -> str:
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"the event has no {name}")
    return value


def bot_user_ids(payload: dict[str, Any]) -> list[str]:
    """The app's own user ids in this workspace (its mentions are dropped from the text)."""
    users = [a.get("user_id") for a in payload.get("authorizations") or [] if isinstance(a, dict) and a.get("is_bot")]
    users += payload.get("authed_users") or []
    return [user for user in users if isinstance(user, str)]


def customer_message(payload: dict[str, Any]) -> SlackMessage | None:
    """The customer's message in an `event_callback` payload, or None if the event is not one.

    Raises MalformedEvent for a payload without the fields every message event carries.
    """
    event = payload.get("event")
    if not isinstance(event, dict):
        raise MalformedEvent("an event_callback needs an event object")
    event_id = _text_field(payload, "event_id")
    own_users = bot_user_ids(payload)
    if (event.get("type") not in MESSAGE_EVENTS or event.get("bot_id")
            or event.get("subtype") not in PERSON_SUBTYPES or event.get("user") in own_users):
        return None
    raw_text = event.get("text")
    text = SlackInput._sanitize_user_message(raw_text, own_users) if isinstance(raw_text, str) else ""
    if not text:
        return None  # e.g. a file without a comment: nothing to answer
    team = payload.get("team_id") or event.get("team")
    ts = _text_field(event, "ts")
    thread_ts = event.get("thread_ts")
    direct = event.get("channel_type") == "im"
    try:
        address = SlackAddress.of_message(str(team), _text_field(event, "channel"), _text_field(event, "user"),
                                          ts, thread_ts if isinstance(thread_ts, str) else None, direct)
    except ValueError as exc:
        raise MalformedEvent(str(exc)) from exc
    in_thread = isinstance(thread_ts, str) and thread_ts != ts
    return SlackMessage(event_id=event_id, address=address, text=text, ts=ts,
                        mention=event.get("type") == "app_mention", direct=direct, in_thread=in_thread,
                        reply_thread=thread_ts if in_thread else address.thread_ts)


def button_click(payload: dict[str, Any]) -> SlackMessage | None:
    """The customer's choice when they click a button the bot sent (an interactivity payload), as
    a message whose text is the button's payload; None for other interactions.

    Raises MalformedEvent for a payload without the fields every click carries.
    """
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not SlackInput._is_interactive_message(payload):
        return None
    text = SlackInput._get_interactive_response(actions[0])
    if not isinstance(text, str) or not text:
        return None  # e.g. a link button: nothing for the bot
    channel = _text_field(payload.get("channel"), "id")
    message = payload.get("message")
    posted: dict[str, Any] = message if isinstance(message, dict) else {}
    action_ts = _text_field(actions[0], "action_ts")
    thread_ts = posted.get("thread_ts")
    try:
        address = SlackAddress.of_message(
            _text_field(payload.get("team"), "id"), channel, _text_field(payload.get("user"), "id"),
            _text_field(posted, "ts"), thread_ts if isinstance(thread_ts, str) else None,
            direct=channel.startswith("D"))
    except ValueError as exc:
        raise MalformedEvent(str(exc)) from exc
    in_thread = isinstance(thread_ts, str)
    return SlackMessage(event_id=f"action:{channel}:{action_ts}", address=address, text=text, ts=action_ts,
                        mention=True, direct=channel.startswith("D"), in_thread=in_thread,
                        reply_thread=thread_ts if in_thread else address.thread_ts)
