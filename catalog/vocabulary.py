"""The catalog's fixed vocabularies, spelled once: schemas, CLI choices, the API and templates
all take their words from here.

Each is a :class:`enum.StrEnum`, so a member *is* its string (``AccessLevel.PUBLIC ==
"public"``) and values read from the database or a form compare equal to the members.
The classification words are the Connecticut State Data Plan's.
"""

from __future__ import annotations

from enum import StrEnum


class AccessLevel(StrEnum):
    """Who may see a dataset's metadata."""

    PUBLIC = "public"
    RESTRICTED = "restricted"
    INTERNAL = "internal"


class Sensitivity(StrEnum):
    """How sensitive a field's data is (State Data Plan: public, protected, personal, private)."""

    PUBLIC = "public"
    PROTECTED = "protected"
    PERSONAL = "personal"
    PRIVATE = "private"


class DataType(StrEnum):
    """A field's data type, normalised from the source's own type words."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    GEOMETRY = "geometry"
    CODE = "code"
    OTHER = "other"


class DatasetStatus(StrEnum):
    """Whether a dataset is still listed by its source."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class SourceType(StrEnum):
    """The kinds of live source, one harvester each."""

    CKAN = "ckan"
    SOCRATA = "socrata"
    DCAT = "dcat"
    FRICTIONLESS = "frictionless"
    WEB = "web"


class SearchMode(StrEnum):
    """How a search ranks: both rankings fused, BM25 only, or embeddings only."""

    HYBRID = "hybrid"
    LEXICAL = "lexical"
    SEMANTIC = "semantic"


class ResultKind(StrEnum):
    """What a search hit is."""

    DATASET = "dataset"
    FIELD = "field"


class JobKind(StrEnum):
    """The kinds of background job."""

    HARVEST = "harvest"
    REINDEX = "reindex"
    REEMBED = "reembed"


class JobStatus(StrEnum):
    """Where a background job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    FINISHED = "finished"
    FAILED = "failed"
    ABANDONED = "abandoned"


class RunStatus(StrEnum):
    """Where a harvest run is: running, or how it ended."""

    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    ABANDONED = "abandoned"


class Role(StrEnum):
    """What a signed-in person may do (anonymous visitors have no role: public metadata only).

    viewer: sees public and internal metadata; may suggest corrections.
    steward: a viewer who also sees and edits the datasets of the agencies they steward,
    restricted ones included.
    intake: sees internal metadata and works the data-request queue.
    admin: sees and does everything: users, sources, jobs.
    """

    VIEWER = "viewer"
    STEWARD = "steward"
    INTAKE = "intake"
    ADMIN = "admin"


class SuggestionStatus(StrEnum):
    """Where a suggested correction is: waiting for a steward, or decided."""

    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class RequestStatus(StrEnum):
    """Where a data request is, from the requester's draft to its closing."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    SCREENING = "screening"
    AGENCY_REVIEW = "agency_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    AGREEMENT_SIGNED = "agreement_signed"
    FULFILLED = "fulfilled"
    CLOSED = "closed"


class SignoffDecision(StrEnum):
    """An agency's answer to a request for its data."""

    APPROVED = "approved"
    DENIED = "denied"


# Plain strings (not members) where a tuple goes into SQL or a search engine's query: a
# driver may dump an enum member by its name instead of its value.
ACTIVE_JOB_STATUSES: tuple[str, ...] = (
    JobStatus.QUEUED.value, JobStatus.RUNNING.value, JobStatus.RETRYING.value)
PUBLIC_ONLY: tuple[str, ...] = (AccessLevel.PUBLIC.value,)


def values(vocabulary: type[StrEnum]) -> tuple[str, ...]:
    """The words of a vocabulary as plain strings, in declaration order."""
    return tuple(member.value for member in vocabulary)
