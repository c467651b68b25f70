"""The home page and the search results page."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from catalog.schemas import SearchArgsSchema
from catalog.search.query import SearchQuery, SearchResult
from catalog.vocabulary import SearchMode, values
from web.access import audience, shows_access_levels, visible_agencies, visible_totals
from web.current import catalog
from web.errors import field_messages
from web.present import FACET_TITLES

log = logging.getLogger(__name__)
bp = Blueprint("search", __name__)

MODES = values(SearchMode)
FILTER_FACETS = ("agency", "data_type", "sensitivity", "access_level")
EXAMPLES = (
    "date a child entered foster care",
    "household income at application",
    "date of birth",
    "county of residence",
)


class SearchUnavailable(RuntimeError):
    """The search index could not answer (missing, broken or unreachable)."""


def load_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """Validated search parameters; raises marshmallow's ValidationError."""
    return SearchArgsSchema().load(args)


def to_query(params: dict[str, Any]) -> SearchQuery:
    """A :class:`SearchQuery` for validated parameters, as the current visitor."""
    return SearchQuery(
        text=params["q"],
        kind=params["kind"],
        agencies=tuple(params["agency"]),
        data_types=tuple(params["data_type"]),
        access_levels=tuple(params["access_level"]),
        sensitivities=tuple(params["sensitivity"]),
        allowed_access=audience().levels,
        allowed_agencies=audience().restricted_agencies,
        mode=params["mode"],
        page=params["page"],
        per_page=params["per_page"],
        collapse=params.get("collapse", True),
    )


def run_search(query: SearchQuery) -> SearchResult:
    """Ask the search engine; any failure of the index becomes :class:`SearchUnavailable`."""
    try:
        return catalog().search(query)
    except Exception as exc:
        log.exception("search failed for %r", query.text[:200])
        raise SearchUnavailable(str(exc)) from exc


def url_args(params: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Query-string arguments for a search URL, without defaults, with changes applied."""
    out: dict[str, Any] = {
        "q": params.get("q") or None,
        "kind": params.get("kind"),
        "mode": None if params.get("mode", SearchMode.HYBRID) == SearchMode.HYBRID
        else params["mode"],
        "per_page": None if params.get("per_page", 20) == 20 else params["per_page"],
        "page": None if params.get("page", 1) == 1 else params["page"],
        "collapse": None if params.get("collapse", True) else "false",
    }
    for facet in FILTER_FACETS:
        out[facet] = list(params.get(facet) or []) or None
    out.update(changes)
    return {k: v for k, v in out.items() if v not in (None, "", [])}


def page_window(page: int, pages: int, radius: int = 2) -> list[int | None]:
    """Page numbers to link around the current page; None marks a gap."""
    wanted = {1, pages, *range(page - radius, page + radius + 1)}
    numbers = sorted(n for n in wanted if 1 <= n <= pages)
    out: list[int | None] = []
    for n in numbers:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


@bp.get("/")
def home() -> str:
    """Home: a search box, what the catalog holds and who publishes it."""
    return render_template("home.html", counts=visible_totals(), agencies=visible_agencies(),
                           examples=EXAMPLES)


def _defaults() -> dict[str, Any]:
    return {"q": "", "kind": None, "agency": [], "data_type": [], "access_level": [],
            "sensitivity": [], "mode": SearchMode.HYBRID.value, "page": 1, "per_page": 20,
            "collapse": True}


@bp.get("/search")
def results() -> ResponseReturnValue:
    """Search results with facet filters and pagination."""
    agency_names = {a.slug: a.name for a, _, _ in visible_agencies()}
    context: dict[str, Any] = {
        "agency_names": agency_names,
        "facet_titles": FACET_TITLES,
        "filter_facets": [f for f in FILTER_FACETS
                          if f != "access_level" or shows_access_levels()],
        "modes": MODES,
        "url_args": url_args,
        "page_window": page_window,
        "result": None,
        "errors": {},
        "unavailable": False,
    }
    try:
        params = load_args(request.args)
    except ValidationError as exc:
        params = _defaults()
        params["q"] = request.args.get("q", "")
        context.update(params=params, errors=field_messages(exc.messages))
        return render_template("search.html", **context), 400
    context["params"] = params
    try:
        context["result"] = run_search(to_query(params))
    except SearchUnavailable:
        context["unavailable"] = True
        return render_template("search.html", **context), 503
    return render_template("search.html", **context)

