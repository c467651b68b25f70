"""Search results as CSV: ``/search.csv`` takes the parameters of the search page.

One row per result, best first, up to :data:`MAX_ROWS` (the first pages of 100): kind,
agency, dataset, field, title, description, data type, sensitivity, access level (only for
visitors who see more than public metadata), score and URL. The search runs as the visitor,
so hidden datasets never reach the file; text a spreadsheet would run as a formula gets a
leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, request

from web.access import shows_access_levels
from web.errors import json_error
from web.exports import _cell, attachment
from web.present import hit_dict
from web.search import SearchUnavailable, load_args, run_search, to_query

bp = Blueprint("search_export", __name__)

MAX_ROWS = 1000
PAGE = 100
COLUMNS = [
    "kind",
    "agency",
    "agency_name",
    "dataset",
    "dataset_title",
    "field",
    "title",
    "description",
    "data_type",
    "sensitivity",
    "access_level",
    "score",
    "url",
]


@bp.get("/search.csv")
def results_csv() -> Any:
    """The search's results as CSV (the first 1,000)."""
    params = {**load_args(request.args), "per_page": PAGE}  # ValidationError: 400
    columns = [c for c in COLUMNS if c != "access_level" or shows_access_levels()]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    rows = 0
    page = 1
    while rows < MAX_ROWS:
        try:
            result = run_search(to_query({**params, "page": page}))
        except SearchUnavailable:
            return json_error(503, "Search is unavailable right now; browsing still works.")
        for hit in result.hits:
            data = hit_dict(hit)
            writer.writerow([_cell(data.get(c)) for c in columns])
            rows += 1
        if page >= result.pages or not result.hits:
            break
        page += 1
    words = "".join(ch if ch.isalnum() else "-" for ch in (params["q"] or "all"))[:60]
    return attachment(out.getvalue(), "text/csv", f"search-{words.strip('-') or 'all'}.csv")
