"""The store: reads and writes the system of record, with a change history for every edit."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, selectinload

from catalog.models import Agency, Change, Dataset, Field, utcnow
from catalog.search.query import PUBLIC_ONLY

DATASET_COLUMNS = (
    "title", "description", "keywords", "update_frequency", "last_modified", "access_level",
    "landing_page", "layout", "extra",
)
FIELD_COLUMNS = (
    "position", "name", "label", "description", "data_type", "source_type", "width",
    "start_col", "end_col", "format", "decimals", "value_labels", "sensitivity", "pii",
)


def slugify(text: str) -> str:
    """A URL-safe lower-case slug: ``CDC NCHS`` → ``cdc-nchs``."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:180] or "agency"


def content_hash(record: dict[str, Any]) -> str:
    """Stable hash of a validated dataset record, used to skip unchanged datasets."""
    blob = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def dataset_snapshot(dataset: Dataset) -> dict[str, Any]:
    """The dataset and its fields as plain data, for the change history."""
    data = {c: getattr(dataset, c) for c in DATASET_COLUMNS}
    data["fields"] = [{c: getattr(f, c) for c in FIELD_COLUMNS} for f in dataset.fields]
    return data


@dataclass
class UpsertOutcome:
    """What storing one dataset did."""

    dataset: Dataset
    action: str  # created | updated | unchanged


def find_or_create_agency(
    session: Session, name: str, abbreviation: str | None = None
) -> Agency:
    """The agency with this name (case-insensitive), created when new."""
    name = " ".join(name.split())
    agency = session.scalar(select(Agency).where(func.lower(Agency.name) == name.lower()))
    if agency is not None:
        if abbreviation and not agency.abbreviation:
            agency.abbreviation = abbreviation
        return agency
    for candidate in (abbreviation, name):
        if not candidate:
            continue
        slug = slugify(candidate)
        if session.scalar(select(Agency.id).where(Agency.slug == slug)) is None:
            break
    else:
        slug = f"{slugify(name)}-{session.scalar(select(func.count(Agency.id))) + 1}"
    agency = Agency(slug=slug, name=name, abbreviation=abbreviation)
    session.add(agency)
    session.flush()
    return agency


def upsert_dataset(
    session: Session,
    record: dict[str, Any],
    *,
    agency: Agency,
    fmt: str | None,
    provenance: dict[str, Any],
    actor: str,
) -> UpsertOutcome:
    """Create or update a dataset from a validated record; unchanged records are not touched.

    Fields are written with one bulk insert (a layout can have thousands); the change
    history keeps the dataset as it was before and as it is after.
    """
    digest = content_hash(record)
    dataset = session.scalar(
        select(Dataset).where(
            Dataset.agency_id == agency.id, Dataset.identifier == record["identifier"]
        )
    )
    if dataset is not None and dataset.content_hash == digest and dataset.status == "active":
        return UpsertOutcome(dataset, "unchanged")
    created = dataset is None
    before = None
    if dataset is None:
        dataset = Dataset(agency=agency, identifier=record["identifier"], created_at=utcnow())
        session.add(dataset)
    else:
        before = dataset_snapshot(dataset)
    for column in DATASET_COLUMNS:
        setattr(dataset, column, record.get(column))
    dataset.format = fmt
    dataset.provenance = provenance
    dataset.status = "active"
    dataset.content_hash = digest
    dataset.updated_at = utcnow()
    session.flush()
    if not created:
        session.execute(delete(Field).where(Field.dataset_id == dataset.id))
    rows = [
        {"dataset_id": dataset.id, **{c: f.get(c) for c in FIELD_COLUMNS}}
        for f in record["fields"]
    ]
    if rows:
        session.execute(insert(Field), rows)
    session.expire(dataset, ["fields"])
    after = {c: record.get(c) for c in DATASET_COLUMNS}
    after["fields"] = [{c: f.get(c) for c in FIELD_COLUMNS} for f in record["fields"]]
    session.add(
        Change(
            entity_type="dataset",
            entity_id=dataset.id,
            dataset_id=dataset.id,
            action="create" if created else "update",
            actor=actor,
            before=before,
            after=after,
        )
    )
    return UpsertOutcome(dataset, "created" if created else "updated")


