"""robots.txt, sitemap.xml, the OpenSearch description and the Atom feed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from tests.webfixtures import HIDDEN_WORDS, RECORDS, WebCatalog

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
PUBLIC = [r for r in RECORDS if r.get("access_level", "public") == "public"]


def test_robots_points_at_the_sitemap_and_keeps_crawlers_off_private_pages(client: Any
                                                                          ) -> None:
    text = client.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in text
    for path in ("/login", "/account", "/requests", "/api/"):
        assert f"Disallow: {path}" in text


def test_sitemap_lists_every_public_dataset_page_and_each_answers(client: Any,
                                                                 web_catalog: WebCatalog
                                                                 ) -> None:
    answer = client.get("/sitemap.xml")
    assert answer.mimetype == "application/xml"
    root = etree.fromstring(answer.data)
    locations = [u.findtext(f"{SITEMAP}loc") for u in root.iter(f"{SITEMAP}url")]
    paths = [urlsplit(u).path for u in locations]
    for record in PUBLIC:
        assert f"/datasets/{web_catalog.datasets[record['identifier']]}" in paths
    assert not any(f"/datasets/{i}" in paths for i in web_catalog.hidden_datasets)
    assert "/agencies/zephoqo" not in paths  # an agency with hidden datasets only
    for path in paths:
        assert client.get(path).status_code == 200, path
    assert not any(w in answer.get_data(as_text=True).lower() for w in HIDDEN_WORDS)


def test_every_page_links_an_opensearch_description_browsers_can_use(client: Any) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'rel="search" type="application/opensearchdescription+xml"' in page
    root = etree.fromstring(client.get("/opensearch.xml").data)
    assert root.tag == f"{OPENSEARCH}OpenSearchDescription"
    templates = {u.get("type"): u.get("template") for u in root.iter(f"{OPENSEARCH}Url")}
    html = templates["text/html"].replace("{searchTerms}", "foster+care")
    answer = client.get(urlsplit(html).path + "?" + urlsplit(html).query)
    assert answer.status_code == 200 and "Foster Care Placements" in answer.get_data(
        as_text=True)
    api = templates["application/json"].replace("{searchTerms}", "birth")
    assert client.get(urlsplit(api).path + "?" + urlsplit(api).query).json["total"] > 0


def test_atom_feed_lists_new_and_changed_public_datasets(client: Any) -> None:
    answer = client.get("/feed.atom")
    assert answer.mimetype == "application/atom+xml"
    root = etree.fromstring(answer.data)
    entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert sorted(titles) == sorted(r["title"] for r in PUBLIC)
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert all(e.find(f"{ATOM}link").get("href").startswith("http://localhost/datasets/")
               for e in entries)
    assert root.findtext(f"{ATOM}updated") == updated[0]
    assert not any(w in answer.get_data(as_text=True).lower() for w in HIDDEN_WORDS)
