"""Redis keys that only the Slack parts use, beside the handoff store's, under its prefix and on
its connections (key names in `store_scripts.Keys`):

- `<prefix>:{slack_event:<event id>}`: a Slack event already taken, so a retry (Slack resends an
  event it thinks was not acknowledged, possibly to another process or after a restart) is not
  answered twice; kept one day.
- `<prefix>:{slack_tail:<name>}:lease` / `:cursor`: which process runs a Slack event tail now
  (see `leases.py`), and the last handoff event it finished (see `tail.py`).
- `<prefix>:{<conversation>}:slack_thread`: a channel thread the app takes part in, so the
  customer's replies there count without mentioning the app again; kept a week.
- `<prefix>:{<conversation>}:slack_reply_thread`: the thread of a direct-message conversation
  the customer last wrote in ("" for the DM itself), where agent replies go; kept a week.
- `<prefix>:{slack_drift_alarm:<id>}`: a drift alarm posted into the alert channel already, so
  each is posted once (drift_alarms.py); kept 90 days, far beyond any alarm staying open.
- `<prefix>:{<conversation>}:slack_alert` (hash): the Slack post announcing the conversation's
  current ticket, so claim and resolve update that same post, also after a restart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from handoff.leases import Leases
from handoff.redis_connections import DEFAULT_TIMEOUTS, RedisTimeouts, open_connections
from handoff.store import store_errors
from handoff.store_scripts import Keys

EVENT_TTL_SECONDS = 86_400
THREAD_TTL_SECONDS = 7 * 86_400
ALERT_TTL_SECONDS = 30 * 86_400  # an alert older than this is not updated any more
DRIFT_ALARM_TTL_SECONDS = 90 * 86_400

@dataclass
class AlertPost:
    """One alert in Slack and what it shows; `event` is the ticket_created event it announced."""

    channel: str
    ts: str
    event: str
    reason: str
    priority: int
    summary: str
    customer_channel: str
    status: str
    closed: bool = False  # resolved or abandoned

    @classmethod
    def from_hash(cls, values: dict[str, str]) -> AlertPost:
        names = {f.name for f in fields(cls)}
        known: dict[str, Any] = {name: value for name, value in values.items() if name in names}
        return cls(**{**known, "priority": int(known.get("priority") or 0), "closed": known.get("closed") == "1"})

    def to_hash(self) -> dict[str, str]:
        return {**{name: str(value) for name, value in asdict(self).items()}, "closed": "1" if self.closed else ""}


class SlackState:
    """Async access to the Slack keys; every method raises StoreUnavailable when Redis is away."""

    def __init__(self, url: str, prefix: str, timeouts: RedisTimeouts = DEFAULT_TIMEOUTS) -> None:
        self.keys = Keys(prefix)
        self.connections = open_connections(url, timeouts)  # the process's, shared with its other stores
        self._redis = self.connections.commands
        self._leases = Leases(self._redis)

    async def close(self) -> None:
        await self.connections.close()

    @store_errors
    async def first_sight(self, event_id: str) -> bool:
        """True the first time an event id is seen; False for every retry of it."""
        return bool(await self._redis.set(self.keys.slack_event(event_id), "1", nx=True, ex=EVENT_TTL_SECONDS))

    @store_errors
    async def remember_thread(self, conversation_id: str) -> None:
        await self._redis.set(self.keys.slack_thread(conversation_id), "1", ex=THREAD_TTL_SECONDS)

    @store_errors
    async def knows_thread(self, conversation_id: str) -> bool:
        return bool(await self._redis.exists(self.keys.slack_thread(conversation_id)))

    @store_errors
    async def set_reply_thread(self, conversation_id: str, thread_ts: str | None) -> None:
        await self._redis.set(self.keys.slack_reply_thread(conversation_id), thread_ts or "", ex=THREAD_TTL_SECONDS)

    @store_errors
    async def reply_thread(self, conversation_id: str) -> str | None:
        return await self._redis.get(self.keys.slack_reply_thread(conversation_id)) or None

    @store_errors
    async def hold_lease(self, name: str, token: str, ttl_ms: int) -> bool:
        """Takes or renews the lease of tail `name` for `ttl_ms`; False if another process holds it."""
        return await self._leases.hold(self.keys.slack_tail(name, "lease"), token, ttl_ms)

    @store_errors
    async def release_lease(self, name: str, token: str) -> None:
        """Lets another process take over at once (on a clean stop) instead of after the expiry."""
        await self._leases.release(self.keys.slack_tail(name, "lease"), token)

    @store_errors
    async def tail_cursor(self, name: str, feed: str) -> str:
        """Where tail `name` resumes; the newest event of its feed the first time (older ones are
        history)."""
        cursor = await self._redis.get(self.keys.slack_tail(name, "cursor"))
        if cursor:
            return cursor
        newest = await self._redis.xrevrange(self.keys.feed(feed), count=1)
        return newest[0][0] if newest else "0-0"

    @store_errors
    async def set_tail_cursor(self, name: str, event_id: str) -> None:
        await self._redis.set(self.keys.slack_tail(name, "cursor"), event_id)

    @store_errors
    async def alert(self, conversation_id: str) -> AlertPost | None:
        values = await self._redis.hgetall(self.keys.slack_alert(conversation_id))
        return AlertPost.from_hash(values) if values else None

    @store_errors
    async def save_alert(self, conversation_id: str, post: AlertPost) -> None:
        key = self.keys.slack_alert(conversation_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=post.to_hash())
            pipe.expire(key, ALERT_TTL_SECONDS)
            await pipe.execute()

    @store_errors
    async def drift_alarm_posted(self, alarm_id: str) -> bool:
        return bool(await self._redis.exists(self.keys.slack_drift_alarm(alarm_id)))

    @store_errors
    async def mark_drift_alarm_posted(self, alarm_id: str) -> None:
        await self._redis.set(self.keys.slack_drift_alarm(alarm_id), "1", ex=DRIFT_ALARM_TTL_SECONDS)