def visible_datasets(allowed_access: tuple[str, ...] = PUBLIC_ONLY):  # type: ignore[no-untyped-def]
    """A select of datasets the asker may see."""
    return select(Dataset).where(Dataset.access_level.in_(allowed_access))


def get_dataset(
    session: Session, dataset_id: int, allowed_access: tuple[str, ...] = PUBLIC_ONLY
) -> Dataset | None:
    """A dataset with its agency and fields, or None when absent or not visible."""
    return session.scalar(
        visible_datasets(allowed_access)
        .where(Dataset.id == dataset_id)
        .options(selectinload(Dataset.fields), selectinload(Dataset.agency))
    )


def get_field(
    session: Session, field_id: int, allowed_access: tuple[str, ...] = PUBLIC_ONLY
) -> Field | None:
    """A field whose dataset the asker may see, or None."""
    return session.scalar(
        select(Field)
        .join(Field.dataset)
        .where(Field.id == field_id, Dataset.access_level.in_(allowed_access))
        .options(selectinload(Field.dataset).selectinload(Dataset.agency))
    )


def agencies_with_counts(
    session: Session, allowed_access: tuple[str, ...] = PUBLIC_ONLY
) -> list[tuple[Agency, int, int]]:
    """Agencies that have visible datasets, with their dataset and field counts."""
    field_counts = (
        select(Field.dataset_id, func.count(Field.id).label("n"))
        .group_by(Field.dataset_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Agency,
            func.count(Dataset.id),
            func.coalesce(func.sum(field_counts.c.n), 0),
        )
        .join(Dataset, Dataset.agency_id == Agency.id)
        .outerjoin(field_counts, field_counts.c.dataset_id == Dataset.id)
        .where(Dataset.access_level.in_(allowed_access))
        .group_by(Agency.id)
        .order_by(Agency.name)
    ).all()
    return [(a, int(d), int(f)) for a, d, f in rows]


def get_agency(session: Session, slug: str) -> Agency | None:
    """The agency with this slug, or None."""
    return session.scalar(select(Agency).where(Agency.slug == slug))


def agency_datasets(
    session: Session, agency: Agency, allowed_access: tuple[str, ...] = PUBLIC_ONLY
) -> list[tuple[Dataset, int]]:
    """An agency's visible datasets with their field counts, by title."""
    rows = session.execute(
        select(Dataset, func.count(Field.id))
        .outerjoin(Field, Field.dataset_id == Dataset.id)
        .where(Dataset.agency_id == agency.id, Dataset.access_level.in_(allowed_access))
        .group_by(Dataset.id)
        .order_by(func.lower(Dataset.title))
    ).all()
    return [(d, int(n)) for d, n in rows]


def catalog_counts(
    session: Session, allowed_access: tuple[str, ...] = PUBLIC_ONLY
) -> dict[str, int]:
    """How many agencies, datasets and fields the asker can see."""
    datasets = session.scalar(
        select(func.count(Dataset.id)).where(Dataset.access_level.in_(allowed_access))
    )
    fields = session.scalar(
        select(func.count(Field.id)).join(Field.dataset).where(
            Dataset.access_level.in_(allowed_access)
        )
    )
    agencies = session.scalar(
        select(func.count(func.distinct(Dataset.agency_id))).where(
            Dataset.access_level.in_(allowed_access)
        )
    )
    return {"agencies": agencies or 0, "datasets": datasets or 0, "fields": fields or 0}


def dataset_history(session: Session, dataset_id: int, limit: int = 50) -> list[Change]:
    """The newest changes of a dataset."""
    return list(
        session.scalars(
            select(Change)
            .where(Change.dataset_id == dataset_id)
            .order_by(Change.at.desc(), Change.id.desc())
            .limit(limit)
        )
    )
