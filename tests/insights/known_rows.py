"""A small insights database with rows whose figures are worked out by hand (see the expected values in
test_figures.py): shared by the figure, report, API and browser tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from handoff.insights.database import open_database
from handoff.insights.schema import bot_feedback, handoffs, turns

NOW = datetime(2025, 3, 10, 12, 0, 0)
FRUSTRATION_VERDICTS = ["needed"] * 3 + ["wrong_answer"] + ["not_needed"] * 8  # 4 of 12 count as needed
FRUSTRATION_HANDOFFS = 14  # the last two abandoned before anyone claimed them, without a verdict
_event_ids = itertools.count(1)


def _turn(conversation: str, at: datetime, intent: str, confidence: float | None = 0.9, source: str = "intent",
          answer: str | None = "utter_answer", fallback: bool = False, trigger: str | None = None) -> dict[str, Any]:
    return {"event_id": f"{next(_event_ids)}-0", "conversation_id": conversation, "at": at,
            "channel": "handoff_rest", "model_id": "m1", "intent": intent, "confidence": confidence,
            "confidence_source": source, "top_intents": [], "answer": answer, "answer_version": "abc",
            "fallback": fallback, "handoff_trigger": trigger}


def known_rows(now: datetime = NOW) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(turns, handoffs, bot_feedback) rows, placed relative to `now` (their times move with it)."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
        return day - timedelta(days=days_ago) + timedelta(hours=hour, minutes=minute)

    turn_rows = [
        _turn("conv-a", at(5, 10), "faq/fees", 0.95, "response", "utter_faq/fees"),  # contained
        _turn("conv-a", at(5, 10, 1), "goodbye", 0.9, "intent", "utter_goodbye"),
        _turn("conv-b", at(5, 11), "nlu_fallback", 0.3, "intent", "utter_default", fallback=True),  # fallback
        _turn("conv-c", at(4, 9), "request_human", 1.0, "person_request", "utter_handoff",
              trigger="explicit_request"),  # handed off
        _turn("conv-d", at(4, 10), "faq/limits", 0.35, "response", "utter_faq/limits"),  # thumb down; low
        _turn("conv-e", at(3, 8), "faq/refund", 0.9, "response", "utter_faq/refund"),  # asked again: left
        _turn("conv-e", at(3, 8, 2), "faq/refund", 0.9, "response", "utter_faq/refund"),
        _turn("conv-g", at(3, 9), "greet", 0.7, "intent", "utter_greet"),  # contained; low confidence
        _turn("conv-old", at(9, 9), "greet"),  # before a 7-day period
        _turn("conv-f", now - timedelta(minutes=10), "greet"),  # still open
    ]
    handoff_rows = [{"event_id": "h-c", "last_event_id": "h-c", "conversation_id": "conv-c",
                     "reason": "explicit_request", "priority": 3, "frustration": 0.0, "channel": "handoff_rest",
                     "requested_at": at(4, 9, 0), "claimed_at": at(4, 9, 0) + timedelta(seconds=30),
                     "wait_seconds": 30.0, "agent_id": "alice",
                     "first_response_at": at(4, 9, 0) + timedelta(seconds=40), "first_response_seconds": 10.0,
                     "ended_at": at(4, 9, 3), "ended_how": "resolved", "handle_seconds": 120.0, "rating": 5,
                     "verdict": {"kind": "needed", "agent_id": "alice"}}]
    for index in range(FRUSTRATION_HANDOFFS):
        conversation, requested = f"conv-fr-{index:02d}", at(2, 10, index)
        turn_rows.append(_turn(conversation, requested, "complain", 0.8, "intent", "utter_handoff_frustration",
                               trigger="frustration"))
        row: dict[str, Any] = {"event_id": f"h-fr-{index}", "last_event_id": f"h-fr-{index}",
                               "conversation_id": conversation, "reason": "frustration", "priority": 2,
                               "frustration": 1.2, "channel": "handoff_rest",
                               "requested_at": requested + timedelta(seconds=2)}
        if index < len(FRUSTRATION_VERDICTS):
            wait = 10.0 * (index + 1)
            claimed = row["requested_at"] + timedelta(seconds=wait)
            row.update(claimed_at=claimed, wait_seconds=wait, agent_id="bob",
                       first_response_at=claimed + timedelta(seconds=5), first_response_seconds=5.0,
                       ended_at=claimed + timedelta(seconds=60 * (index + 1)), ended_how="resolved",
                       handle_seconds=60.0 * (index + 1), verdict={"kind": FRUSTRATION_VERDICTS[index]},
                       rating={0: 2, 1: 4, 2: 3}.get(index))
        else:
            row.update(ended_at=row["requested_at"] + timedelta(minutes=5), ended_how="abandoned")
        handoff_rows.append(row)
    feedback_rows = [{"event_id": "f-a", "conversation_id": "conv-a", "at": at(5, 10, 2), "helpful": True},
                     {"event_id": "f-d", "conversation_id": "conv-d", "at": at(4, 10, 1), "helpful": False},
                     {"event_id": "f-g", "conversation_id": "conv-g", "at": at(3, 9, 1), "helpful": True}]
    return turn_rows, handoff_rows, feedback_rows


def fill_database(path: Path, now: datetime = NOW) -> str:
    """A SQLite file at `path`, migrated and filled with the known rows; returns its URL."""
    url = f"sqlite:///{path}"
    engine = open_database(url)
    turn_rows, handoff_rows, feedback_rows = known_rows(now)
    with engine.begin() as connection:
        connection.execute(turns.insert(), turn_rows)
        connection.execute(handoffs.insert(), [{**dict.fromkeys(set(handoffs.c.keys()) - {"id"}), **row} for row in handoff_rows])
        connection.execute(bot_feedback.insert(), feedback_rows)
    engine.dispose()
    return url
