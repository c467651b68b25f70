"""Data requests: the request with its form, the requested fields, events and sign-offs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create data_requests, request_items, request_events and request_signoffs."""
    op.create_table(
        "data_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("requester_id", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True),
        sa.Column("status", sa.String(30), nullable=False, index=True),
        sa.Column("form", sa.JSON(), nullable=False),
        sa.Column("justifications", sa.JSON(), nullable=False),
        sa.Column("assigned_to", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("revisions", sa.Integer(), nullable=False),
        sa.Column("closing_reason", sa.String(200), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("submitted_at", WHEN, nullable=True),
    )
    op.create_table(
        "request_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(),
                  sa.ForeignKey("data_requests.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("datasets.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("field_name", sa.String(500), nullable=True),
        sa.Column("justification", sa.Text(), nullable=True),
        sa.Column("added_at", WHEN, nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.UniqueConstraint("request_id", "dataset_id", "field_name", name="uq_request_item"),
    )
    op.create_table(
        "request_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(),
                  sa.ForeignKey("data_requests.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(30), nullable=True),
        sa.Column("to_status", sa.String(30), nullable=True),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", WHEN, nullable=False),
    )
    op.create_table(
        "request_signoffs",
        sa.Column("request_id", sa.Integer(),
                  sa.ForeignKey("data_requests.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agencies.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("by", sa.String(320), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", WHEN, nullable=False),
    )


def downgrade() -> None:
    """Drop the request tables."""
    for table in ("request_signoffs", "request_events", "request_items", "data_requests"):
        op.drop_table(table)
