"""SQLAlchemy models of the system of record: agencies, sources, datasets, fields, history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from catalog.vocabulary import (
    AccessLevel,
    DatasetStatus,
    JobStatus,
    Role,
    RunStatus,
    Sensitivity,
    SuggestionStatus,
)

#: The largest id the database holds (a signed 64-bit integer): a larger one names nothing.
MAX_ID = 2**63 - 1


def utcnow() -> datetime:
    """Current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """A datetime as aware UTC (SQLite hands back naive ones)."""
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every catalog table."""


class Agency(Base):
    """A publishing organisation: a state agency, a federal agency, a city."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    abbreviation: Mapped[str | None] = mapped_column(String(50))
    contact: Mapped[str | None] = mapped_column(String(500))
    data_officer: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)

    datasets: Mapped[list[Dataset]] = relationship(back_populates="agency")


# An agency's name is unique whatever its case (migration 0007).
Index("ux_agencies_name_lower", func.lower(Agency.name), unique=True)


class Source(Base):
    """Where an agency's metadata comes from: a portal, a catalog file, a folder."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    type: Mapped[str] = mapped_column(String(50))
    location: Mapped[str] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    schedule: Mapped[str | None] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow)

    agency: Mapped[Agency | None] = relationship()


class Dataset(Base):
    """A dataset, data dictionary or record layout as its source describes it."""

    __tablename__ = "datasets"
    __table_args__ = (
        UniqueConstraint("agency_id", "identifier", name="uq_dataset_identity"),
        Index("ix_datasets_source_identifier", "source_id", "identifier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    identifier: Mapped[str] = mapped_column(String(500), index=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    update_frequency: Mapped[str | None] = mapped_column(String(100))
    last_modified: Mapped[str | None] = mapped_column(String(40))
    access_level: Mapped[str] = mapped_column(String(20), default=AccessLevel.PUBLIC.value)
    landing_page: Mapped[str | None] = mapped_column(Text)
    # Who to ask about the dataset (a steward's text; sources rarely say).
    contact: Mapped[str | None] = mapped_column(Text)
    layout: Mapped[bool] = mapped_column(default=False)
    # Years the dataset covers, from its fields' years (end None: up to the present).
    coverage_start: Mapped[int | None] = mapped_column(Integer)
    coverage_end: Mapped[int | None] = mapped_column(Integer)
    format: Mapped[str | None] = mapped_column(String(50))
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=DatasetStatus.ACTIVE.value)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # Columns a steward edited in the catalog: {column: {"by", "at", "source", ...}}, where
    # "source" is the source's own text, kept beside the steward's (see catalog.store).
    steward_edits: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the search index last received this dataset; behind updated_at (or empty)
    # means the index still has to catch up, e.g. after the engine was down.
    indexed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    agency: Mapped[Agency] = relationship(back_populates="datasets")
    source: Mapped[Source | None] = relationship()
    fields: Mapped[list[Field]] = relationship(
        back_populates="dataset",
        order_by="Field.position",
        cascade="all, delete-orphan",
    )

    @property
    def source_identifier(self) -> str:
        """The dataset's identifier as its source gives it: the catalog's own, except for a
        file the catalog splits into several datasets (a dictionary table with a program
        column gives ``DOL_Data_Dictionary-dol-apprenticeship``), whose source names only
        the file (``DOL_Data_Dictionary``)."""
        return (self.extra or {}).get("source_identifier") or self.identifier

    @property
    def is_compilation(self) -> bool:
        """Whether the dataset comes from a file that compiles several agencies' metadata
        (P20 WIN's merged dictionary repeats each agency's own): of two exact copies,
        search shows the agency's own first (:func:`catalog.search.results.collapse`)."""
        return bool((self.extra or {}).get("compilation"))


