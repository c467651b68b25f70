"""marshmallow schemas: the one definition of a valid dataset and field, in and out."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from catalog.vocabulary import (
    AccessLevel,
    DataType,
    ResultKind,
    SearchMode,
    Sensitivity,
    values,
)

ACCESS_LEVELS = values(AccessLevel)
DATA_TYPES = values(DataType)
SENSITIVITIES = values(Sensitivity)

MAX_NAME = 500
MAX_TEXT = 1_000_000  # one megabyte of description is already far beyond any real dictionary
MAX_FIELDS = 20_000
ONE_OF = "{input!r} is not one of: {choices}."


def _blank_to_none(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    out = dict(data)
    for key in keys:
        value = out.get(key)
        if isinstance(value, str):
            value = value.strip()
            out[key] = value or None
    return out


class ValueLabelSchema(Schema):
    """One code of a code list and what it means."""

    class Meta:
        unknown = EXCLUDE

    code = fields.String(required=True, validate=validate.Length(max=200))
    label = fields.String(required=True, validate=validate.Length(max=5000))

    @pre_load
    def _stringify(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            return {k: (str(v) if v is not None else "") for k, v in data.items()}
        return data


class FieldInSchema(Schema):
    """A field as a loader or an API client hands it to the catalog."""

    class Meta:
        unknown = EXCLUDE

    position = fields.Integer(required=True, validate=validate.Range(min=0))
    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME))
    label = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_TEXT)
    )
    description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_TEXT)
    )
    data_type = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(DATA_TYPES, error=ONE_OF)
    )
    source_type = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=200)
    )
    width = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    start_col = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    end_col = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    format = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    decimals = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    value_labels = fields.List(fields.Nested(ValueLabelSchema), load_default=list)
    sensitivity = fields.String(
        load_default="public", validate=validate.OneOf(SENSITIVITIES, error=ONE_OF)
    )
    pii = fields.List(fields.String(validate=validate.Length(max=50)), load_default=list)
    steward_notes = fields.String(load_default=None, allow_none=True)
    source_name = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(max=MAX_NAME))
    category = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=500))
    years = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    coverage_start = fields.Integer(load_default=None, allow_none=True,
                                    validate=validate.Range(min=1000, max=9999))
    coverage_end = fields.Integer(load_default=None, allow_none=True,
                                  validate=validate.Range(min=1000, max=9999))

    @pre_load
    def _clean(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = _blank_to_none(
            data, ("name", "label", "description", "source_type", "format", "data_type",
                   "category", "years")
        )
        if data.get("sensitivity") is None:
            data.pop("sensitivity", None)
        if data.get("value_labels") is None:
            data.pop("value_labels", None)
        return data

    @validates_schema
    def _columns(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("start_col"), data.get("end_col")
        if start is not None and end is not None and end < start:
            raise ValidationError(f"end column {end} is before start column {start}", "end_col")


class DatasetInSchema(Schema):
    """A dataset with its fields, as a loader or an API client hands it to the catalog."""

    class Meta:
        unknown = EXCLUDE

    identifier = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME))
    title = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_TEXT)
    )
    agency = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    agency_abbreviation = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=50)
    )
    keywords = fields.List(fields.String(validate=validate.Length(max=500)), load_default=list)
    update_frequency = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=100)
    )
    last_modified = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=40)
    )
    access_level = fields.String(
        load_default="public", validate=validate.OneOf(ACCESS_LEVELS, error=ONE_OF)
    )
    landing_page = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=5000)
    )
    layout = fields.Boolean(load_default=False)
    coverage_start = fields.Integer(load_default=None, allow_none=True,
                                    validate=validate.Range(min=1000, max=9999))
    coverage_end = fields.Integer(load_default=None, allow_none=True,
                                  validate=validate.Range(min=1000, max=9999))
    extra = fields.Dict(load_default=dict)
    fields_ = fields.List(
        fields.Nested(FieldInSchema),
        data_key="fields",
        load_default=list,
        validate=validate.Length(max=MAX_FIELDS),
    )

    @pre_load
    def _clean(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = _blank_to_none(
            data,
            ("identifier", "title", "description", "agency", "agency_abbreviation",
             "update_frequency", "last_modified", "landing_page"),
        )
        if not data.get("title") and data.get("identifier"):
            data["title"] = data["identifier"]
        for key in ("access_level", "keywords", "extra", "fields", "layout"):
            if data.get(key) is None:
                data.pop(key, None)
        if isinstance(data.get("keywords"), list):
            data["keywords"] = [str(k).strip() for k in data["keywords"] if str(k).strip()]
        return data

    @post_load
    def _rename(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["fields"] = data.pop("fields_", [])
        return data


def describe_errors(messages: Any, record: dict[str, Any] | None = None) -> str:
    """Turn marshmallow's nested error messages into one readable line per problem."""
    lines: list[str] = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                label = str(key)
                if path and path[-1] == "fields" and str(key).isdigit() and record:
                    index = int(key)
                    try:
                        name = record["fields"][index].get("name")
                    except (KeyError, IndexError, AttributeError, TypeError):
                        name = None
                    label = f"#{index + 1}" + (f" ({name!r})" if name else "")
                walk(value, [*path, label])
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, (dict, list)):
                    walk(item, path)
                else:
                    lines.append(f"{' > '.join(path) or 'record'}: {item}")
        else:
            lines.append(f"{' > '.join(path) or 'record'}: {node}")

    walk(messages, [])
    return "; ".join(lines)


