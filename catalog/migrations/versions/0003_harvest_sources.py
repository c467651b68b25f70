"""Harvesting from sources: steward edits kept beside the source's text, run bookkeeping.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add steward_edits, source identity index, run actor/worker, source created_at."""
    with op.batch_alter_table("datasets") as batch_op:
        batch_op.add_column(sa.Column("steward_edits", sa.JSON(), nullable=True))
        batch_op.create_index("ix_datasets_source_identifier", ["source_id", "identifier"])
    with op.batch_alter_table("fields") as batch_op:
        batch_op.add_column(sa.Column("steward_edits", sa.JSON(), nullable=True))
    with op.batch_alter_table("harvest_runs") as batch_op:
        batch_op.add_column(sa.Column("actor", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("worker", sa.String(200), nullable=True))
    with op.batch_alter_table("sources") as batch_op:
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("sources") as batch_op:
        batch_op.drop_column("created_at")
    with op.batch_alter_table("harvest_runs") as batch_op:
        batch_op.drop_column("worker")
        batch_op.drop_column("actor")
    with op.batch_alter_table("fields") as batch_op:
        batch_op.drop_column("steward_edits")
    with op.batch_alter_table("datasets") as batch_op:
        batch_op.drop_index("ix_datasets_source_identifier")
        batch_op.drop_column("steward_edits")
