"""marshmallow schemas of the data-request API: what comes in, and what goes out."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from catalog.models import MAX_ID
from catalog.request_form import FORM_KEYS, MAX_TEXT
from catalog.schemas import UtcDateTime
from catalog.vocabulary import RequestStatus, SignoffDecision, values


def _keyed_texts(what: str, example: str) -> fields.Dict:
    """Texts keyed by ids of the request's datasets or items (``what``: "dataset")."""
    article = "an" if what[0] in "aeiou" else "a"
    return fields.Dict(
        keys=fields.String(validate=validate.Regexp(
            r"^[0-9]{1,18}$",
            error=f"{{input!r}} is not {article} {what} id: keys are {what} ids, "
                  f"such as \"{example}\"")),
        values=fields.String(validate=validate.Length(max=MAX_TEXT)), load_default=dict)


FormPartsSchema = Schema.from_dict(
    {key: fields.String(allow_none=True, validate=validate.Length(max=MAX_TEXT))
     for key in FORM_KEYS}, name="FormPartsSchema")
FormPartsSchema.__doc__ = ("A draft's form parts as given: only those present change; "
                           "an unknown part is refused by name.")


class RequestInSchema(Schema):
    """A new request or a draft's changes: the form's parts, and justifications.

    An unknown key, at the top or in ``form``, is refused by name (a misspelt part would
    otherwise be dropped without a word).
    """

    class Meta:
        unknown = RAISE

    form = fields.Nested(FormPartsSchema, load_default=dict)
    justifications = _keyed_texts("dataset", "145")
    item_justifications = _keyed_texts("item", "12")


class ItemInSchema(Schema):
    """An item to add: ``{"field_id": N}`` or ``{"dataset_id": N}``."""

    class Meta:
        unknown = RAISE

    field_id = fields.Integer(load_default=None, allow_none=True, strict=True,
                              validate=validate.Range(min=1, max=MAX_ID))
    dataset_id = fields.Integer(load_default=None, allow_none=True, strict=True,
                                validate=validate.Range(min=1, max=MAX_ID))
    justification = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Length(max=MAX_TEXT))

    @validates_schema
    def _one(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("field_id") is None) == (data.get("dataset_id") is None):
            raise ValidationError("give field_id or dataset_id (one of them)", "_schema")


class TransitionInSchema(Schema):
    """A move: the status to go to, and a comment."""

    class Meta:
        unknown = RAISE

    to = fields.String(required=True, validate=validate.OneOf(values(RequestStatus)))
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=MAX_TEXT))


class CommentInSchema(Schema):
    """A message in a request's thread."""

    class Meta:
        unknown = RAISE

    comment = fields.String(required=True, validate=validate.Length(
        min=1, max=MAX_TEXT, error="a comment needs some text (at most {max} characters)"))


class SignoffInSchema(Schema):
    """An agency's decision."""

    class Meta:
        unknown = RAISE

    agency = fields.String(required=True, validate=validate.Length(min=1, max=200))
    decision = fields.String(required=True, validate=validate.OneOf(values(SignoffDecision)))
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=MAX_TEXT))


class ItemOutSchema(Schema):
    """A requested item as the reader may see it."""

    id = fields.Integer()
    dataset_id = fields.Integer()
    dataset = fields.String()
    agency = fields.String()
    field = fields.String(allow_none=True)
    field_id = fields.Integer(allow_none=True)
    whole_dataset = fields.Boolean()
    access_level = fields.String()
    sensitivity = fields.String(metadata={"description": (
        "the level the request goes by: the field's own, or (sensitivity_suggested) a "
        "level the catalog suggested that no steward has reviewed yet and that ranks above "
        "it; a whole dataset's is its most sensitive field's")})
    sensitivity_suggested = fields.Boolean()
    justification = fields.String(allow_none=True)
    state = fields.String()


class EventOutSchema(Schema):
    """One event of a request's history."""

    kind = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    actor = fields.String()
    comment = fields.String(allow_none=True)
    at = UtcDateTime()


class RequestOutSchema(Schema):
    """A request as the API returns it."""

    id = fields.Integer()
    status = fields.String()
    requester = fields.String(allow_none=True)
    form = fields.Dict(keys=fields.String(validate=validate.OneOf(FORM_KEYS)))
    justifications = fields.Dict(keys=fields.String(), values=fields.String())
    items = fields.List(fields.Nested(ItemOutSchema))
    items_not_shown = fields.Integer()
    agencies = fields.List(fields.String())
    signoffs = fields.Dict(keys=fields.String(), values=fields.String())
    allowed_transitions = fields.List(fields.String())
    revisions = fields.Integer()
    assigned_to = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    submitted_at = UtcDateTime(allow_none=True)
    events = fields.List(fields.Nested(EventOutSchema))
    url = fields.String()
