"""The stewards' JSON API: ``PATCH /api/v1/datasets/<id>`` and ``PATCH /api/v1/fields/<id>``.

A PATCH carries the ETag of a GET in ``If-Match`` and a JSON object of the parts to change
(validated by :class:`~catalog.steward_schemas.DatasetEditSchema` or ``FieldEditSchema``).
Answers: 200 with the saved entity and its new ETag; 401 without credentials; 404 for what
the caller may not see; 403 when they may see it but not edit it; 428 without If-Match; 400
for a body that is not valid (each bad part named); 412 when the entity changed since that
ETag — nothing is written, and the answer holds the current ETag and each part that differs.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema

from catalog.models import Dataset, Field
from catalog.schemas import DatasetOutSchema, FieldOutSchema
from catalog.steward_schemas import DatasetEditSchema, FieldEditSchema
from catalog.stewardship import (
    StaleVersion,
    StewardshipError,
    differences,
    edited_columns,
    save_edit,
    values_at,
    version_of,
)
from catalog.store import get_dataset, get_field
from web.access import audience, may_edit, visible_dataset, visible_field
from web.auth import current_account, web_actor
from web.current import catalog, db
from web.errors import json_error
from web.present import dataset_dict, field_dict
from web.serving import ENCODINGS
from web.steward import reindex

bp = Blueprint("steward_api", __name__, url_prefix="/api/v1")


def etag_of(target: Dataset | Field) -> str:
    """The ETag of a dataset's or field's editable parts (a quoted version)."""
    return f'"{version_of(target)}"'


def with_etag(response: Response, target: Dataset | Field) -> Response:
    """The response with the entity's ETag."""
    response.headers["ETag"] = etag_of(target)
    return response


def _if_match(target: Dataset | Field) -> str | None:
    """The version an edit is made against: of the ETags in ``If-Match``, the current one
    if it is among them, else the first (so that the edit is refused as stale, 412); None
    without a tag (or with ``*``: 428). A weak tag counts, as proxies that compress a GET
    weaken its ETag (nginx does) though the version read is the same."""
    header = (request.headers.get("If-Match") or "").strip()
    versions = []
    for tag in header.split(","):
        version = tag.strip().removeprefix("W/").strip('"')
        # flask-compress tags the ETag of a compressed GET with its encoding ("…:gzip"); the
        # version read is the same in every encoding.
        for encoding in ENCODINGS:
            version = version.removesuffix(f":{encoding}")
        if version and version != "*":
            versions.append(version)
    if not versions:
        return None
    current = version_of(target)
    return current if current in versions else versions[0]


def _patch(target: Dataset | Field, dataset: Dataset, schema: Schema) -> ResponseReturnValue:
    if not may_edit(dataset):
        abort(403, description="Your account may not edit this agency's datasets; stewards "
                               "of the agency and administrators may.")
    version = _if_match(target)
    if version is None:
        what = "field" if isinstance(target, Field) else "dataset"
        if (request.headers.get("If-Match") or "").strip() == "*":
            return json_error(428, "If-Match: * would save over whatever is there now; send "
                                   f"the ETag of a GET of this {what} instead.")
        return json_error(428, f"Send If-Match with the ETag of a GET of this {what}.")
    if not re.fullmatch(r"[0-9a-f]{24}", version):
        what = "field" if isinstance(target, Field) else "dataset"
        answer, code = json_error(
            412, f"If-Match {version[:40]!r} is no ETag this catalog gave; send the ETag of a "
                 f"GET of this {what} (now {etag_of(target)}).")
        return with_etag(answer, target), code
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_error(400, "The body must be a JSON object of the parts to change" + (
            "." if request.is_json else ", sent with Content-Type: application/json."))
    loaded = schema.load(body)  # ValidationError: 400 naming each part (web.errors)
    is_field = isinstance(target, Field)
    try:
        with catalog().transaction() as tx:
            _, change = save_edit(tx, dataset.id, loaded, version=version, actor=web_actor(),
                                  field_id=target.id if is_field else None)
    except StaleVersion as stale:
        db().expire_all()
        fresh = _fresh(target, is_field)
        read = values_at(db(), fresh, version)  # what that ETag's version held, if recorded
        answer = jsonify({"error": {
            "status": 412,
            "message": f"{stale}. GET it again, compare, and send your change with the new "
                       "ETag.",
            "current_etag": etag_of(fresh),
            "differences": [{"part": d.column, **({"then": d.read} if read else {}),
                             "now": d.now, **({"yours": d.yours} if d.column in loaded else {})}
                            for d in differences(read, stale.current, loaded)],
        }})
        answer.status_code = 412
        return with_etag(answer, fresh)
    except StewardshipError as exc:
        return json_error(409, str(exc))
    indexed = reindex(dataset.id) if change is not None else True
    db().expire_all()
    fresh = _fresh(target, is_field)
    data = (FieldOutSchema().dump(field_dict(fresh)) if is_field
            else DatasetOutSchema().dump(dataset_dict(fresh)))
    out = {"saved": edited_columns(change) if change is not None else [],
           "change_id": change.id if change is not None else None, "indexed": indexed,
           **({"field": data} if is_field else {"dataset": data})}
    return with_etag(jsonify(out), fresh)


def _fresh(target: Dataset | Field, is_field: bool) -> Any:
    found = (get_field(db(), target.id, audience()) if is_field
             else get_dataset(db(), target.id, audience()))
    if found is None:
        abort(404)
    return found


def _signed_in() -> None:
    if current_account() is None:
        abort(401, description="Send Authorization: Bearer <token> (or sign in) to edit.")


@bp.patch("/datasets/<int:dataset_id>")
def patch_dataset(dataset_id: int) -> ResponseReturnValue:
    """Change a dataset's title, description, keywords, update frequency or contact."""
    _signed_in()
    dataset = visible_dataset(dataset_id)
    return _patch(dataset, dataset, DatasetEditSchema())


@bp.patch("/fields/<int:field_id>")
def patch_field(field_id: int) -> ResponseReturnValue:
    """Change a field's label, description, data type, value labels, sensitivity or notes."""
    _signed_in()
    field = visible_field(field_id)
    return _patch(field, field.dataset, FieldEditSchema())
