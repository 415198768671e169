"""Erasing one customer's data (handoff/erase/) against a real Redis filled by the real stores: no
trace of the customer is left anywhere in Redis, other customers keep everything, a dry run changes
nothing and reports the same, and the audit record names nobody."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis

import handoff.erase.eraser
from handoff.erase import CONVERSATION, EMAIL, SLACK_USER, BadSubject, Eraser, Subject, WithAPerson
from handoff.erase.audit import audit_key, read_records
from handoff.erase.keyspace import LOCK_KIND, KeyLayout
from handoff.models import AGENT_FEED, ASSIGNED
from handoff.slack.address import SlackAddress
from handoff.store import HandoffStore
from handoff.store_scripts import Keys
from rasa_bot.settings import PROJECT_ROOT
from tests.customer_data import CustomerStores, seed_customer, snapshot, traces

pytestmark = pytest.mark.asyncio


@pytest.fixture
def rasa_prefix() -> str:
    return f"r{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture(loop_scope="function")
async def stores(redis_url: str, store: HandoffStore, rasa_prefix: str) -> AsyncIterator[CustomerStores]:
    opened = CustomerStores.open(redis_url, store, rasa_prefix)
    yield opened
    await opened.close()


@pytest.fixture
def eraser(store: HandoffStore, rasa_prefix: str) -> Eraser:
    return Eraser(store, rasa_prefix)


def new_id() -> str:
    return f"erase-{uuid.uuid4().hex[:12]}"


def slack_ids() -> tuple[str, str]:
    """A team and a user id nobody else uses."""
    return f"T{uuid.uuid4().hex[:8].upper()}", f"U{uuid.uuid4().hex[:8].upper()}"


def prefixes(store: HandoffStore, rasa_prefix: str) -> tuple[str, ...]:
    return (f"{store.keys.prefix}:", f"{rasa_prefix}:")


async def test_erasing_a_conversation_leaves_no_trace_and_keeps_the_others(
        stores: CustomerStores, eraser: Eraser, raw_redis: Redis, rasa_prefix: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handoff.erase.eraser, "PAGE", 2)  # streams and trackers are read page by page
    gone, kept = new_id(), new_id()
    await seed_customer(stores, gone, email=f"{gone}@example.com")
    await seed_customer(stores, kept, email=f"{kept}@example.com")
    assert len(await traces(raw_redis, gone)) >= 15, "the seed writes every kind of key"
    before = {key: values for key, values in (await snapshot(raw_redis, prefixes(stores.store, rasa_prefix))).items()
              if kept in key}

    report = await eraser.erase(Subject.parse(CONVERSATION, gone), by="test")

    assert await traces(raw_redis, gone, f"{gone}@example.com") == []
    after = await snapshot(raw_redis, prefixes(stores.store, rasa_prefix))
    assert {key: values for key, values in after.items() if kept in key} == before
    assert await stores.departures.away_since(kept) is not None
    assert kept in await raw_redis.zrange(stores.store.keys.pending_sync_due, 0, -1)
    assert {event.conversation_id for event in await stores.store.read_events()} == {kept}
    assert report.conversations == [gone] and report.with_a_person == []
    assert {"state", "inbox", "outbox", "seq", "seen", "cursor", "closed_tickets", "satisfaction",
            "pending_sync", "pending_sync_lease", "slack_thread", "slack_reply_thread", "slack_alert",
            "tracker_events", "tracker_session_start", LOCK_KIND} <= set(report.key_kinds)
    assert report.keys == sum(report.key_kinds.values()) > 15
    assert {"departures", "pending_sync_due", "agent_events", "outbox_events"} <= set(report.entries)


async def test_a_dry_run_changes_nothing_and_reports_what_the_erasure_then_does(
        stores: CustomerStores, eraser: Eraser, raw_redis: Redis, rasa_prefix: str) -> None:
    conversation_id = new_id()
    await seed_customer(stores, conversation_id)
    subject = Subject.parse(CONVERSATION, conversation_id)
    before = await snapshot(raw_redis, prefixes(stores.store, rasa_prefix))

    dry = await eraser.erase(subject, by="test", dry_run=True)

    assert await snapshot(raw_redis, prefixes(stores.store, rasa_prefix)) == before
    assert await read_records(raw_redis, stores.store.keys.prefix) == []
    done = await eraser.erase(subject, by="test")
    assert dry.audit_id is None and done.audit_id
    assert {**dry.to_dict(), "dry_run": False, "audit_id": done.audit_id} == done.to_dict()
    assert await traces(raw_redis, conversation_id) == []


async def test_the_audit_record_counts_what_went_and_names_nobody(
        stores: CustomerStores, eraser: Eraser, raw_redis: Redis) -> None:
    first, second = new_id(), new_id()
    address = f"Someone.{uuid.uuid4().hex[:6]}@Example.org"
    await seed_customer(stores, first, email=address)
    await seed_customer(stores, second, email=address, email_in_ticket=True)

    report = await eraser.erase(Subject.parse(EMAIL, address), by="lead1")

    ((stream_id, record),) = await read_records(raw_redis, stores.store.keys.prefix)
    assert stream_id == report.audit_id
    assert (record.by, record.subject_kind, record.subject_hash) == ("lead1", EMAIL, report.subject_hash)
    assert (record.keys, record.key_kinds, record.entries) == (report.keys, report.key_kinds, report.entries)
    assert len(record.conversation_hashes) == 2 and record.closed == 0
    assert await traces(raw_redis, first, second, address) == [], "not in the audit record either"
    assert await raw_redis.ttl(audit_key(stores.store.keys.prefix)) == -1, "the record is kept"


async def test_by_email_finds_the_conversations_whose_tracker_or_ticket_slots_hold_it(
        stores: CustomerStores, eraser: Eraser, raw_redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handoff.erase.eraser, "PAGE", 2)  # the slot is on a later page of the tracker
    in_tracker, in_ticket, other = new_id(), new_id(), new_id()
    address = f"anna.{uuid.uuid4().hex[:6]}@example.com"
    await seed_customer(stores, in_tracker, email=address.upper())
    await seed_customer(stores, in_ticket, email=f"  {address} ", email_in_ticket=True)
    await seed_customer(stores, other, email=address.replace("anna", "hanna-other"))

    report = await eraser.erase(Subject.parse(EMAIL, address.title()), by="test")

    assert report.conversations == sorted([in_tracker, in_ticket])
    assert await traces(raw_redis, in_tracker, in_ticket, address) == []
    assert (await stores.store.get_state(other)).version > 0
    assert await stores.trackers.retrieve(other) is not None


async def test_by_slack_user_finds_every_conversation_of_that_user_and_only_theirs(
        stores: CustomerStores, eraser: Eraser, raw_redis: Redis) -> None:
    team, user = slack_ids()
    other_team, other_user = slack_ids()
    theirs = [SlackAddress(team, "D1", user).conversation_id,
              SlackAddress(team, "C1", user, "1700000000.000100").conversation_id]
    others = [SlackAddress(team, "D1", other_user).conversation_id,
              SlackAddress(other_team, "D1", user).conversation_id]
    for conversation_id in [*theirs, *others]:
        await seed_customer(stores, conversation_id)

    report = await eraser.erase(Subject.parse(SLACK_USER, f"{team}:{user}"), by="test")

    assert report.conversations == sorted(theirs)
    assert await traces(raw_redis, *theirs) == []
    for conversation_id in others:
        assert (await stores.store.get_state(conversation_id)).version > 0
        assert await stores.trackers.retrieve(conversation_id) is not None


async def test_a_conversation_a_person_has_is_refused_unless_forced_and_then_closed_first(
        stores: CustomerStores, eraser: Eraser, raw_redis: Redis) -> None:
    conversation_id = new_id()
    await seed_customer(stores, conversation_id)
    assert (await stores.store.request_handoff(conversation_id, {"reason": "frustration"}, 2, "rest")).ok
    assert (await stores.store.claim(conversation_id, "bob", 3)).ok
    subject = Subject.parse(CONVERSATION, conversation_id)
    before = await traces(raw_redis, conversation_id)

    dry = await eraser.erase(subject, by="test", dry_run=True)
    with pytest.raises(WithAPerson) as refused:
        await eraser.erase(subject, by="test")

    assert dry.with_a_person == refused.value.conversations == [conversation_id]
    assert dry.entries["agent_chats"] == 1
    assert await traces(raw_redis, conversation_id) == before, "a refusal changes nothing"
    assert (await stores.store.get_state(conversation_id)).mode == ASSIGNED
    forced = await eraser.erase(subject, by="test", force=True)
    assert forced.with_a_person == [conversation_id]
    assert await stores.store.agent_chats("bob") == [] and await stores.store.list_queue() == []
    assert await traces(raw_redis, conversation_id) == []
    ((_, record),) = await read_records(raw_redis, stores.store.keys.prefix)
    assert record.closed == 1


async def test_an_unknown_conversation_erases_nothing_but_is_recorded(
        store: HandoffStore, eraser: Eraser, raw_redis: Redis) -> None:
    report = await eraser.erase(Subject.parse(CONVERSATION, new_id()), by="test")
    assert (report.conversations, report.keys, report.entries) == ([], 0, {})
    assert len(await read_records(raw_redis, store.keys.prefix)) == 1


def test_every_conversation_key_belongs_to_its_conversation_and_no_shared_key_to_any() -> None:
    """Checked over every key name `Keys` makes, so a key added there is classified too."""
    keys, layout = Keys("pfx"), KeyLayout("pfx", "rasa")
    for name, member in inspect.getmembers(Keys):
        if isinstance(member, property):
            assert layout.owner(getattr(keys, name)) is None, name
        elif inspect.isfunction(member) and not name.startswith("_"):
            parameters = list(inspect.signature(member).parameters)[1:]
            arguments = [AGENT_FEED if name == "feed" else "conv-1" if parameter == "conversation_id" else "x1"
                         for parameter in parameters]
            named = getattr(keys, name)(*arguments)
            expected = "conv-1" if parameters[0] == "conversation_id" else None
            for key in named if isinstance(named, list) else [named]:  # `records` names several
                owner = layout.owner(key)
                assert (owner[0] if owner else None) == expected, (name, key)
    assert layout.owner("rasa:tracker:{conv-1}:events") == ("conv-1", "tracker_events")
    assert layout.owner("rasa:lock:conv-1") == ("conv-1", LOCK_KIND)
    assert KeyLayout("pfx", "not-alnum").owner("lock:conv-1") == ("conv-1", LOCK_KIND)


@pytest.mark.parametrize(("kind", "text"), [
    (CONVERSATION, ""), (CONVERSATION, "a}b"), (CONVERSATION, "x" * 257), (SLACK_USER, "U123"),
    (SLACK_USER, "t1:u1"), (EMAIL, "nobody"), (EMAIL, "a b@example.com"), ("phone", "123")])
def test_identifiers_that_name_no_customer_are_refused(kind: str, text: str) -> None:
    with pytest.raises(BadSubject):
        Subject.parse(kind, text)


def test_the_command_line_reports_a_dry_run(redis_url: str) -> None:
    conversation_id = new_id()
    result = subprocess.run(
        [sys.executable, "-m", "handoff.erase", "--conversation", conversation_id, "--dry-run"],
        check=False, capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT,
        env={"PYTHONPATH": str(PROJECT_ROOT), "HANDOFF_REDIS_URL": redis_url,
             "HANDOFF_KEY_PREFIX": f"cli-{uuid.uuid4().hex[:8]}", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["dry_run"], report["conversations"], report["keys"], report["audit_id"]) == (True, [], 0, None)
    refused = subprocess.run([sys.executable, "-m", "handoff.erase", "--slack-user", "nobody"],
                             check=False, capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT,
                             env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"})
    assert refused.returncode == 2 and "TEAM:USER" in refused.stderr
