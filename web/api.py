"""The JSON API under ``/api/v1``: search, datasets, fields and agencies."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from catalog.schemas import (
    AgencyOutSchema,
    DatasetOutSchema,
    FieldOutSchema,
    SearchHitSchema,
)
from web.access import visible_agencies, visible_agency, visible_dataset, visible_field
from web.browse import similar_to
from web.errors import json_error
from web.present import agency_dict, dataset_dict, field_dict, hit_dict
from web.search import SearchUnavailable, load_args, run_search, to_query
from web.steward_api import with_etag

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/search")
def search() -> ResponseReturnValue:
    """Search datasets and fields; the parameters of the search page, as JSON."""
    params = load_args(request.args)  # ValidationError → 400 JSON (see web.errors)
    try:
        result = run_search(to_query(params))
    except SearchUnavailable:
        return json_error(503, "Search is unavailable right now; browsing still works.")
    return jsonify(
        {
            "query": {k: params[k] for k in
                      ("q", "kind", "agency", "data_type", "access_level", "sensitivity",
                       "mode")},
            "total": result.total,
            "page": result.page,
            "per_page": result.per_page,
            "pages": result.pages,
            "facets": result.facets,
            "hits": SearchHitSchema(many=True).dump([hit_dict(h) for h in result.hits]),
        }
    )


@bp.get("/datasets/<int:dataset_id>")
def dataset(dataset_id: int) -> Response:
    """A dataset with its fields."""
    found = visible_dataset(dataset_id)
    return with_etag(jsonify(DatasetOutSchema().dump(dataset_dict(found))), found)


@bp.get("/fields/<int:field_id>")
def field(field_id: int) -> Response:
    """A field with the fields most similar to it in other datasets."""
    found = visible_field(field_id)
    data: dict[str, Any] = FieldOutSchema().dump(field_dict(found))
    similar = similar_to(found)
    data["similar"] = (
        None if similar is None
        else SearchHitSchema(many=True).dump([hit_dict(h) for h in similar])
    )
    return with_etag(jsonify(data), found)


@bp.get("/agencies")
def agencies() -> Response:
    """Agencies with visible datasets and their counts."""
    rows = visible_agencies()
    items = AgencyOutSchema(many=True).dump([agency_dict(a, d, f) for a, d, f in rows])
    return jsonify({"total": len(items), "agencies": items})


@bp.get("/agencies/<slug>")
def agency(slug: str) -> Response:
    """An agency with its visible datasets (without their fields)."""
    found, datasets = visible_agency(slug)
    data = AgencyOutSchema().dump(
        agency_dict(found, len(datasets), sum(n for _, n in datasets))
    )
    data["datasets"] = DatasetOutSchema(many=True, exclude=("fields_",)).dump(
        [dataset_dict(d, with_fields=False, field_count=n) for d, n in datasets]
    )
    return jsonify(data)
