"""A small real catalog with stewards, on the embedded engine or Elasticsearch, for the
stewardship tests (web, API, browser).

Agency A is DOL (it holds the restricted ``marmoset-wage-match``), agency B is DPH. Two
stewards of DOL (so that one can save over the other's stale copy), one of DPH, a viewer
and an administrator; the first DOL steward is DOL's data officer.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from catalog import accounts
from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.models import User
from catalog.service import Catalog
from tests.webfixtures import WebCatalog, add_account, build_catalog

STEWARDS = {
    "dol-a@example.org": ("steward", ("dol",), ("dol",)),
    "dol-b@example.org": ("steward", ("dol",), ()),
    "dph@example.org": ("steward", ("dph",), ()),
    "viewer@example.org": ("viewer", (), ()),
    "admin@example.org": ("admin", (), ()),
}


def make_catalog(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, engine_name: str,
                 elasticsearch_url: str | None = None) -> tuple[WebCatalog, Any]:
    """The web catalog with the stewards' accounts, on the named engine."""
    engine = None
    if engine_name == "elasticsearch":
        from catalog.search.elasticsearch import ElasticsearchEngine

        engine = ElasticsearchEngine(elasticsearch_url or "",
                                     index=f"catalog-steward-{uuid.uuid4().hex[:12]}")
    catalog = Catalog(load_settings(data_dir=tmp_path_factory.mktemp(f"steward-{engine_name}"),
                                    database_url=None, elasticsearch_url=None, redis_url=None),
                      embedder=embedder, engine=engine)
    built = build_catalog(catalog)
    for email, (role, agencies, officer) in STEWARDS.items():
        add_account(catalog, email, role, agencies, officer_of=officer)
    return built, engine


def close_catalog(built: WebCatalog, engine: Any) -> None:
    """Drop a test index and close the catalog."""
    if engine is not None:
        for index in engine._indices():
            engine.es.indices.delete(index=index, ignore_unavailable=True)
    built.catalog.close()


@pytest.fixture(scope="module", params=["embedded", "elasticsearch"])
def both_engines(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 embedder: Embedder) -> Iterator[WebCatalog]:
    """The stewards' catalog, once on each engine."""
    url = request.getfixturevalue("elasticsearch_url") if request.param == "elasticsearch" \
        else None
    built, engine = make_catalog(tmp_path_factory, embedder, request.param, url)
    built.engine_name = request.param  # type: ignore[attr-defined]
    yield built
    close_catalog(built, engine)


@pytest.fixture(scope="module")
def stewarded(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
              ) -> Iterator[WebCatalog]:
    """The stewards' catalog on the embedded engine."""
    built, engine = make_catalog(tmp_path_factory, embedder, "embedded")
    yield built
    close_catalog(built, engine)


def token_for(built: WebCatalog, email: str) -> str:
    """A fresh API token of an account."""
    with built.catalog.transaction() as session:
        user = accounts.get_user(session, email)
        assert isinstance(user, User)
        return accounts.issue_token(session, user, "tests")[0]


def form_state(page: str) -> dict[str, str]:
    """The hidden version, read copy and CSRF token of an edit form."""
    out = {}
    for name in ("csrf", "version", "read"):
        match = re.search(rf'name="{name}" value="([^"]*)"', page)
        assert match, f"no {name} on the page"
        out[name] = html.unescape(match.group(1))
    return out


def field_form(client: FlaskClient, field_id: int) -> tuple[dict[str, str], dict[str, str]]:
    """The field's edit form: its hidden state, and its visible values as the form shows them."""
    page = client.get(f"/fields/{field_id}/edit")
    assert page.status_code == 200, page.status_code
    text = page.get_data(as_text=True)
    values = {}
    for name in ("label", "description", "value_labels", "steward_notes"):
        single = re.search(rf'name="{name}" value="([^"]*)"', text)
        area = re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', text)
        found = single or area
        values[name] = html.unescape(found.group(1)) if found else ""
    for name in ("data_type", "sensitivity"):
        select = re.search(rf'name="{name}"[^>]*>(.*?)</select>', text, re.S)
        chosen = re.search(r"<option selected>([^<]*)</option>", select.group(1)) if select \
            else None
        values[name] = chosen.group(1) if chosen else ""
    return form_state(text), values
