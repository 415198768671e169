"""Redis keys that only the Slack parts use, beside the handoff store's and under its prefix:

- `<prefix>:{slack_event:<event id>}`: a Slack event already taken, so a retry (Slack resends an
  event it thinks was not acknowledged, possibly to another process or after a restart) is not
  answered twice; kept one day.
- `<prefix>:{slack_tail:<name>}:lease` / `:cursor`: which process runs a Slack event tail now,
  and the last handoff event it finished (see `tail.py`).
- `<prefix>:{<conversation>}:slack_thread`: a channel thread the app takes part in, so the
  customer's replies there count without mentioning the app again; kept a week.
- `<prefix>:{<conversation>}:slack_reply_thread`: the thread of a direct-message conversation
  the customer last wrote in ("" for the DM itself), where agent replies go; kept a week.
- `<prefix>:{<conversation>}:slack_alert` (hash): the Slack post announcing the conversation's
  current ticket, so claim and resolve update that same post, also after a restart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from handoff.redis_client import redis_from_url
from handoff.store import store_errors
from handoff.store_scripts import RELEASE_LEASE, Keys

EVENT_TTL_SECONDS = 86_400
THREAD_TTL_SECONDS = 7 * 86_400
ALERT_TTL_SECONDS = 30 * 86_400  # an alert older than this is not updated any more

# Renew the lease if it is ours, or take it if nobody holds it.
HOLD_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] or not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""


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
        known = {name: value for name, value in values.items() if name in names}
        return cls(**{**known, "priority": int(known.get("priority") or 0), "closed": known.get("closed") == "1"})

    def to_hash(self) -> dict[str, str]:
        return {**{name: str(value) for name, value in asdict(self).items()}, "closed": "1" if self.closed else ""}


class SlackState:
    """Async access to the Slack keys; every method raises StoreUnavailable when Redis is away."""

    def __init__(self, url: str, prefix: str, *, socket_timeout: float = 2.0,
                 connect_timeout: float = 1.0) -> None:
        self.keys = Keys(prefix)
        self._redis = redis_from_url(url, decode_responses=True, socket_timeout=socket_timeout,
                                     socket_connect_timeout=connect_timeout)
        self._hold = self._redis.register_script(HOLD_LEASE)
        self._release = self._redis.register_script(RELEASE_LEASE)

    async def close(self) -> None:
        await self._redis.close()

    def _tail_key(self, name: str, suffix: str) -> str:
        return f"{self.keys.prefix}:{{slack_tail:{name}}}:{suffix}"

    def _alert_key(self, conversation_id: str) -> str:
        return f"{self.keys.prefix}:{{{conversation_id}}}:slack_alert"

    @store_errors
    async def first_sight(self, event_id: str) -> bool:
        """True the first time an event id is seen; False for every retry of it."""
        key = f"{self.keys.prefix}:{{slack_event:{event_id}}}"
        return bool(await self._redis.set(key, "1", nx=True, ex=EVENT_TTL_SECONDS))

    @store_errors
    async def remember_thread(self, conversation_id: str) -> None:
        await self._redis.set(f"{self.keys.prefix}:{{{conversation_id}}}:slack_thread", "1",
                              ex=THREAD_TTL_SECONDS)

    @store_errors
    async def knows_thread(self, conversation_id: str) -> bool:
        return bool(await self._redis.exists(f"{self.keys.prefix}:{{{conversation_id}}}:slack_thread"))

    @store_errors
    async def set_reply_thread(self, conversation_id: str, thread_ts: str | None) -> None:
        await self._redis.set(f"{self.keys.prefix}:{{{conversation_id}}}:slack_reply_thread", thread_ts or "",
                              ex=THREAD_TTL_SECONDS)

    @store_errors
    async def reply_thread(self, conversation_id: str) -> str | None:
        return await self._redis.get(f"{self.keys.prefix}:{{{conversation_id}}}:slack_reply_thread") or None

    @store_errors
    async def hold_lease(self, name: str, token: str, ttl_ms: int) -> bool:
        """Takes or renews the lease of tail `name` for `ttl_ms`; False if another process holds it."""
        return bool(await self._hold(keys=[self._tail_key(name, "lease")], args=[token, ttl_ms]))

    @store_errors
    async def release_lease(self, name: str, token: str) -> None:
        """Lets another process take over at once (on a clean stop) instead of after the expiry."""
        await self._release(keys=[self._tail_key(name, "lease")], args=[token])

    @store_errors
    async def tail_cursor(self, name: str, feed: str) -> str:
        """Where tail `name` resumes; the newest event of its feed the first time (older ones are
        history)."""
        cursor = await self._redis.get(self._tail_key(name, "cursor"))
        if cursor:
            return cursor
        newest = await self._redis.xrevrange(self.keys.feed(feed), count=1)
        return newest[0][0] if newest else "0-0"

    @store_errors
    async def set_tail_cursor(self, name: str, event_id: str) -> None:
        await self._redis.set(self._tail_key(name, "cursor"), event_id)

    @store_errors
    async def alert(self, conversation_id: str) -> AlertPost | None:
        values = await self._redis.hgetall(self._alert_key(conversation_id))
        return AlertPost.from_hash(values) if values else None

    @store_errors
    async def save_alert(self, conversation_id: str, post: AlertPost) -> None:
        key = self._alert_key(conversation_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=post.to_hash())
            pipe.expire(key, ALERT_TTL_SECONDS)
            await pipe.execute()
