"""The insights database's tables: one row per customer turn, one per handoff, one per thumb a
customer gave a bot-only conversation; for the review queue (handoff/review) the scrubbed words of
fallback and handoff turns, and the lead's decisions on proposed training examples.

Times are naive UTC datetimes (SQLite keeps no zone). `event_id` is the capture stream's entry id of
the event that made the row (a turn's user message, a handoff's request): unique, so an event read
twice is stored once. The Alembic migrations in `migrations/` create these tables.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

turns = Table(
    "turns", metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(32), nullable=False, unique=True),
    Column("conversation_id", String(255), nullable=False, index=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("channel", String(64)),
    Column("model_id", String(64)),
    Column("intent", String(128)),
    Column("confidence", Float),
    Column("confidence_source", String(32)),
    Column("top_intents", JSON),
    Column("answer", String(255)),
    Column("answer_version", String(64)),
    Column("fallback", Boolean, nullable=False),
    Column("handoff_trigger", String(128)),
)

handoffs = Table(
    "handoffs", metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(32), nullable=False, unique=True),
    Column("last_event_id", String(32), nullable=False),
    Column("conversation_id", String(255), nullable=False, index=True),
    Column("reason", String(128)),
    Column("priority", Integer),
    Column("frustration", Float),
    Column("channel", String(64)),
    Column("requested_at", DateTime, nullable=False, index=True),
    Column("claimed_at", DateTime),
    Column("wait_seconds", Float),
    Column("agent_id", String(128)),
    Column("first_response_at", DateTime),
    Column("first_response_seconds", Float),
    Column("ended_at", DateTime),
    Column("ended_how", String(16)),
    Column("handle_seconds", Float),
    Column("rating", Integer),
    Column("verdict", JSON),
)

bot_feedback = Table(
    "bot_feedback", metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(32), nullable=False, unique=True),
    Column("conversation_id", String(255), nullable=False, index=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("helpful", Boolean, nullable=False),
)

review_utterances = Table(
    "review_utterances", metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(32), nullable=False, unique=True),
    Column("conversation_id", String(255), nullable=False, index=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("text", Text, nullable=False),  # scrubbed of personal data in the Rasa process
    Column("normalised", Text, nullable=False),  # for de-duplication (handoff.review.utterances.normalise)
    Column("top_intents", JSON),
    Column("reason", String(16), nullable=False),  # "fallback" | "handoff"
    Column("model_id", String(64)),
)

review_decisions = Table(
    "review_decisions", metadata,
    Column("id", Integer, primary_key=True),
    Column("proposal_key", String(64), nullable=False, unique=True, index=True),  # one decision per cluster
    Column("action", String(16), nullable=False),  # "accept" | "relabel" (also a new topic) | "dismiss"
    Column("label", String(128)),
    Column("texts", JSON, nullable=False),  # the scrubbed texts decided on
    Column("decided_by", String(128), nullable=False),
    Column("decided_at", DateTime, nullable=False),
    Column("answer", Text),  # a new FAQ topic's answer, written by the lead (migration 0005)
)

# Drift alarms (handoff/drift, migration 0004). `examples` names up to 5 conversations (erased with
# them); `model_id` is the model whose reference the alarm was measured against.
drift_alarms = Table(
    "drift_alarms", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("since", DateTime, nullable=False),
    Column("raised_at", DateTime, nullable=False, index=True),
    Column("detail", String(512), nullable=False),
    Column("severity", Float, nullable=False),
    Column("examples", JSON, nullable=False),
    Column("model_id", String(64)),
    Column("cleared_at", DateTime),
    Column("cleared_by", String(128)),
)

# The drift monitor's state (one row, `name` "monitor"): its detectors as JSON and the last turn id it
# read, saved in the transaction that stores its alarms, so a restart goes on where it stopped.
drift_state = Table(
    "drift_state", metadata,
    Column("name", String(32), primary_key=True),
    Column("last_turn_id", Integer, nullable=False),
    Column("state", JSON, nullable=False),
    Column("saved_at", DateTime, nullable=False),
)
