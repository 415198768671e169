"""What the customer side needs beyond the handoff state: the closed tickets of a conversation with
the customer's satisfaction rating, and the agents' display names.

Kept beside `HandoffStore` (same key prefix and connections, one hash tag per atomic step; the
key names are in `store_scripts.Keys`) so the message hot path is untouched:

- `<prefix>:{<conversation>}:closed_tickets` (hash: handoff id -> JSON record): each resolved
  handoff's ticket, who resolved it and when, and the agent's verdict once given (`verdicts.py`);
- `<prefix>:{<conversation>}:satisfaction` (hash: handoff id -> rating 1-5);
- `<prefix>:{<conversation>}:rating_due` (string: handoff id): the handoff the customer may still
  rate, for a week at most; a rating consumes it, so each handoff is rated at most once;
- `<prefix>:{agents}:names` (hash: agent id -> display name), published by the agent service so
  the customer's channel can say who they talk to without reading the agents file (with tokens);
  each start replaces it with the agents configured then.

Closed tickets and ratings are records of the conversation (`Keys.records`): they expire with its
state once it is closed (see `store_scripts.TRANSITION`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

import redis.exceptions

from handoff.insights.milestones import RATED, VERDICT, publish_milestone
from handoff.insights.publisher import StreamPublisher
from handoff.models import ConversationState
from handoff.redis_connections import DEFAULT_TIMEOUTS, RedisTimeouts, open_connections
from handoff.store import store_errors
from handoff.store_scripts import FOLLOW_STATE, Keys

RATINGS = range(1, 6)
RATING_DUE_SECONDS = 7 * 86_400  # a customer who comes back after a week is not asked any more

# Keeps a resolved handoff's record and makes it rateable. Written before the mode flips, while an
# agent has the conversation; should the conversation have closed meanwhile (the resolve is then
# refused and the record discarded), both keys take the lifetime its records have (FOLLOW_STATE).
# KEYS[1] state, KEYS[2] closed tickets, KEYS[3] rating_due. ARGV: handoff id, record, seconds the
# rating stays due.
ARCHIVE = FOLLOW_STATE + """
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[3])
follow_state(KEYS[1], KEYS[2], 0)
local left = redis.call('PTTL', KEYS[2])
if left > 0 and left < redis.call('PTTL', KEYS[3]) then
  redis.call('PEXPIRE', KEYS[3], left)
end
"""

# Moves the due handoff id into the ratings hash; 0 when nothing is due (already rated, or never).
# The rating lives as long as the closed tickets it belongs to (they expire with the conversation).
# KEYS[1] closed tickets, KEYS[2] ratings, KEYS[3] rating_due. ARGV: the rating.
RATE = """
local due = redis.call('GET', KEYS[3])
if not due or redis.call('HEXISTS', KEYS[1], due) == 0 then return 0 end
redis.call('HSET', KEYS[2], due, ARGV[1])
redis.call('DEL', KEYS[3])
local left = redis.call('PTTL', KEYS[1])
if left > 0 then
  redis.call('PEXPIRE', KEYS[2], left)
