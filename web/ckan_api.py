"""CKAN-compatible read actions under ``/api/3/action/`` and ``/api/action/``.

The actions open-data clients (``ckanapi``, ckanext-harvest, data portals) call, answered in
CKAN's envelope ``{"help", "success", "result"}``; errors as CKAN sends them (``success``
false, ``error`` with ``__type`` and ``message``; 404 Not Found, 409 Validation Error,
400 for an unknown action). Parameters come from the query string (GET) or a JSON body (POST,
as ``ckanapi.RemoteCKAN`` sends by default).

package_search
    ``q`` (ranked by the catalog's search engine; empty or ``*:*`` for all), ``fq`` on
    ``organization`` and ``tags`` (``organization:dol +tags:"foster care"``), ``rows``
    (default 10, at most 1000), ``start``, ``sort`` (``name``, ``title_string``,
    ``metadata_modified``, ``metadata_created``, ``score``; ``asc``/``desc``, comma
    separated) and ``facet.field`` (``organization``, ``tags``, ``license_id``).
package_show, package_list, organization_list (``all_fields``), organization_show, group_list
(the catalog has no groups: empty), tag_list (``query``), status_show, resource_show,
datastore_info (``id``) and datastore_search (``resource_id``, ``limit=0``: the data
dictionary; the catalog holds no rows, so a positive limit is refused with a clear error),
help_show.

Everything answered is what the caller may see (:mod:`web.access`): a dataset outside their
audience is not listed, counted, faceted or tagged, and by name answers Not Found.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from catalog.models import Dataset, Field
from web.access import (
    visible_agencies,
    visible_agency,
    visible_dataset,
    visible_dataset_list,
)
from web.ckan_shapes import (
    dataset_id_of_resource,
    datastore_field,
    organization_dict,
    package_dict,
    resource_dict,
)
from web.current import db
from web.search import SearchUnavailable, load_args, run_search, to_query
from web.urls import external_url

bp = Blueprint("ckan", __name__)
CKAN_VERSION = "2.11.0"
MAX_ROWS = 1000
RANKED_MAX = 1000  # how many ranked datasets a q= search considers
FACETS = ("organization", "tags", "license_id")
SORT_KEYS = ("name", "title_string", "title", "metadata_modified", "metadata_created", "score")
FQ_TERM = re.compile(r'\s*([+-]?)([a-z_]+):("(?:[^"\\]|\\.)*"|\([^)]*\)|\S+)')


class ActionError(Exception):
    """A CKAN error: an HTTP status, CKAN's ``__type`` and the error's members."""

    def __init__(self, status: int, kind: str, **members: Any) -> None:
        super().__init__(kind)
        self.status, self.kind, self.members = status, kind, members


def invalid(name: str, message: str) -> ActionError:
    """A Validation Error about one parameter."""
    return ActionError(409, "Validation Error", **{name: [message]})


ACTIONS: dict[str, Callable[[dict[str, Any]], Any]] = {}


def action(function: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """Register a read action under its function's name."""
    ACTIONS[function.__name__] = function
    return function


def _help_url(name: str) -> str:
    return external_url("ckan.call", name="help_show") + f"?name={name}"


def envelope(name: str, result: Any) -> Response:
    """CKAN's success envelope."""
    return jsonify({"help": _help_url(name), "success": True, "result": result})


def _error(name: str, exc: ActionError) -> tuple[Response, int]:
    body = {"help": _help_url(name), "success": False, "error": {"__type": exc.kind, **exc.members}}
    return jsonify(body), exc.status


def _params() -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        params[key] = values if len(values) > 1 else values[0]
    if request.method == "POST" and request.content_length:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ActionError(
                400,
                "Bad request",
                message="The body must be a JSON object of the action's parameters.",
            )
        params.update(body)
    return params


