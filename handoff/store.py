"""All shared handoff state, in Redis: conversation modes, the waiting queue, message streams,
agent notifications and presence.

Nothing lives in process memory, so any number of channel and agent-service processes can share
one Redis. Every atomic step touches keys of one hash tag (see `store_scripts.py`); where an
operation spans tags it is ordered so that a crash in between leaves only harmless leftovers:

- queue: the entry is added BEFORE a conversation becomes queued and removed AFTER it stops being
  queued, so a queued conversation is never missing from the queue. Leftover entries are skipped
  when read and swept once older than `stale_grace_seconds`.
- agent capacity: a claim first reserves a slot in the agent's chat set (checking the limit in the
  same step), then compare-and-sets the conversation, and gives the slot back if that fails. A slot
  leaked by a crash is swept when the agent hits its limit and the conversation is not theirs.
- events: emitted after the state change. They are hints for live consoles; the state is the
  truth, so a console that reconnects re-reads the queue and its chats.
- retention: the step that changes a conversation's mode also sets how long its records live: for
  good while a person has it, `retention_seconds` once it is closed (back with the bot, or
  abandoned). Message-id markers and cursors expire on their own.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import redis.exceptions
from redis.asyncio import Redis
from typing_extensions import Self

from handoff.models import (
    ABANDONED,
    AGENT_FEED,
    ASSIGNED,
    BOT,
    CLOSED_MODES,
    DIRECTIONS,
    INBOX,
    MESSAGE_KINDS,
    ONLINE,
    OUTBOX,
    OUTBOX_FEED,
    PRESENCE_STATUSES,
    QUEUED,
    WAITING_OFFLINE,
    AppendOutcome,
    AppendResult,
    ChatMessage,
    ClaimResult,
    ConversationState,
    GuardedAppend,
    HandoffEvent,
    HandoffRequestResult,
    Mode,
    QueueEntry,
    Ticket,
    TransitionResult,
    one_of,
)
from handoff.redis_connections import DEFAULT_TIMEOUTS, ConnectionBound, RedisTimeouts, open_connections

if TYPE_CHECKING:
    from handoff.settings import HandoffSettings

from handoff.auto_pipeline import AutoPipeline
from handoff.insights import milestones
from handoff.insights.milestones import publish_milestone
from handoff.insights.publisher import StreamPublisher
from handoff.store_scripts import MAX_PRIORITY, SCRIPTS, Keys, hash_tag, queue_score, split_score

# Fields that describe a handoff in progress; they go when the conversation returns to the bot.
HANDOFF_FIELDS = ("agent_id", "assigned_at", "queued_at", "ticket", "priority")


class HandoffError(Exception):
    """Base of the errors this package raises on purpose."""


class StoreUnavailable(HandoffError):
    """Redis could not be reached in time; callers fall back (e.g. let the bot keep answering)."""


@dataclass(frozen=True)
class StoreConfig:
    """Tunables of the store; the defaults suit one small support team."""

    prefix: str = "handoff"
    stream_maxlen: int = 10_000  # entries kept per conversation stream (trimmed approximately)
    events_maxlen: int = 10_000  # entries kept in the agents' event stream
    dedup_ttl_seconds: int = 86_400  # how long a message id is remembered to drop retries
    avg_handling_seconds: float = 180.0  # wait estimate: this many seconds per queue position...
    min_wait_seconds: float = 30.0  # ...but never less than this
    stale_grace_seconds: float = 30.0  # leftover queue entries / chat slots younger than this stay
    socket_timeout: float = DEFAULT_TIMEOUTS.socket_seconds  # a hung Redis surfaces as StoreUnavailable
    connect_timeout: float = DEFAULT_TIMEOUTS.connect_seconds
    max_block_ms: int = DEFAULT_TIMEOUTS.max_block_ms  # longest wait a blocking read may ask for
    retention_seconds: int = 30 * 86_400  # a closed conversation (bot, abandoned) is forgotten after this
    connection_bound: ConnectionBound | None = None  # None: the process's, from the settings
    insights_maxlen: int = 100_000  # entries kept in the capture stream (handoff/insights)
    insights_expire_seconds: int = 7 * 86_400  # the capture stream expires after this long unused
    insights_buffer_events: int = 10_000  # milestones held in memory while Redis is away, then dropped

    @property
    def timeouts(self) -> RedisTimeouts:
        """The timeouts of the connections this store shares with the others of its process."""
        return RedisTimeouts(self.socket_timeout, self.connect_timeout, self.max_block_ms)


P = ParamSpec("P")
R = TypeVar("R")


def store_errors(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turns every way of not reaching Redis, and a full Redis refusing a write, into StoreUnavailable."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise StoreUnavailable(f"redis unavailable: {exc}") from exc
        except redis.exceptions.OutOfMemoryError as exc:
            # maxmemory with noeviction: Redis refuses writes rather than drop conversations.
            raise StoreUnavailable(f"redis is full (maxmemory reached) and refuses writes: {exc}") from exc

    return wrapper


def _pairs(flat: list[str] | dict[str, str]) -> dict[str, str]:
    """A flat field/value reply as a dict: a stream entry's fields, or a HGETALL reply that went
    through cjson (where an empty one arrives as `{}`)."""
    return dict(zip(flat[::2], flat[1::2], strict=True)) if isinstance(flat, list) else dict(flat)


def _flatten(values: Mapping[str, Any]) -> list[Any]:
    return [item for pair in values.items() for item in pair]


class HandoffStore:
    """Async access to the handoff state; every method raises StoreUnavailable when Redis is down."""

    def __init__(self, url: str, config: StoreConfig | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config or StoreConfig()
        self.keys = Keys(self.config.prefix)
        self._clock = clock
        # The process's connections to this Redis, shared with every store opened alike. Blocking
        # reads get connections of their own: a socket timeout longer than the block, and no
        # waiting reader ever holds a connection that short commands need.
        self.connections = open_connections(url, self.config.timeouts, self.config.connection_bound)
        self._redis = self.connections.commands
        self._blocking = self.connections.blocking
        self._scripts = {name: self._redis.register_script(source) for name, source in SCRIPTS.items()}
        # The per-message commands (append, event, cursor) share round trips under load.
        self._batched = AutoPipeline(self._redis)
        # Outbox reads block, so each concurrent one has a pipelined connection of its own.
        self._idle_blocking_links: list[AutoPipeline] = []
        # Handoff milestones for the insights consumer: offered, never awaited (a full Redis never
        # fails a handoff for their sake).
        self.insights = StreamPublisher(self._redis, self.keys.insights, self.config.insights_maxlen,
                                        self.config.insights_expire_seconds, self.config.insights_buffer_events)

    @property
    def closed(self) -> bool:
        return self.connections.closed

    async def close(self) -> None:
        """Drops this store's own pipelined connections and its hold on the shared ones; once is
        enough (channels sharing the store may each close it)."""
        if self.closed:
            return
        await self.insights.drain()
        await self._batched.close()
        idle, self._idle_blocking_links = self._idle_blocking_links, []
        for link in idle:
            await link.close()
        await self.connections.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _now(self) -> float:
        return round(self._clock(), 3)

    def _check_tags(self, name: str, keys: list[str]) -> None:
        if len({hash_tag(key) for key in keys}) != 1:
            raise ValueError(f"script {name} would span hash tags: {keys}")

    async def _script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        self._check_tags(name, keys)
        return await self._scripts[name](keys=keys, args=args)

    async def _batched_script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """Runs a script by its SHA on the shared pipelined connection, loading it only if Redis
        does not have it (after a restart)."""
        self._check_tags(name, keys)
        script = self._scripts[name]
        try:
            return await self._batched.execute("EVALSHA", script.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:  # Redis restarted (or flushed its scripts): nothing ran
            return await script(keys=keys, args=args)  # loads the script, then runs it

    @store_errors
    async def ping(self) -> float:
        """Round-trip time to Redis in seconds."""
        started = time.perf_counter()
        await self._redis.ping()
        return time.perf_counter() - started

    # --- conversation state -------------------------------------------------------------------

    @store_errors
    async def get_state(self, conversation_id: str) -> ConversationState:
        fields = await self._redis.hgetall(self.keys.state(conversation_id))
        return ConversationState.from_hash(conversation_id, fields)

    async def _transition(self, conversation_id: str, allowed: tuple[str, ...], new_mode: str, *,
                          owner: str = "", clear: tuple[str, ...] = (),
                          values: Mapping[str, Any] | None = None) -> TransitionResult:
        keys = [*self.keys.records(conversation_id), self.keys.rating_due(conversation_id)]
        kept_for = self.config.retention_seconds if new_mode in CLOSED_MODES else 0
        reply = await self._script("TRANSITION", keys, [self._now(), " ".join(allowed), owner, new_mode,
                                                        " ".join(clear), kept_for, *_flatten(values or {})])
        outcome = json.loads(reply)
        state = ConversationState.from_hash(conversation_id, _pairs(outcome["state"]))
        return TransitionResult(outcome["ok"], state, outcome.get("reason"))

    @store_errors
    async def request_handoff(self, conversation_id: str, ticket: Ticket | Mapping[str, Any], priority: int,
                              channel: str, *, agents_online: bool = True) -> HandoffRequestResult:
        """bot -> queued, or -> waiting_offline when the caller knows no agent is online."""
        if not 0 <= priority <= MAX_PRIORITY:
            raise ValueError(f"priority must be within 0..{MAX_PRIORITY}: {priority}")
        if not isinstance(ticket, Ticket):
            ticket = Ticket.from_dict({"conversation_id": conversation_id, **ticket})
        now = self._now()
        score = queue_score(priority, now)
        await self._redis.zadd(self.keys.queue, {conversation_id: score})
        new_mode = QUEUED if agents_online else WAITING_OFFLINE
        outcome = await self._transition(conversation_id, (BOT,), new_mode, values={
            "priority": priority, "channel": channel, "ticket": ticket.to_json(), "queued_at": now})
        if not outcome.ok:
            await self._undo_queue_entry(outcome.state, score)
            return HandoffRequestResult(False, outcome.state, outcome.reason)
        await self._emit("ticket_created", conversation_id, mode=new_mode, priority=priority, channel=channel)
        publish_milestone(self.insights, milestones.REQUESTED, conversation_id, now, reason=ticket.reason,
                          priority=priority, frustration=ticket.frustration, channel=channel)
        position = await self.queue_position(conversation_id) if agents_online else None
        estimate = self.estimate_wait(position) if position else None
        return HandoffRequestResult(True, outcome.state, None, position, estimate)

    async def _undo_queue_entry(self, state: ConversationState, score: float) -> None:
        """After a refused request: put back the true score of a conversation already waiting, or
        drop the entry this request added."""
        if state.mode in (QUEUED, WAITING_OFFLINE) and state.queued_at is not None:
            await self._redis.zadd(self.keys.queue, {state.conversation_id: self._score_of(state)}, xx=True)
        else:
            await self._script("REMOVE_IF_SCORE", [self.keys.queue], [state.conversation_id, score])

    @staticmethod
    def _score_of(state: ConversationState) -> float:
        return queue_score(state.priority, state.queued_at or 0.0)

    @store_errors
    async def claim(self, conversation_id: str, agent_id: str, max_concurrent: int) -> ClaimResult:
        """queued -> assigned. Of racing agents exactly one wins; the others learn the owner."""
        reserved, held = await self._reserve(agent_id, conversation_id, max_concurrent)
        if not reserved:
            return ClaimResult(False, await self.get_state(conversation_id), "at_capacity", held)
        outcome = await self._transition(conversation_id, (QUEUED,), ASSIGNED,
                                         values={"agent_id": agent_id, "assigned_at": self._now()})
        if not outcome.ok:
            if outcome.owner != agent_id:
                held -= await self._redis.zrem(self.keys.agent_chats(agent_id), conversation_id)
            reason = "already_claimed" if outcome.mode == ASSIGNED else outcome.reason
            return ClaimResult(False, outcome.state, reason, held)
        await self._script("REMOVE_IF_SCORE", [self.keys.queue], [conversation_id, self._score_of(outcome.state)])
        await self._emit("ticket_claimed", conversation_id, agent_id=agent_id)
        publish_milestone(self.insights, milestones.CLAIMED, conversation_id,
                          outcome.state.assigned_at or self._now(), agent_id=agent_id)
        return ClaimResult(True, outcome.state, None, held)

    async def _reserve(self, agent_id: str, conversation_id: str, limit: int) -> tuple[bool, int]:
        """Takes a chat slot for the agent if under `limit` (negative: no limit)."""
        keys, args = [self.keys.agent_chats(agent_id)], [self._now(), conversation_id, limit]
        reserved, held = await self._script("RESERVE", keys, args)
        if not reserved and await self._sweep_agent_chats(agent_id):
            reserved, held = await self._script("RESERVE", keys, args)
        return bool(reserved), int(held)

    async def _sweep_agent_chats(self, agent_id: str) -> int:
        """Frees slots older than the grace period whose conversation the agent does not hold."""
        key = self.keys.agent_chats(agent_id)
        old = await self._redis.zrangebyscore(key, "-inf", self._now() - self.config.stale_grace_seconds,
                                              withscores=True)
        states = await self._states([conversation_id for conversation_id, _ in old])
        freed = 0
        for (conversation_id, reserved_at), state in zip(old, states, strict=True):
            if state.mode != ASSIGNED or state.agent_id != agent_id:
                freed += await self._script("REMOVE_IF_SCORE", [key], [conversation_id, reserved_at])
        return freed

    @store_errors
    async def transfer(self, conversation_id: str, from_agent: str, to_agent: str,
                       max_concurrent: int | None = None) -> ClaimResult:
        """assigned -> assigned to another agent; only the current owner may hand it on."""
        if from_agent == to_agent:
            return ClaimResult(False, await self.get_state(conversation_id), "same_agent")
        limit = -1 if max_concurrent is None else max_concurrent
        reserved, held = await self._reserve(to_agent, conversation_id, limit)
        if not reserved:
            return ClaimResult(False, await self.get_state(conversation_id), "at_capacity", held)
        outcome = await self._transition(conversation_id, (ASSIGNED,), ASSIGNED, owner=from_agent,
                                         values={"agent_id": to_agent, "assigned_at": self._now()})
        if not outcome.ok:
            if outcome.owner != to_agent:
                held -= await self._redis.zrem(self.keys.agent_chats(to_agent), conversation_id)
            return ClaimResult(False, outcome.state, outcome.reason, held)
        await self._redis.zrem(self.keys.agent_chats(from_agent), conversation_id)
        await self._emit("ticket_transferred", conversation_id, from_agent=from_agent, to_agent=to_agent)
        return ClaimResult(True, outcome.state, None, held)

    @store_errors
    async def resolve(self, conversation_id: str, agent_id: str) -> TransitionResult:
        """assigned -> bot, by the owner only."""
        outcome = await self._transition(conversation_id, (ASSIGNED,), BOT, owner=agent_id, clear=HANDOFF_FIELDS)
        if outcome.ok:
            await self._redis.zrem(self.keys.agent_chats(agent_id), conversation_id)
            await self._emit("ticket_resolved", conversation_id, agent_id=agent_id)
            publish_milestone(self.insights, milestones.ENDED, conversation_id, self._now(),
                              how=milestones.RESOLVED, agent_id=agent_id)
        return outcome

    @store_errors
    async def abandon(self, conversation_id: str,
                      modes: tuple[str, ...] = (QUEUED, ASSIGNED, WAITING_OFFLINE)) -> TransitionResult:
        """The customer left: queued / assigned / waiting_offline (or only `modes`) -> abandoned
        (the agent is kept in the state so the console can say whose chat it was)."""
        outcome = await self._transition(conversation_id, modes, ABANDONED)
        if outcome.ok:
            await self._script("REMOVE_IF_SCORE", [self.keys.queue],
                               [conversation_id, self._score_of(outcome.state)])
            if outcome.owner:
                await self._redis.zrem(self.keys.agent_chats(outcome.owner), conversation_id)
            await self._emit("ticket_abandoned", conversation_id, agent_id=outcome.owner)
            publish_milestone(self.insights, milestones.ENDED, conversation_id, self._now(),
                              how=milestones.ABANDONED)
        return outcome

    @store_errors
    async def return_to_bot(self, conversation_id: str) -> TransitionResult:
        """abandoned -> bot, e.g. when the customer writes again."""
        outcome = await self._transition(conversation_id, (ABANDONED,), BOT, clear=HANDOFF_FIELDS)
        if outcome.ok:
            publish_milestone(self.insights, milestones.ENDED, conversation_id, self._now(),
                              how=milestones.RETURNED)
        return outcome

    @store_errors
    async def requeue_offline(self) -> list[str]:
        """waiting_offline -> queued for every such conversation (an agent came online); they keep
        their original request time, so their place in the queue. Returns the moved ids."""
        members = await self._redis.zrange(self.keys.queue, 0, -1)
        moved = []
        for state in await self._states(members):
            if state.mode != WAITING_OFFLINE:
                continue
            outcome = await self._transition(state.conversation_id, (WAITING_OFFLINE,), QUEUED)
            if outcome.ok:
                moved.append(state.conversation_id)
                await self._emit("ticket_requeued", state.conversation_id, priority=state.priority)
        return moved

    async def _states(self, conversation_ids: list[str]) -> list[ConversationState]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for conversation_id in conversation_ids:
                pipe.hgetall(self.keys.state(conversation_id))
            replies = await pipe.execute()
        return [ConversationState.from_hash(c, fields) for c, fields in zip(conversation_ids, replies, strict=True)]

    # --- queue --------------------------------------------------------------------------------

    def estimate_wait(self, position: int) -> float:
        """Seconds until an agent picks up: position x average handling time, at least the floor.
        Deliberately simple; it ignores how many agents are online."""
        return max(self.config.min_wait_seconds, position * self.config.avg_handling_seconds)

    @store_errors
    async def queue_position(self, conversation_id: str) -> int | None:
        """1-based place among queued conversations, or None if it is not queued."""
        rank = await self._redis.zrank(self.keys.queue, conversation_id)
        if rank is None:
            return None
        ahead = await self._redis.zrange(self.keys.queue, 0, rank - 1) if rank else []
        states = await self._states([*ahead, conversation_id])
        if states[-1].mode != QUEUED:
            return None
        return 1 + sum(state.mode == QUEUED for state in states[:-1])

    @store_errors
    async def list_queue(self) -> list[QueueEntry]:
        """Queued conversations in pick-up order, with tickets and wait times so far. Entries whose
        conversation is no longer waiting are skipped, and swept once past the grace period."""
        entries = await self._redis.zrange(self.keys.queue, 0, -1, withscores=True)
        states = await self._states([conversation_id for conversation_id, _ in entries])
        now = self._now()
        listed: list[QueueEntry] = []
        for (conversation_id, score), state in zip(entries, states, strict=True):
            if state.mode == QUEUED and state.queued_at is not None:
                listed.append(QueueEntry(conversation_id, len(listed) + 1, state.priority, state.queued_at,
                                         round(now - state.queued_at, 3), state.channel, state.ticket))
            elif state.mode != WAITING_OFFLINE and now - split_score(score)[1] > self.config.stale_grace_seconds:
                await self._script("REMOVE_IF_SCORE", [self.keys.queue], [conversation_id, score])
        return listed

    @store_errors
    async def agent_chats(self, agent_id: str) -> list[str]:
        """Conversations the agent holds (or is claiming this instant)."""
        return await self._redis.zrange(self.keys.agent_chats(agent_id), 0, -1)

    # --- messages -----------------------------------------------------------------------------

    async def _append(self, conversation_id: str, direction: str, message_id: str, sender: str, text: str,
                      kind: str, extra: Mapping[str, Any] | None, *, modes: tuple[str, ...] = (),
                      owner: str = "", bot_modes: tuple[str, ...] = ()) -> GuardedAppend:
        """Appends in one round trip (see APPEND_MESSAGE), then announces it: a customer message to
        the agents' feed, carrying the whole message so consoles need not read it back; an agent
        message to the outbox feed, which channels that deliver from events (Slack's) follow and
        consoles never have to read past."""
        if direction not in DIRECTIONS or kind not in MESSAGE_KINDS or not message_id:
            raise ValueError(f"bad message: direction={direction!r} kind={kind!r} id={message_id!r}")
        keys = [self.keys.state(conversation_id), self.keys.stream(conversation_id, direction),
                self.keys.seen(conversation_id, direction, message_id), self.keys.sequence(conversation_id)]
        now, extra = self._now(), dict(extra or {})
        fields = {"id": message_id, "sender": sender, "text": text, "kind": kind, "ts": now,
                  "extra": json.dumps(extra)}
        outcome, stream_id, seq, mode, agent_id, version = await self._batched_script("APPEND_MESSAGE", keys, [
            " ".join(modes), owner, " ".join(bot_modes), self.config.stream_maxlen,
            self.config.dedup_ttl_seconds, self.config.retention_seconds, *_flatten(fields)])
        if outcome == "appended":
            announced: dict[str, Any] = {"direction": direction, "kind": kind, "stream_id": stream_id,
                                         "agent_id": agent_id or None}
            if direction == INBOX:  # consoles show it at once, without reading it back
                announced["message"] = ChatMessage(
                    id=message_id, conversation_id=conversation_id, direction=direction, sender=sender, text=text,
                    kind=kind, ts=now, stream_id=stream_id, seq=int(seq), extra=extra).to_dict()
            await self._emit("message", conversation_id, feed=OUTBOX_FEED if direction == OUTBOX else AGENT_FEED,
                             **announced)
        return GuardedAppend(one_of(outcome, AppendOutcome, "append outcome"), stream_id, one_of(mode, Mode, "mode"),
                             agent_id or None, int(version))

    @store_errors
    async def append_message(self, conversation_id: str, direction: str, message_id: str, sender: str,
                             text: str, kind: str = "text",
                             extra: Mapping[str, Any] | None = None) -> AppendResult:
        """Stores a message once per (direction, message id); acknowledge the sender only after this
        returns. A retried id gets the stream id of the first copy back."""
        result = await self._append(conversation_id, direction, message_id, sender, text, kind, extra)
        return AppendResult(result.stream_id, duplicate=result.outcome == "duplicate")

    @store_errors
    async def append_agent_message(self, conversation_id: str, agent_id: str, message_id: str, text: str,
                                   kind: str = "text", extra: Mapping[str, Any] | None = None) -> GuardedAppend:
        """Stores what an agent sends, only while that agent holds the conversation (else
        `refused`, with the mode and owner that made it so)."""
        result = await self._append(conversation_id, OUTBOX, message_id, agent_id, text, kind, extra,
                                    modes=(ASSIGNED,), owner=agent_id)
        if result.outcome == "appended":
            publish_milestone(self.insights, milestones.AGENT_MESSAGE, conversation_id, self._now(), agent_id=agent_id)
        return result

    @store_errors
    async def accept_customer_message(self, conversation_id: str, message_id: str, sender: str, text: str,
                                      human_modes: tuple[str, ...],
                                      extra: Mapping[str, Any] | None = None) -> GuardedAppend:
        """Decides and records a customer message in one round trip: into the inbox while the
        conversation is in one of `human_modes` (`appended`), marked as the bot's while it is in bot
        mode (`bot`), `duplicate` if its id was seen, `refused` in any other mode."""
        return await self._append(conversation_id, INBOX, message_id, sender, text, "text", extra,
                                  modes=human_modes, bot_modes=(BOT,))

    @store_errors
    async def mark_handled_by_bot(self, conversation_id: str, message_id: str) -> bool:
        """Records that the bot took customer message `message_id`; False if it was seen before
        (by the bot or an agent), so a client's retry never gets a second answer."""
        created = await self._redis.set(self.keys.seen(conversation_id, INBOX, message_id), "bot",
                                        nx=True, ex=self.config.dedup_ttl_seconds)
        return bool(created)

    @store_errors
    async def get_cursor(self, conversation_id: str, reader: str) -> str:
        """The last stream id `reader` (e.g. the customer's channel) has been given; "0-0" if none."""
        return await self._redis.get(self.keys.cursor(conversation_id, reader)) or "0-0"

    @store_errors
    async def set_cursor(self, conversation_id: str, reader: str, stream_id: str) -> None:
        """Moves `reader`'s cursor forward after a delivery, so a reconnect resumes after it."""
        key = self.keys.cursor(conversation_id, reader)
        await self._batched.execute("SET", key, stream_id, "EX", self.config.dedup_ttl_seconds)

    @store_errors
    async def get_cursors(self, conversation_ids: list[str], reader: str) -> dict[str, str]:
        """`get_cursor` for many conversations in one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for conversation_id in conversation_ids:
                pipe.get(self.keys.cursor(conversation_id, reader))
            cursors = await pipe.execute()
        return {conversation_id: cursor or "0-0" for conversation_id, cursor in zip(conversation_ids, cursors, strict=True)}

    @store_errors
    async def read_outboxes(self, after: Mapping[str, str], reader: str, delivered: Mapping[str, str],
                            wake: tuple[str, str], block_ms: int,
                            count: int = 100) -> tuple[str, dict[str, list[ChatMessage]]]:
        """One blocking read of many conversations' outboxes (each after its cursor in `after`) and
        of the reader's wake-up stream (`wake`: key, last id seen); the same round trip first saves
        `reader`'s cursors of what was `delivered` since the last read. Returns the wake stream's
        newest id and the new messages by conversation.

        One multi-key XREAD needs its streams in one Redis Cluster slot; a cluster deployment
        would read one slot at a time."""
        self._check_block(block_ms)
        wake_key, wake_after = wake
        conversations = {self.keys.stream(conversation_id, OUTBOX): conversation_id for conversation_id in after}
        commands: list[tuple[Any, ...]] = [("SET", self.keys.cursor(conversation_id, reader), stream_id, "EX", self.config.dedup_ttl_seconds)
                    for conversation_id, stream_id in delivered.items()]
        commands.append(("XREAD", "COUNT", count, "BLOCK", block_ms, "STREAMS", wake_key, *conversations,
                         wake_after, *(after[conversation_id] for conversation_id in conversations.values())))
        link = self._idle_blocking_links.pop() if self._idle_blocking_links else AutoPipeline(self._blocking)
        try:
            *_, reply = await link.execute_many(*commands)
        except BaseException:
            link.abort()  # an interrupted read would answer late, ahead of the next one's reply
            raise
        self._idle_blocking_links.append(link)
        messages: dict[str, list[ChatMessage]] = {}
        for key, entries in reply or []:
            if key == wake_key:
                wake_after = entries[-1][0]
            else:
                conversation_id = conversations[key]
                messages[conversation_id] = [_message(conversation_id, OUTBOX, stream_id, _pairs(fields))
                                             for stream_id, fields in entries]
        return wake_after, messages

    @store_errors
    async def wake_reader(self, wake_key: str, expire_seconds: int = 86_400) -> None:
        """Ends the current `read_outboxes` on `wake_key` early (the key goes if nobody renews it)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            await pipe.xadd(wake_key, {"wake": 1}, maxlen=1).expire(wake_key, expire_seconds).execute()

    @store_errors
    async def forget_reader(self, wake_key: str) -> None:
        await self._redis.delete(wake_key)

    @store_errors
    async def read_messages(self, conversation_id: str, direction: str, after_id: str = "0-0",
                            block_ms: int | None = None, count: int = 100) -> list[ChatMessage]:
        """Messages after `after_id`: catch-up after a reconnect, or (with `block_ms`) live tailing."""
        if direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {direction!r}")
        entries = await self._xread(self.keys.stream(conversation_id, direction), after_id, block_ms, count)
        return [_message(conversation_id, direction, stream_id, fields) for stream_id, fields in entries]

    @store_errors
    async def transcript(self, conversation_id: str) -> list[ChatMessage]:
        """Both directions in the order they were stored (as far back as the streams are kept)."""
        messages = [_message(conversation_id, direction, stream_id, fields)
                    for direction in (INBOX, OUTBOX)
                    for stream_id, fields in await self._redis.xrange(self.keys.stream(conversation_id, direction))]
        return sorted(messages, key=lambda message: message.seq)

    async def _xread(self, key: str, after_id: str, block_ms: int | None,
                     count: int) -> list[tuple[str, dict[str, str]]]:
        reply = await self._client_for(block_ms).xread({key: after_id}, count=count, block=block_ms)
        return reply[0][1] if reply else []

    def _client_for(self, block_ms: int | None) -> Redis:
        """The client for a read that blocks `block_ms` (None: does not block)."""
        if block_ms is None:
            return self._redis
        self._check_block(block_ms)
        return self._blocking

    def _check_block(self, block_ms: int) -> None:
        """Refuses a block outside 1..max_block_ms: the blocking connections' socket timeout covers
        only that."""
        if not 0 < block_ms <= self.config.max_block_ms:
            raise ValueError(f"block_ms must be within 1..{self.config.max_block_ms}: {block_ms}")

    # --- events for agent consoles ------------------------------------------------------------

    async def _emit(self, event_type: str, conversation_id: str, feed: str = AGENT_FEED, **data: Any) -> None:
        fields = {"type": event_type, "conversation_id": conversation_id, "ts": self._now(), "data": json.dumps(data)}
        key = self.keys.feed(feed)
        await self._batched.execute("XADD", key, "MAXLEN", "~", self.config.events_maxlen, "*", *_flatten(fields))

    @store_errors
    async def read_events(self, after_id: str = "0-0", block_ms: int | None = None,
                          count: int = 100, feed: str = AGENT_FEED) -> list[HandoffEvent]:
        """Notifications of `feed` after `after_id` (`$` with `block_ms`: only new ones)."""
        entries = await self._xread(self.keys.feed(feed), after_id, block_ms, count)
        return [HandoffEvent(id=stream_id, type=fields["type"], conversation_id=fields["conversation_id"],
                             ts=float(fields["ts"]), data=json.loads(fields["data"]))
                for stream_id, fields in entries]

    # --- agent presence -----------------------------------------------------------------------

    @store_errors
    async def set_presence(self, agent_id: str, status: str, ttl_seconds: float = 30.0) -> str:
        """Heartbeat: the status holds for `ttl_seconds` unless renewed. Returns the status before,
        so the caller can requeue waiting_offline conversations when an agent comes online."""
        if status not in PRESENCE_STATUSES:
            raise ValueError(f"unknown presence status {status!r}")
        now = self._now()
        return await self._script("SET_PRESENCE", [self.keys.presence, self.keys.presence_expiry],
                                  [now, agent_id, status, now + ttl_seconds])

    @store_errors
    async def online_agents(self) -> list[str]:
        """Agents whose status is online and whose heartbeat has not run out."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrangebyscore(self.keys.presence_expiry, f"({self._now()}", "+inf")
            pipe.hgetall(self.keys.presence)
            alive, statuses = await pipe.execute()
        return sorted(agent for agent in alive if statuses.get(agent) == ONLINE)


def _message(conversation_id: str, direction: str, stream_id: str, fields: Mapping[str, str]) -> ChatMessage:
    return ChatMessage(id=fields["id"], conversation_id=conversation_id, direction=direction,
                       sender=fields["sender"], text=fields["text"], kind=fields["kind"], ts=float(fields["ts"]),
                       stream_id=stream_id, seq=int(fields["seq"]), extra=json.loads(fields["extra"]))


def open_store(settings: HandoffSettings) -> HandoffStore:
    """A store configured from the plugin's settings (Redis URL, key prefix, wait estimate, retention)."""
    return HandoffStore(settings.redis_url, StoreConfig(
        prefix=settings.key_prefix, avg_handling_seconds=float(settings.average_handle_seconds),
        retention_seconds=settings.retention_days * 86_400, insights_maxlen=settings.insights_stream_maxlen,
        insights_expire_seconds=settings.insights_stream_expire_seconds,
        insights_buffer_events=settings.insights_buffer_events))
