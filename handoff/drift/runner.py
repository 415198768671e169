"""Feeds the drift monitor from the insights database as the consumer writes it, and stores its alarms.

After each batch the consumer commits, `DriftRunner.poll` reads the turns added since the last one it
read (by row id) and the verdicts given since (handoffs whose verdict it has not seen, within
`VERDICT_LOOKBACK`), feeds them to the monitor, and in one transaction stores the alarms raised together
with the monitor's state (table `drift_state`). A restarted consumer loads that state and goes on after
the last turn read, so it neither loses the reference nor raises an old alarm again. The state is also
saved at most every `SAVE_SECONDS` without alarms; turns read after the last save are read again after a
restart, and give the same state. Without any saved state (a first start on an existing database) the
monitor is rebuilt from the last `REBUILD_TURNS` turns.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from handoff.drift.alarms import store_alarms
from handoff.drift.monitor import Alarm, DriftMonitor
from handoff.drift.observations import turn_observation, verdict_observation
from handoff.insights.schema import drift_state, handoffs, turns
from handoff.settings import DriftSettings

logger = logging.getLogger("handoff.drift.runner")

STATE_NAME = "monitor"
READ_TURNS = 2000  # turns read per query
REBUILD_TURNS = 20_000
VERDICT_LOOKBACK = timedelta(days=7)  # verdicts given later than this after the handoff ended are not read
SAVE_SECONDS = 30.0


class DriftRunner:
    """The monitor, its place in the turns table and the verdicts it has seen (see the module docstring)."""

    def __init__(self, engine: Engine, settings: DriftSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.settings = settings
        self._clock = clock
        self._saved = clock()
        self.monitor, self.last_turn_id, self.seen_verdicts = self._load()

    def _load(self) -> tuple[DriftMonitor, int, dict[int, str]]:
        with self.engine.connect() as connection:
            row = connection.execute(select(drift_state).where(drift_state.c.name == STATE_NAME)).first()
            if row is None:
                newest = connection.execute(select(func.max(turns.c.id))).scalar() or 0
                return DriftMonitor(self.settings), max(newest - REBUILD_TURNS, 0), {}
        state = row.state
        seen = {int(handoff_id): ended for handoff_id, ended in state["verdicts"].items()}
        return DriftMonitor.from_state(self.settings, state["monitor"]), int(row.last_turn_id), seen

    def poll(self, now: datetime | None = None) -> list[Alarm]:
        """Reads what is new, feeds the monitor, stores the alarms and (with them, or now and then)
        the state. Returns the alarms raised."""
        now = now or datetime.utcnow()
        raised: list[Alarm] = []
        with self.engine.begin() as connection:
            read = True
            while read:
                rows = connection.execute(select(turns).where(turns.c.id > self.last_turn_id)
                                          .order_by(turns.c.id).limit(READ_TURNS)).all()
                for row in rows:
                    raised += self.monitor.observe_turn(turn_observation(row))
                    self.last_turn_id = row.id
                read = len(rows) == READ_TURNS
            raised += self._verdicts(connection, now)
            if raised or self._clock() - self._saved >= SAVE_SECONDS:
                store_alarms(connection, raised, self.monitor.model_id)
                self._save(connection, now)
        for alarm in raised:
            logger.warning("drift alarm %s for %s: %s", alarm.kind, alarm.subject, alarm.detail)
        return raised

    def _verdicts(self, connection: Connection, now: datetime) -> list[Alarm]:
        oldest = now - VERDICT_LOOKBACK
        self.seen_verdicts = {handoff_id: ended for handoff_id, ended in self.seen_verdicts.items()
                              if ended >= oldest.isoformat()}
        rows = connection.execute(select(handoffs).where(handoffs.c.verdict.isnot(None), handoffs.c.ended_at >= oldest)
                                  .order_by(handoffs.c.ended_at, handoffs.c.id)).all()
        raised: list[Alarm] = []
        for row in rows:
            if row.id in self.seen_verdicts:
                continue
            observation = verdict_observation(connection, row)
            if observation is None:
                continue
            self.seen_verdicts[row.id] = row.ended_at.isoformat()
            raised += self.monitor.observe_verdict(observation)
        return raised

    def _save(self, connection: Connection, now: datetime) -> None:
        values: dict[str, Any] = {"last_turn_id": self.last_turn_id, "saved_at": now, "state": {
            "monitor": self.monitor.to_state(),
            "verdicts": {str(handoff_id): ended for handoff_id, ended in self.seen_verdicts.items()}}}
        updated = connection.execute(drift_state.update().where(drift_state.c.name == STATE_NAME).values(**values))
        if not updated.rowcount:
            connection.execute(drift_state.insert().values(name=STATE_NAME, **values))
        self._saved = self._clock()
