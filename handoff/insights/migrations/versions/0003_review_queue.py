"""The review queue: scrubbed words of fallback and handoff turns, and the lead's decisions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_utterances",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(32), nullable=False, unique=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("normalised", sa.Text, nullable=False),
        sa.Column("top_intents", sa.JSON),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("model_id", sa.String(64)),
    )
    op.create_index("ix_review_utterances_conversation_id", "review_utterances", ["conversation_id"])
    op.create_index("ix_review_utterances_at", "review_utterances", ["at"])
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("proposal_key", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("label", sa.String(128)),
        sa.Column("texts", sa.JSON, nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=False),
    )
    # Unique: two leads deciding the same cluster at the same instant leave one decision.
    op.create_index("ix_review_decisions_proposal_key", "review_decisions", ["proposal_key"], unique=True)


def downgrade() -> None:
    op.drop_table("review_decisions")
    op.drop_table("review_utterances")