# ---------------------------------------------------------------------------- output


class UtcDateTime(fields.DateTime):
    """A time in RFC 3339 with its offset: the catalog stores UTC, and a database that drops
    the zone (SQLite) gives it back naive, which is read as UTC."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class AgencyOutSchema(Schema):
    """An agency as the API shows it."""

    slug = fields.String()
    name = fields.String()
    abbreviation = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    data_officer = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    dataset_count = fields.Integer()
    field_count = fields.Integer()


class FieldOutSchema(Schema):
    """A field as the API shows it."""

    id = fields.Integer()
    dataset = fields.String(attribute="dataset_identifier")
    agency = fields.String(attribute="agency_slug")
    position = fields.Integer()
    name = fields.String()
    label = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    data_type = fields.String(allow_none=True)
    source_type = fields.String(allow_none=True)
    width = fields.Integer(allow_none=True)
    start_col = fields.Integer(allow_none=True)
    end_col = fields.Integer(allow_none=True)
    format = fields.String(allow_none=True)
    decimals = fields.Integer(allow_none=True)
    value_labels = fields.List(fields.Nested(ValueLabelSchema))
    sensitivity = fields.String()
    pii = fields.List(fields.String())
    steward_notes = fields.String(allow_none=True)
    steward_edits = fields.Dict(allow_none=True)
    source_name = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    years = fields.String(allow_none=True)
    coverage_start = fields.Integer(allow_none=True)
    coverage_end = fields.Integer(allow_none=True)
    sensitivity_suggestion = fields.Dict(allow_none=True)
    url = fields.String()


class DatasetOutSchema(Schema):
    """A dataset as the API shows it, with its fields."""

    id = fields.Integer()
    identifier = fields.String()
    # As the source names it: ``identifier``, except for one of the datasets the catalog
    # splits a file into (one per program), whose source names the file.
    source_identifier = fields.String()
    title = fields.String()
    description = fields.String(allow_none=True)
    agency = fields.Nested(AgencyOutSchema(only=("slug", "name", "abbreviation")))
    keywords = fields.List(fields.String())
    update_frequency = fields.String(allow_none=True)
    last_modified = fields.String(allow_none=True)
    access_level = fields.String()
    landing_page = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    layout = fields.Boolean()
    coverage_start = fields.Integer(allow_none=True)
    coverage_end = fields.Integer(allow_none=True)
    format = fields.String(allow_none=True)
    status = fields.String()
    source = fields.String(attribute="source_name", allow_none=True)
    steward_edits = fields.Dict(allow_none=True)
    provenance = fields.Dict()
    field_count = fields.Integer()
    fields_ = fields.List(fields.Nested(FieldOutSchema), data_key="fields")
    url = fields.String()


class SearchArgsSchema(Schema):
    """Query-string parameters of a search, validated the same way for the web and the API."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=10_000))
    kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(
        values(ResultKind)))
    agency = fields.List(fields.String(validate=validate.Length(max=200)), load_default=list)
    data_type = fields.List(
        fields.String(validate=validate.OneOf(DATA_TYPES, error=ONE_OF)), load_default=list
    )
    access_level = fields.List(
        fields.String(validate=validate.OneOf(ACCESS_LEVELS, error=ONE_OF)), load_default=list
    )
    sensitivity = fields.List(
        fields.String(validate=validate.OneOf(SENSITIVITIES, error=ONE_OF)), load_default=list
    )
    mode = fields.String(load_default=SearchMode.HYBRID.value,
                         validate=validate.OneOf(values(SearchMode)))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    collapse = fields.Boolean(load_default=True)

    @pre_load
    def _blank_kind(self, data: Any, **_: Any) -> Any:
        if hasattr(data, "to_dict"):
            flat = data.to_dict(flat=False)
            data = {k: (v if k in ("agency", "data_type", "access_level", "sensitivity")
                        else v[-1]) for k, v in flat.items()}
        if isinstance(data, dict):
            data = dict(data)
            for key in ("kind", "mode", "page", "per_page"):
                if data.get(key) in ("", "all", None):
                    data.pop(key, None)
            for key in ("agency", "data_type", "access_level", "sensitivity"):
                value = data.get(key)
                if isinstance(value, str):
                    value = [value]
                if isinstance(value, list):
                    data[key] = [v for v in value if v]
        return data


