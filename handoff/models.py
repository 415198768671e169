"""Plain data that the handoff store hands out and takes in.

Every model converts to and from a JSON-ready dict, because the same records travel over HTTP,
WebSockets and Redis; `from_dict` ignores unknown keys so a newer writer does not break an older
reader.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, TypedDict, get_args

# Conversation modes. `bot` is also the mode of a conversation Redis has never seen.
Mode = Literal["bot", "queued", "assigned", "abandoned", "waiting_offline"]
BOT: Mode = "bot"
QUEUED: Mode = "queued"
ASSIGNED: Mode = "assigned"
ABANDONED: Mode = "abandoned"
WAITING_OFFLINE: Mode = "waiting_offline"
# Modes in which nobody works on the conversation: its records are kept for the retention period.
CLOSED_MODES = (BOT, ABANDONED)

# What an append the mode had to allow did: kept it, recognised a retry, left it to the bot, or
# refused it (the mode or owner did not allow it).
AppendOutcome = Literal["appended", "duplicate", "bot", "refused"]

# Message streams: what the customer sends to agents, and what agents send to the customer.
INBOX = "inbox"
OUTBOX = "outbox"
DIRECTIONS = (INBOX, OUTBOX)
# Event feeds: what agents' consoles follow (tickets, customer messages), and the announcements of
# agent messages, which only channels that deliver from events (Slack) follow.
AGENT_FEED = "agents"
OUTBOX_FEED = "outbox"
MESSAGE_KINDS = ("text", "typing", "note", "system")

# Agent presence. An agent whose heartbeat ran out counts as offline.
ONLINE = "online"
AWAY = "away"
OFFLINE = "offline"
PRESENCE_STATUSES = (ONLINE, AWAY, OFFLINE)


def one_of(value: str, words: Any, what: str) -> Any:
    """`value` checked against the words of a Literal type (e.g. `one_of(x, Mode, "mode")`), so a
    string read from Redis gets its type only when it is one of them."""
    if value not in get_args(words):
        raise ValueError(f"unknown {what}: {value!r}")
    return value


def _known(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of `data` that are fields of dataclass `cls`."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


class IntentConfidence(TypedDict):
    intent: str
    confidence: float


@dataclass
class Ticket:
    """What the bot knew when it handed over, so the agent does not ask the customer again."""

    conversation_id: str
    reason: str = ""
    priority: int = 0
    frustration: float = 0.0
    summary: str = ""
    intents: list[IntentConfidence] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    channel: str = ""
    created_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ticket:
        return cls(**_known(cls, data))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Ticket:
        return cls.from_dict(json.loads(text))


def _optional_float(value: str | None) -> float | None:
    return float(value) if value else None


@dataclass
class ConversationState:
    """Who answers a conversation right now; `version` grows by one with every transition."""

    conversation_id: str
    mode: Mode = BOT
    agent_id: str | None = None
    ticket: Ticket | None = None
    priority: int = 0
    channel: str | None = None
    queued_at: float | None = None
    assigned_at: float | None = None
    updated_at: float | None = None
    version: int = 0

    @classmethod
    def from_hash(cls, conversation_id: str, hash_fields: Mapping[str, str]) -> ConversationState:
        """Reads the Redis hash, where every value is a string and absent fields mean 'none'."""
        ticket = hash_fields.get("ticket")
        return cls(
            conversation_id=conversation_id,
            mode=one_of(hash_fields.get("mode", BOT), Mode, "mode"),
            agent_id=hash_fields.get("agent_id") or None,
            ticket=Ticket.from_json(ticket) if ticket else None,
            priority=int(hash_fields.get("priority") or 0),
            channel=hash_fields.get("channel") or None,
            queued_at=_optional_float(hash_fields.get("queued_at")),
            assigned_at=_optional_float(hash_fields.get("assigned_at")),
            updated_at=_optional_float(hash_fields.get("updated_at")),
            version=int(hash_fields.get("version") or 0),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConversationState:
        known = _known(cls, data)
        if known.get("ticket") is not None:
            known["ticket"] = Ticket.from_dict(known["ticket"])
        return cls(**known)


@dataclass
class TransitionResult:
    """The outcome of one compare-and-set on a conversation's mode.

    `state` is the state after the transition, or the unchanged state that made it fail;
    `reason` says why it failed: wrong_mode, not_owner, already_claimed, at_capacity, same_agent.
    """

    ok: bool
    state: ConversationState
    reason: str | None = None

    @property
    def mode(self) -> str:
        return self.state.mode

    @property
    def owner(self) -> str | None:
        """The agent holding the conversation, if any (the winner, for a lost claim)."""
        return self.state.agent_id

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "mode": self.mode, "owner": self.owner}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TransitionResult:
        known = _known(cls, data)
        known["state"] = ConversationState.from_dict(known["state"])
        return cls(**known)


@dataclass
class ClaimResult(TransitionResult):
    """A claim's outcome plus how many chats the claiming agent holds afterwards."""

    active_chats: int = 0


@dataclass
class HandoffRequestResult(TransitionResult):
    """A handoff request's outcome plus what to tell the customer while they wait.

    Position and estimate are None unless the conversation is in the queue (not when it waits for
    an agent to come online).
    """

    position: int | None = None
    estimated_wait_seconds: float | None = None


@dataclass
class QueueEntry:
    """One waiting conversation as an agent's queue view shows it."""

    conversation_id: str
    position: int
    priority: int
    queued_at: float
    wait_seconds: float
    channel: str | None = None
    ticket: Ticket | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QueueEntry:
        known = _known(cls, data)
        if known.get("ticket") is not None:
            known["ticket"] = Ticket.from_dict(known["ticket"])
        return cls(**known)


@dataclass
class ChatMessage:
    """One entry of a conversation's inbox or outbox stream.

    `id` is the sender's message id (used to drop retries), `stream_id` the Redis entry id (used to
    resume reading), `seq` the conversation-wide order across both streams.
    """

    id: str
    conversation_id: str
    direction: str
    sender: str
    text: str
    kind: str = "text"
    ts: float = 0.0
    stream_id: str = ""
    seq: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChatMessage:
        return cls(**_known(cls, data))


@dataclass
class AppendResult:
    """Where a message landed; `duplicate` means an earlier copy with the same id was kept instead."""

    stream_id: str
    duplicate: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AppendResult:
        return cls(**_known(cls, data))


@dataclass(frozen=True)
class GuardedAppend:
    """The outcome of an append that the conversation's mode (and owner) had to allow, with the
    mode, owner and version the store saw in the same step.

    `outcome` is `appended`, `duplicate` (an earlier copy with the same id was kept), `bot` (the
    bot takes the message; only its id was recorded) or `refused` (the mode or owner did not allow
    it).
    """

    outcome: AppendOutcome
    stream_id: str
    mode: Mode
    agent_id: str | None
    version: int


@dataclass
class HandoffEvent:
    """A notification for agent consoles; the state in Redis stays the truth, this only says 'look'."""

    id: str
    type: str
    conversation_id: str
    ts: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HandoffEvent:
        return cls(**_known(cls, data))
