"""Harvest runs get a heartbeat, so that one rule finds abandoned runs and jobs alike.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add harvest_runs.heartbeat_at."""
    with op.batch_alter_table("harvest_runs") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop harvest_runs.heartbeat_at."""
    with op.batch_alter_table("harvest_runs") as batch:
        batch.drop_column("heartbeat_at")