@bp.route("/api/3/action/<name>", methods=["GET", "POST"])
@bp.route("/api/action/<name>", methods=["GET", "POST"], endpoint="call_unversioned")
def call(name: str) -> Any:
    """Run one read action."""
    function = ACTIONS.get(name)
    try:
        if function is None:
            raise ActionError(
                400, "Bad request", message=f"Bad request - Action name not known: {name[:100]}"
            )
        return envelope(name, function(_params()))
    except ActionError as exc:
        return _error(name, exc)
    except HTTPException as exc:
        if exc.code == 404:
            return _error(name, ActionError(404, "Not Found Error", message="Not found"))
        if exc.code == 401:
            raise
        return _error(name, ActionError(exc.code or 400, "Bad request", message=exc.description))


# ------------------------------------------------------------------ parameters


def _int(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise invalid(name, f"Invalid integer: {str(raw)[:50]!r}") from None
    if not low <= value <= high:
        raise invalid(name, f"Must be between {low} and {high}, not {value}")
    return value


def _bool(params: dict[str, Any], name: str) -> bool:
    return str(params.get(name, "")).lower() in ("true", "1", "yes", "on")


def _text(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None:
        raise invalid(name, "Missing value")
    if not isinstance(value, str | int):
        raise invalid(name, "Must be a string")
    return str(value)


def _list(params: dict[str, Any], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip().startswith("[") else [raw]
        except json.JSONDecodeError:
            raise invalid(name, "Not a JSON list") from None
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise invalid(name, "Must be a list of strings")
    return raw


def parse_fq(fq: str) -> dict[str, list[str]]:
    """``fq`` as ``{"organization": [...], "tags": [...]}`` (every term must hold)."""
    wanted: dict[str, list[str]] = {"organization": [], "tags": []}
    rest = fq.strip()
    while rest:
        match = FQ_TERM.match(rest)
        if match is None:
            raise invalid("fq", f"Cannot read {rest[:80]!r}: expected key:value terms")
        sign, key, value = match.groups()
        if key not in wanted or sign == "-":
            raise invalid(
                "fq", f"Only organization: and tags: filters are supported, not {sign}{key}:"
            )
        value = value.strip()
        if value.startswith("("):
            raise invalid("fq", f"Grouped values are not supported: {value[:80]}")
        wanted[key].append(json.loads(value) if value.startswith('"') else value)
        rest = rest[match.end() :].strip()
        if rest.upper().startswith("AND "):
            rest = rest[4:]
    return wanted


def parse_sort(sort: str | None, ranked: bool) -> list[tuple[str, bool]]:
    """``sort`` as (key, descending) pairs."""
    if not sort:
        return [("score", True), ("name", False)] if ranked else [("name", False)]
    out = []
    for part in sort.split(","):
        words = part.split()
        if (
            not words
            or words[0] not in SORT_KEYS
            or len(words) > 2
            or (len(words) == 2 and words[1].lower() not in ("asc", "desc"))
        ):
            raise invalid(
                "sort",
                f"Cannot sort by {part.strip()[:80]!r}; use one of "
                f"{', '.join(SORT_KEYS)} with asc or desc",
            )
        out.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return out


# -------------------------------------------------------------------- helpers


def field_counts(ids: list[int]) -> dict[int, int]:
    """How many fields each of these (visible) datasets has."""
    if not ids:
        return {}
    rows = db().execute(
        select(Field.dataset_id, func.count(Field.id))
        .where(Field.dataset_id.in_(ids))
        .group_by(Field.dataset_id)
    )
    return {int(d): int(n) for d, n in rows}


def find_package(ref: str) -> Dataset:
    """A visible dataset by name (identifier) or id; Not Found otherwise."""
    by_name = [d for d in visible_dataset_list() if d.identifier == ref]
    if by_name:
        return visible_dataset(by_name[0].id)
    if ref.isdigit() and len(ref) < 19:
        return visible_dataset(int(ref))
    raise ActionError(404, "Not Found Error", message="Not found")


def _ranked_ids(q: str) -> dict[int, int]:
    """Dataset ids the search engine finds for ``q``, with their rank (0 is best)."""
    ranks: dict[int, int] = {}
    page = 1
    while len(ranks) < RANKED_MAX:
        params = load_args({"q": q[:500], "kind": "dataset", "per_page": 100, "page": page})
        try:
            result = run_search(to_query(params))
        except SearchUnavailable:
            raise ActionError(
                503, "Search Error", message="Search is unavailable right now."
            ) from None
        for hit in result.hits:
            ranks.setdefault(int(hit.payload["dataset_id"]), len(ranks))
        if page >= result.pages or not result.hits:
            return ranks
        page += 1
    return ranks


def _sort_value(dataset: Dataset, key: str, ranks: dict[int, int]) -> Any:
    if key == "score":
        return -ranks.get(dataset.id, len(ranks))
    if key in ("title_string", "title"):
        return dataset.title.lower()
    if key == "metadata_modified":
        return dataset.updated_at.isoformat() if dataset.updated_at else ""
    if key == "metadata_created":
        return dataset.created_at.isoformat() if dataset.created_at else ""
    return dataset.identifier


def _facets(
    datasets: list[Dataset], names: list[str], limit: int
) -> tuple[dict[str, dict[str, int]], dict[str, Any]]:
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for name in names:
        if name not in FACETS:
            raise invalid(
                "facet.field", f"Cannot facet on {name[:50]!r}; use one of {', '.join(FACETS)}"
            )
        counts: Counter[str] = Counter()
        titles: dict[str, str] = {}
        for dataset in datasets:
            if name == "organization":
                counts[dataset.agency.slug] += 1
                titles[dataset.agency.slug] = dataset.agency.name
            elif name == "tags":
                counts.update(set(dataset.keywords or []))
            else:
                license_name = (dataset.extra or {}).get("license")
                if isinstance(license_name, str) and license_name:
                    counts[license_name] += 1
        top = counts.most_common(limit) if limit >= 0 else counts.most_common()
        facets[name] = dict(top)
        search_facets[name] = {
            "title": name,
            "items": [{"name": k, "display_name": titles.get(k, k), "count": n} for k, n in top],
        }
    return facets, search_facets


# --------------------------------------------------------------------- actions


@action
def package_search(params: dict[str, Any]) -> dict[str, Any]:
    """Search packages: q, fq (organization, tags), rows, start, sort, facet.field."""
    rows = _int(params, "rows", 10, 0, MAX_ROWS)
    start = _int(params, "start", 0, 0, 10**9)
    q = str(params.get("q") or "").strip()
    ranked = q not in ("", "*:*", "*")
    order = parse_sort(params.get("sort") if isinstance(params.get("sort"), str) else None, ranked)
    wanted = parse_fq(str(params.get("fq") or ""))
    datasets = visible_dataset_list()
    for slug in wanted["organization"]:
        datasets = [d for d in datasets if slug in (d.agency.slug, d.agency.name)]
    for tag in wanted["tags"]:
        datasets = [d for d in datasets if tag in (d.keywords or [])]
    ranks: dict[int, int] = {}
    if ranked:
        ranks = _ranked_ids(q)
        datasets = [d for d in datasets if d.id in ranks]
    for key, descending in reversed(order):
        datasets.sort(key=lambda d, k=key: _sort_value(d, k, ranks), reverse=descending)
    facets, search_facets = _facets(
        datasets, _list(params, "facet.field"), _int(params, "facet.limit", 50, -1, 10**6)
    )
    page = datasets[start : start + rows]
    counts = field_counts([d.id for d in page])
    return {
        "count": len(datasets),
        "sort": ", ".join(f"{k} {'desc' if d else 'asc'}" for k, d in order),
        "facets": facets,
        "search_facets": search_facets,
        "results": [package_dict(d, counts.get(d.id, 0)) for d in page],
    }


@action
def package_show(params: dict[str, Any]) -> dict[str, Any]:
    """One package by name or id, with its data dictionary in its resource's ``fields``."""
    dataset = find_package(_text(params, "id"))
    return package_dict(dataset, len(dataset.fields), with_fields=True)


@action
def package_list(params: dict[str, Any]) -> list[str]:
    """Names of the visible packages, by name (``limit`` and ``offset`` page them)."""
    names = sorted(d.identifier for d in visible_dataset_list())
    offset = _int(params, "offset", 0, 0, 10**9)
    limit = _int(params, "limit", len(names) or 1, 1, 10**9) if "limit" in params else None
    return names[offset : offset + limit] if limit is not None else names[offset:]


@action
def organization_list(params: dict[str, Any]) -> list[Any]:
    """Agencies with visible datasets: names, or whole organisations with ``all_fields``."""
    rows = visible_agencies()
    if _bool(params, "all_fields"):
        return [organization_dict(agency, count) for agency, count, _ in rows]
    return [agency.slug for agency, _, _ in rows]


@action
def organization_show(params: dict[str, Any]) -> dict[str, Any]:
    """One agency by slug, with its package count (and packages with include_datasets)."""
    agency, datasets = visible_agency(_text(params, "id"))
    out = organization_dict(agency, len(datasets))
    if _bool(params, "include_datasets"):
        out["packages"] = [package_dict(d, n) for d, n in datasets]
    return out


@action
def group_list(params: dict[str, Any]) -> list[Any]:
    """The catalog has no CKAN groups: always empty."""
    return []


@action
def tag_list(params: dict[str, Any]) -> list[str]:
    """Keywords of visible datasets (containing ``query`` when given), sorted."""
    words = {k for d in visible_dataset_list() for k in d.keywords or []}
    query = str(params.get("query") or "").lower()
    return sorted(w for w in words if query in w.lower())


@action
def status_show(params: dict[str, Any]) -> dict[str, Any]:
    """What this site is and which CKAN API it speaks."""
    return {
        "ckan_version": CKAN_VERSION,
        "site_title": "State Data Catalog",
        "site_url": external_url("search.home").rstrip("/"),
        "site_description": "",
        "locale_default": "en",
        "extensions": ["datastore"],
        "x_server": "metadata-catalog (read-only CKAN Action API)",
    }


def _resource_dataset(params: dict[str, Any], name: str) -> Dataset:
    number = dataset_id_of_resource(_text(params, name))
    if number is None:
        raise ActionError(404, "Not Found Error", message="Resource was not found.")
    return visible_dataset(number)


@action
def resource_show(params: dict[str, Any]) -> dict[str, Any]:
    """A dataset's data dictionary resource."""
    dataset = _resource_dataset(params, "id")
    return resource_dict(dataset, len(dataset.fields), with_fields=False)


def _columns(dataset: Dataset) -> list[dict[str, Any]]:
    return [{"id": "_id", "type": "int"}, *(datastore_field(f) for f in dataset.fields)]


@action
def datastore_info(params: dict[str, Any]) -> dict[str, Any]:
    """The data dictionary of a resource (``id``, or ``resource_id`` as older CKAN)."""
    dataset = _resource_dataset(params, "id" if "id" in params else "resource_id")
    return {
        "meta": {
            "id": f"{dataset.id}-dictionary",
            "aliases": [],
            "table_type": "data dictionary only",
        },
        "fields": [datastore_field(f) for f in dataset.fields],
    }


@action
def datastore_search(params: dict[str, Any]) -> dict[str, Any]:
    """``limit=0``: the resource's data dictionary and no records (the catalog holds no rows)."""
    dataset = _resource_dataset(params, "resource_id")
    if _int(params, "limit", 100, 0, 32000) != 0:
        raise invalid(
            "limit",
            "This catalog holds data dictionaries, not data rows: ask with limit=0 for the fields",
        )
    out: dict[str, Any] = {
        "resource_id": f"{dataset.id}-dictionary",
        "fields": _columns(dataset),
        "records": [],
        "limit": 0,
        "_links": {"start": request.path},
    }
    return out


@action
def help_show(params: dict[str, Any]) -> str:
    """The documentation of an action."""
    function = ACTIONS.get(str(params.get("name") or ""))
    if function is None:
        raise ActionError(404, "Not Found Error", message="Action not found")
    return (function.__doc__ or "").strip()
