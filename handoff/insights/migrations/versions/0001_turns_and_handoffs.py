"""Turns and handoffs.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(32), nullable=False, unique=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("model_id", sa.String(64)),
        sa.Column("intent", sa.String(128)),
        sa.Column("confidence", sa.Float),
        sa.Column("confidence_source", sa.String(32)),
        sa.Column("top_intents", sa.JSON),
        sa.Column("answer", sa.String(255)),
        sa.Column("answer_version", sa.String(64)),
        sa.Column("fallback", sa.Boolean, nullable=False),
        sa.Column("handoff_trigger", sa.String(128)),
    )
    op.create_index("ix_turns_conversation_id", "turns", ["conversation_id"])
    op.create_index("ix_turns_at", "turns", ["at"])
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(32), nullable=False, unique=True),
        sa.Column("last_event_id", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("reason", sa.String(128)),
        sa.Column("priority", sa.Integer),
        sa.Column("frustration", sa.Float),
        sa.Column("channel", sa.String(64)),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("claimed_at", sa.DateTime),
        sa.Column("wait_seconds", sa.Float),
        sa.Column("agent_id", sa.String(128)),
        sa.Column("first_response_at", sa.DateTime),
        sa.Column("first_response_seconds", sa.Float),
        sa.Column("ended_at", sa.DateTime),
        sa.Column("ended_how", sa.String(16)),
        sa.Column("handle_seconds", sa.Float),
        sa.Column("rating", sa.Integer),
        sa.Column("verdict", sa.JSON),
    )
    op.create_index("ix_handoffs_conversation_id", "handoffs", ["conversation_id"])
    op.create_index("ix_handoffs_requested_at", "handoffs", ["requested_at"])


def downgrade() -> None:
    op.drop_table("handoffs")
    op.drop_table("turns")
