"""The insights database's tables: one row per customer turn, one per handoff, one per thumb a
customer gave a bot-only conversation.

Times are naive UTC datetimes (SQLite keeps no zone). `event_id` is the capture stream's entry id of
the event that made the row (a turn's user message, a handoff's request): unique, so an event read
twice is stored once. The Alembic migrations in `migrations/` create these tables.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, Integer, MetaData, String, Table

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
