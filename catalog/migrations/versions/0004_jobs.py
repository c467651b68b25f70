"""Background jobs: job records, one lock per target, claimed schedule slots.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create jobs, job_locks and schedule_claims."""
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("via", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(200), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("retry_of", sa.String(36), nullable=True),
    )
    op.create_index("ix_jobs_target", "jobs", ["target"])
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_table(
        "job_locks",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "schedule_claims",
        sa.Column("source_id", sa.Integer(), primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop the job tables."""
    op.drop_table("schedule_claims")
    op.drop_table("job_locks")
    op.drop_index("ix_jobs_status", "jobs")
    op.drop_index("ix_jobs_target", "jobs")
    op.drop_table("jobs")
