"""The drift alarms table: storing the monitor's alarms, listing the open ones, clearing one, and
forgetting conversations (retention, erase). Read by the console, Slack and metrics work."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine

from handoff.drift.monitor import Alarm
from handoff.insights.schema import drift_alarms
from handoff.insights.turns import utc

DETAIL_LENGTH = 512
# What each kind of alarm tells a lead, in the console and in Slack.
KIND_HEADLINES = {"fallback_rate": "Fallback rate changed", "handoff_rate": "Handoff rate changed",
                  "confidence_shift": "Confidence shifted", "stale_answer": "Answer marked out of date"}


@dataclass(frozen=True)
class StoredAlarm:
    """An alarm as the table keeps it, with its row id and whether (and by whom) it was cleared."""

    id: int
    kind: str
    subject: str
    since: datetime
    raised_at: datetime
    detail: str
    severity: float
    examples: list[str]
    model_id: str | None
    cleared_at: datetime | None
    cleared_by: str | None

    @property
    def headline(self) -> str:
        return KIND_HEADLINES.get(self.kind, f"Drift alarm ({self.kind})")


def store_alarms(connection: Connection, alarms: Iterable[Alarm], model_id: str | None) -> int:
    """Inserts the alarms; returns how many."""
    rows = [{"kind": alarm.kind, "subject": alarm.subject[:128], "since": alarm.since, "raised_at": alarm.raised_at,
             "detail": alarm.detail[:DETAIL_LENGTH], "severity": alarm.severity, "examples": list(alarm.examples),
             "model_id": model_id} for alarm in alarms]
    if rows:
        connection.execute(drift_alarms.insert(), rows)
    return len(rows)


def open_alarms(engine: Engine) -> list[StoredAlarm]:
    """Alarms nobody cleared yet, newest first."""
    with engine.connect() as connection:
        rows = connection.execute(select(drift_alarms).where(drift_alarms.c.cleared_at.is_(None))
                                  .order_by(drift_alarms.c.raised_at.desc(), drift_alarms.c.id.desc())).all()
    return [StoredAlarm(**row._mapping) for row in rows]


def clear_alarm(engine: Engine, alarm_id: int, by: str, now: datetime | None = None) -> bool:
    """Marks an open alarm cleared by `by` (an agent id); False when there is no such open alarm."""
    with engine.begin() as connection:
        changed = connection.execute(
            update(drift_alarms).where(drift_alarms.c.id == alarm_id, drift_alarms.c.cleared_at.is_(None))
            .values(cleared_at=now or utc(time.time()), cleared_by=by[:128])).rowcount
    return bool(changed)


def delete_alarms_before(connection: Connection, cutoff: datetime) -> int:
    """Retention: removes alarms raised before `cutoff`."""
    return int(connection.execute(delete(drift_alarms).where(drift_alarms.c.raised_at < cutoff)).rowcount)


def forget_conversations(connection: Connection, conversation_ids: Iterable[str]) -> int:
    """Erase: removes the conversations from every alarm's examples; returns the alarms changed."""
    erased = set(conversation_ids)
    if not erased:
        return 0
    changed = 0
    for row in connection.execute(select(drift_alarms.c.id, drift_alarms.c.examples)).all():
        kept = [example for example in row.examples or [] if example not in erased]
        if len(kept) != len(row.examples or []):
            connection.execute(update(drift_alarms).where(drift_alarms.c.id == row.id).values(examples=kept))
            changed += 1
    return changed
