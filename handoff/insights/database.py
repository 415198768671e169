"""Writing captured turns and handoffs to the insights database, and forgetting them again.

Every write is idempotent, so a batch read twice (a consumer killed after its commit, before its
acknowledgement) changes nothing the second time: a turn or a handoff is inserted once per event id,
and a handoff's later milestones apply only when newer than the last one the row took
(`last_event_id`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Table, create_engine, delete, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.url import make_url

from handoff.drift.alarms import delete_alarms_before, forget_conversations
from handoff.insights import milestones
from handoff.insights.schema import bot_feedback, handoffs, review_utterances, turns
from handoff.insights.turns import utc

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def open_database(url: str) -> Engine:
    """The engine for `url`, its tables migrated to the newest schema (a SQLite file's directory is
    made, readable by the owner only: the rows name conversations)."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = create_engine(url, future=True)
    upgrade(engine)
    return engine


def upgrade(engine: Engine) -> None:
    """`alembic upgrade head` on the engine's database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def stream_order(entry_id: str) -> tuple[int, int]:
    """A stream entry id as a pair that sorts as Redis orders the entries."""
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def store_turn(connection: Connection, row: Mapping[str, Any]) -> bool:
    """Inserts a turn unless its event was stored before; its handoff trigger becomes the reason of
    the handoff requested in that turn. Returns whether a row was added."""
    if connection.execute(select(turns.c.id).where(turns.c.event_id == row["event_id"])).first():
        return False
    values = dict(row)
    if values.get("handoff_trigger"):
        reason = connection.execute(
            select(handoffs.c.reason).where(handoffs.c.conversation_id == values["conversation_id"],
                                            handoffs.c.requested_at >= values["at"])
            .order_by(handoffs.c.requested_at.desc()).limit(1)).scalar()
        values["handoff_trigger"] = reason or values["handoff_trigger"]
    connection.execute(turns.insert().values(**values))
    return True


def apply_milestone(connection: Connection, event_id: str, event: Mapping[str, Any]) -> bool:
    """Folds one milestone into its row (a new one for a handoff request or a bot-only thumb).
    Returns whether anything changed."""
    kind, conversation = event["event"], str(event["sender_id"])
    at = utc(event["timestamp"])
    if kind == milestones.BOT_FEEDBACK:
        return _insert_once(connection, bot_feedback, event_id, conversation_id=conversation, at=at,
                            helpful=bool(event.get("helpful")))
    if kind == milestones.REQUESTED:
        return _insert_once(connection, handoffs, event_id, last_event_id=event_id, conversation_id=conversation,
                            reason=event.get("reason"), priority=event.get("priority"),
                            frustration=event.get("frustration"), channel=event.get("channel"), requested_at=at)
    row = _latest_handoff(connection, conversation, kind)
    if row is None or stream_order(row.last_event_id) >= stream_order(event_id):
        return False  # no handoff to fold it into (its request was lost), or already taken
    changes = {"last_event_id": event_id, **_handoff_changes(row, kind, at, event)}
    connection.execute(update(handoffs).where(handoffs.c.id == row.id).values(**changes))
    return True


def _insert_once(connection: Connection, table: Table, event_id: str, **values: Any) -> bool:
    """Inserts the row an event makes unless that event's row exists (an entry read twice)."""
    if connection.execute(select(table.c.id).where(table.c.event_id == event_id)).first():
        return False
    connection.execute(table.insert().values(event_id=event_id, **values))
    return True


def _handoff_changes(row: Any, kind: str, at: datetime, event: Mapping[str, Any]) -> dict[str, Any]:
    """What a later milestone of a handoff changes in its row."""
    if kind == milestones.CLAIMED:
        return {"claimed_at": at, "agent_id": event.get("agent_id"), "wait_seconds": _seconds(row.requested_at, at)}
    if kind == milestones.AGENT_MESSAGE and row.first_response_at is None:
        return {"first_response_at": at,
                "first_response_seconds": _seconds(row.claimed_at or row.requested_at, at)}
    if kind == milestones.ENDED and row.ended_at is None:
        changes = {"ended_at": at, "ended_how": event.get("how"),
                   "handle_seconds": _seconds(row.claimed_at, at) if row.claimed_at else None}
        return {**changes, "verdict": event["verdict"]} if event.get("verdict") is not None else changes
    if kind == milestones.RATED:
        return {"rating": event.get("rating")}
    if kind == milestones.VERDICT:
        return {"verdict": event.get("verdict")}
    return {}


def _latest_handoff(connection: Connection, conversation: str, kind: str) -> Any:
    """The handoff a milestone belongs to: the conversation's newest, or for a rating or a verdict
    its newest resolved one."""
    query = select(handoffs).where(handoffs.c.conversation_id == conversation)
    if kind in (milestones.RATED, milestones.VERDICT):
        query = query.where(handoffs.c.ended_how == milestones.RESOLVED)
    return connection.execute(query.order_by(handoffs.c.id.desc()).limit(1)).first()


def _seconds(since: datetime | None, until: datetime) -> float | None:
    return None if since is None else round((until - since).total_seconds(), 3)


def delete_older_than(connection: Connection, days: int, now: datetime) -> int:
    """Removes turns, handoffs (by their request time), thumbs, reviewable messages and drift alarms (by when
    they were raised) older than `days`."""
    cutoff = now - timedelta(days=days)
    removed = connection.execute(delete(turns).where(turns.c.at < cutoff)).rowcount
    removed += connection.execute(delete(handoffs).where(handoffs.c.requested_at < cutoff)).rowcount
    removed += connection.execute(delete(bot_feedback).where(bot_feedback.c.at < cutoff)).rowcount
    removed += connection.execute(delete(review_utterances).where(review_utterances.c.at < cutoff)).rowcount
    removed += delete_alarms_before(connection, cutoff)
    return int(removed)


def erase_conversations(connection: Connection, conversation_ids: list[str]) -> int:
    """Removes every turn, handoff, thumb and reviewable message of the conversations, and their ids from
    drift alarms' examples; returns how many rows went or changed."""
    if not conversation_ids:
        return 0
    removed = connection.execute(delete(turns).where(turns.c.conversation_id.in_(conversation_ids))).rowcount
    removed += connection.execute(delete(handoffs).where(handoffs.c.conversation_id.in_(conversation_ids))).rowcount
    removed += connection.execute(
        delete(bot_feedback).where(bot_feedback.c.conversation_id.in_(conversation_ids))).rowcount
    removed += connection.execute(
        delete(review_utterances).where(review_utterances.c.conversation_id.in_(conversation_ids))).rowcount
    removed += forget_conversations(connection, conversation_ids)
    return int(removed)
