"""Drift alarms in the running capture path: turn events published to a real Redis, stored by the
insights consumer, raise one alarm row; a restarted runner goes on from its saved state without
raising it again; the lead's clear, retention and erase reach the alarm rows."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select

from handoff.drift.alarms import clear_alarm, open_alarms
from handoff.drift.runner import DriftRunner
from handoff.insights.broker import RedisStreamEventBroker
from handoff.insights.consumer import InsightsConsumer
from handoff.insights.database import delete_older_than, erase_conversations, open_database
from handoff.insights.publisher import StreamPublisher
from handoff.insights.schema import drift_alarms, drift_state
from handoff.insights.turns import utc
from handoff.redis_connections import open_connections
from handoff.settings import DriftSettings, HandoffSettings
from tests.handoff.conftest import StoreFactory

pytestmark = pytest.mark.asyncio(loop_scope="function")
DRIFT = DriftSettings(warmup_turns=0, min_samples=10)


def turn_events(conversation: str, fallback: bool, at: float) -> list[dict[str, Any]]:
    """One customer turn asking about the balance, answered or (a fallback) asked to rephrase."""
    ranking = [{"name": "check_balance", "confidence": 0.4 if fallback else 0.95}]
    if fallback:
        ranking.insert(0, {"name": "nlu_fallback", "confidence": 0.65})
    base = {"sender_id": conversation, "metadata": {"model_id": "m-1"}}
    return [{**base, "event": "user", "timestamp": at, "text": "my balance?", "input_channel": "socketio",
             "parse_data": {"intent": ranking[0], "intent_ranking": ranking}},
            {**base, "event": "action", "timestamp": at, "name": "action_listen"}]


async def test_published_fallbacks_raise_one_alarm_row(make_store: StoreFactory, redis_url: str,
                                                       tmp_path: Path) -> None:
    store = make_store()
    connections = open_connections(redis_url)
    broker = RedisStreamEventBroker(connections, StreamPublisher(
        connections.commands, store.keys.insights, 10_000, 3600, 1000))
    now = time.time()
    for index in range(80):
        for item in turn_events(f"c{index}", fallback=index >= 50, at=now + index):
            broker.publish(item)
    await broker.close()
    settings = HandoffSettings(key_prefix=store.keys.prefix, redis_url=redis_url, drift=DRIFT)
    engine = open_database(f"sqlite:///{tmp_path / 'insights.sqlite3'}")
    consumer = InsightsConsumer(redis.Redis.from_url(redis_url), engine, settings, "drift-test")
    consumer.ensure_group()
    while consumer.run_once(block_ms=None):
        pass
    [alarm] = open_alarms(engine)
    assert (alarm.kind, alarm.subject, alarm.model_id) == ("fallback_rate", "check_balance", "m-1")
    assert set(alarm.examples) <= {f"c{index}" for index in range(50, 80)} and alarm.examples
    assert "rose from" in alarm.detail and alarm.since >= utc(now + 45)

    restarted = DriftRunner(engine, DRIFT)  # a consumer started again: the state saved with the alarm
    assert consumer.drift is not None and restarted.last_turn_id == consumer.drift.last_turn_id == 80
    assert restarted.monitor.to_state() == consumer.drift.monitor.to_state()
    assert restarted.poll() == [] and len(open_alarms(engine)) == 1
    with engine.connect() as connection:
        assert connection.execute(select(drift_state.c.last_turn_id)).scalar() == 80

    assert not clear_alarm(engine, alarm.id + 1, "lead-1")
    assert clear_alarm(engine, alarm.id, "lead-1") and open_alarms(engine) == []
    with engine.begin() as connection:
        assert erase_conversations(connection, [alarm.examples[0]]) == 2  # its turn, and the alarm's example
        assert connection.execute(select(drift_alarms.c.examples)).scalar() == alarm.examples[1:]
        delete_older_than(connection, 1, alarm.raised_at + timedelta(days=2))
        assert connection.execute(select(drift_alarms.c.id)).all() == []
    await store.close()
