"""A new FAQ topic's answer on the lead's review decision.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("review_decisions", sa.Column("answer", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("review_decisions") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("answer")
