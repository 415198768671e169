"""Customers' thumbs on bot-only conversations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(32), nullable=False, unique=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("helpful", sa.Boolean, nullable=False),
    )
    op.create_index("ix_bot_feedback_conversation_id", "bot_feedback", ["conversation_id"])
    op.create_index("ix_bot_feedback_at", "bot_feedback", ["at"])


def downgrade() -> None:
    op.drop_table("bot_feedback")
