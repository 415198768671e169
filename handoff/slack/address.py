"""Where a Slack customer's conversation lives, and the conversation id that names it.

The id must be stable for one customer in one Slack conversation (and thread), because Rasa's
tracker and the handoff state hang off it; and the agents' replies must find their way back to
the thread the customer wrote in. Both come from the same four values, so the id encodes them and
delivery decodes them. (In a direct message, where the thread can change from one message to the
next, the channel records the latest one; see `reply_thread` in `state.py`.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "slack"
SLACK_ID = re.compile(r"^[A-Z0-9]{1,40}$")
SLACK_TS = re.compile(r"^\d{1,12}\.\d{1,9}$")


@dataclass(frozen=True)
class SlackAddress:
    """A customer (`user`) in a Slack workspace's conversation (`channel`), in `thread_ts` when
    the conversation is a channel thread; replies go to that thread."""

    team: str
    channel: str
    user: str
    thread_ts: str | None = None

    def __post_init__(self) -> None:
        for name in ("team", "channel", "user"):
            if not SLACK_ID.match(getattr(self, name)):
                raise ValueError(f"not a Slack {name} id: {getattr(self, name)!r}")
        if self.thread_ts is not None and not SLACK_TS.match(self.thread_ts):
            raise ValueError(f"not a Slack message timestamp: {self.thread_ts!r}")

    @property
    def conversation_id(self) -> str:
        parts = [PREFIX, self.team, self.channel, self.user] + ([self.thread_ts] if self.thread_ts else [])
        return "_".join(parts)

    @classmethod
    def parse(cls, conversation_id: str) -> SlackAddress | None:
        """The address a conversation id names, or None if it is not a Slack conversation."""
        parts = conversation_id.split("_")
        if parts[0] != PREFIX or len(parts) not in (4, 5):
            return None
        try:
            return cls(*parts[1:])
        except ValueError:
            return None

    @classmethod
    def of_message(cls, team: str, channel: str, user: str, ts: str, thread_ts: str | None,
                   direct: bool) -> SlackAddress:
        """The conversation a customer's message belongs to.

        Every message of a direct-message conversation with the app belongs to the DM itself,
        threads included: the customer's one conversation with the app must not split (and lose
        its agent) because they replied in a thread. In a shared channel a message in a thread
        belongs to that thread, and a top-level message starts a thread of its own (answers go
        there, so the channel is not flooded), which the customer's replies then continue.
        """
        if direct:
            return cls(team, channel, user, None)
        return cls(team, channel, user, thread_ts or ts)
