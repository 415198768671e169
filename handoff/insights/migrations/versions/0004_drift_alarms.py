"""Drift alarms and the drift monitor's saved state.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drift_alarms",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("since", sa.DateTime, nullable=False),
        sa.Column("raised_at", sa.DateTime, nullable=False),
        sa.Column("detail", sa.String(512), nullable=False),
        sa.Column("severity", sa.Float, nullable=False),
        sa.Column("examples", sa.JSON, nullable=False),
        sa.Column("model_id", sa.String(64)),
        sa.Column("cleared_at", sa.DateTime),
        sa.Column("cleared_by", sa.String(128)),
    )
    op.create_index("ix_drift_alarms_raised_at", "drift_alarms", ["raised_at"])
    op.create_table(
        "drift_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("last_turn_id", sa.Integer, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("saved_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("drift_state")
    op.drop_table("drift_alarms")