end
return 1
"""


class CareStore:
    """Async access to closed tickets, ratings and agent names; raises StoreUnavailable when Redis
    cannot be reached."""

    def __init__(self, url: str, keys: Keys, timeouts: RedisTimeouts = DEFAULT_TIMEOUTS,
                 insights: StreamPublisher | None = None) -> None:
        self.keys = keys
        self.insights = insights  # where ratings are captured (the handoff store's publisher), if anywhere
        self.connections = open_connections(url, timeouts)  # the process's, shared with its other stores
        self._redis = self.connections.commands
        self._archive = self._redis.register_script(ARCHIVE)
        self._rate = self._redis.register_script(RATE)

    async def close(self) -> None:
        await self.connections.close()

    @staticmethod
    def handoff_id(state: ConversationState) -> str:
        """Names one handoff of a conversation: its state version while it was assigned."""
        return f"v{state.version}"

    @store_errors
    async def archive(self, state: ConversationState, agent_id: str, agent_name: str) -> str:
        """Keeps the ticket of the handoff being resolved and makes it rateable; returns its id.
        Written before the mode flips, so a customer who sees the bot back can rate at once."""
        handoff_id = self.handoff_id(state)
        record = {"handoff_id": handoff_id, "agent_id": agent_id, "agent_name": agent_name,
                  "queued_at": state.queued_at, "assigned_at": state.assigned_at,
                  "resolved_at": round(time.time(), 3),
                  "ticket": state.ticket.to_dict() if state.ticket else None}
        conversation_id = state.conversation_id
        keys = [self.keys.state(conversation_id), self.keys.closed_tickets(conversation_id),
                self.keys.rating_due(conversation_id)]
        await self._archive(keys=keys, args=[handoff_id, json.dumps(record), RATING_DUE_SECONDS])
        return handoff_id

    @store_errors
    async def discard(self, conversation_id: str, handoff_id: str) -> None:
        """Undoes `archive` when the resolve it prepared was refused."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self.keys.closed_tickets(conversation_id), handoff_id)
            pipe.delete(self.keys.rating_due(conversation_id))
            await pipe.execute()

    @store_errors
    async def rating_due(self, conversation_id: str) -> bool:
        return bool(await self._redis.exists(self.keys.rating_due(conversation_id)))

    @store_errors
    async def rate(self, conversation_id: str, rating: int) -> bool:
        """Stores the customer's 1-5 rating with the handoff that is due; False if none is."""
        if rating not in RATINGS:
            raise ValueError(f"a rating is a whole number from 1 to 5: {rating!r}")
        keys = [self.keys.closed_tickets(conversation_id), self.keys.satisfaction(conversation_id),
                self.keys.rating_due(conversation_id)]
        saved = bool(await self._rate(keys=keys, args=[rating]))
        if saved and self.insights is not None:
            publish_milestone(self.insights, RATED, conversation_id, round(time.time(), 3), rating=rating)
        return saved

    @store_errors
    async def closed_tickets(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every resolved handoff of the conversation, oldest first, with `satisfaction` (or None)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.keys.closed_tickets(conversation_id))
            pipe.hgetall(self.keys.satisfaction(conversation_id))
            records, ratings = await pipe.execute()
        closed = [{**json.loads(raw), "satisfaction": int(ratings[handoff_id]) if handoff_id in ratings else None}
                  for handoff_id, raw in records.items()]
        return sorted(closed, key=lambda record: record["resolved_at"])

    @store_errors
    async def latest_closed(self, conversation_id: str) -> dict[str, Any] | None:
        """The conversation's most recently resolved handoff, or None."""
        closed = await self.closed_tickets(conversation_id)
        return closed[-1] if closed else None

    @store_errors
    async def give_verdict(self, conversation_id: str, handoff_id: str, verdict: Mapping[str, Any]) -> bool:
        """Adds the agent's verdict to the resolved handoff's record (which keeps its expiry) and
        offers it to the capture stream; False when there is no such record or it has a verdict
        already (the first one counts)."""
        key = self.keys.closed_tickets(conversation_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    raw = await pipe.hget(key, handoff_id)
                    record = json.loads(raw) if raw else None
                    if record is None or record.get("verdict"):
                        return False
                    pipe.multi()
                    pipe.hset(key, handoff_id, json.dumps({**record, "verdict": dict(verdict)}))
                    await pipe.execute()
                    if self.insights is not None:
                        publish_milestone(self.insights, VERDICT, conversation_id, round(time.time(), 3),
                                          verdict=dict(verdict))
                    return True
                except redis.exceptions.WatchError:
                    continue  # the record changed meanwhile (a rating, another verdict): look again

    @store_errors
    async def publish_names(self, agents: Iterable[tuple[str, str]]) -> None:
        """Makes (agent id, display name) pairs known to the customer channels."""
        names = dict(agents)
        if names:
            await self._redis.hset(self.keys.agent_names, mapping=names)

    @store_errors
    async def publish_roster(self, agents: Iterable[tuple[str, str]]) -> None:
        """Makes the names of every configured agent known and forgets those of agents no longer
        configured, so a removed agent's name is not kept for good."""
        names = dict(agents)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.agent_names)
            if names:
                pipe.hset(self.keys.agent_names, mapping=names)
            await pipe.execute()

    @store_errors
    async def agent_name(self, agent_id: str) -> str:
        """The agent's display name; their id if none was published."""
        return await self._redis.hget(self.keys.agent_names, agent_id) or agent_id
