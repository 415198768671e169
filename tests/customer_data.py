"""A customer's data written the way the running system writes it (the real stores: handoff state,
messages, tickets and ratings, departures, a pending tracker sync, Slack keys, Rasa's tracker and
lock), and a search of a whole Redis for any trace of an identifier; for the erasure tests."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from rasa.core.lock_store import RedisLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.utils.endpoints import EndpointConfig
from redis.asyncio import Redis

from handoff.agent_service.side_store import PendingSync, ServiceStore
from handoff.care_store import CareStore
from handoff.departures import Departures
from handoff.lock_store import FailSafeRedisLockStore
from handoff.models import INBOX
from handoff.slack.state import AlertPost, SlackState
from handoff.store import HandoffStore
from handoff.tracker_store import AppendOnlyRedisTrackerStore
from tests.model_paths import DOMAIN_DIR

DOMAIN = Domain.load(str(DOMAIN_DIR))


@dataclass
class CustomerStores:
    """Every store that keeps something of a customer, on one Redis, one key prefix, one Rasa prefix."""

    store: HandoffStore
    care: CareStore
    side: ServiceStore
    departures: Departures
    slack: SlackState
    trackers: AppendOnlyRedisTrackerStore
    locks: RedisLockStore

    @classmethod
    def open(cls, redis_url: str, store: HandoffStore, rasa_prefix: str) -> CustomerStores:
        url = urlsplit(redis_url)
        side = ServiceStore(redis_url, store.keys, retention_seconds=store.config.retention_seconds)
        return cls(store, CareStore(redis_url, store.keys), side,
                   Departures(redis_url, store.keys), SlackState(redis_url, store.keys.prefix),
                   AppendOnlyRedisTrackerStore(DOMAIN, host=url.hostname or "", port=url.port or 6379,
                                               password=url.password, key_prefix=rasa_prefix),
                   FailSafeRedisLockStore(EndpointConfig(url=url.hostname, port=url.port, db=0,
                                                         password=url.password, key_prefix=rasa_prefix)))

    async def close(self) -> None:
        for store in (self.care, self.side, self.departures, self.slack, self.trackers):
            await store.close()
        self.locks.red.close()


async def seed_customer(stores: CustomerStores, conversation_id: str, *, email: str | None = None,
                        email_in_ticket: bool = False, agent: str = "alice") -> None:
    """A conversation with a resolved, rated handoff and everything that leaves behind: state,
    both message streams, sequence, seen markers, a cursor, closed tickets, satisfaction, events
    in both feeds, a departure, a pending tracker sync with its lease, Slack thread and alert keys,
    Rasa's tracker (with the `email` slot unless `email_in_ticket`, which puts it in the ticket's
    slots instead) and a lock."""
    store = stores.store
    ticket_slots = {"order_number": "KL-100001", **({"email": email} if email and email_in_ticket else {})}
    assert (await store.request_handoff(conversation_id, {"reason": "explicit_request", "slots": ticket_slots},
                                        3, "rest")).ok
    await stores.departures.left(conversation_id)
    await store.append_message(conversation_id, INBOX, "m1", "customer", "my parcel is late")
    assert await store.mark_handled_by_bot(conversation_id, "m0")
    assert (await store.claim(conversation_id, agent, 3)).ok
    sent = await store.append_agent_message(conversation_id, agent, "a1", "Let me check that for you.")
    await store.set_cursor(conversation_id, "rest", sent.stream_id)
    await stores.care.archive(await store.get_state(conversation_id), agent, agent.title())
    assert (await store.resolve(conversation_id, agent)).ok
    assert await stores.care.rate(conversation_id, 5)
    await stores.side.save_pending(PendingSync(conversation_id, agent, agent.title(), "rest", time.time(), 2, 1,
                                               slots=ticket_slots), due_at=time.time() + 60)
    assert await stores.side.acquire_lease(conversation_id, 60)
    await stores.slack.remember_thread(conversation_id)
    await stores.slack.set_reply_thread(conversation_id, "1700000000.000100")
    await stores.slack.save_alert(conversation_id, AlertPost("CALERTS", "1700000000.000200", "1-0",
                                                             "explicit_request", 3, "late parcel",
                                                             "rest", "resolved", closed=True))
    tracker = await stores.trackers.get_or_create_tracker(conversation_id)
    for event in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                  UserUttered("my parcel is late", {"name": "order_status", "confidence": 0.9}),
                  *([SlotSet("email", email)] if email and not email_in_ticket else [])]:
        tracker.update(event)
    await stores.trackers.save(tracker)
    stores.locks.save_lock(stores.locks.create_lock(conversation_id))


async def traces(redis: Redis, *needles: str) -> list[str]:
    """Every key of the whole Redis whose name or any stored value contains one of `needles`
    (compared without case), as `key` or `key: value`, sorted (SCAN's order changes as other tests
    write)."""
    found = []
    lowered = [needle.lower() for needle in needles]
    async for key in redis.scan_iter(count=1000):
        values = await _values(redis, key)
        for text in [key, *values]:
            if any(needle in text.lower() for needle in lowered):
                found.append(key if text == key else f"{key}: {text}")
    return sorted(found)


async def _values(redis: Redis, key: str) -> list[str]:
    kind = await redis.type(key)
    if kind == "string":
        return [await redis.get(key) or ""]
    if kind == "hash":
        return [f"{field}={value}" for field, value in (await redis.hgetall(key)).items()]
    if kind == "list":
        return await redis.lrange(key, 0, -1)
    if kind == "set":
        return list(await redis.smembers(key))
    if kind == "zset":
        return await redis.zrange(key, 0, -1)
    if kind == "stream":
        return [json.dumps(fields) for _, fields in await redis.xrange(key)]
    return []


async def snapshot(redis: Redis, prefixes: tuple[str, ...]) -> dict[str, list[str]]:
    """Every key under `prefixes` with its values, to tell whether anything changed."""
    return {key: sorted(await _values(redis, key)) async for key in redis.scan_iter(count=1000)
            if key.startswith(prefixes)}
