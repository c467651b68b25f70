"""The store: reads and writes the system of record, with a change history for every edit."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from catalog import sensitivity
from catalog.audience import Audience, AudienceLike
from catalog.models import Agency, Change, Dataset, Field, utcnow
from catalog.vocabulary import PUBLIC_ONLY

DATASET_COLUMNS = (
    "title", "description", "keywords", "update_frequency", "last_modified", "access_level",
    "landing_page", "layout", "extra", "coverage_start", "coverage_end",
)
FIELD_COLUMNS = (
    "position", "name", "label", "description", "data_type", "source_type", "width",
    "start_col", "end_col", "format", "decimals", "value_labels", "sensitivity", "pii",
    "source_name", "category", "years", "coverage_start", "coverage_end",
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
    warnings: list[str] = dc_field(default_factory=list)


class IdentityConflict(ValueError):
    """A record names a dataset that another source (or a file load) already owns."""


# What a steward may edit in the catalog; the harvest never overwrites these silently.


_STATE_WORDS = re.compile(r"^(?:the |state of connecticut |connecticut |ct |state )+")


def _core(name: str) -> str:
    """An agency name without the state's name: ``Connecticut Department of Correction`` and
    ``State Department of Education`` -> ``department of correction``, ``... education``."""
    words = " ".join(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())
    return _STATE_WORDS.sub("", words + " ").strip()


def _same_agency(session: Session, name: str, abbreviation: str | None) -> Agency | None:
    """An agency named otherwise that is this one: the same name but for the state's name,
    or the same abbreviation with such a name (``Department of Labor (DOL)`` is the DOL made
    from an agencies file as ``DOL``, but not the ``U.S. Department of Labor``, also DOL)."""
    core, abbr = _core(name), (abbreviation or "").lower()
    for other in session.scalars(select(Agency).order_by(Agency.id)):
        other_abbr = (other.abbreviation or "").lower()
        if abbr and abbr in (other_abbr, other.name.lower()):
            if other.name.lower() == abbr or _core(other.name) == core:
                return other
        elif core and _core(other.name) == core and not (abbr and other_abbr):
            return other
    return None


def find_or_create_agency(
    session: Session, name: str, abbreviation: str | None = None
) -> Agency:
    """The agency with this name (case-insensitive) or its abbreviation, created when new."""
    name = " ".join(name.split())
    agency = session.scalar(select(Agency).where(func.lower(Agency.name) == name.lower()))
    if agency is None:
        agency = _same_agency(session, name, abbreviation)
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


def _existing_dataset(
    session: Session, identifier: str, agency: Agency, source_id: int | None
) -> Dataset | None:
    """The dataset a record updates: a source owns its identifiers, files go by agency.

    A harvested record is matched within its source first, so that a publisher renamed on the
    portal updates the dataset instead of duplicating it. It may adopt a dataset that a file
    load created (no source), but never one another source owns.
    """
    if source_id is not None:
        owned = session.scalar(
            select(Dataset).where(Dataset.source_id == source_id,
                                  Dataset.identifier == identifier)
        )
        if owned is not None:
            if owned.agency_id != agency.id and session.scalar(
                select(Dataset.id).where(Dataset.agency_id == agency.id,
                                         Dataset.identifier == identifier)
            ) is not None:
                raise IdentityConflict(
                    f"dataset {identifier!r} moved to {agency.name}, which already has a "
                    "dataset with that identifier; this copy was skipped"
                )
            return owned
    same = session.scalar(
        select(Dataset).where(Dataset.agency_id == agency.id, Dataset.identifier == identifier)
    )
    if same is not None and same.source_id is not None and same.source_id != source_id:
        owner = same.source.name if same.source is not None else f"#{same.source_id}"
        raise IdentityConflict(
            f"dataset {identifier!r} of {agency.name} is already harvested from source "
            f"{owner!r}; this copy was skipped"
        )
    return same


def _keep_steward_text(
    edits: dict[str, Any] | None, values: dict[str, Any], now: str
) -> dict[str, Any] | None:
    """Put the steward's text back over the source's, recording the source's new text.

    ``values`` (the incoming source values, changed in place) get the steward's text; each
    edit remembers the source's latest text under "source" and, when that text changed since
    the steward's edit, when it did under "source_changed_at".
    """
    if not edits:
        return None
    kept: dict[str, Any] = {}
    for column, edit in edits.items():
        edit = dict(edit)
        incoming = values.get(column)
        if incoming != edit.get("source"):
            edit["source"] = incoming
            edit["source_changed_at"] = now
        values[column] = edit.get("value")
        kept[column] = edit
    return kept


def _match_fields(dataset: Dataset, rows: list[dict[str, Any]]
                  ) -> tuple[list[Field | None], list[Field]]:
    """The dataset's field each of the source's new rows updates in place (``None``: a new
    field), in the rows' order, and the fields now gone from the source.

    A field keeps its id, and with it its address (``/fields/<id>``, the API's ids) and its
    steward's edits, for as long as the source keeps its name; fields of one name that
    repeat (``FILLER``) are matched in order of position.
    """
    existing: dict[str, list[Field]] = {}
    for f in sorted(dataset.fields, key=lambda f: (f.position, f.id)):
        existing.setdefault(f.name, []).append(f)
    matched = [existing[row["name"]].pop(0) if existing.get(row["name"]) else None
               for row in rows]
    gone = [f for fields in existing.values() for f in fields]
    return matched, gone


def upsert_dataset(
    session: Session,
    record: dict[str, Any],
    *,
    agency: Agency,
    fmt: str | None,
    provenance: dict[str, Any],
    actor: str,
    source_id: int | None = None,
) -> UpsertOutcome:
    """Create or update a dataset from a validated record; unchanged records are not touched.

    ``record`` is the source's version. Text a steward edited in the catalog is kept: the
    steward's value stays in place and the source's new value is recorded beside it in
    ``steward_edits`` (the history shows both). Each new field row is matched by name
    (repeats in order of position) to the field it updates in place, keeping that field's
    id and its edits. Fields are written in bulk (a layout can have thousands); the change
    history keeps the dataset as it was before and as it is after.

    Raises :class:`IdentityConflict` when another source owns the (agency, identifier).
    """
    digest = content_hash(record)
    dataset = _existing_dataset(session, record["identifier"], agency, source_id)
    if (
        dataset is not None
        and dataset.content_hash == digest
        and dataset.status == "active"
        and dataset.agency_id == agency.id
        and (source_id is None or dataset.source_id == source_id)
    ):
        return UpsertOutcome(dataset, "unchanged")
    created = dataset is None
    before = None
    warnings: list[str] = []
    now = utcnow()
    stamp = now.isoformat()
    if dataset is None:
        dataset = Dataset(agency=agency, identifier=record["identifier"], created_at=now)
        session.add(dataset)
    else:
        before = dataset_snapshot(dataset)
    values = {c: record.get(c) for c in DATASET_COLUMNS}
    dataset.steward_edits = _keep_steward_text(dataset.steward_edits, values, stamp)
    for column, value in values.items():
        setattr(dataset, column, value)
    dataset.agency = agency
    if source_id is not None:
        dataset.source_id = source_id
    dataset.format = fmt
    dataset.provenance = provenance
    dataset.status = "active"
    dataset.content_hash = digest
    dataset.updated_at = now
    rows = [
        {"dataset_id": None, **{c: f.get(c) for c in FIELD_COLUMNS},
         "steward_edits": None, "steward_notes": None}
        for f in record["fields"]
    ]
    matched, gone = ([None] * len(rows), []) if created else _match_fields(dataset, rows)
    for row, old in zip(rows, matched, strict=True):
        if old is not None and (old.steward_edits or old.steward_notes):
            row["steward_edits"] = _keep_steward_text(old.steward_edits, row, stamp)
            row["steward_notes"] = old.steward_notes
    warnings.extend(
        f"field {old.name!r} of dataset {record['identifier']!r} has steward edits but is "
        "gone from the source; the edits are kept in the dataset's history"
        for old in gone if old.steward_edits or old.steward_notes
    )
    session.flush()
    for row in rows:
        row["dataset_id"] = dataset.id
    updates = [{"id": old.id, **row} for row, old in zip(rows, matched, strict=True)
               if old is not None]
    inserts = [row for row, old in zip(rows, matched, strict=True) if old is None]
    if gone:
        session.execute(delete(Field).where(Field.id.in_([f.id for f in gone])))
    if updates:
        session.execute(update(Field), updates)
        changed = {row["id"] for row in updates}
        for f in dataset.fields:  # a bulk update leaves loaded objects as they were
            if f.id in changed:
                session.expire(f)
    if inserts:
        session.execute(insert(Field), inserts)
    session.expire(dataset, ["fields"])
    after = dict(values)
    after["fields"] = [{c: row.get(c) for c in FIELD_COLUMNS} for row in rows]
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
    sensitivity.refresh(session, dataset)  # suggestions follow; decisions are re-applied
    return UpsertOutcome(dataset, "created" if created else "updated", warnings)


def withdraw_dataset(session: Session, dataset: Dataset, *, actor: str, reason: str) -> None:
    """Mark a dataset withdrawn (gone from its source); nothing of it is deleted."""
    if dataset.status == "withdrawn":
        return
    dataset.status = "withdrawn"
    dataset.updated_at = utcnow()
    session.add(
        Change(
            entity_type="dataset",
            entity_id=dataset.id,
            dataset_id=dataset.id,
            action="withdraw",
            actor=actor,
            before={"status": "active"},
            after={"status": "withdrawn", "reason": reason},
        )
    )


def visible(audience: AudienceLike = PUBLIC_ONLY) -> Any:
    """The SQL condition that a dataset is visible to the audience (levels, stewarded agencies)."""
    who = Audience.of(audience)
    return who.clause(Dataset.access_level, Dataset.agency_id,
                      select(Agency.id).where(Agency.slug.in_(who.restricted_agencies)))


def visible_datasets(audience: AudienceLike = PUBLIC_ONLY) -> Select[tuple[Dataset]]:
    """A select of datasets the asker may see."""
    return select(Dataset).where(visible(audience))


def get_dataset(
    session: Session, dataset_id: int, audience: AudienceLike = PUBLIC_ONLY
) -> Dataset | None:
    """A dataset with its agency and fields, or None when absent or not visible."""
    return session.scalar(
        visible_datasets(audience)
        .where(Dataset.id == dataset_id)
        .options(selectinload(Dataset.fields), selectinload(Dataset.agency))
    )


def get_field(
    session: Session, field_id: int, audience: AudienceLike = PUBLIC_ONLY
) -> Field | None:
    """A field whose dataset the asker may see, or None."""
    return session.scalar(
        select(Field)
        .join(Field.dataset)
        .where(Field.id == field_id, visible(audience))
        .options(selectinload(Field.dataset).selectinload(Dataset.agency))
    )


def agencies_with_counts(
    session: Session, audience: AudienceLike = PUBLIC_ONLY
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
        .where(visible(audience))
        .group_by(Agency.id)
        .order_by(func.lower(Agency.name), Agency.name)  # "California …" before "CTData …"
    ).all()
    return [(a, int(d), int(f)) for a, d, f in rows]


def get_agency(session: Session, slug: str) -> Agency | None:
    """The agency with this slug, or None."""
    return session.scalar(select(Agency).where(Agency.slug == slug))


def agency_datasets(
    session: Session, agency: Agency, audience: AudienceLike = PUBLIC_ONLY
) -> list[tuple[Dataset, int]]:
    """An agency's visible datasets with their field counts, by title."""
    rows = session.execute(
        select(Dataset, func.count(Field.id))
        .outerjoin(Field, Field.dataset_id == Dataset.id)
        .where(Dataset.agency_id == agency.id, visible(audience))
        .group_by(Dataset.id)
        .order_by(func.lower(Dataset.title))
    ).all()
    return [(d, int(n)) for d, n in rows]


def catalog_counts(
    session: Session, audience: AudienceLike = PUBLIC_ONLY
) -> dict[str, int]:
    """How many agencies, datasets and fields the asker can see."""
    datasets = session.scalar(
        select(func.count(Dataset.id)).where(visible(audience))
    )
    fields = session.scalar(
        select(func.count(Field.id)).join(Field.dataset).where(
            visible(audience)
        )
    )
    agencies = session.scalar(
        select(func.count(func.distinct(Dataset.agency_id))).where(
            visible(audience)
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


def field_by_name(session: Session, dataset_id: int, name: str) -> Field | None:
    """The field of this dataset with this name, or None."""
    return session.scalar(select(Field).where(Field.dataset_id == dataset_id, Field.name == name))
