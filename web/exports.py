"""Downloads of a dataset's fields: CSV, JSON and a Frictionless Table Schema.

``/datasets/<id>/fields.csv``
    One row per field: position, name, label, description, types, columns, format, decimals,
    value labels (``code=label; ...``) and sensitivity.
``/datasets/<id>/fields.json``
    The dataset's identity and its fields as the JSON API shows them.
``/datasets/<id>/tableschema.json``
    A `Table Schema <https://specs.frictionlessdata.io/table-schema/>`_ descriptor: each field
    with ``name``, ``title``, ``description`` and a Table Schema ``type``; ``constraints.enum``
    for coded string fields; positions of fixed-width layouts as ``x-positions``; value labels
    as ``categories`` (Table Schema 2) and the source's own type and format as ``x-`` keys.
    Names are unique, as the specification requires: a repeated name (a dictionary that
    documents several tables) gets a suffix, with ``x-original-name`` keeping it.
``/datasets/<id>/codebook.xml`` and ``/datasets/<id>/fields.xlsx``
    DDI Codebook 2.5 and a spreadsheet of the fields (:mod:`web.codebook`).

Each answer is an attachment named after the dataset identifier. Access is decided as for the
dataset page: a dataset the visitor may not see answers 404.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from flask import Blueprint, Response, jsonify

from catalog.models import Dataset, Field
from catalog.schemas import FieldOutSchema
from catalog.sensitivity import suggestion_map
from web.access import visible_dataset
from web.current import db
from web.present import field_dict
from web.urls import external_url

bp = Blueprint("exports", __name__)

CSV_COLUMNS = [
    "position", "name", "label", "description", "data_type", "source_type", "start_col",
    "end_col", "width", "format", "decimals", "value_labels", "sensitivity",
]

# Our data types -> Table Schema types ("code" is a coded value: kept as text, leading zeros
# and all; anything unknown is "any").
TABLE_SCHEMA_TYPES = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "time": "time",
    "geometry": "geojson",
    "code": "string",
}
# Source date formats with an exact strptime-style equivalent (Table Schema date/time formats).
_DATE_PATTERNS = {
    "DATE9.": "%d%b%Y",
    "DATE7.": "%d%b%y",
    "MMDDYY10.": "%m/%d/%Y",
    "DDMMYY10.": "%d/%m/%Y",
    "YYMMDD10.": "%Y-%m-%d",
    "YYMMDDN8.": "%Y%m%d",
    "E8601DA10.": "%Y-%m-%d",
    "E8601DT19.": "%Y-%m-%dT%H:%M:%S",
    "TIME8.": "%H:%M:%S",
}
# A value label that is not one value: a SAS range (``1-5``, ``18-HIGH``), OTHER, LOW...
_NOT_ONE_VALUE = re.compile(r"(?i)^(other|low|high)$|\S\s*-\s*\S|\s|^$")


def download_name(dataset: Dataset, suffix: str) -> str:
    """A safe file name: the dataset identifier (other characters as ``_``) and a suffix."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", dataset.identifier).strip("._") or "dataset"
    return f"{stem[:100]}-{suffix}"


def attachment(body: str, mimetype: str, filename: str) -> Response:
    """A download response named ``filename``."""
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


def value_labels_text(labels: list[dict[str, str]] | None) -> str:
    """Value labels as ``code=label; code=label``."""
    return "; ".join(f"{v.get('code', '')}={v.get('label', '')}" for v in labels or [])


NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _cell(value: Any) -> Any:
    """A CSV cell; text a spreadsheet would run as a formula gets a leading apostrophe.

    The metadata comes from outside sources; a description such as ``=HYPERLINK(...)`` must
    not become a live formula when a requester opens the file (OWASP "CSV injection").
    """
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") \
            and not NUMBER.match(value):
        return "'" + value
    return value


