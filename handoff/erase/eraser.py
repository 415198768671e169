"""Erasing one customer's data from Redis: every key of their conversations (the plugin's and
Rasa's tracker and lock), and every entry that names one of those conversations in the shared
structures (the queue, departures, agents' chats, pending tracker syncs, the event streams).

A request names the customer by conversation id, by Slack user (every conversation whose id
names that user, handoff/slack/address.py) or by email (every conversation whose tracker has a
slot, or whose tickets have a slot, holding that address). Finding walks the whole keyspace once
with SCAN (plus, for an email, the trackers and tickets), so it suits a request now and then, not
a hot path. A conversation a person still has (queued, assigned, waiting for an agent) is only
erased when forced, and is then closed as abandoned first, so the agents' consoles let it go.
Every erasure (not a dry run) leaves an audit record (audit.py).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from handoff.erase.audit import AuditRecord, append_record
from handoff.erase.keyspace import KeyLayout
from handoff.erase.subjects import CONVERSATION, EMAIL, Subject, holds_address
from handoff.insights.publisher import EVENT_FIELD
from handoff.models import ASSIGNED, QUEUED, WAITING_OFFLINE
from handoff.store import HandoffStore, store_errors

logger = logging.getLogger(__name__)

WITH_A_PERSON = (QUEUED, ASSIGNED, WAITING_OFFLINE)
SCAN_COUNT = 1000
PAGE = 500  # stream entries / list items read per round trip


class WithAPerson(Exception):
    """Conversations a person still has; erasing them needs `force`."""

    def __init__(self, conversations: list[str]) -> None:
        super().__init__(f"{len(conversations)} of the customer's conversations are with a person now")
        self.conversations = conversations


@dataclass
class ErasurePlan:
    """What belongs to the customer: their keys (key -> kind) and the entries naming them in
    shared sorted sets (key -> members) and streams (key -> entry ids)."""

    conversations: set[str] = field(default_factory=set)
    keys: dict[str, str] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    stream_entries: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ErasureReport:
    """What an erasure removed (or, for a dry run, would remove). Conversation ids appear here, for
    the lead or operator who asked; the audit record keeps only their digests."""

    subject_kind: str
    subject_hash: str
    dry_run: bool
    conversations: list[str]
    with_a_person: list[str]  # closed first when forced; in a dry run, those a real run would refuse
    keys: int
    key_kinds: dict[str, int]
    entries: dict[str, int]  # entries removed from shared structures, by structure
    audit_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class Eraser:
    """Finds and erases a customer's data on the Redis of `store` (trackers and locks of Rasa are
    expected in the same Redis, under `rasa_prefix`); raises StoreUnavailable without Redis."""

    def __init__(self, store: HandoffStore, rasa_prefix: str) -> None:
        self.store = store
        self.keys = store.keys
        self.layout = KeyLayout(store.keys.prefix, rasa_prefix)
        self._redis: Redis = store.connections.commands
        self._structures = {self.keys.queue: "queue", self.keys.departures: "departures",
                            self.keys.pending_sync_due: "pending_sync_due",
                            self.keys.events: "agent_events", self.keys.outbox_events: "outbox_events",
                            self.keys.insights: "capture_events"}

    @store_errors
    async def erase(self, subject: Subject, *, by: str, dry_run: bool = False, force: bool = False) -> ErasureReport:
        """Erases (or with `dry_run` only reports) the subject's data; raises WithAPerson when a
        person has one of the conversations and `force` is not given (nothing is changed then)."""
        plan = await self.plan(subject)
        busy = await self._with_a_person(plan.conversations)
        if busy and not dry_run:
            if not force:
                raise WithAPerson(busy)
            for conversation_id in busy:
                await self.store.abandon(conversation_id)
            plan = await self.plan(subject)  # closing added events that name them
        report = self._report(subject, plan, busy, dry_run)
        if not dry_run:
            await self._apply(plan)
            record = AuditRecord.of(by, subject, sorted(plan.conversations), report.key_kinds, report.entries,
                                    closed=len(busy))
            report.audit_id = await append_record(self._redis, self.keys.prefix, record)
            logger.info("erased %d keys of %d conversations (%s %s...) for %s", report.keys,
                        len(report.conversations), subject.kind, subject.digest[:12], by)
        return report

    async def plan(self, subject: Subject) -> ErasurePlan:
        """Everything of the subject in Redis now."""
        wanted = await self._selector(subject)
        plan = ErasurePlan()
        chat_sets = []
        async for key in self._redis.scan_iter(count=SCAN_COUNT):
            owner = self.layout.owner(key)
            if owner and wanted(owner[0]):
                plan.keys[key] = owner[1]
                plan.conversations.add(owner[0])
            elif key.startswith(f"{self.keys.prefix}:{{agent:") and key.endswith("}:chats"):
                chat_sets.append(key)
        sorted_sets = [self.keys.queue, self.keys.departures, self.keys.pending_sync_due, *chat_sets]
        for key in sorted_sets:
            members = [member for member in await self._redis.zrange(key, 0, -1) if wanted(member)]
            if members:
                plan.members[key] = members
                plan.conversations.update(members)
        for key in (self.keys.events, self.keys.outbox_events, self.keys.insights):
            async for entry_id, conversation_id in self._stream_conversations(key):
                if wanted(conversation_id):
                    plan.stream_entries.setdefault(key, []).append(entry_id)
                    plan.conversations.add(conversation_id)
        return plan

    async def _selector(self, subject: Subject) -> Callable[[str], bool]:
        """Whether a conversation id is one of the subject's."""
        if subject.kind == CONVERSATION:
            return lambda conversation_id: conversation_id == subject.value
        if subject.kind == EMAIL:
            found = await self._conversations_holding(subject.value)
            return found.__contains__
        return subject.names_slack_conversation

    async def _stream_conversations(self, key: str) -> AsyncIterator[tuple[str, str]]:
        """(entry id, conversation id) of every entry of an event stream, oldest first."""
        start = "-"
        while True:
            entries = await self._redis.xrange(key, min=start, count=PAGE)
            for entry_id, fields in entries:
                yield entry_id, fields.get("conversation_id") or _captured_conversation(fields)
            if len(entries) < PAGE:
                return
            start = _next_stream_id(entries[-1][0])

    async def _with_a_person(self, conversations: set[str]) -> list[str]:
        ordered = sorted(conversations)
        async with self._redis.pipeline(transaction=False) as pipe:
            for conversation_id in ordered:
                pipe.hget(self.keys.state(conversation_id), "mode")
            modes = await pipe.execute()
        return [conversation_id for conversation_id, mode in zip(ordered, modes, strict=True) if mode in WITH_A_PERSON]

    # --- by email -----------------------------------------------------------------------------

    async def _conversations_holding(self, address: str) -> set[str]:
        """Conversations with a tracker slot, a ticket slot (open or closed ticket) or a pending
        sync's slot holding the email `address`."""
        found: set[str] = set()
        async for conversation_id, key in self._owned(self.layout.tracker_pattern()):
            if await self._tracker_holds(key, address):
                found.add(conversation_id)
        async for conversation_id, key in self._owned(self.layout.conversation_pattern("state")):
            ticket = await self._redis.hget(key, "ticket")
            if ticket and holds_address(json.loads(ticket).get("slots"), address):
                found.add(conversation_id)
        async for conversation_id, key in self._owned(self.layout.conversation_pattern("closed_tickets")):
            records = [json.loads(raw) for raw in await self._redis.hvals(key)]
            if any(holds_address((record.get("ticket") or {}).get("slots"), address) for record in records):
                found.add(conversation_id)
        async for conversation_id, key in self._owned(self.layout.conversation_pattern("pending_sync")):
            slots = await self._redis.hget(key, "slots")
            if slots and holds_address(json.loads(slots), address):
                found.add(conversation_id)
        return found

    async def _owned(self, pattern: str) -> AsyncIterator[tuple[str, str]]:
        """(conversation id, key) of the conversations' keys matching `pattern`."""
        async for key in self._redis.scan_iter(match=pattern, count=SCAN_COUNT):
            owner = self.layout.owner(key)
            if owner:
                yield owner[0], key

    async def _tracker_holds(self, key: str, address: str) -> bool:
        """True when a slot event of the tracker list `key` set a value holding `address`. Events
        that do not contain the address's text are not parsed (JSON writes non-ASCII escaped, so
        such an address is looked for in every event)."""
        start = 0
        while True:
            events = await self._redis.lrange(key, start, start + PAGE - 1)
            for raw in events:
                if address.isascii() and address not in raw.lower():
                    continue
                event = json.loads(raw)
                if event.get("event") == "slot" and holds_address(event.get("value"), address):
                    return True
            if len(events) < PAGE:
                return False
            start += PAGE

    # --- erasing ------------------------------------------------------------------------------

    async def _apply(self, plan: ErasurePlan) -> None:
        """Deletes the plan's keys and entries, one key per command (so it also runs on a cluster)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in plan.keys:
                pipe.unlink(key)
            for key, members in plan.members.items():
                pipe.zrem(key, *members)
            for key, entry_ids in plan.stream_entries.items():
                for start in range(0, len(entry_ids), PAGE):
                    pipe.xdel(key, *entry_ids[start:start + PAGE])
            await pipe.execute()

    def _report(self, subject: Subject, plan: ErasurePlan, busy: list[str], dry_run: bool) -> ErasureReport:
        entries: Counter[str] = Counter()
        for key, members in plan.members.items():
            entries[self._structures.get(key, "agent_chats")] += len(members)
        for key, entry_ids in plan.stream_entries.items():
            entries[self._structures[key]] += len(entry_ids)
        key_kinds = Counter(plan.keys.values())
        return ErasureReport(subject_kind=subject.kind, subject_hash=subject.digest, dry_run=dry_run,
                             conversations=sorted(plan.conversations), with_a_person=busy,
                             keys=len(plan.keys), key_kinds=dict(sorted(key_kinds.items())),
                             entries=dict(sorted(entries.items())))


def _next_stream_id(stream_id: str) -> str:
    """The smallest stream id after `stream_id` (XRANGE's `(` exclusive start needs Redis 6.2)."""
    millis, _, sequence = stream_id.partition("-")
    return f"{millis}-{int(sequence) + 1}"


def _captured_conversation(fields: dict[str, str]) -> str:
    """The conversation of a capture stream entry (handoff/insights: one JSON field), or ""."""
    try:
        event = json.loads(fields.get(EVENT_FIELD) or "{}")
    except ValueError:
        return ""
    return str(event.get("sender_id") or "") if isinstance(event, dict) else ""
