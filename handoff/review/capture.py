"""Keeps the scrubbed words of the turns the review queue needs: those that were a fallback or a
handoff. Every other turn's words are dropped by the insights consumer, unstored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from handoff.insights.schema import review_utterances
from handoff.review.utterances import FALLBACK, HANDOFF, normalise


def utterance_row(turn: Mapping[str, Any], text: str | None) -> dict[str, Any] | None:
    """The `review_utterances` row of a finished turn's `turns` row and its captured (scrubbed) text,
    or None when the turn needs no review (handled by the bot) or no text was captured."""
    if not text or not text.strip():
        return None
    if turn.get("handoff_trigger"):
        reason = HANDOFF
    elif turn.get("fallback"):
        reason = FALLBACK
    else:
        return None
    return {"event_id": turn["event_id"], "conversation_id": turn["conversation_id"], "at": turn["at"],
            "text": text, "normalised": normalise(text), "top_intents": list(turn.get("top_intents") or []),
            "reason": reason, "model_id": turn.get("model_id")}


def store_utterance(connection: Connection, row: Mapping[str, Any]) -> bool:
    """Inserts the row unless its event was stored before (an entry read twice). Returns whether it was."""
    exists = select(review_utterances.c.id).where(review_utterances.c.event_id == row["event_id"])
    if connection.execute(exists).first():
        return False
    connection.execute(review_utterances.insert().values(**row))
    return True
