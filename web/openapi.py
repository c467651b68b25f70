"""The OpenAPI 3.1 description of ``/api/v1``, generated from the marshmallow schemas.

``/api/v1/openapi.json`` is built with apispec's marshmallow plugin from the schemas the API
already dumps and loads with (:mod:`catalog.schemas`, :mod:`catalog.request_schemas`), so the
description cannot drift from what the endpoints send. Every ``/api/v1`` route of the app is
described: those listed in :data:`OPERATIONS` in full (parameters, bodies, each status and its
schema); any other (a newly added endpoint) with its path parameters, its docstring and a
``default`` response, until it is listed. ``/api/v1/docs`` shows the same description as a
page (no JavaScript, nothing from a CDN).
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Blueprint, Response, current_app, jsonify, render_template
from marshmallow import INCLUDE, Schema, fields, validate

from catalog.models import MAX_ID
from catalog.request_documents import FORMATS, MEDIA_TYPES
from catalog.request_schemas import (
    CommentInSchema,
    ItemInSchema,
    RequestInSchema,
    RequestOutSchema,
    SignoffInSchema,
    TransitionInSchema,
)
from catalog.schemas import (
    AgencyOutSchema,
    DatasetOutSchema,
    FieldOutSchema,
    SearchArgsSchema,
    SearchHitSchema,
    SourceOutSchema,
)

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")
API_PREFIX = "/api/v1"
RULE_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


class ErrorDetailSchema(Schema):
    status = fields.Integer(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()), data_key="fields"
    )


class ErrorSchema(Schema):
    """An error: ``{"error": {"status", "message", "fields"?}}``."""

    error = fields.Nested(ErrorDetailSchema, required=True)


class _Open(Schema):
    class Meta:
        unknown = INCLUDE  # the answer may carry more than is described


class SearchResponseSchema(_Open):
    """A page of search results with the facet counts of all matches."""

    query = fields.Dict()
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    facets = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer())
    )
    hits = fields.List(fields.Nested(SearchHitSchema), required=True)


class FieldWithSimilarSchema(FieldOutSchema):
    """A field and the most similar fields of other datasets (null when search is down)."""

    similar = fields.List(fields.Nested(SearchHitSchema), allow_none=True)


class AgencyListSchema(_Open):
    total = fields.Integer(required=True)
    agencies = fields.List(fields.Nested(AgencyOutSchema), required=True)


class AgencyWithDatasetsSchema(AgencyOutSchema):
    datasets = fields.List(fields.Nested(DatasetOutSchema(exclude=("fields_",))))


class SourceListSchema(_Open):
    total = fields.Integer(required=True)
    sources = fields.List(fields.Nested(SourceOutSchema(exclude=("runs",))), required=True)


class JobListSchema(_Open):
    queue = fields.String()
    jobs = fields.List(fields.Dict(), required=True)


class RequestListSchema(_Open):
    total = fields.Integer(required=True)
    requests = fields.List(fields.Nested(RequestOutSchema), required=True)


def _json(schema: Any, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    400: _json(ErrorSchema, "Invalid parameters (each named with its problem)"),
    401: _json(ErrorSchema, "Sign in or send an API token"),
    403: _json(ErrorSchema, "Your account may not do this"),
    404: _json(ErrorSchema, "Not found, or not visible to you"),
    409: _json(ErrorSchema, "Not possible in the request's current state"),
    503: _json(ErrorSchema, "Search is unavailable right now"),
}


def _op(ok: dict[str, Any], *errors: int, status: int = 200, **extra: Any) -> dict[str, Any]:
    responses = {str(status): ok, **{str(e): ERRORS[e] for e in errors}}
    return {"responses": responses, **extra}


def _body(schema: type[Schema]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


SIGNED_IN = (401, 403, 404)
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("api.search", "get"): _op(
        _json(SearchResponseSchema, "Results"),
        400,
        503,
        parameters=[{"in": "query", "schema": SearchArgsSchema}],
    ),
    ("api.dataset", "get"): _op(_json(DatasetOutSchema, "A dataset with its fields"), 404),
    ("api.field", "get"): _op(_json(FieldWithSimilarSchema, "A field"), 404),
    ("api.agencies", "get"): _op(_json(AgencyListSchema, "Agencies with visible datasets")),
    ("api.agency", "get"): _op(_json(AgencyWithDatasetsSchema, "An agency"), 404),
    ("sources.api_index", "get"): _op(_json(SourceListSchema, "Sources")),
    ("sources.api_source", "get"): _op(_json(SourceOutSchema, "A source and its runs"), 404),
    ("jobs.api_index", "get"): _op(_json(JobListSchema, "Recent jobs")),
    ("jobs.api_show", "get"): _op(_json({"type": "object"}, "A job"), 404),
    ("intake.api_metrics", "get"): _op(_json({"type": "object"}, "Turnaround figures"), 401, 403),
    ("requests_api.index", "get"): _op(_json(RequestListSchema, "Your requests"), 401, 403),
    ("requests_api.create", "post"): _op(
        _json(RequestOutSchema, "The new draft"),
        400,
        401,
        403,
        status=201,
        requestBody=_body(RequestInSchema),
    ),
    ("requests_api.show", "get"): _op(_json(RequestOutSchema, "A request"), *SIGNED_IN),
    ("requests_api.update", "patch"): _op(
        _json(RequestOutSchema, "The request"),
        400,
        *SIGNED_IN,
        409,
        requestBody=_body(RequestInSchema),
    ),
    ("requests_api.add_item", "post"): _op(
        _json(RequestOutSchema, "The request"),
        400,
        *SIGNED_IN,
        409,
        status=201,
        requestBody=_body(ItemInSchema),
    ),
    ("requests_api.remove_item", "delete"): _op(
        _json(RequestOutSchema, "The request, the item taken out"), *SIGNED_IN, 409),
    ("requests_api.remove_not_shown", "delete"): _op(
        _json(RequestOutSchema, "The request, without the items you can no longer see"),
        *SIGNED_IN, 409),
    ("requests_api.comment", "post"): _op(
        _json(RequestOutSchema, "The request, the message in its history"),
        400,
        *SIGNED_IN,
        409,
        status=201,
        requestBody=_body(CommentInSchema),
    ),
    ("requests_api.transition", "post"): _op(
        _json(RequestOutSchema, "The request"),
        400,
        *SIGNED_IN,
        409,
        requestBody=_body(TransitionInSchema),
    ),
    ("requests_api.signoff", "post"): _op(
        _json(RequestOutSchema, "The request"),
        400,
        *SIGNED_IN,
        409,
        status=201,
        requestBody=_body(SignoffInSchema),
    ),
    ("requests_api.download", "get"): _op(
        {
            "description": "The request as a document",
            "content": {MEDIA_TYPES[f]: {"schema": {"type": "string"}} for f in FORMATS},
        },
        400,
        *SIGNED_IN,
        parameters=[
            {
                "in": "query",
                "name": "format",
                "required": False,
                "schema": {"type": "string", "enum": list(FORMATS), "default": "json"},
            }
        ],
    ),
}
SKIPPED = {"openapi.spec", "openapi.docs"}


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """An OpenAPI path and its path parameters, from a Werkzeug rule."""
    parameters = []
    for converter, name in RULE_PARAMETER.findall(rule):
        schema: dict[str, Any] = {"type": "string", "minLength": 1}
        if converter == "int":
            schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
        parameters.append({"in": "path", "name": name, "required": True, "schema": schema})
    return RULE_PARAMETER.sub(r"{\2}", rule), parameters


def schema_name(schema: Any) -> str:
    """A component name: ``DatasetOut``; ``DatasetOutSummary`` with fields left out,
    ``AgencyOutRef`` with only some."""
    cls = resolve_schema_cls(schema)
    name = (cls[0] if isinstance(cls, list) else cls).__name__.removesuffix("Schema")
    if isinstance(schema, Schema) and schema.only:
        return name + "Ref"
    if isinstance(schema, Schema) and schema.exclude:
        return name + "Summary"
    return name


def key_rules(converter: Any, field: Any, **_: Any) -> dict[str, Any]:
    """``propertyNames`` for a Dict whose keys are validated (a pattern, a choice)."""
    keys = getattr(field, "key_field", None)
    if not isinstance(field, fields.Dict) or keys is None:
        return {}
    names: dict[str, Any] = {}
    for rule in keys.validators:
        if isinstance(rule, validate.Regexp):
            names["pattern"] = rule.regex.pattern
        elif isinstance(rule, validate.OneOf):
            names["enum"] = list(rule.choices)
        elif isinstance(rule, validate.Length):
            names.update(
                {
                    k: v
                    for k, v in (("minLength", rule.min), ("maxLength", rule.max))
                    if v is not None
                }
            )
    return {"propertyNames": names} if names else {}


def build_spec() -> dict[str, Any]:
    """The OpenAPI description of every ``/api/v1`` route of the current app."""
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    spec = APISpec(
        title="State Data Catalog API",
        version="1",
        openapi_version="3.1.0",
        plugins=[plugin],
        info={
            "description": "Search and read the catalog's datasets, fields, "
            "agencies, sources and jobs; draft data requests. "
            "Anonymous callers see public metadata; send "
            "`Authorization: Bearer <token>` for more."
        },
    )
    assert plugin.converter is not None
    plugin.converter.add_attribute_function(key_rules)
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX) or rule.endpoint in SKIPPED:
            continue
        path, parameters = _path(rule.rule)
        view = current_app.view_functions[rule.endpoint]
        summary = (view.__doc__ or rule.endpoint).strip().splitlines()[0]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation = dict(
                OPERATIONS.get(
                    (rule.endpoint, method.lower()),
                    {"responses": {"default": {"description": "See the endpoint's documentation"}}},
                )
            )
            operation["operationId"] = rule.endpoint.replace(".", "_") + "_" + method.lower()
            operation["summary"] = summary
            operation["parameters"] = parameters + operation.get("parameters", [])
            operation["security"] = [{}, {"token": []}]
            paths.setdefault(path, {})[method.lower()] = operation
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    return spec.to_dict()


@bp.get("/openapi.json")
def spec() -> Response:
    """The OpenAPI 3.1 description of this API."""
    return jsonify(build_spec())


@bp.get("/docs")
def docs() -> str:
    """The API's description as a page."""
    return render_template("api_docs.html", spec=build_spec())
