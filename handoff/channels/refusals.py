"""The answers a customer gets when their message was not taken, in the same words on every channel.

A refusal is a `MessageRejected`: its HTTP status and `error` are what the REST channel answers,
and `apology` is the sentence the chat channels (widget, Slack) show in the conversation.
"""

from __future__ import annotations

from handoff.channels.router import MessageRejected

AGENTS_UNAVAILABLE = "live agents are unavailable right now; please try again shortly"
TOO_MANY = 429


class AgentsUnavailable(MessageRejected):
    """Redis failed while the message was on its way to an agent: it was not delivered, and the
    client should send it again, with the same message id, after `retry_after` seconds."""

    def __init__(self, retry_after: int = 2) -> None:
        super().__init__(503, AGENTS_UNAVAILABLE, retry_after)


class RateLimited(MessageRejected):
    """The customer (their conversation or their address) went over a rate limit: they may try again
    in `retry_after` seconds."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(TOO_MANY, f"too many {what}; please wait {retry_after} s and try again", retry_after)


def apology(rejected: MessageRejected) -> str:
    """The refusal as a sentence in the chat, for channels that answer in the conversation."""
    if isinstance(rejected, AgentsUnavailable | RateLimited):
        return f"Sorry, {rejected.error}."
    return f"Sorry, that message was not sent: {rejected.error}."
