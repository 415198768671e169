"""From captured turns to a file to commit, short: fallback turns whose words hold an email address and
an order number go through the real capture path (event broker -> Redis stream -> insights consumer),
the lead accepts their cluster, `python -m handoff.review export` runs as a command on a copy of the
project, and data/reviewed.yml holds the examples with synthetic values only; Rasa validates the copy."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import redis
from rasa.shared.nlu.training_data.loading import load_data
from sqlalchemy.engine import Engine

from handoff.insights.broker import RedisStreamEventBroker
from handoff.insights.consumer import InsightsConsumer
from handoff.insights.database import open_database
from handoff.insights.publisher import StreamPublisher
from handoff.redis_connections import open_connections
from handoff.review.export import REVIEWED_CONVERSATIONS, REVIEWED_DATA
from handoff.review.queue import open_proposals
from handoff.review.store import load_utterances, record_decision
from handoff.settings import HandoffSettings
from handoff.store_scripts import Keys
from rasa_bot.settings import PROJECT_ROOT
from tests.redis_server import running_redis

RASA = str(Path(sys.executable).parent / "rasa")
PREFIX = "exportflow"
# Customers giving their order number and email address (made up) in words the bot was unsure of.
MESSAGES = {
    "c1": ("my order is KL-483920, the email is anna.berg@example.org", "KL-483920", "anna.berg@example.org"),
    "c2": ("the number is KL-118273 and my mail tom.k@example.net", "KL-118273", "tom.k@example.net"),
    "c3": ("order kl 902211 with j.doe@example.com", "902211", "j.doe@example.com"),
}
ORIGINALS = [part for _, *parts in MESSAGES.values() for part in parts]


def fallback_turn(conversation: str, text: str) -> list[dict[str, Any]]:
    """A customer message the answer gate was unsure of (inform ranked under the fallback)."""
    def event(kind: str, **fields: Any) -> dict[str, Any]:
        return {"sender_id": conversation, "event": kind, "timestamp": time.time(),
                "metadata": {"model_id": "m-1"}, **fields}
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "inform", "confidence": 0.45},
               {"name": "check_order_status", "confidence": 0.2}]
    return [event("user", text=text, input_channel="rest",
                  parse_data={"intent": ranking[0], "intent_ranking": ranking}),
            event("action", name="utter_please_rephrase"),
            event("bot", text="Sorry, could you say that differently?",
                  metadata={"model_id": "m-1", "utter_action": "utter_please_rephrase"}),
            event("action", name="action_listen")]


async def publish(redis_url: str) -> None:
    """The fallback turns through the broker Rasa runs (words captured, scrubbed before Redis)."""
    connections = open_connections(redis_url)
    broker = RedisStreamEventBroker(connections, StreamPublisher(
        connections.commands, Keys(PREFIX).insights, 10_000, 3600, 1000), with_text=True)
    for conversation, (text, *_) in MESSAGES.items():
        for item in fallback_turn(conversation, text):
            broker.publish(item)
    await broker.close()


def capture(redis_url: str, database_url: str) -> Engine:
    """Publishes the turns and lets the insights consumer store them."""
    asyncio.run(publish(redis_url))
    consumer = InsightsConsumer(redis.Redis.from_url(redis_url), open_database(database_url),
                                HandoffSettings(key_prefix=PREFIX, redis_url=redis_url), "export-flow")
    consumer.ensure_group()
    while consumer.run_once(block_ms=None):
        pass
    return consumer.engine


def test_captured_words_become_a_committed_file_without_personal_data(tmp_path: Path, project: Path,
                                                                       known: dict[str, list[str]]) -> None:
    database_url = f"sqlite:///{tmp_path / 'insights.sqlite3'}"
    with running_redis(tmp_path) as redis_url:
        engine = capture(redis_url, database_url)
    stored = load_utterances(engine)
    assert sorted(u.conversation_id for u in stored) == ["c1", "c2", "c3"] and {u.reason for u in stored} == {"fallback"}
    assert not [original for original in ORIGINALS for u in stored if original in u.text]  # scrubbed before Redis
    [proposal] = open_proposals(engine, known)
    assert proposal.label == "inform" and len(proposal.examples) == 3
    record_decision(engine, proposal.key, "accept", proposal.label, [u.text for u in proposal.examples], "lead-1")
    engine.dispose()

    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run([sys.executable, "-m", "handoff.review", "export", "--database", database_url,
                             "--project", str(project)], cwd=PROJECT_ROOT, env=environment, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0 and '"added": 3' in result.stdout, result.stdout + result.stderr[-3000:]

    written = (project / REVIEWED_DATA).read_text() + (project / REVIEWED_CONVERSATIONS).read_text()
    assert not [original for original in ORIGINALS if original.lower() in written.lower()]
    examples = load_data(str(project / REVIEWED_DATA)).intent_examples
    assert len(examples) == 3 and {m.get("intent") for m in examples} == {"inform"}
    for message in examples:
        entities = {entity["entity"]: entity["value"] for entity in message.get("entities")}
        assert entities["order_number"].startswith("KL-") and "@example." in entities["email"], message
        assert "<" not in message.get("text"), message  # no placeholder left
    result = subprocess.run([RASA, "data", "validate", "--domain", "domain", "--data", "data", "--config",
                             "config.yml", "--fail-on-warnings"], cwd=project, capture_output=True, text=True,
                            timeout=300, env=environment, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
