"""A Redis tracker store whose cost per turn does not grow with the conversation.

Rasa's own RedisTrackerStore keeps each conversation as one JSON document: every turn reads and
parses it whole (to load the tracker), then reads and parses it again, merges, and writes it all
back (to save). A long conversation gets slower with every message, and the synchronous client
blocks the server's event loop meanwhile.

Here a conversation is a Redis list of events: saving appends only the events the tracker gained
(found the way Rasa's SQL store finds them: everything after the events already stored for the
current session), and loading reads only the current session, from the index of its
`action_session_start`. Both are one round trip on the asyncio client. Rasa's lock store keeps
turns of one conversation apart, so appends never interleave.

Saving also counts the bot's turn for the metrics from the events it appends (Rasa saves once
per turn; `handoff/metrics/bot_turns.py`), so counting needs no read of its own.

Use it in endpoints.yml:

    tracker_store:
      type: handoff.tracker_store.AppendOnlyRedisTrackerStore
      url: 127.0.0.1
      port: 6379
      db: 0
      key_prefix: rasa
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from handoff.insights.broker import RedisStreamEventBroker
from handoff.metrics.bot_turns import BotTurns
from handoff.redis_connections import open_connections, redis_url
from handoff.settings import get_handoff_settings
from handoff.store import open_store

DEFAULT_KEY_PREFIX = "rasa"

# Appends a turn's new events and, if one of them starts a session, remembers where it is.
# KEYS[1] event list, KEYS[2] index of the current session's first event.
# ARGV: the list's length when the caller read it, ttl seconds (0 = keep), index within the new
# events of the last session start (-1 = none), then the events. Returns the list's new length, or
# -1 if the list changed since the caller read it (nothing is written then).
APPEND_EVENTS = """
local stored = redis.call('LLEN', KEYS[1])
if stored ~= tonumber(ARGV[1]) then
  return -1
end
local length = stored
if #ARGV > 3 then
  length = redis.call('RPUSH', KEYS[1], unpack(ARGV, 4))
end
local session_start = tonumber(ARGV[3])
if session_start >= 0 then
  redis.call('SET', KEYS[2], stored + session_start)
end
if tonumber(ARGV[2]) > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[2])
end
return length
"""

# The current session's events. KEYS[1] event list, KEYS[2] index of the session's first event.
CURRENT_SESSION = """
local start = tonumber(redis.call('GET', KEYS[2]) or '0')
return redis.call('LRANGE', KEYS[1], start, -1)
"""


class TrackerConflict(RuntimeError):
    """Another writer appended to the conversation between this save's read and its write (the
    lock store should make that impossible; refusing keeps the list from being corrupted)."""


class AppendOnlyRedisTrackerStore(TrackerStore):
    """Conversations as append-only Redis lists (see the module docstring)."""

    def __init__(self, domain: Domain, host: str = "localhost", port: int = 6379, db: int = 0,
                 password: str | None = None, use_ssl: bool = False, event_broker: EventBroker | None = None,
                 record_exp: float | None = None, key_prefix: str | None = None, **kwargs: Any) -> None:
        super().__init__(domain, event_broker, **kwargs)
        # The process's connections to this Redis, shared with the handoff stores when they use the
        # same one (Rasa builds this store in the process that serves the channels).
        self.connections = open_connections(redis_url(host, port, db, password, use_ssl))
        self.redis = self.connections.commands
        self.record_exp = int(record_exp or 0)
        self.key_prefix = f"{key_prefix or DEFAULT_KEY_PREFIX}:tracker"
        self._append = self.redis.register_script(APPEND_EVENTS)
        self._current_session = self.redis.register_script(CURRENT_SESSION)
        settings = get_handoff_settings()
        self.bot_turns = BotTurns(lambda: open_store(settings), settings)

    async def close(self) -> None:
        """Gives back this store's hold on the shared connections (Rasa itself never closes it)."""
        await self.bot_turns.close()
        await self.connections.close()

    def _keys(self, sender_id: str) -> list[str]:
        # One hash tag per conversation, so both keys sit in the same Redis Cluster slot.
        return [f"{self.key_prefix}:{{{sender_id}}}:events", f"{self.key_prefix}:{{{sender_id}}}:session_start"]

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Appends the events the tracker gained: those after the events stored for its current
        session (the tracker holds that session, as `retrieve` loads it)."""
        keys = self._keys(tracker.sender_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.llen(keys[0])
            pipe.get(keys[1])
            stored, session_start = await pipe.execute()
        new_events = list(tracker.events)[stored - int(session_start or 0):]
        starts = [index for index, event in enumerate(new_events) if _starts_session(event)]
        length = await self._append(keys=keys, args=[
            stored, self.record_exp, starts[-1] if starts else -1,
            *(json.dumps(event.as_dict()) for event in new_events)])
        if length < 0:
            raise TrackerConflict(f"events of {tracker.sender_id} were stored while this turn ran")
        await self.bot_turns.count(tracker.sender_id, new_events)
        if isinstance(self.event_broker, RedisStreamEventBroker):
            self.event_broker.use_domain(self.domain)  # the model's, which a model reload replaces
        if self.event_broker is not None:  # published once stored; no second read as Rasa's stream_events does
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker of the conversation's current session."""
        events = await self._current_session(keys=self._keys(sender_id))
        return self._tracker(sender_id, events)

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker with every session of the conversation."""
        events = await self.redis.lrange(self._keys(sender_id)[0], 0, -1)
        return self._tracker(sender_id, events)

    def _tracker(self, sender_id: str, events: list[str]) -> DialogueStateTracker | None:
        if not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, [json.loads(event) for event in events],
                                              self.domain.slots, max_event_history=self.max_event_history)

    async def keys(self) -> Iterable[str]:
        """Every conversation id with a stored tracker."""
        prefix, suffix = f"{self.key_prefix}:{{", "}:events"
        return [key[len(prefix):-len(suffix)] async for key in self.redis.scan_iter(match=f"{prefix}*{suffix}")]


def _starts_session(event: Any) -> bool:
    return isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME
