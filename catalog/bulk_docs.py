"""Bulk documentation: a steward's table of many fields' text, previewed, then applied as one
change set (and reverted as one).

A table's first row names its columns: ``name`` (the field, required) and any of
``description``, ``label``, ``data_type`` (or ``type``), ``sensitivity``, ``value_labels``
(or ``codes``: ``code = label`` separated by ``;`` or new lines) and ``notes``. An empty
cell leaves the field's column as it is. Every row is checked like an edit; a row naming a
field the dataset lacks, a field named twice, a bad value or an unknown column is an error
naming the row, and a table with errors cannot be applied (nothing is written).

The checked plan is kept in ``documentation_uploads`` between the preview and the apply,
with the version of every field it changes: if any of them changed in between, the apply is
refused and the steward previews again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from catalog.models import Dataset, DocumentationUpload, Field, utcnow
from catalog.steward_schemas import FieldEditSchema
from catalog.stewardship import (
    COLUMN_LABELS,
    StewardshipError,
    apply_edit,
    editable_values,
    lock_dataset,
    normalised,
    version_of,
)

MAX_ROWS = 20_000
MAX_ERRORS_SHOWN = 200
# Header words (lower case, spaces and dashes as "_") and the field column each fills.
HEADERS = {
    "name": "name", "field": "name", "field_name": "name", "variable": "name",
    "description": "description", "label": "label", "data_type": "data_type",
    "type": "data_type", "sensitivity": "sensitivity", "value_labels": "value_labels",
    "codes": "value_labels", "notes": "steward_notes", "steward_notes": "steward_notes",
}


@dataclass
class PlannedField:
    """What one row changes of one field: each column before and after."""

    row: int
    field: Field
    changes: dict[str, tuple[Any, Any]]


@dataclass
class Preview:
    """What an upload would do: the changes, the rows in error, the rows that change nothing."""

    changes: list[PlannedField] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unchanged: int = 0
    rows: int = 0

    @property
    def columns_changed(self) -> int:
        """How many field columns the upload changes."""
        return sum(len(p.changes) for p in self.changes)


def header_columns(header: list[Any]) -> tuple[dict[int, str], list[str]]:
    """Which field column each position of the header row fills, and the header's errors."""
    out: dict[int, str] = {}
    errors = []
    for index, cell in enumerate(header):
        word = "_".join(str(cell or "").strip().lower().replace("-", " ").split())
        if not word:
            continue
        column = HEADERS.get(word)
        if column is None:
            errors.append(f"row 1: unknown column {str(cell).strip()!r}; known: "
                          "name, description, label, data_type, sensitivity, value_labels, notes")
        elif column in out.values():
            errors.append(f"row 1: column {str(cell).strip()!r} is given twice")
        else:
            out[index] = column
    if "name" not in out.values():
        errors.append("row 1: no 'name' column naming the fields")
    return out, errors


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def preview(dataset: Dataset, rows: list[tuple[int, list[Any]]]) -> Preview:
    """Check a table (its rows numbered as in the file, header first) against the dataset."""
    out = Preview()
    if not rows:
        out.errors.append("the file has no rows")
        return out
    columns, out.errors = header_columns(rows[0][1])
    if out.errors:
        return out
    body = [(n, cells) for n, cells in rows[1:] if any(_cell(c) for c in cells)]
    if len(body) > MAX_ROWS:
        out.errors.append(f"the file has {len(body):,} rows; at most {MAX_ROWS:,} at once")
        return out
    out.rows = len(body)
    by_name = {f.name: f for f in dataset.fields}
    by_folded = {f.name.casefold(): f for f in dataset.fields}
    seen: dict[str, int] = {}
    for number, cells in body:
        values = {col: _cell(cells[i]) if i < len(cells) else "" for i, col in columns.items()}
        name = values.pop("name")
        found = by_name.get(name) or by_folded.get(name.casefold())
        if not name:
            out.errors.append(f"row {number}: no field name")
            continue
        if found is None:
            out.errors.append(f"row {number}: no field named {name!r} in dataset "
                              f"{dataset.identifier!r}")
            continue
        if found.name in seen:
            out.errors.append(f"row {number}: field {found.name!r} is already given in row "
                              f"{seen[found.name]}")
            continue
        seen[found.name] = number
        given = {c: v for c, v in values.items() if v}
        try:
            loaded = FieldEditSchema().load(given)
        except ValidationError as exc:
            for column, messages in sorted(exc.messages.items()):
                text = " ".join(str(m) for m in (messages if isinstance(messages, list)
                                                  else [messages]))
                out.errors.append(f"row {number}, {COLUMN_LABELS.get(column, column)}: {text}")
            continue
        now = editable_values(found)
        changes = {c: (now[c], normalised(c, v)) for c, v in loaded.items()
                   if normalised(c, v) != now[c]}
        if changes:
            out.changes.append(PlannedField(number, found, changes))
        else:
            out.unchanged += 1
    return out


def keep(session: Session, dataset: Dataset, result: Preview, *, user_id: int | None,
         filename: str | None) -> DocumentationUpload:
    """Keep a checked preview (without errors) to be applied."""
    if result.errors:
        raise StewardshipError("the upload has errors; correct the file and upload it again")
    upload = DocumentationUpload(
        id=str(uuid.uuid4()), dataset_id=dataset.id, user_id=user_id,
        filename=(filename or "")[:300] or None, rows=result.rows,
        plan=[{"row": p.row, "field": p.field.name, "version": version_of(p.field),
               "values": {c: after for c, (_, after) in p.changes.items()}}
              for p in result.changes])
    session.add(upload)
    session.flush()
    return upload


def apply(session: Session, upload: DocumentationUpload, *, actor: str) -> str:
    """Apply a kept upload as one change set; refused (nothing written) when any of its fields
    changed since the preview. Returns the change set id."""
    if upload.applied_at is not None:
        raise StewardshipError(f"this upload was already applied (change set {upload.change_set})")
    dataset = lock_dataset(session, upload.dataset_id)
    if dataset is None:
        raise StewardshipError("the upload's dataset is gone")
    fields = {f.name: f for f in dataset.fields}
    moved = []
    for item in upload.plan:
        found = fields.get(item["field"])
        if found is None or version_of(found) != item["version"]:
            moved.append(f"row {item['row']} ({item['field']})")
    if moved:
        raise StewardshipError(
            f"{len(moved)} of the fields changed since the preview ({', '.join(moved[:10])}); "
            "nothing was applied: upload the file again to see the changes as they are now")
    change_set = str(uuid.uuid4())
    for item in upload.plan:
        apply_edit(session, dataset, item["values"], actor=actor, field=fields[item["field"]],
                   change_set=change_set,
                   note=f"bulk upload {upload.filename or ''} row {item['row']}".replace("  ", " "))
    upload.applied_at = utcnow()
    upload.change_set = change_set
    return change_set
