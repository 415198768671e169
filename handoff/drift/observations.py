"""What the drift monitor reads of the insights database's rows: a `turns` row as a TurnObservation,
a handoff's verdict as a VerdictObservation (with the answer version it is about, found in the
conversation's turns before the handoff)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from handoff.drift.monitor import TurnObservation, VerdictObservation
from handoff.insights.schema import turns
from handoff.insights.turns import utc

NLU_FALLBACK = "nlu_fallback"  # the answer gate's decision, put first in the ranking above the classified intents
OUTDATED = "outdated"


def turn_observation(row: Any) -> TurnObservation:
    """A `turns` row for the monitor: its intent is the top-ranked classified one (a fallback's too)."""
    ranked = [entry.get("name") for entry in row.top_intents or [] if isinstance(entry, dict)]
    classified = [name for name in ranked if isinstance(name, str) and name != NLU_FALLBACK]
    intent = classified[0] if classified else (row.intent if row.intent != NLU_FALLBACK else None)
    return TurnObservation(row.at, row.conversation_id, row.model_id, intent, row.confidence, row.answer_version,
                           bool(row.fallback), row.handoff_trigger is not None)


def verdict_observation(connection: Connection, handoff: Any) -> VerdictObservation | None:
    """A handoff's verdict for the monitor, or None when the row has none."""
    verdict = handoff.verdict
    if not isinstance(verdict, dict) or not isinstance(verdict.get("kind"), str):
        return None
    given = verdict.get("given_at")
    at = utc(given) if isinstance(given, (int, float)) else (handoff.ended_at or handoff.requested_at)
    version = _answer_version(connection, handoff.conversation_id, handoff.requested_at, verdict)
    return VerdictObservation(at, handoff.conversation_id, verdict["kind"], verdict.get("intent"), version)


def _answer_version(connection: Connection, conversation_id: str, requested_at: datetime,
                    verdict: dict[str, Any]) -> str | None:
    """The version the verdict is about: of the answer it calls outdated, as last given before the
    handoff; for other kinds, of the bot's last answer before the turn that handed off."""
    earlier = connection.execute(
        select(turns.c.answer, turns.c.answer_version, turns.c.handoff_trigger)
        .where(turns.c.conversation_id == conversation_id, turns.c.at <= requested_at,
               turns.c.answer.isnot(None)).order_by(turns.c.at.desc(), turns.c.id.desc()).limit(50)).all()
    for answer, versions, trigger in earlier:
        names, numbers = answer.split(","), (versions or "").split(",")
        if len(names) != len(numbers):
            continue  # an answer without a name: which version is whose is unknown
        if verdict["kind"] == OUTDATED:
            if verdict.get("answer") in names:
                return numbers[names.index(verdict["answer"])]
        elif trigger is None:
            return numbers[-1]
    return None
