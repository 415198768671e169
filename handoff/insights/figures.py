"""The lead's figures over a period, from the insights database: what the dashboard
(`GET /api/insights`) and the report (`python -m handoff.insights report`) show.

Every figure carries its counts (`n`), so a reader sees how much data it rests on; a share or a mean
of nothing is None, not 0. Definitions are in docs/insights.md ("Dashboard and report") and in the
docstrings of `containment.py` and `precision.py`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from handoff.answer_gate import SOURCE_INTENT, SOURCE_RESPONSE
from handoff.insights.containment import ConversationFacts, containment
from handoff.insights.milestones import ABANDONED
from handoff.insights.period import Period
from handoff.insights.precision import precision
from handoff.insights.schema import bot_feedback, handoffs, turns
from handoff.insights.stats import median, percentile, share
from handoff.settings import HandoffSettings

# An answer is "low confidence" when its deciding confidence is under its threshold plus this band:
# it cleared the gate, but narrowly.
LOW_CONFIDENCE_BAND = 0.10
GOOD_RATING = 4  # a 1-5 rating at or above this counts as satisfied


def compute_figures(connection: Connection, period: Period, settings: HandoffSettings) -> dict[str, Any]:
    """Every figure of the period, as JSON-ready data."""
    turn_rows = connection.execute(
        select(turns.c.conversation_id, turns.c.at, turns.c.intent, turns.c.confidence, turns.c.confidence_source,
               turns.c.answer, turns.c.fallback, turns.c.handoff_trigger)
        .where(turns.c.at >= period.start, turns.c.at <= period.end).order_by(turns.c.at, turns.c.id)).all()
    handoff_rows = connection.execute(
        select(handoffs).where(handoffs.c.requested_at >= period.start, handoffs.c.requested_at <= period.end)
        .order_by(handoffs.c.requested_at)).all()
    feedback_rows = connection.execute(
        select(bot_feedback).where(bot_feedback.c.at >= period.start, bot_feedback.c.at <= period.end)).all()
    facts = ConversationFacts(turn_rows, {row.conversation_id for row in handoff_rows},
                              {row.conversation_id for row in feedback_rows if not row.helpful},
                              frozenset(settings.repeat_ignore_intents))
    return {
        "period": {"since": period.since, "start": period.start.isoformat(), "end": period.end.isoformat(),
                   "bucket": period.bucket, "buckets": [bucket.isoformat() for bucket in period.buckets()]},
        "containment": containment(facts, period),
        "handoff_rate": handoff_rate(turn_rows, handoff_rows, period),
        "precision": precision(handoff_rows),
        "times": human_times(handoff_rows),
        "ratings": ratings(handoff_rows, feedback_rows),
        "low_confidence": low_confidence(turn_rows, settings),
    }


def handoff_rate(turn_rows: list[Any], handoff_rows: list[Any], period: Period) -> dict[str, Any]:
    """Per bucket: customer turns, conversations, and each trigger's handoffs with their rate per turn
    and per conversation."""
    buckets = period.buckets()
    turns_in: Counter[datetime] = Counter(period.bucket_of(row.at) for row in turn_rows)
    conversations_in: dict[datetime, set[str]] = defaultdict(set)
    for row in turn_rows:
        conversations_in[period.bucket_of(row.at)].add(row.conversation_id)
    by_trigger: dict[str, Counter[datetime]] = defaultdict(Counter)
    for row in handoff_rows:
        by_trigger[row.reason or "unknown"][period.bucket_of(row.requested_at)] += 1
    triggers = {}
    for trigger, counts in sorted(by_trigger.items()):
        triggers[trigger] = {
            "n": sum(counts.values()),
            "handoffs": [counts[bucket] for bucket in buckets],
            "per_turn": [share(counts[bucket], turns_in[bucket]) for bucket in buckets],
            "per_conversation": [share(counts[bucket], len(conversations_in[bucket])) for bucket in buckets],
        }
    total_turns = len(turn_rows)
    conversations = len({row.conversation_id for row in turn_rows})
    return {"turns": [turns_in[bucket] for bucket in buckets],
            "conversations": [len(conversations_in[bucket]) for bucket in buckets],
            "n_turns": total_turns, "n_conversations": conversations, "n_handoffs": len(handoff_rows),
            "per_turn": share(len(handoff_rows), total_turns),
            "per_conversation": share(len(handoff_rows), conversations), "triggers": triggers}


def _spread(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "median": median(values), "p90": percentile(values, 0.9)}


def human_times(handoff_rows: list[Any]) -> dict[str, Any]:
    """Seconds a customer waited for a person (request to claim), until the person's first message
    (request to it: what the customer lived), a person's handle time (claim to end), and abandonment
    (of the handoffs that ended, those the customer left before they were over)."""
    first = [(row.first_response_at - row.requested_at).total_seconds() for row in handoff_rows
             if row.first_response_at is not None]
    ended = [row for row in handoff_rows if row.ended_how]
    abandoned = sum(1 for row in ended if row.ended_how == ABANDONED)
    return {"wait": _spread([row.wait_seconds for row in handoff_rows if row.wait_seconds is not None]),
            "first_response": _spread(first),
            "handle": _spread([row.handle_seconds for row in handoff_rows if row.handle_seconds is not None]),
            "abandonment": {"n": len(ended), "abandoned": abandoned, "share": share(abandoned, len(ended))}}


def ratings(handoff_rows: list[Any], feedback_rows: list[Any]) -> dict[str, Any]:
    """Bot-only conversations' thumbs (share helpful) beside the 1-5 ratings after a person."""
    helpful = sum(1 for row in feedback_rows if row.helpful)
    rated = [row.rating for row in handoff_rows if row.rating is not None]
    good = sum(1 for rating in rated if rating >= GOOD_RATING)
    return {"bot": {"n": len(feedback_rows), "helpful": helpful, "share": share(helpful, len(feedback_rows))},
            "human": {"n": len(rated), "mean": sum(rated) / len(rated) if rated else None,
                      "good": good, "share_good": share(good, len(rated)), "good_from": GOOD_RATING}}


def low_confidence(turn_rows: list[Any], settings: HandoffSettings) -> dict[str, Any]:
    """Of the turns the bot answered itself (an answer, no fallback, no handoff) with a confidence from
    the answer gate's intent or FAQ answer, those under their threshold plus LOW_CONFIDENCE_BAND."""
    thresholds = {SOURCE_INTENT: settings.intent_threshold, SOURCE_RESPONSE: settings.answer_threshold}
    answered = [row for row in turn_rows if row.answer and not row.fallback and not row.handoff_trigger
                and row.confidence is not None and row.confidence_source in thresholds]
    low = sum(1 for row in answered if row.confidence < thresholds[row.confidence_source] + LOW_CONFIDENCE_BAND)
    return {"n": len(answered), "low": low, "share": share(low, len(answered)), "band": LOW_CONFIDENCE_BAND,
            "thresholds": thresholds}
