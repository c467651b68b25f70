"""Tables of the stewardship measures: sensitivity suggestions and scorecard snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models import Base, utcnow


class SensitivitySuggestion(Base):
    """The sensitivity the catalog suggests for a field, why, and the stewards' decision.

    Kept by (dataset, field name): a re-harvest gives fields new ids, and a reviewed decision
    must outlive it. ``level`` None: nothing suggests the field is sensitive (a row is kept
    only while a decision hangs on it).
    """

    __tablename__ = "sensitivity_suggestions"
    __table_args__ = (UniqueConstraint("dataset_id", "field_name", name="uq_sensitivity_field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"),
                                            index=True)
    field_name: Mapped[str] = mapped_column(String(500))
    level: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    # pending | accepted | rejected | changed (a steward chose another level)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    decided_level: Mapped[str | None] = mapped_column(String(20))
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScorecardSnapshot(Base):
    """An agency's scorecard figures (or the state's, agency None) at one load or harvest.

    ``scope`` says whose view the figures are: ``public`` (what anyone may see) or ``all``
    (everything the catalog holds, shown only to those who may see all of the agency).
    """

    __tablename__ = "scorecard_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                               index=True)
    trigger: Mapped[str] = mapped_column(String(50))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"),
                                                  index=True)
    scope: Mapped[str] = mapped_column(String(20))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
