"""An agency's name is unique (whatever its case), so two loads at once cannot make it twice.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

A catalog that already holds two agencies whose names differ only in case (possible before
this revision, when two processes created the same agency at the same moment) keeps them;
the index is then not created and a warning says which names to merge.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None
log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    """Create a unique index on lower(name), unless names repeat already."""
    bind = op.get_bind()
    repeated = bind.execute(sa.text(
        "SELECT lower(name) FROM agencies GROUP BY lower(name) HAVING count(*) > 1")).all()
    if repeated:
        log.warning("agencies named alike more than once, not made unique: %s",
                    ", ".join(r[0] for r in repeated[:20]))
        return
    op.create_index("ux_agencies_name_lower", "agencies", [sa.text("lower(name)")],
                    unique=True)


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ux_agencies_name_lower", table_name="agencies", if_exists=True)
