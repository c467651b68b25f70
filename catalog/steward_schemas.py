"""marshmallow schemas of a steward's edit: what a dataset's and a field's editable parts may be.

The same schemas read the web forms (text: keywords separated by commas, one code a line),
the JSON API (lists and objects) and the rows of a bulk documentation upload, so that every
way in obeys one definition. Every key is optional (an edit names only what it changes);
an empty text clears an optional column.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, pre_load, validate

from catalog.schemas import (
    ACCESS_LEVELS,
    DATA_TYPES,
    MAX_TEXT,
    ONE_OF,
    SENSITIVITIES,
    ValueLabelSchema,
)

MAX_TITLE = 2000
MAX_LABEL = 5000
MAX_KEYWORDS = 100
MAX_CODES = 5000
# "code = label", "code: label" or "code<TAB>label", one a line (or separated by ";").
CODE_LINE = re.compile(r"^\s*([^=:\t]+?)\s*(?:=|:|\t)\s*(.*?)\s*$")


def _optional_text(limit: int) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=limit))


def parse_value_labels(text: str) -> list[dict[str, str]]:
    """Codes from text, one ``code = label`` a line (or ``;``-separated); errors name the line."""
    out: list[dict[str, str]] = []
    parts = text.splitlines() if "\n" in text else text.split(";")
    for number, line in enumerate(parts, start=1):
        if not line.strip():
            continue
        match = CODE_LINE.match(line)
        if match is None or not match.group(2):
            raise ValidationError(
                f"code {number} ({line.strip()[:60]!r}) is not written as 'code = label'")
        out.append({"code": match.group(1), "label": match.group(2)})
    return out


class ValueLabels(fields.Field):
    """A code list: ``{"code", "label"}`` objects, or text as :func:`parse_value_labels`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            value = parse_value_labels(value)
        if not isinstance(value, list):
            raise ValidationError("must be a list of {code, label} objects or 'code = label' lines")
        if len(value) > MAX_CODES:
            raise ValidationError(f"at most {MAX_CODES} codes")
        loaded = ValueLabelSchema(many=True).load(value, unknown=RAISE)  # a steward: exact
        codes = [c["code"] for c in loaded]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValidationError(f"code {repeated[0]!r} is given twice")
        return loaded


class Keywords(fields.Field):
    """Keywords: a list of words, or text separated by commas."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError("must be a list of words or text separated by commas")
        words = list(dict.fromkeys(" ".join(v.split()) for v in value if v.strip()))
        if len(words) > MAX_KEYWORDS:
            raise ValidationError(f"at most {MAX_KEYWORDS} keywords")
        if any(len(w) > 200 for w in words):
            raise ValidationError("a keyword has at most 200 characters")
        return words


def _blank_strings_to_none(data: Any, keep: tuple[str, ...]) -> Any:
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for key, value in out.items():
        if isinstance(value, str) and key not in keep:
            value = value.strip()
            out[key] = value or None
    return out


class DatasetEditSchema(Schema):
    """What a steward may change of a dataset; only the keys given are changed."""

    class Meta:
        unknown = RAISE

    title = fields.String(validate=validate.Length(min=1, max=MAX_TITLE))
    description = _optional_text(MAX_TEXT)
    keywords = Keywords(allow_none=True)
    update_frequency = _optional_text(100)
    contact = _optional_text(500)
    access_level = fields.String(
        validate=validate.OneOf(ACCESS_LEVELS, error=ONE_OF),
        error_messages={"null": f"must be one of: {', '.join(ACCESS_LEVELS)}"})

    @pre_load
    def _clean(self, data: Any, **_: Any) -> Any:
        return _blank_strings_to_none(data, ("keywords",))


class FieldEditSchema(Schema):
    """What a steward may change of a field; only the keys given are changed."""

    class Meta:
        unknown = RAISE

    label = _optional_text(MAX_LABEL)
    description = _optional_text(MAX_TEXT)
    data_type = fields.String(allow_none=True,
                              validate=validate.OneOf(DATA_TYPES, error=ONE_OF))
    value_labels = ValueLabels(allow_none=True)
    sensitivity = fields.String(validate=validate.OneOf(SENSITIVITIES, error=ONE_OF))
    steward_notes = _optional_text(MAX_TEXT)

    @pre_load
    def _clean(self, data: Any, **_: Any) -> Any:
        data = _blank_strings_to_none(data, ("value_labels",))
        if isinstance(data, dict):
            for key in ("data_type", "sensitivity"):
                if isinstance(data.get(key), str):
                    data[key] = data[key].lower()
        return data


class SuggestionSchema(Schema):
    """A correction a viewer suggests for one part of a field."""

    class Meta:
        unknown = EXCLUDE

    column = fields.String(required=True, validate=validate.OneOf(
        ("label", "description", "data_type", "sensitivity", "value_labels"), error=ONE_OF))
    value = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=5000))


class DecisionSchema(Schema):
    """A steward's decision on a suggestion: accept, or reject with a reason."""

    class Meta:
        unknown = EXCLUDE

    decision = fields.String(required=True,
                             validate=validate.OneOf(("accept", "reject"), error=ONE_OF))
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=5000))
