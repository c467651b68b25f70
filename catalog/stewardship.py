"""Stewards documenting their agency's datasets: edits with versions, history and reverts.

A steward changes a dataset's title, description, keywords, update frequency and contact,
and a field's label, description, data type, code list, sensitivity and notes. Every save
is one :class:`~catalog.models.Change` (who, when, before, after); edits applied together
(a bulk upload, a revert of one) share a change set. A revert is itself a change.

Optimistic locking: the *version* of a dataset or field is a digest of its editable parts
(:func:`version_of`, the API's ETag). A save names the version it was made from; when the
entity changed since, nothing is written and :class:`StaleVersion` carries what it is now.
The dataset's row is locked for the save (:func:`lock_dataset`), so two saves of one
dataset cannot both pass the check.

Text a source also harvests (all but the contact and the notes) is recorded in the entity's
``steward_edits`` with the source's own text beside it: :func:`catalog.store.upsert_dataset`
keeps the steward's text through later harvests and notes the source's newer text there.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from catalog.models import Change, Dataset, Field, utcnow
from catalog.sensitivity import decided_by_edit, restore_decision
from catalog.store import field_by_name

DATASET_EDITABLE = ("title", "description", "keywords", "update_frequency", "contact",
                    "access_level")
FIELD_EDITABLE = ("label", "description", "data_type", "value_labels", "sensitivity",
                  "steward_notes")
# Columns the catalog alone holds: no source writes them, so no source text is kept beside.
CATALOG_ONLY = ("contact", "steward_notes")
LIST_COLUMNS = ("keywords", "value_labels")
EDIT = "steward-edit"
REVERT = "steward-revert"
REVERTABLE = (EDIT, REVERT)
# The sensitivity suggestion's state before a change decided it, kept in the change's
# ``before`` so that a revert restores it.
SUGGESTION = "suggestion"
COLUMN_LABELS = {
    "title": "Title", "description": "Description", "keywords": "Keywords",
    "update_frequency": "Update frequency", "contact": "Contact", "label": "Label",
    "data_type": "Data type", "value_labels": "Value labels", "sensitivity": "Sensitivity",
    "steward_notes": "Steward notes", "access_level": "Who may see it",
}


class StewardshipError(ValueError):
    """An edit or revert that cannot be made; the message says why."""


class StaleVersion(StewardshipError):
    """The entity changed since the version the edit was made from; nothing was written."""

    def __init__(self, entity: str, version: str, current: dict[str, Any]) -> None:
        super().__init__(f"{entity} changed since version {version!r} was read; "
                         "nothing was saved")
        self.version = version
        self.current = current


def editable_columns(target: Dataset | Field) -> tuple[str, ...]:
    """The columns a steward may edit on this kind of entity."""
    return FIELD_EDITABLE if isinstance(target, Field) else DATASET_EDITABLE


def normalised(column: str, value: Any) -> Any:
    """A value as compared and stored: lists never None, text never blank."""
    if column in LIST_COLUMNS:
        return list(value or [])
    if isinstance(value, str) and not value.strip():
        return None
    return value


def editable_values(target: Dataset | Field) -> dict[str, Any]:
    """The entity's editable parts, as plain data."""
    return {c: normalised(c, getattr(target, c)) for c in editable_columns(target)}


def version_of(target: Dataset | Field) -> str:
    """The version of an entity's editable parts (changes whenever one of them changes)."""
    return _version(target, editable_values(target))


