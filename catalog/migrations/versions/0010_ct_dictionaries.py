"""Connecticut's dictionaries: field groups and years, temporal coverage, sensitivity
suggestions for stewards to review, and scorecard snapshots.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the field and dataset columns; create sensitivity_suggestions and scorecards."""
    with op.batch_alter_table("fields") as batch:
        batch.add_column(sa.Column("source_name", sa.String(500), nullable=True))
        batch.add_column(sa.Column("category", sa.String(500), nullable=True))
        batch.add_column(sa.Column("years", sa.String(200), nullable=True))
        batch.add_column(sa.Column("coverage_start", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("coverage_end", sa.Integer(), nullable=True))
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("coverage_start", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("coverage_end", sa.Integer(), nullable=True))
    op.create_table(
        "sensitivity_suggestions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dataset_id", sa.Integer(),
                  sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("field_name", sa.String(500), nullable=False),
        sa.Column("level", sa.String(20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("decided_level", sa.String(20), nullable=True),
        sa.Column("decided_by", sa.String(320), nullable=True),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("computed_at", WHEN, nullable=False),
        sa.UniqueConstraint("dataset_id", "field_name", name="uq_sensitivity_field"),
    )
    op.create_table(
        "scorecard_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("taken_at", WHEN, nullable=False, index=True),
        sa.Column("trigger", sa.String(50), nullable=False),
        sa.Column("agency_id", sa.Integer(),
                  sa.ForeignKey("agencies.id", ondelete="CASCADE"), nullable=True, index=True),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("scorecard_snapshots")
    op.drop_table("sensitivity_suggestions")
    with op.batch_alter_table("datasets") as batch:
        batch.drop_column("coverage_end")
        batch.drop_column("coverage_start")
    with op.batch_alter_table("fields") as batch:
        for column in ("coverage_end", "coverage_start", "years", "category", "source_name"):
            batch.drop_column(column)
