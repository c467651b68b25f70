"""How crawlers, browsers and feed readers find the catalog.

``/robots.txt``
    Crawling allowed except for sign-in, account, request and staff pages and the JSON API;
    points at the sitemap.
``/sitemap.xml``
    The home page, the agency list, and every agency and dataset page the visitor may see
    (a crawler is anonymous: the public ones), each dataset with its ``lastmod``.
``/opensearch.xml``
    An OpenSearch description, linked from every page's ``<head>``, so that a browser can add
    the catalog as a search engine (HTML results, JSON suggestions from the API search).
``/feed.atom``
    An Atom feed of the newest and most recently changed datasets the visitor may see.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response
from lxml import etree
from lxml.builder import ElementMaker

from catalog.models import Dataset
from web.access import visible_agencies, visible_dataset_list
from web.urls import external_url

bp = Blueprint("discovery", __name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
ATOM_NS = "http://www.w3.org/2005/Atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
FEED_SIZE = 50
SITE_NAME = "State Data Catalog"
# Pages a crawler has no business with (sign-in, personal and staff pages, the API).
DISALLOWED = ("/login", "/logout", "/account", "/requests", "/intake", "/users", "/jobs",
              "/api/", "/search?")


def _xml(root: etree._Element, mimetype: str) -> Response:
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return Response(body, mimetype=mimetype)


def _utc(value: datetime | None) -> datetime:
    value = value or datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawling rules and the sitemap's address."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED), "Allow: /",
             "", f"Sitemap: {external_url('discovery.sitemap')}", ""]
    return Response("\n".join(lines), mimetype="text/plain")


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """The pages worth crawling: home, agencies and datasets the visitor may see."""
    make = ElementMaker(namespace=SITEMAP_NS, nsmap={None: SITEMAP_NS})
    urls = [make.url(make.loc(external_url("search.home"))),
            make.url(make.loc(external_url("browse.agencies")))]
    for agency, _, _ in visible_agencies():
        urls.append(make.url(make.loc(external_url("browse.agency", slug=agency.slug))))
    for dataset in visible_dataset_list():
        urls.append(make.url(
            make.loc(external_url("browse.dataset", dataset_id=dataset.id)),
            make.lastmod(_utc(dataset.updated_at).date().isoformat())))
    return _xml(make.urlset(*urls), "application/xml")


@bp.get("/opensearch.xml")
def opensearch() -> Response:
    """The OpenSearch description of the search page."""
    make = ElementMaker(namespace=OPENSEARCH_NS, nsmap={None: OPENSEARCH_NS})
    search = external_url("search.results")
    root = make.OpenSearchDescription(
        make.ShortName("CT Data Catalog"),
        make.Description(f"Search the datasets and fields of the {SITE_NAME}."),
        make.InputEncoding("UTF-8"),
        make.Url(type="text/html", method="get", template=f"{search}?q={{searchTerms}}"),
        make.Url(type="application/json", method="get",
                 template=f"{external_url('api.search')}?q={{searchTerms}}"),
        make.Image(external_url("static", filename="favicon.svg"), type="image/svg+xml",
                   width="16", height="16"),
    )
    root.append(make.Url(type="application/opensearchdescription+xml", rel="self",
                         template=external_url("discovery.opensearch")))
    return _xml(root, "application/opensearchdescription+xml")


def _entry(make: ElementMaker, dataset: Dataset) -> etree._Element:
    page = external_url("browse.dataset", dataset_id=dataset.id)
    changed = _utc(dataset.updated_at)
    created = _utc(dataset.created_at)
    what = "New dataset" if (changed - created).total_seconds() < 1 else "Changed"
    summary = dataset.description or dataset.title
    return make.entry(
        make.id(page),
        make.title(dataset.title),
        make.link(href=page, rel="alternate", type="text/html"),
        make.updated(changed.isoformat()),
        make.published(created.isoformat()),
        make.author(make.name(dataset.agency.name)),
        make.category(term=what),
        make.summary(f"{what} · {len(dataset.fields)} fields · {summary[:1000]}"),
    )


@bp.get("/feed.atom")
def feed() -> Response:
    """New and changed datasets, newest change first."""
    datasets = visible_dataset_list(with_fields=True, newest=FEED_SIZE)
    make = ElementMaker(namespace=ATOM_NS, nsmap={None: ATOM_NS})
    updated = _utc(datasets[0].updated_at) if datasets else datetime.now(UTC)
    root = make.feed(
        make.id(external_url("discovery.feed")),
        make.title(f"{SITE_NAME}: new and changed datasets"),
        make.updated(updated.isoformat()),
        make.link(href=external_url("discovery.feed"), rel="self",
                  type="application/atom+xml"),
        make.link(href=external_url("search.home"), rel="alternate", type="text/html"),
        make.author(make.name(SITE_NAME)),
        *(_entry(make, d) for d in datasets),
    )
    return _xml(root, "application/atom+xml")