@bp.get("/datasets/<int:dataset_id>/fields.csv")
def fields_csv(dataset_id: int) -> Response:
    """The dataset's fields as CSV, one row per field."""
    dataset = visible_dataset(dataset_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for field in dataset.fields:
        row = [getattr(field, column) for column in CSV_COLUMNS]
        row[CSV_COLUMNS.index("value_labels")] = value_labels_text(field.value_labels)
        writer.writerow([_cell(value) for value in row])
    return attachment(out.getvalue(), "text/csv",
                      download_name(dataset, "fields.csv"))


def _dataset_head(dataset: Dataset) -> dict[str, Any]:
    extra = dataset.extra or {}
    return {
        "id": dataset.id,
        "identifier": dataset.identifier,
        "title": dataset.title,
        "agency": dataset.agency.name,
        "access_level": dataset.access_level,
        "layout": dataset.layout,
        "format": dataset.format,
        "record_length": extra.get("record_length") if dataset.layout else None,
        "url": external_url("browse.dataset", dataset_id=dataset.id),
    }


@bp.get("/datasets/<int:dataset_id>/fields.json")
def fields_json(dataset_id: int) -> Response:
    """The dataset's identity and fields as JSON (fields as the JSON API shows them)."""
    dataset = visible_dataset(dataset_id)
    suggested = suggestion_map(db(), dataset.id)
    fields = FieldOutSchema(many=True).dump([field_dict(f, dataset, suggested)
                                             for f in dataset.fields])
    response = jsonify({"dataset": _dataset_head(dataset), "fields": fields})
    response.headers.set("Content-Disposition", "attachment",
                         filename=download_name(dataset, "fields.json"))
    return response


def _enum(field: Field, kind: str) -> list[str] | None:
    """The codes of a coded text field as an enumeration, when they are single values."""
    codes = [str(v.get("code", "")).strip() for v in field.value_labels or []]
    if kind != "string" or len(codes) < 2 or len(set(codes)) != len(codes):
        return None
    if field.data_type not in ("code", "string") or any(_NOT_ONE_VALUE.search(c) for c in codes):
        return None
    return codes


def table_schema_field(field: Field, layout: bool) -> dict[str, Any]:
    """One Table Schema field descriptor."""
    kind = TABLE_SCHEMA_TYPES.get(field.data_type or "", "any")
    out: dict[str, Any] = {"name": field.name, "type": kind}
    if field.label:
        out["title"] = field.label
    if field.description:
        out["description"] = field.description
    pattern = _DATE_PATTERNS.get((field.format or "").upper())
    if kind in ("date", "datetime", "time") and pattern:
        out["format"] = pattern
    enum = _enum(field, kind)
    if enum:
        out["constraints"] = {"enum": enum}
    if field.value_labels:
        # Table Schema 2 ``categories`` when the codes are the field's values; otherwise
        # (ranges, special codes of a numeric field) an extension key.
        out["categories" if enum else "x-value-labels"] = [
            {"value": v.get("code", ""), "label": v.get("label", "")}
            for v in field.value_labels
        ]
    if layout and field.start_col is not None:
        out["x-positions"] = {"start": field.start_col, "end": field.end_col,
                              "width": field.width}
    for key, value in (("x-source-type", field.source_type), ("x-format", field.format),
                       ("x-decimals", field.decimals), ("x-sensitivity", field.sensitivity)):
        if value is not None:
            out[key] = value
    return out


def unique_names(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Field names made unique (Table Schema requires it), the original kept.

    A dictionary that documents several tables repeats names (``ID`` in each sheet): the
    second ``ID`` becomes ``ID_2`` (the next free suffix) with ``x-original-name: ID``.
    """
    taken = {f["name"] for f in fields}
    seen: set[str] = set()
    for field in fields:
        name = field["name"]
        if name in seen:
            n = 2
            while f"{name}_{n}" in taken:
                n += 1
            field["name"] = f"{name}_{n}"
            field["x-original-name"] = name
            taken.add(field["name"])
        seen.add(field["name"])
    return fields


def build_table_schema(dataset: Dataset) -> dict[str, Any]:
    """A Frictionless Table Schema descriptor for a dataset's fields (names unique)."""
    descriptor: dict[str, Any] = {
        "fields": unique_names([table_schema_field(f, dataset.layout) for f in dataset.fields]),
        "x-dataset": _dataset_head(dataset),
    }
    return descriptor


@bp.get("/datasets/<int:dataset_id>/tableschema.json")
def table_schema(dataset_id: int) -> Response:
    """The dataset's fields as a Frictionless Table Schema."""
    dataset = visible_dataset(dataset_id)
    response = jsonify(build_table_schema(dataset))
    response.headers.set("Content-Disposition", "attachment",
                         filename=download_name(dataset, "tableschema.json"))
    return response
