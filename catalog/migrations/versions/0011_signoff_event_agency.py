"""A sign-off event names its agency by id, not only in its text.

A request's history is shown to readers with the sign-offs of agencies they may not be told
of left out (``request_review.visible_events``). Until now those events were recognised by
their text ("Department of Labor: approved — …"); the agency's id on the event makes that
independent of how the text reads. Existing sign-off events get the id of the agency whose
name (followed by a colon) begins their text, the longest such name.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add request_events.agency_id and fill it for the sign-off events there are."""
    with op.batch_alter_table("request_events") as batch:
        batch.add_column(sa.Column(
            "agency_id", sa.Integer(),
            sa.ForeignKey("agencies.id", name="fk_request_events_agency", ondelete="SET NULL"),
            nullable=True))
    connection = op.get_bind()
    names = sorted(connection.execute(sa.text("SELECT id, name FROM agencies")).all(),
                   key=lambda row: -len(row.name))
    events = connection.execute(sa.text(
        "SELECT id, comment FROM request_events WHERE kind = 'signoff'")).all()
    for event in events:
        text = event.comment or ""
        agency = next((row.id for row in names if text.startswith(f"{row.name}:")), None)
        if agency is not None:
            connection.execute(sa.text("UPDATE request_events SET agency_id = :agency "
                                       "WHERE id = :id"), {"agency": agency, "id": event.id})


def downgrade() -> None:
    """Drop the column again (the events' texts still name their agencies)."""
    with op.batch_alter_table("request_events") as batch:
        batch.drop_constraint("fk_request_events_agency", type_="foreignkey")
        batch.drop_column("agency_id")
