"""The capture path end to end on a real Redis and a SQLite file: the broker and the handoff store
publish, the consumer stores rows; a consumer that dies mid-batch loses nothing and doubles nothing."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select

from handoff.bot_feedback import BotFeedback
from handoff.care_store import CareStore
from handoff.erase.__main__ import erase_captured
from handoff.insights import consumer as consumer_module
from handoff.insights.broker import RedisStreamEventBroker
from handoff.insights.consumer import InsightsConsumer
from handoff.insights.database import delete_older_than, open_database
from handoff.insights.publisher import StreamPublisher
from handoff.insights.schema import bot_feedback, handoffs, review_utterances, turns
from handoff.insights.turns import utc
from handoff.redis_connections import open_connections
from handoff.review.capture import store_utterance
from handoff.settings import HandoffSettings
from handoff.store import HandoffStore
from tests.handoff.conftest import StoreFactory

pytestmark = pytest.mark.asyncio(loop_scope="function")
TURN = {"conversation_id": "c1", "at": datetime(2026, 1, 1), "fallback": False}


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"sender_id": "c1", "event": kind, "timestamp": time.time(), "metadata": {"model_id": "m-1"}, **fields}


def user(text: str, intent: str) -> dict[str, Any]:
    return event("user", text=text, input_channel="socketio",
                 parse_data={"intent": {"name": intent, "confidence": 0.98},
                             "intent_ranking": [{"name": intent, "confidence": 0.98}]})


def bot(text: str, response: str) -> dict[str, Any]:
    return event("bot", text=text, metadata={"model_id": "m-1", "utter_action": response})


async def publish_conversation(store: HandoffStore, redis_url: str, care: CareStore | None = None,
                               with_text: bool = False) -> None:
    """A greeting turn, then a request for a person that an agent claims, answers and resolves
    (archiving the ticket in `care` first, as the agent service does)."""
    connections = open_connections(redis_url)
    broker = RedisStreamEventBroker(connections, StreamPublisher(
        connections.commands, store.keys.insights, 10_000, 3600, 1000), with_text)
    for item in (user("hi", "greet"), event("action", name="utter_greet"), bot("Hello!", "utter_greet"),
                 event("action", name="action_listen"), user("a person please", "request_human")):
        broker.publish(item)
    await broker.publisher.drain()
    await store.request_handoff("c1", {"reason": "explicit_request", "frustration": 0.4}, 3, "socketio")
    for item in (event("action", name="action_handoff"), bot("Connecting you", "utter_handoff_request_human"),
                 event("action", name="action_listen")):
        broker.publish(item)
    await broker.close()
    assert (await store.claim("c1", "alice", 3)).ok
    await store.append_agent_message("c1", "alice", "m1", "Hello, Alice here")
    await store.append_agent_message("c1", "alice", "m2", "Done")
    if care is not None:
        await care.archive(await store.get_state("c1"), "alice", "Alice")
    assert (await store.resolve("c1", "alice")).ok
    await store.insights.drain()


def new_consumer(store: HandoffStore, redis_url: str, database: Path) -> InsightsConsumer:
    settings = HandoffSettings(key_prefix=store.keys.prefix, redis_url=redis_url)
    consumer = InsightsConsumer(redis.Redis.from_url(redis_url), open_database(f"sqlite:///{database}"),
                                settings, "insights-test")
    consumer.ensure_group()
    return consumer


def drain(consumer: InsightsConsumer) -> None:
    while consumer.run_once(block_ms=None):
        pass


def rows(consumer: InsightsConsumer) -> tuple[list[Any], list[Any]]:
    with consumer.engine.connect() as connection:
        return (connection.execute(select(turns).order_by(turns.c.id)).all(),
                connection.execute(select(handoffs)).all())


def check_conversation(consumer: InsightsConsumer) -> None:
    turn_rows, handoff_rows = rows(consumer)
    assert [(row.intent, row.answer, row.handoff_trigger) for row in turn_rows] == [
        ("greet", "utter_greet", None), ("request_human", "utter_handoff_request_human", "explicit_request")]
    assert {row.channel for row in turn_rows} == {"socketio"} and {row.model_id for row in turn_rows} == {"m-1"}
    [handoff] = handoff_rows
    assert (handoff.reason, handoff.priority, handoff.frustration) == ("explicit_request", 3, 0.4)
    assert (handoff.agent_id, handoff.ended_how) == ("alice", "resolved")
    assert handoff.wait_seconds is not None and handoff.first_response_seconds is not None
    assert handoff.handle_seconds is not None and handoff.verdict is None


async def test_turns_and_a_handoff_become_rows(make_store: StoreFactory, redis_url: str, tmp_path: Path) -> None:
    store = make_store()
    await publish_conversation(store, redis_url)
    consumer = new_consumer(store, redis_url, tmp_path / "insights.sqlite3")
    drain(consumer)
    check_conversation(consumer)
    client = redis.Redis.from_url(redis_url)
    assert client.xpending(store.keys.insights, "insights")["pending"] == 0
    assert client.ttl(store.keys.insights) > 0


async def test_a_verdict_and_a_rating_given_after_the_resolve_reach_the_handoff_row(
        make_store: StoreFactory, redis_url: str, tmp_path: Path) -> None:
    store = make_store()
    care = CareStore(redis_url, store.keys, insights=store.insights)
    await publish_conversation(store, redis_url, care)
    [record] = await care.closed_tickets("c1")
    verdict = {"kind": "wrong_answer", "intent": "faq/late_fees", "agent_id": "alice"}
    assert await care.give_verdict("c1", record["handoff_id"], verdict)
    assert not await care.give_verdict("c1", record["handoff_id"], {"kind": "needed"})  # the first one counts
    assert await care.rate("c1", 4)
    await store.insights.drain()
    consumer = new_consumer(store, redis_url, tmp_path / "insights.sqlite3")
    drain(consumer)
    [handoff] = rows(consumer)[1]
    assert (handoff.verdict, handoff.rating) == (verdict, 4)
    await care.close()


async def test_a_thumb_on_a_bot_only_conversation_becomes_a_row_once(
        make_store: StoreFactory, redis_url: str, tmp_path: Path) -> None:
    store = make_store()
    feedback = BotFeedback(store.connections.commands, store.keys, 3600, insights=store.insights)
    assert await feedback.offer("bot-only")
    assert await feedback.give("bot-only", helpful=False)
    assert not await feedback.give("bot-only", helpful=True)  # one thumb per end
    await store.insights.drain()
    consumer = new_consumer(store, redis_url, tmp_path / "insights.sqlite3")
    drain(consumer)
    with consumer.engine.connect() as connection:
        thumbs = connection.execute(select(bot_feedback)).all()
    assert [(row.conversation_id, row.helpful) for row in thumbs] == [("bot-only", False)]


async def test_killed_after_its_commit_the_consumer_counts_nothing_twice(
        make_store: StoreFactory, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store()
    await publish_conversation(store, redis_url)
    dying = new_consumer(store, redis_url, tmp_path / "insights.sqlite3")

    def killed(*_args: Any) -> None:
        raise SystemExit("killed before XACK")

    monkeypatch.setattr(dying, "_acknowledge", killed)
    with pytest.raises(SystemExit):
        drain(dying)
    assert len(rows(dying)[0]) == 2  # committed, never acknowledged
    drain(new_consumer(store, redis_url, tmp_path / "insights.sqlite3"))
    check_conversation(dying)


async def test_killed_before_its_commit_the_consumer_loses_nothing(
        make_store: StoreFactory, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store()
    await publish_conversation(store, redis_url)
    dying = new_consumer(store, redis_url, tmp_path / "insights.sqlite3")
    real_store_turn = consumer_module.store_turn
    calls = 0

    def dies_on_the_second_turn(connection: Any, row: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise SystemExit("killed mid-batch")
        return real_store_turn(connection, row)

    monkeypatch.setattr(consumer_module, "store_turn", dies_on_the_second_turn)
    with pytest.raises(SystemExit):
        drain(dying)
    assert rows(dying) == ([], [])  # the batch's transaction rolled back
    monkeypatch.setattr(consumer_module, "store_turn", real_store_turn)
    drain(new_consumer(store, redis_url, tmp_path / "insights.sqlite3"))
    check_conversation(dying)


async def test_a_full_redis_drops_capture_events_without_raising(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    used = int(client.info("memory")["used_memory"])
    client.config_set("maxmemory", used // 2)
    client.config_set("maxmemory-policy", "noeviction")
    connections = open_connections(redis_url)
    publisher = StreamPublisher(connections.commands, "test-full:{insights}:events", 1000, 60, 100)
    try:
        for _ in range(5):
            publisher.offer({"event": "user", "sender_id": "c1"})
        await publisher.drain()
    finally:
        client.config_set("maxmemory", 0)
        await connections.close()
    assert (publisher.published, publisher.dropped) == (0, 5)


async def test_erase_and_retention_remove_captured_rows(make_store: StoreFactory, redis_url: str,
                                                        tmp_path: Path) -> None:
    store = make_store()
    await publish_conversation(store, redis_url)
    consumer = new_consumer(store, redis_url, tmp_path / "insights.sqlite3")
    drain(consumer)
    with consumer.engine.begin() as connection:
        assert delete_older_than(connection, 1, utc(time.time())) == 0
        assert delete_older_than(connection, 1, utc(time.time()) + timedelta(days=2)) == 3
    other = tmp_path / "other.sqlite3"
    second = new_consumer(store, redis_url, other)
    with second.engine.begin() as connection:  # the same conversation captured again, then erased
        connection.execute(turns.insert().values(**TURN, event_id="9-0"))
        connection.execute(turns.insert().values({**TURN, "event_id": "9-1", "conversation_id": "c2"}))
    assert erase_captured(f"sqlite:///{other}", ["c1"]) == 1
    assert [row.conversation_id for row in rows(second)[0]] == ["c2"]


async def test_the_words_of_a_handoff_turn_are_kept_scrubbed_for_review_and_erased_with_it(
        make_store: StoreFactory, redis_url: str, tmp_path: Path) -> None:
    store = make_store()
    await publish_conversation(store, redis_url, with_text=True)
    consumer = new_consumer(store, redis_url, tmp_path / "insights.sqlite3")
    drain(consumer)
    check_conversation(consumer)
    with consumer.engine.connect() as connection:
        kept = connection.execute(select(review_utterances)).all()
    assert [(row.conversation_id, row.text, row.reason, row.model_id) for row in kept] == [
        ("c1", "a person please", "handoff", "m-1")]  # the greeting turn's words are not kept
    assert erase_captured(f"sqlite:///{tmp_path / 'insights.sqlite3'}", ["c1"]) == 4  # 2 turns, handoff, words
    with consumer.engine.begin() as connection:
        assert store_utterance(connection, {**kept[0]._asdict(), "id": None})
        assert delete_older_than(connection, 1, utc(time.time())) == 0
        assert delete_older_than(connection, 1, utc(time.time()) + timedelta(days=2)) == 1
