"""`python -m handoff.insights.consumer`: stores the capture stream in the insights database.

It reads the stream in a consumer group (XREADGROUP), writes rows in one transaction per batch, and
acknowledges (XACK) only after the commit. Started again under the same name, it first re-reads what
it had read but not acknowledged (its pending entries), so nothing is lost when it is killed, and
the idempotent writes (handoff.insights.database) count nothing twice. Entries published while it
was stopped wait in the stream (bounded by `insights_stream_maxlen`). Every hour it deletes rows
older than `insights_retention_days`. After each batch it feeds the new rows to the drift monitor
(handoff/drift/runner.py), which stores its alarms.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import redis
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from handoff.drift.runner import DriftRunner
from handoff.insights import milestones
from handoff.insights.database import apply_milestone, delete_older_than, open_database, store_turn
from handoff.insights.publisher import EVENT_FIELD
from handoff.insights.turns import Finished, TurnAssembler, TurnRules, utc
from handoff.review.capture import store_utterance
from handoff.settings import HandoffSettings, get_handoff_settings
from handoff.store_scripts import Keys

logger = logging.getLogger("handoff.insights.consumer")

GROUP = "insights"
BATCH = 500
BLOCK_MS = 2000
IDLE_TURN_SECONDS = 60.0  # a turn whose bot never listened again is stored as it stands after this
RETENTION_EVERY_SECONDS = 3600.0
RETRY_SECONDS = 2.0
# The consumer is background work: it yields the CPU to the customers' turns (Rasa, the action
# server, Redis) when they share a machine. Added to the niceness it was started with.
NICENESS = 10
Entry = tuple[str, dict[str, Any]]


class InsightsConsumer:
    """Reads the capture stream and keeps the database up to date (see the module docstring)."""

    def __init__(self, client: redis.Redis, engine: Engine, settings: HandoffSettings, name: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.redis = client
        self.engine = engine
        self.settings = settings
        self.key = Keys(settings.key_prefix).insights
        self.name = name
        self._clock = clock
        self._last_event = clock()
        self._last_retention = float("-inf")
        self.stored = 0
        self.drift: DriftRunner | None = None
        self.start_over()

    def start_over(self) -> None:
        """Forgets what is in memory and reads this consumer's pending entries again (at start, and
        after a failed batch, whose entries stayed pending)."""
        self.turns = TurnAssembler(TurnRules(frozenset(self.settings.fallback_intents), self.settings.handoff_action))
        self._pending_after: str | None = "0"

    def ensure_group(self) -> None:
        """Creates the consumer group (reading from the stream's start) if it does not exist yet."""
        try:
            self.redis.xgroup_create(self.key, GROUP, id="0", mkstream=True)
            self.redis.expire(self.key, self.settings.insights_stream_expire_seconds)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def run_once(self, block_ms: int | None = BLOCK_MS) -> int:
        """Reads one batch (this consumer's pending entries first), stores it, acknowledges it.
        Returns the entries read (BATCH when more may be waiting)."""
        entries: list[Entry] = []
        if self._pending_after is not None:
            entries = self._read(self._pending_after, None)
            self._pending_after = entries[-1][0] if entries else None
        if not entries:
            entries = self._read(">", block_ms)
        finished = self.turns.read([(entry_id, event) for entry_id, event in entries
                                    if event.get("event") not in milestones.MILESTONES])
        if entries:
            self._last_event = self._clock()
        elif self.turns.open and self._clock() - self._last_event > IDLE_TURN_SECONDS:
            finished = self.turns.finish_all()
        milestone_ids = [entry_id for entry_id, event in entries if event.get("event") in milestones.MILESTONES]
        self._store(entries, finished)
        self._acknowledge([*milestone_ids, *finished.done_ids])
        if entries or finished.rows:
            self._watch_drift()
        self._retention()
        return len(entries)

    def _watch_drift(self) -> None:
        """Feeds the rows just stored to the drift monitor. Its failure never stops the capture: the
        monitor is loaded again from its saved state (consistent with the rows it had read) next time."""
        try:
            if self.drift is None:
                self.drift = DriftRunner(self.engine, self.settings.drift)
            self.drift.poll()
        except Exception:  # drift alarms are secondary to storing the capture: log, go on
            logger.exception("drift monitor failed; it reloads its saved state after the next batch")
            self.drift = None

    def _read(self, start: str, block_ms: int | None) -> list[Entry]:
        reply = self.redis.xreadgroup(GROUP, self.name, {self.key: start}, count=BATCH, block=block_ms)
        entries: list[Entry] = []
        for _stream, items in reply or []:
            for entry_id, fields in items:
                entries.append((_text(entry_id), _event(fields or {})))
        return entries

    def _store(self, entries: list[Entry], finished: Finished) -> None:
        with self.engine.begin() as connection:
            for entry_id, event in entries:
                if event.get("event") in milestones.MILESTONES:
                    self.stored += apply_milestone(connection, entry_id, event)
            for row in finished.rows:
                self.stored += store_turn(connection, row)
            for utterance in finished.utterances:
                self.stored += store_utterance(connection, utterance)

    def _acknowledge(self, entry_ids: list[str]) -> None:
        if entry_ids:
            self.redis.xack(self.key, GROUP, *entry_ids)

    def _retention(self) -> None:
        if self._clock() - self._last_retention < RETENTION_EVERY_SECONDS:
            return
        self._last_retention = self._clock()
        with self.engine.begin() as connection:
            removed = delete_older_than(connection, self.settings.insights_retention_days, utc(time.time()))
        if removed:
            logger.info("retention: deleted %d rows older than %d days", removed,
                        self.settings.insights_retention_days)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _event(fields: dict[Any, Any]) -> dict[str, Any]:
    """The event of a stream entry; an entry without one (trimmed, or foreign) reads as empty."""
    raw = fields.get(EVENT_FIELD) or fields.get(EVENT_FIELD.encode())
    try:
        event = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def serve(settings: HandoffSettings) -> None:
    """Runs the consumer until SIGTERM or SIGINT, riding out Redis or database outages."""
    engine = open_database(settings.insights_database_url)
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=BLOCK_MS / 1000 + 5, socket_connect_timeout=2)
    consumer = InsightsConsumer(client, engine, settings, settings.insights_consumer_name)
    stopping = False

    def stop(_signal: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("insights consumer %s: stream %s -> %s", consumer.name, consumer.key, engine.url.render_as_string())
    failing = False
    while not stopping:
        try:
            consumer.ensure_group()
            while not stopping:
                started = time.monotonic()
                if consumer.run_once() < BATCH:  # caught up: let the next batch gather
                    time.sleep(max(0.0, settings.insights_batch_seconds - (time.monotonic() - started)))
                failing = False
        except (redis.RedisError, SQLAlchemyError, OSError) as error:
            if not failing:
                logger.warning("insights consumer: Redis or the database unavailable (%s); retrying every "
                               "%.0f s", error, RETRY_SECONDS)
            failing = True
            consumer.start_over()  # the failed batch stayed pending: read it again
            time.sleep(RETRY_SECONDS)
    logger.info("insights consumer stopped; %d rows written or updated", consumer.stored)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.nice(NICENESS)
    serve(get_handoff_settings())


if __name__ == "__main__":
    main()
