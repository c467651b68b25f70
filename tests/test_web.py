"""The web pages and the JSON API, through Flask's test client, on a small real catalog."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import select

from catalog.config import load_settings
from catalog.models import Field
from catalog.schemas import DatasetInSchema
from catalog.service import Catalog
from catalog.store import find_or_create_agency, upsert_dataset
from tests.webfixtures import readable
from web.access import audience
from web.app import create_app

# ---------------------------------------------------------------------------- helpers


class _Page(HTMLParser):
    """Collects what the accessibility checks need from one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.label_for: set[str] = set()
        self.label_depth = 0
        self.inputs_in_label: set[int] = set()
        self.h1_count = 0
        self.tables = 0
        self.captions = 0
        self.th_without_scope = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "label":
            self.label_depth += 1
            if attributes.get("for"):
                self.label_for.add(attributes["for"] or "")
        elif tag in ("input", "select", "textarea") and self.label_depth:
            self.inputs_in_label.add(len(self.tags) - 1)
        elif tag == "h1":
            self.h1_count += 1
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "th" and "scope" not in attributes:
            self.th_without_scope += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1

    def unlabelled_controls(self) -> list[dict[str, Any]]:
        out = []
        for i, (tag, attrs) in enumerate(self.tags):
            if tag not in ("input", "select", "textarea"):
                continue
            if attrs.get("type") in ("hidden", "submit", "button"):
                continue
            if i in self.inputs_in_label or attrs.get("id") in self.label_for:
                continue
            if attrs.get("aria-label") or attrs.get("aria-labelledby"):
                continue
            out.append(attrs)
        return out

    def has(self, tag: str, **attrs: str) -> bool:
        return any(
            t == tag and all(a.get(k) == v for k, v in attrs.items()) for t, a in self.tags
        )


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def without_query(body: str, query: str) -> str:
    """The page with every echo of the query text removed (the box, the title, links)."""
    for form in {query, escape(query), escape(query, quote=False), quote_plus(query),
                 quote(query), quote_plus(quote_plus(query)), quote(quote_plus(query), safe="")}:
        body = body.replace(form, "")
    return body


HIDDEN_WORDS = ("quixotic", "zeph", "marmoset", "quokka", "xylograph")  # see tests/webfixtures


def assert_nothing_hidden(body: str, where: str, query: str = "") -> None:
    text = without_query(body, query).lower() if query else body.lower()
    for word in HIDDEN_WORDS:
        assert word not in text, f"hidden word {word!r} leaked in {where}"


def links(html: str) -> list[str]:
    return re.findall(r'href="(/[^"]*)"', html)


# ---------------------------------------------------------------------------- pages


def test_home_shows_search_box_counts_and_agencies(client, web_catalog) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = parse(html)
    assert page.has("input", type="search", name="q")
    assert "<strong>4</strong> agencies" in html
    assert "<strong>4</strong> datasets" in html
    assert f"<strong>{web_catalog.public_field_count}</strong> documented fields" in html
    for name in ("Department of Children and Families", "State Department of Education",
                 "Department of Labor", "Department of Public Health"):
        assert name in html
    assert_nothing_hidden(html, "/")