class SearchHitSchema(Schema):
    """One search result."""

    kind = fields.String()
    id = fields.Integer()
    agency = fields.String()
    agency_name = fields.String()
    dataset = fields.String()  # the catalog's identifier, unique within the agency
    # The identifier as the dataset's source gives it: the same, except for a file the
    # catalog splits into several datasets (one per program), whose source names the file.
    source_dataset = fields.String(allow_none=True)
    dataset_title = fields.String()
    field = fields.String(allow_none=True)
    title = fields.String()
    description = fields.String(allow_none=True)
    data_type = fields.String(allow_none=True)
    access_level = fields.String()
    sensitivity = fields.String(allow_none=True)
    category = fields.String(allow_none=True)  # a field's group in its source
    score = fields.Float()
    lexical_rank = fields.Integer(allow_none=True)
    semantic_rank = fields.Integer(allow_none=True)
    highlight = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    url = fields.String()
    # Near-identical fields of the same dataset this hit stands for ("and N more"), and the
    # first few of them.
    more_in_dataset = fields.Integer()
    more_fields = fields.List(fields.Dict())
    # For a dataset hit: its best-ranked fields that matched too.
    matched_fields = fields.List(fields.Dict())
    # Other datasets holding an exact copy of this hit (the first few) and how many in all.
    also_in = fields.List(fields.Dict())
    also_in_count = fields.Integer()
    # Among a field's similar fields: an exact copy of it in another dataset.
    copy = fields.Boolean()


class HarvestRunOutSchema(Schema):
    """A harvest run as the API shows it (counts and errors the asker may see)."""

    id = fields.Integer()
    started_at = UtcDateTime()
    finished_at = UtcDateTime(allow_none=True)
    seconds = fields.Float(allow_none=True)
    status = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    errors = fields.List(fields.String())
    hidden_errors = fields.Integer()


class SourceOutSchema(Schema):
    """A source as the API shows it (secret options masked)."""

    name = fields.String()
    type = fields.String()
    url = fields.String()
    agency = fields.String(allow_none=True)
    options = fields.Dict()
    schedule = fields.String(allow_none=True)
    enabled = fields.Boolean()
    status = fields.String(allow_none=True)
    last_run_at = UtcDateTime(allow_none=True)
    datasets = fields.Integer()
    runs = fields.List(fields.Nested(HarvestRunOutSchema))
    page = fields.String()