class Field(Base):
    """One column or variable of a dataset, with its place in a record layout."""

    __tablename__ = "fields"
    __table_args__ = (Index("ix_fields_dataset_position", "dataset_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    # The name exactly as the source spells it, when that differs from ``name`` (spaces).
    source_name: Mapped[str | None] = mapped_column(String(500))
    label: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    # The source's group for the field ("PII", "Demographics"), and its years as given.
    category: Mapped[str | None] = mapped_column(String(500))
    years: Mapped[str | None] = mapped_column(String(200))
    coverage_start: Mapped[int | None] = mapped_column(Integer)
    coverage_end: Mapped[int | None] = mapped_column(Integer)
    data_type: Mapped[str | None] = mapped_column(String(20))
    source_type: Mapped[str | None] = mapped_column(String(200))
    width: Mapped[int | None] = mapped_column(Integer)
    start_col: Mapped[int | None] = mapped_column(Integer)
    end_col: Mapped[int | None] = mapped_column(Integer)
    format: Mapped[str | None] = mapped_column(String(200))
    decimals: Mapped[int | None] = mapped_column(Integer)
    value_labels: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    sensitivity: Mapped[str] = mapped_column(String(20), default=Sensitivity.PUBLIC.value)
    pii: Mapped[list[str]] = mapped_column(JSON, default=list)
    steward_notes: Mapped[str | None] = mapped_column(Text)
    steward_edits: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    dataset: Mapped[Dataset] = relationship(back_populates="fields")


class Change(Base):
    """One edit to the catalog: who, when, what it was before and after."""

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer, index=True)
    dataset_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Edits applied together (a bulk documentation upload) share one change set id.
    change_set: Mapped[str | None] = mapped_column(String(36), index=True)
    # The change this one undid, for a revert.
    reverts: Mapped[int | None] = mapped_column(Integer)


class HarvestRun(Base):
    """One run of loading a source or a set of files, with counts and per-record errors."""

    __tablename__ = "harvest_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.RUNNING.value)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Who ran it ("cli", "web", "worker") and where ("host:pid"), and when that process last
    # said it was alive: a run still "running" whose process is gone or silent is abandoned
    # (indexer.liveness decides, for runs and jobs alike).
    actor: Mapped[str | None] = mapped_column(String(200))
    worker: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    source: Mapped[Source | None] = relationship()


class Job(Base):
    """A unit of background work (harvest, reindex, re-embed): the record of what ran.

    The database is the record; rq on Redis only carries the work to a worker. A job runs
    the same code inline when no Redis is configured.
    """

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    target: Mapped[str | None] = mapped_column(String(200), index=True)  # "source:<name>"
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED.value,
                                        index=True)
    via: Mapped[str] = mapped_column(String(20), default="inline")  # inline | rq
    actor: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    stage: Mapped[str | None] = mapped_column(String(200))
    enqueued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    retry_of: Mapped[str | None] = mapped_column(String(36))


class JobLock(Base):
    """Held by the one job that may work on a target (a source) at a time."""

    __tablename__ = "job_locks"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36))
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScheduleClaim(Base):
    """A scheduled slot of a source, claimed by the one scheduler that starts it."""

    __tablename__ = "schedule_claims"

    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    job_id: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EmbeddingCache(Base):
    """Embedding vectors keyed by model and a hash of the exact text embedded."""

    __tablename__ = "embedding_cache"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class User(Base):
    """A person with an account: a role, and the agencies they steward."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default=Role.VIEWER.value)
    # argon2id hash; None for an account that signs in only through single sign-on.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Issuer and subject of the single sign-on identity linked to this account.
    sso_subject: Mapped[str | None] = mapped_column(String(500), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    stewardships: Mapped[list[Stewardship]] = relationship(
        back_populates="user", cascade="all, delete-orphan")


class Stewardship(Base):
    """A user stewards an agency (and may be its Agency Data Officer)."""

    __tablename__ = "stewardships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"),
                                           primary_key=True)
    data_officer: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(back_populates="stewardships")
    agency: Mapped[Agency] = relationship()


class ApiToken(Base):
    """A personal API token; only its SHA-256 is kept, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    label: Mapped[str | None] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown, so that a token can be told apart
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class UserSession(Base):
    """A signed-in browser session, kept on the server so that signing out ends it."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(100))

    user: Mapped[User] = relationship()


class SignInFailure(Base):
    """A failed sign-in, kept a while to throttle guessing per address and per account."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str | None] = mapped_column(String(100), index=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class Suggestion(Base):
    """A correction a signed-in viewer suggests for a field, decided by the agency's stewards."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"),
                                            index=True)
    field_name: Mapped[str | None] = mapped_column(String(500))  # None: the dataset itself
    column: Mapped[str] = mapped_column(String(50))
    value: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default=SuggestionStatus.OPEN.value,
                                        index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)

    dataset: Mapped[Dataset] = relationship()
    user: Mapped[User | None] = relationship()


class DocumentationUpload(Base):
    """A checked bulk upload waiting to be applied (or applied, with its change set)."""

    __tablename__ = "documentation_uploads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"),
                                            index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # [{"row", "field", "version", "values": {column: value}}], as checked at the preview.
    plan: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    change_set: Mapped[str | None] = mapped_column(String(36))