def _version(target: Dataset | Field, values: dict[str, Any]) -> str:
    kind = "field" if isinstance(target, Field) else "dataset"
    blob = json.dumps({"kind": kind, "id": target.id, **values},
                      sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


def values_at(session: Session, target: Dataset | Field, version: str,
              depth: int = 200) -> dict[str, Any] | None:
    """The entity's editable parts as they were at ``version``, found by undoing its
    recorded changes newest first (at most ``depth``); None when no recorded state has that
    version (a change made outside the history, or a made-up version)."""
    values = editable_values(target)
    if _version(target, values) == version:
        return values
    kind = "field" if isinstance(target, Field) else "dataset"
    changes = session.scalars(select(Change).where(
        Change.entity_type == kind, Change.entity_id == target.id)
        .order_by(Change.id.desc()).limit(depth))
    for change in changes:
        for column in editable_columns(target):
            if column in (change.after or {}) and column in (change.before or {}):
                values[column] = normalised(column, change.before[column])
        if _version(target, values) == version:
            return values
    return None


def entity_label(target: Dataset | Field) -> str:
    """How errors name the entity: ``field 'DOB_DT' of dataset 'foster-care'``."""
    if isinstance(target, Field):
        return f"field {target.name!r} of dataset {target.dataset.identifier!r}"
    return f"dataset {target.identifier!r}"


def lock_dataset(session: Session, dataset_id: int) -> Dataset | None:
    """Lock the dataset's row for this transaction and read it afresh (None when gone).

    A no-op UPDATE takes the row lock on PostgreSQL and the write lock on SQLite, so that a
    concurrent save of the same dataset waits, then reads what this one wrote.
    """
    session.execute(update(Dataset.__table__).where(Dataset.__table__.c.id == dataset_id)
                    .values(updated_at=Dataset.__table__.c.updated_at))
    return session.get(Dataset, dataset_id, populate_existing=True)


def source_values(target: Dataset | Field, columns: Any) -> dict[str, Any]:
    """The source's own text of each column: what undoing the steward's edit restores.

    Given to :func:`apply_edit`, a column set back to it follows the source again.
    """
    edits = target.steward_edits or {}
    return {c: edits[c].get("source") if c in edits else getattr(target, c) for c in columns}


def apply_edit(
    session: Session,
    dataset: Dataset,
    values: dict[str, Any],
    *,
    actor: str,
    field: Field | None = None,
    change_set: str | None = None,
    action: str = EDIT,
    reverts: int | None = None,
    note: str | None = None,
) -> Change | None:
    """Write a steward's values (validated already) and record the change; None if no change.

    A column set back to the source's own text follows the source again.
    """
    target: Dataset | Field = field if field is not None else dataset
    allowed = editable_columns(target)
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise StewardshipError(f"cannot edit {', '.join(unknown)} of {entity_label(target)}; "
                               f"editable: {', '.join(allowed)}")
    edits = dict(target.steward_edits or {})
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    stamp = utcnow().isoformat()
    for column, raw in values.items():
        value = normalised(column, raw)
        current = normalised(column, getattr(target, column))
        if value == current:
            continue
        before[column], after[column] = current, value
        if column not in CATALOG_ONLY:
            source_text = edits[column].get("source") if column in edits else current
            if normalised(column, source_text) == value:
                edits.pop(column, None)
            else:
                edits[column] = {"value": value, "by": actor, "at": stamp, "source": source_text}
        setattr(target, column, value)
    if not after:
        return None
    target.steward_edits = edits or None
    dataset.updated_at = utcnow()
    named: dict[str, Any] = {"field": field.name} if field is not None else {}
    if field is not None and "sensitivity" in after:
        undone = session.get(Change, reverts) if reverts is not None else None
        prior = (undone.before or {}).get(SUGGESTION) if undone is not None else None
        replaced = (restore_decision(session, dataset.id, field.name, prior)
                    if isinstance(prior, dict) else
                    decided_by_edit(session, dataset.id, field.name, after["sensitivity"],
                                    actor=actor))
        if replaced is not None:
            before[SUGGESTION] = replaced
    change = Change(
        entity_type="field" if field is not None else "dataset", entity_id=target.id,
        dataset_id=dataset.id, action=action, actor=actor,
        before={**before, **named}, after={**after, **named, **({"note": note} if note else {})},
        change_set=change_set, reverts=reverts,
    )
    session.add(change)
    session.flush()
    return change


def save_edit(
    session: Session,
    dataset_id: int,
    values: dict[str, Any],
    *,
    version: str,
    actor: str,
    field_id: int | None = None,
    note: str | None = None,
) -> tuple[Dataset | Field, Change | None]:
    """Save an edit made from ``version``: refused with :class:`StaleVersion` when stale.

    Returns the entity as saved and the change (None when nothing differed).
    """
    dataset = lock_dataset(session, dataset_id)
    if dataset is None:
        raise StewardshipError(f"dataset {dataset_id} is gone")
    field = None
    if field_id is not None:
        field = session.get(Field, field_id, populate_existing=True)
        if field is None or field.dataset_id != dataset_id:
            raise StewardshipError(f"field {field_id} is gone from dataset "
                                   f"{dataset.identifier!r} (harvested again?)")
    target: Dataset | Field = field if field is not None else dataset
    if version_of(target) != version:
        raise StaleVersion(entity_label(target), version, editable_values(target))
    change = apply_edit(session, dataset, values, actor=actor, field=field, note=note)
    return target, change


@dataclass(frozen=True)
class Difference:
    """One column of a stale edit: as the editor read it, as it is now, as they wanted it."""

    column: str
    read: Any
    now: Any
    yours: Any

    @property
    def changed_since(self) -> bool:
        """Whether someone else changed this column since it was read."""
        return self.read != self.now

    @property
    def label(self) -> str:
        """The column's name for people."""
        return COLUMN_LABELS.get(self.column, self.column)


def differences(read: dict[str, Any] | None, now: dict[str, Any],
                yours: dict[str, Any]) -> list[Difference]:
    """The columns someone else changed since ``read``, or that the editor meant to change.

    ``read`` is what the editor's copy showed (None when unknown, as over the API: then the
    columns the editor sent are compared with what is stored now).
    """
    out = []
    for column in now:
        mine = normalised(column, yours[column]) if column in yours else now[column]
        seen = normalised(column, read[column]) if read and column in read else None
        if (read is not None and seen != now[column]) or (column in yours and mine != now[column]):
            out.append(Difference(column, seen if read is not None else None, now[column], mine))
    return out


# ------------------------------------------------------------------------- reverts


def change_group(session: Session, change: Change) -> list[Change]:
    """The change and the others of its change set, oldest first."""
    if not change.change_set:
        return [change]
    return list(session.scalars(select(Change).where(Change.change_set == change.change_set)
                                .order_by(Change.id)))


def reverted_by(session: Session, change_ids: list[int]) -> dict[int, int]:
    """For changes already reverted: {change id: id of the change that reverted it}."""
    if not change_ids:
        return {}
    rows = session.execute(select(Change.reverts, Change.id).where(Change.reverts.in_(change_ids)))
    return {int(r): int(i) for r, i in rows}


def _target_of(session: Session, dataset: Dataset, change: Change) -> Dataset | Field:
    if change.entity_type != "field":
        return dataset
    name = (change.after or {}).get("field")
    found = field_by_name(session, dataset.id, name) if name else None
    if found is None:
        raise StewardshipError(f"change #{change.id}: field {name!r} is no longer in dataset "
                               f"{dataset.identifier!r}; nothing was reverted")
    return found


def revert(session: Session, change_id: int, *, actor: str) -> list[Change]:
    """Undo a steward's change (with the rest of its change set): the columns go back.

    Refused, with nothing written, when a column changed again since (revert the later
    change first) or the change was already reverted.
    """
    change = session.get(Change, change_id)
    if change is None or change.action not in REVERTABLE:
        raise StewardshipError(f"change #{change_id} is not a steward's edit; only those can "
                               "be reverted")
    group = change_group(session, change)
    done = reverted_by(session, [c.id for c in group])
    if done:
        first = min(done)
        raise StewardshipError(f"change #{first} was already reverted by change #{done[first]}")
    dataset = lock_dataset(session, change.dataset_id or 0)
    if dataset is None:
        raise StewardshipError(f"change #{change_id}: its dataset is gone")
    plan = []
    for item in group:
        target = _target_of(session, dataset, item)
        columns = [c for c in (item.after or {}) if c in editable_columns(target)]
        now = editable_values(target)
        moved = [c for c in columns if now[c] != normalised(c, item.after[c])]
        if moved:
            raise StewardshipError(
                f"change #{item.id}: {', '.join(COLUMN_LABELS.get(c, c) for c in moved)} of "
                f"{entity_label(target)} changed again since; revert the later change first")
        plan.append((item, target, {c: (item.before or {}).get(c) for c in columns}))
    change_set = str(uuid.uuid4()) if len(plan) > 1 else None
    out = []
    for item, target, values in plan:
        field = target if isinstance(target, Field) else None
        made = apply_edit(session, dataset, values, actor=actor, field=field,
                          change_set=change_set, action=REVERT, reverts=item.id)
        if made is not None:
            out.append(made)
    return out


def edited_columns(change: Change) -> list[str]:
    """The columns a change wrote (not the field name or note it carries)."""
    return [c for c in (change.after or {}) if c in COLUMN_LABELS]


def new_change_set() -> str:
    """A fresh change set id."""
    return str(uuid.uuid4())