def test_semantic_query_finds_the_birth_date_field(client, web_catalog) -> None:
    response = client.get("/search", query_string={"q": "date of birth", "mode": "semantic"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    dob = web_catalog.fields["DOB_DT"]
    assert f'href="/fields/{dob}"' in html
    assert "<code class=\"field-name\">DOB_DT</code>" in html
    assert "Birth date" in html
    assert "Foster Care Placements" in html
    assert 'aria-current="page"' in html
    # the field's position among the top results: a birth-date field leads the list
    first = re.search(r'<ol class="hits".*?href="/fields/(\d+)"', html, re.S)
    assert first is not None
    birth_fields = {web_catalog.fields[n] for n in
                    ("DOB_DT", "BDATE", "CLMT_BIRTH_DT", "CHILD_BIRTH_DT")}
    assert int(first.group(1)) in birth_fields


def test_hybrid_search_highlights_and_shows_hit_details(client) -> None:
    html = client.get("/search?q=household+income").get_data(as_text=True)
    assert "Household income at application" in html
    assert "<mark>" in html and "HH_INCOME_APP" in html
    assert "Department of Labor" in html and "Unemployment Insurance Claims" in html
    assert "badge--type" in html  # the data type is shown


def test_filters_and_facets_narrow_results(client, web_catalog) -> None:
    everything = client.get("/api/v1/search?q=date").get_json()
    assert set(everything["facets"]["agency"]) == {"dcf", "sde", "dol", "dph"}
    only_dph = client.get("/api/v1/search?q=date&agency=dph").get_json()
    assert 0 < only_dph["total"] < everything["total"]
    assert {h["agency"] for h in only_dph["hits"]} == {"dph"}
    two = client.get("/api/v1/search?q=date&agency=dph&agency=sde&per_page=100").get_json()
    assert {h["agency"] for h in two["hits"]} == {"dph", "sde"}
    dates = client.get("/api/v1/search?q=date&data_type=date&per_page=100").get_json()
    assert dates["hits"] and {h["data_type"] for h in dates["hits"]} == {"date"}
    personal = client.get("/api/v1/search?q=date&sensitivity=personal&per_page=100").get_json()
    assert {h["sensitivity"] for h in personal["hits"]} == {"personal"}
    datasets = client.get("/api/v1/search?q=date&kind=dataset").get_json()
    assert datasets["hits"] and {h["kind"] for h in datasets["hits"]} == {"dataset"}

    html = client.get("/search?q=date&agency=dph&data_type=date").get_data(as_text=True)
    assert 'name="agency" value="dph"\n                     checked' in html
    assert "Remove" not in html  # results exist, so no removal suggestions
    assert "Clear filters" in html
    assert "Vital Statistics Birth File" in html
    assert "Foster Care Placements" not in html


def test_facet_form_uses_labelled_checkboxes(client) -> None:
    html = client.get("/search?q=date").get_data(as_text=True)
    page = parse(html)
    boxes = [a for t, a in page.tags if t == "input" and a.get("type") == "checkbox"]
    names = {a["name"] for a in boxes}
    assert {"agency", "data_type", "sensitivity"} <= names
    assert "access_level" not in names  # one visible access level: no access filter
    assert all(a["id"] in page.label_for for a in boxes)
    assert "Department of Public Health" in html  # agency facet shows names


def test_no_results_suggests_removing_filters(client) -> None:
    html = client.get("/search?q=household+income&agency=dph&kind=dataset&mode=lexical"
                      ).get_data(as_text=True)
    assert "No results" in html
    assert "Try removing filters" in html
    assert "Remove agency: Department of Public Health" in html


def test_pagination(client) -> None:
    first = client.get("/search?per_page=5&kind=field").get_data(as_text=True)
    assert 'aria-label="Pagination"' in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert re.search(r'href="/search\?[^"]*page=2[^"]*"', first)
    second = client.get("/search?per_page=5&kind=field&page=2").get_data(as_text=True)
    assert 'rel="prev"' in second
    assert re.search(r'aria-current="page"><span class="visually-hidden">Page </span>2', second)
    api1 = client.get("/api/v1/search?per_page=5&kind=field").get_json()
    api2 = client.get("/api/v1/search?per_page=5&kind=field&page=2").get_json()
    assert api1["pages"] == -(-api1["total"] // 5) > 1
    assert not {h["id"] for h in api1["hits"]} & {h["id"] for h in api2["hits"]}
    beyond = client.get("/search?per_page=5&kind=field&page=999")
    assert beyond.status_code == 200
    assert "no results on page 999" in beyond.get_data(as_text=True)


def test_search_mode_toggle_is_in_an_advanced_disclosure(client) -> None:
    html = client.get("/search?q=birth").get_data(as_text=True)
    details = html[html.index('<details class="advanced"'):html.index("</details>")]
    for mode in ("hybrid", "lexical", "semantic"):
        assert f'value="{mode}"' in details
    lexical = client.get("/search?q=birth&mode=lexical").get_data(as_text=True)
    assert '<details class="advanced" open>' in lexical


def test_unusual_queries_never_fail(client) -> None:
    long_query = ("date of birth " * 800)[:10_000]
    assert client.get("/search", query_string={"q": long_query}).status_code == 200
    assert client.get("/api/v1/search", query_string={"q": long_query}).status_code == 200
    for q in ("!!!", "'\"<>&;--", "*", "\"", "(", "NEAR(", "a OR", "%", "\\", "日付"):
        for mode in ("hybrid", "lexical", "semantic"):
            args = {"q": q, "mode": mode}
            assert client.get("/search", query_string=args).status_code == 200, q
            assert client.get("/api/v1/search", query_string=args).status_code == 200, q
    html = client.get("/search", query_string={"q": "<script>alert(1)</script>"}
                      ).get_data(as_text=True)
    assert "<script>alert(1)" not in html
    too_long = client.get("/search", query_string={"q": "x" * 10_001})
    assert too_long.status_code == 400
    assert "Please check your search" in too_long.get_data(as_text=True)


def test_dataset_page_shows_metadata_and_layout(client, web_catalog) -> None:
    html = client.get(f"/datasets/{web_catalog.datasets['enrollment-layout']}"
                      ).get_data(as_text=True)
    assert "Student Enrollment Record Layout" in html
    assert "State Department of Education" in html
    for header in ("Start", "End", "Width", "Label", "Description", "Type"):
        assert f'<th scope="col" class="num">{header}</th>' in html or \
            f'<th scope="col">{header}</th>' in html
    assert "<code>BDATE</code>" in html and "<td class=\"num\">11</td>" in html
    assert "<details class=\"codes-details\">" in html and "Reduced" in html
    assert "Annual" in html and "enrollment-layout" in html
    history = html[html.index("Change history"):]
    assert "Added to the catalog" in history

    html = client.get(f"/datasets/{web_catalog.datasets['foster-care-placements']}"
                      ).get_data(as_text=True)
    assert 'href="https://portal.ct.gov/dcf/data"' in html
    assert "Quarterly" in html and "2024-03-31" in html and "tests/webfixtures.py" in html
    assert ">Start</th>" not in html  # not a layout


def test_field_page_has_breadcrumbs_codes_and_similar_fields(client, web_catalog) -> None:
    dob = web_catalog.fields["DOB_DT"]
    html = client.get(f"/fields/{dob}").get_data(as_text=True)
    assert 'aria-label="Breadcrumb"' in html
    assert 'href="/agencies/dcf"' in html
    assert f'href="/datasets/{web_catalog.datasets["foster-care-placements"]}"' in html
    assert "Similar fields in other datasets" in html
    similar = html[html.index("Similar fields in other datasets"):]
    assert "Date of birth of the infant" in similar or "Claimant birth date" in similar
    assert "date of birth" in html  # PII flag
    assert_nothing_hidden(html, "field page")

    codes = client.get(f"/fields/{web_catalog.fields['PLCMT_TYPE_CD']}").get_data(as_text=True)
    assert "Value labels" in codes and "Congregate care" in codes
    # A field whose source gives no label says so in words, not as a bare "None".
    unlabelled = client.get(f"/fields/{web_catalog.fields['BDATE']}").get_data(as_text=True)
    assert "none in the source" in unlabelled and "<dd>None</dd>" not in unlabelled


def test_agency_pages(client, web_catalog) -> None:
    html = client.get("/agencies").get_data(as_text=True)
    assert html.count('<th scope="row">') == 4
    dcf = client.get("/agencies/dcf").get_data(as_text=True)
    assert "Foster Care Placements" in dcf
    assert_nothing_hidden(dcf, "/agencies/dcf")
    dol = client.get("/agencies/dol").get_data(as_text=True)
    assert "Unemployment Insurance Claims" in dol
    assert_nothing_hidden(dol, "/agencies/dol")


# ---------------------------------------------------------------------------- access


def test_access_is_public_only_for_visitors(web_catalog) -> None:
    with web_catalog.app.test_request_context("/"):
        assert audience().levels == ("public",) and audience().agencies == ()
    assert web_catalog.hidden_words == HIDDEN_WORDS
    assert len(web_catalog.hidden_datasets) == 3 and len(web_catalog.hidden_fields) == 5


def test_hidden_metadata_is_not_found_by_direct_url(client, web_catalog) -> None:
    urls = ["/agencies/zephoqo", "/api/v1/agencies/zephoqo"]
    for dataset_id in web_catalog.hidden_datasets:
        urls += [f"/datasets/{dataset_id}", f"/api/v1/datasets/{dataset_id}"]
    for field_id in web_catalog.hidden_fields:
        urls += [f"/fields/{field_id}", f"/api/v1/fields/{field_id}"]
    absent = client.get("/datasets/999999").get_data(as_text=True)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert_nothing_hidden(response.get_data(as_text=True), url)
        if not url.startswith("/api/"):
            assert response.get_data(as_text=True) == absent  # indistinguishable


def test_hidden_metadata_never_leaks_into_any_page(client, web_catalog) -> None:
    seen: set[str] = set()
    queue = ["/", "/agencies", "/search", "/search?kind=field&per_page=100",
             "/search?kind=dataset", "/api/v1/agencies", "/api/v1/search?per_page=100"]
    queue += [f"/api/v1/agencies/{s}" for s in ("dcf", "sde", "dol", "dph")]
    queue += [f"/api/v1/datasets/{i}" for n, i in web_catalog.datasets.items()
              if i not in web_catalog.hidden_datasets]
    queue += [f"/api/v1/fields/{i}" for i in web_catalog.fields.values()
              if i not in web_catalog.hidden_fields]
    while queue:  # crawl every internal link from those pages
        url = queue.pop()
        if url in seen or url.startswith("/static/"):
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        body = readable(response)  # the XLSX export is a zip of XML parts
        assert_nothing_hidden(body, url)
        if not url.startswith("/api/") and not url.startswith("/search?"):
            queue.extend(u.replace("&amp;", "&") for u in links(body))
    assert len(seen) > 40


@pytest.mark.parametrize("query", ["quokka xylograph", "zephyrine marmoset", "marmoset wages",
                                   "date of birth", "casework notes", "oversight ledger"])
@pytest.mark.parametrize("mode", ["hybrid", "lexical", "semantic"])
def test_searches_never_reveal_hidden_metadata(client, query: str, mode: str) -> None:
    for extra in ("", "&access_level=restricted", "&access_level=internal",
                  "&access_level=public&access_level=internal", "&agency=zephoqo"):
        url = f"/search?q={quote_plus(query)}&mode={mode}{extra}"
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_data(as_text=True).replace("zephoqo", "")  # the agency= param
        assert_nothing_hidden(without_query(body, query), url, query)
        api = client.get(f"/api/v1/search?q={quote_plus(query)}&mode={mode}&per_page=100{extra}")
        data = api.get_json()
        data.pop("query")
        assert_nothing_hidden(str(data), url)
        assert set(data["facets"].get("access_level", {})) <= {"public"}


def test_similar_fields_exclude_hidden_datasets(client, web_catalog) -> None:
    for name in ("DOB_DT", "CLMT_BIRTH_DT", "WBA_AMT", "CHILD_BIRTH_DT"):
        data = client.get(f"/api/v1/fields/{web_catalog.fields[name]}").get_json()
        assert data["similar"], name
        assert_nothing_hidden(str(data), name)
        assert all(h["access_level"] == "public" for h in data["similar"])


# ---------------------------------------------------------------------------- API


def test_api_search_shape(client, web_catalog) -> None:
    response = client.get("/api/v1/search?q=date+of+birth&kind=field&per_page=3")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    data = response.get_json()
    assert set(data) == {"query", "total", "page", "per_page", "pages", "facets", "hits"}
    assert data["query"]["q"] == "date of birth" and data["query"]["kind"] == "field"
    assert data["page"] == 1 and data["per_page"] == 3 and len(data["hits"]) == 3
    assert set(data["facets"]) >= {"kind", "agency", "data_type", "sensitivity"}
    hit = data["hits"][0]
    for key in ("kind", "id", "agency", "agency_name", "dataset", "dataset_title", "field",
                "title", "data_type", "access_level", "score", "highlight", "url"):
        assert key in hit
    assert hit["url"].endswith(f"/fields/{hit['id']}")
    assert client.get(hit["url"].replace("http://localhost", "")).status_code == 200


@pytest.mark.parametrize(
    ("query", "param"),
    [("per_page=1000", "per_page"), ("kind=bogus", "kind"), ("page=0", "page"),
     ("mode=fuzzy", "mode"), ("data_type=colour", "data_type"), ("page=abc", "page"),
     ("sensitivity=secret", "sensitivity")],
)
def test_api_bad_parameters_are_400(client, query: str, param: str) -> None:
    response = client.get(f"/api/v1/search?q=birth&{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["message"]
    assert list(error["fields"]) == [param]
    assert all(isinstance(m, str) for m in error["fields"][param])


def test_api_many_bad_parameters_are_all_reported(client) -> None:
    error = client.get("/api/v1/search?per_page=1000&kind=bogus&page=0").get_json()["error"]
    assert set(error["fields"]) == {"per_page", "kind", "page"}


def test_api_dataset_field_and_agencies(client, web_catalog) -> None:
    dataset_id = web_catalog.datasets["enrollment-layout"]
    data = client.get(f"/api/v1/datasets/{dataset_id}").get_json()
    assert data["id"] == dataset_id and data["layout"] is True
    assert data["agency"]["slug"] == "sde" and data["field_count"] == 5
    assert [f["name"] for f in data["fields"]][:2] == ["STU_ID", "BDATE"]
    assert data["fields"][1]["start_col"] == 11 and data["fields"][1]["dataset"] == \
        "enrollment-layout"

    field = client.get(f"/api/v1/fields/{web_catalog.fields['FRL_ELIG']}").get_json()
    assert field["name"] == "FRL_ELIG" and field["agency"] == "sde"
    assert {"code": "R", "label": "Reduced"} in field["value_labels"]
    assert isinstance(field["similar"], list)

    agencies = client.get("/api/v1/agencies").get_json()
    assert [a["slug"] for a in agencies["agencies"]] == ["dcf", "dol", "dph", "sde"]
    dol = next(a for a in agencies["agencies"] if a["slug"] == "dol")
    assert dol["dataset_count"] == 1 and dol["field_count"] == 4  # hidden one not counted
    one = client.get("/api/v1/agencies/dol").get_json()
    assert [d["identifier"] for d in one["datasets"]] == ["ui-claims"]
    assert "fields" not in one["datasets"][0]


def test_api_errors_are_json(client) -> None:
    for url in ("/api/v1/datasets/999999", "/api/v1/fields/999999", "/api/v1/agencies/nope",
                "/api/v1/nothing-here"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.get_json()["error"]["status"] == 404
    response = client.post("/api/v1/search")
    assert response.status_code == 405
    assert response.get_json()["error"]["status"] == 405


def test_html_errors_are_friendly_pages(client) -> None:
    for url in ("/no/such/page", "/datasets/999999", "/fields/999999", "/agencies/nope"):
        response = client.get(url)
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert "Page not found" in html and 'id="main"' in html
        assert parse(html).h1_count == 1
    bad = client.get("/search?page=0")
    assert bad.status_code == 400
    assert "Please check your search" in bad.get_data(as_text=True)


# ---------------------------------------------------------------------------- a11y basics


def test_accessibility_basics_on_every_kind_of_page(client, web_catalog) -> None:
    urls = ["/", "/search", "/search?q=date+of+birth", "/search?q=zzzz&agency=dph",
            "/agencies", "/agencies/dph",
            f"/datasets/{web_catalog.datasets['enrollment-layout']}",
            f"/datasets/{web_catalog.datasets['foster-care-placements']}",
            f"/fields/{web_catalog.fields['PLCMT_TYPE_CD']}", "/missing"]
    for url in urls:
        html = client.get(url).get_data(as_text=True)
        page = parse(html)
        assert page.h1_count == 1, url
        assert page.unlabelled_controls() == [], url
        for landmark in ("header", "nav", "main", "footer"):
            assert page.has(landmark) or any(t == landmark for t, _ in page.tags), url
        assert page.has("a", **{"class": "skip-link", "href": "#main"}), url
        assert page.has("html", lang="en"), url
        assert page.tables == page.captions, url
        assert page.th_without_scope == 0, url
        assert "https://" not in "".join(links(html))  # no external assets
        assert not re.search(r'(src|href)="(https?:)?//(?!portal\.ct\.gov)', html), url
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'<a href="/"\s+aria-current="page">Home</a>', home)
    agencies = client.get("/agencies").get_data(as_text=True)
    assert re.search(r'<a href="/agencies"\s+aria-current="page">Agencies</a>', agencies)


def test_static_css_is_served(client) -> None:
    response = client.get("/static/style.css")
    assert response.status_code == 200
    css = response.get_data(as_text=True)
    assert ":focus-visible" in css and "@import" not in css and "url(http" not in css
    response.close()


# ---------------------------------------------------------------------------- degraded index


def test_broken_index_gives_503_while_browsing_works(broken_index_app) -> None:
    app, built = broken_index_app
    client = app.test_client()
    response = client.get("/search?q=birth")
    assert response.status_code == 503
    assert "Search is unavailable" in response.get_data(as_text=True)
    api = client.get("/api/v1/search?q=birth")
    assert api.status_code == 503
    assert api.get_json()["error"]["status"] == 503
    assert client.get("/").status_code == 200
    assert client.get("/agencies/dcf").status_code == 200
    assert client.get(f"/datasets/{built.datasets['ui-claims']}").status_code == 200
    field = client.get(f"/fields/{built.fields['DOB_DT']}")
    assert field.status_code == 200
    assert "Similar fields are unavailable" in field.get_data(as_text=True)
    assert client.get(f"/api/v1/fields/{built.fields['DOB_DT']}").get_json()["similar"] is None


def test_unexpected_errors_are_friendly_500s(web_catalog) -> None:
    from web.app import create_app

    app = create_app(web_catalog.catalog)

    @app.get("/boom")
    def boom() -> str:  # a route that fails, to exercise the real error handlers
        raise RuntimeError("kaboom secret detail")

    @app.get("/api/v1/boom")
    def api_boom() -> str:
        raise RuntimeError("kaboom secret detail")

    client = app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500
    html = page.get_data(as_text=True)
    assert "Something went wrong" in html and "kaboom" not in html and 'id="main"' in html
    api = client.get("/api/v1/boom")
    assert api.status_code == 500
    assert api.get_json()["error"]["status"] == 500
    assert "kaboom" not in api.get_data(as_text=True)


TAB = re.compile(
    r'<a href="([^"]+)"[^>]*>(All|Datasets|Fields) <span class="count">([\d,]+)</span>')


@pytest.mark.parametrize("query", ["birth", "town", "mother age at delivery"])
def test_each_tab_count_is_the_total_of_the_view_it_opens(client, query: str) -> None:
    page = client.get(f"/search?q={quote_plus(query)}").get_data(as_text=True)
    tabs = TAB.findall(page)
    assert [label for _, label, _ in tabs] == ["All", "Datasets", "Fields"]
    for href, label, count in tabs:
        view = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
        api = client.get("/api/v1" + href.replace("&amp;", "&")).get_json()
        assert api["total"] == int(count.replace(",", "")), (query, label)
        # From inside the tab, every tab shows the same counts.
        assert TAB.findall(view) and [c for _, _, c in TAB.findall(view)] == [
            c for _, _, c in tabs]
    assert int(tabs[0][2].replace(",", "")) == sum(int(c.replace(",", "")) for _, _, c in tabs[1:])


def test_a_hit_names_what_it_stands_for_and_where_else_it_is(tmp_path, embedder) -> None:
    """A collapsed hit names the near-identical fields under it, each a link (the exact
    match of the query may be one of them), and the other datasets holding a copy."""
    catalog = Catalog(load_settings(data_dir=tmp_path / "data", database_url=None),
                      embedder=embedder)
    fields = [{"position": 1, "name": "THTOTINC", "label": "HH: Total household income"},
              {"position": 2, "name": "THEARN", "label": "HH: Total household earned income"},
              {"position": 3, "name": "TPTOTINC", "label": "Person: Total income"}]
    ids = []
    with catalog.transaction() as session:
        agency = find_or_create_agency(session, "U.S. Census Bureau", "Census")
        for identifier, source in (("sipp-core", "sipp.dct"), ("sipp-mirror", "mirror.dct")):
            record = DatasetInSchema().load({
                "identifier": identifier, "title": "SIPP core wave file",
                "description": f"Read from {source}.", "fields": fields})
            ids.append(upsert_dataset(session, record, agency=agency, fmt="test",
                                      provenance={}, actor="tests").dataset.id)
    catalog.index_datasets(ids)
    page = create_app(catalog).test_client().get("/search?q=household+income&kind=field")
    text = readable(page)
    print("\nsearch page:", " ".join(text[text.find("hit-more"):][:400].split()))
    html_text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "1 more in this dataset" in text and "also in" in text
    with catalog.session() as session:
        by_name = {(f.dataset.identifier, f.name): f.id for f in session.scalars(select(Field))}
    # Both household fields are reachable from the page, whichever leads; one copy of
    # each dataset's fields is listed, the other named as where else it is.
    shown = {int(n) for n in re.findall(r'href="/fields/(\d+)"', html_text)}
    household = {"THTOTINC", "THEARN"}
    assert any({by_name[(d, n)] for n in household} <= shown
               for d in ("sipp-core", "sipp-mirror"))
    also = re.search(r'class="hit-also">.*?href="/fields/(\d+)".*?<code[^>]*>([\w-]+)</code>',
                     html_text, re.S)
    assert also is not None
    copy_id, copy_dataset = int(also.group(1)), also.group(2)
    head = re.search(r'class="hit-title"><a href="/fields/(\d+)"', html_text)
    assert head is not None
    head_dataset = next(d for (d, _), i in by_name.items() if i == int(head.group(1)))
    assert copy_dataset != head_dataset  # the copy is in the other dataset,
    assert copy_id in {by_name[(copy_dataset, n)] for n in household}  # of a household field
    # On the field's page, its copy leads the similar fields, marked as a copy; the copy's
    # other fields (its own dataset's, published again) are not listed as similar.
    field_page = create_app(catalog).test_client().get(
        f"/fields/{by_name[('sipp-core', 'THTOTINC')]}").get_data(as_text=True)
    similar_part = field_page.split('id="similar-title"')[1]
    assert "the same field, published again" in similar_part
    assert f'href="/fields/{by_name[("sipp-mirror", "THTOTINC")]}"' in similar_part
    assert f'href="/fields/{by_name[("sipp-mirror", "THEARN")]}"' not in similar_part
    catalog.close()
