"""Tables of data requests: the request, its items, its history and the agencies' sign-offs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Agency, Base, Dataset, User, utcnow
from catalog.vocabulary import RequestStatus


class DataRequest(Base):
    """A request for data: what a requester wants, why, and how they will keep it safe."""

    __tablename__ = "data_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(30), default=RequestStatus.DRAFT.value,
                                        index=True)
    # What the forms of P20 WIN, ResearchDataGov and the CT Data Sharing Playbook ask:
    # {"title", "organisation", "team": [{"name", "email", "role"}], "purpose", ...}; see
    # catalog.request_form.FORM for the parts and SubmissionSchema for what is required.
    form: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Justification per dataset, {dataset id (as text): text}.
    justifications: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revisions: Mapped[int] = mapped_column(Integer, default=0)
    closing_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    requester: Mapped[User | None] = relationship(foreign_keys=[requester_id])
    officer: Mapped[User | None] = relationship(foreign_keys=[assigned_to])
    items: Mapped[list[RequestItem]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestItem.id")
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestEvent.id")
    signoffs: Mapped[list[RequestSignoff]] = relationship(
        back_populates="request", cascade="all, delete-orphan")


class RequestItem(Base):
    """A field (or a whole dataset, ``field_name`` None) in a request.

    Fields are kept by name, since a re-harvest gives a dataset's fields new ids; ``snapshot``
    is what the field was when the request was submitted, so that later changes are flagged.
    """

    __tablename__ = "request_items"
    __table_args__ = (UniqueConstraint("request_id", "dataset_id", "field_name",
                                       name="uq_request_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("data_requests.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    field_name: Mapped[str | None] = mapped_column(String(500))
    justification: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    request: Mapped[DataRequest] = relationship(back_populates="items")
    dataset: Mapped[Dataset] = relationship()


class RequestEvent(Base):
    """Something that happened to a request: a transition, a comment, a sign-off, assignment."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("data_requests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # transition | comment | signoff | assign
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The agency a sign-off event is about (None for other events): readers not told of the
    # agency do not see the event (request_review.visible_events).
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agencies.id", name="fk_request_events_agency", ondelete="SET NULL"))

    request: Mapped[DataRequest] = relationship(back_populates="events")


class RequestSignoff(Base):
    """An agency's decision on a request (the latest one counts)."""

    __tablename__ = "request_signoffs"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("data_requests.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"),
                                           primary_key=True)
    decision: Mapped[str] = mapped_column(String(20))
    by: Mapped[str] = mapped_column(String(320))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    request: Mapped[DataRequest] = relationship(back_populates="signoffs")
    agency: Mapped[Agency] = relationship()
