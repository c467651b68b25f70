"""Datasets remember when the search index last received them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add datasets.indexed_at."""
    with op.batch_alter_table("datasets") as batch_op:
        batch_op.add_column(sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop datasets.indexed_at."""
    with op.batch_alter_table("datasets") as batch_op:
        batch_op.drop_column("indexed_at")
