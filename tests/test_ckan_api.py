"""The CKAN Action API, called by the real ``ckanapi`` client and harvested by our own harvester."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ckanapi
import pytest

from indexer.harvesters import ckan
from indexer.http import Fetcher
from tests.live_server import serving
from tests.webfixtures import HIDDEN_WORDS, RECORDS, WebCatalog

PUBLIC = [r for r in RECORDS if r.get("access_level", "public") == "public"]
HIDDEN = [r for r in RECORDS if r.get("access_level", "public") != "public"]


@pytest.fixture(scope="module")
def live_url(web_catalog: WebCatalog) -> Iterator[str]:
    with serving(web_catalog.app) as url:
        yield url


@pytest.fixture(params=[False, True], ids=["post", "get"])
def remote(request: pytest.FixtureRequest, live_url: str) -> Iterator[ckanapi.RemoteCKAN]:
    """ckanapi's client, POSTing JSON (its default) or GETting (as our harvester does)."""
    with ckanapi.RemoteCKAN(live_url, user_agent="ckanapi-test", get_only=request.param) as client:
        yield client


def test_api_3_answers_as_api(client: Any) -> None:
    for path in (
        "package_list",
        "package_search?q=births&rows=2",
        "organization_list",
        "package_show?id=ui-claims",
        "status_show",
    ):
        versioned = client.get(f"/api/3/action/{path}")
        assert versioned.status_code == 200 and versioned.json["success"] is True
        assert versioned.json["result"] == client.get(f"/api/action/{path}").json["result"]


def test_package_list_and_show_give_public_datasets_with_their_dictionaries(
    remote: ckanapi.RemoteCKAN,
) -> None:
    names = remote.action.package_list()
    assert names == sorted(r["identifier"] for r in PUBLIC)
    package = remote.action.package_show(id="foster-care-placements")
    record = next(r for r in RECORDS if r["identifier"] == "foster-care-placements")
    assert package["name"] == "foster-care-placements"
    assert package["title"] == record["title"] and package["notes"] == record["description"]
    assert package["organization"]["title"] == record["agency"]
    assert [t["name"] for t in package["tags"]] == record["keywords"]
    assert package["private"] is False
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["accessLevel"] == "public" and extras["update_frequency"] == "Quarterly"
    [resource] = package["resources"]
    assert resource["datastore_active"] is True
    assert resource["url"].endswith(f"/datasets/{package['id']}/tableschema.json")
    columns = resource["fields"]
    assert [c["id"] for c in columns] == [f["name"] for f in record["fields"]]
    assert [c["info"]["label"] for c in columns] == [f["label"] for f in record["fields"]]
    assert columns[1]["info"]["notes"] == "Child's date of birth (MM/DD/YYYY)."
    assert [c["type"] for c in columns] == ["text", "date", "date", "text", "text"]
    # By id too; hidden ones are Not Found, by name and by id.
    assert remote.action.package_show(id=package["id"])["name"] == package["name"]
    for hidden in HIDDEN:
        with pytest.raises(ckanapi.NotFound):
            remote.action.package_show(id=hidden["identifier"])


def test_package_search_q_fq_rows_start_sort_and_facets(remote: ckanapi.RemoteCKAN) -> None:
    everything = remote.action.package_search(rows=100)
    assert everything["count"] == len(PUBLIC)
    assert [p["name"] for p in everything["results"]] == sorted(r["identifier"] for r in PUBLIC)
    found = remote.action.package_search(q="children placed in foster care")
    assert found["results"][0]["name"] == "foster-care-placements"
    assert found["count"] <= len(PUBLIC)
    dol = remote.action.package_search(fq="organization:dol")
    assert [p["name"] for p in dol["results"]] == ["ui-claims"]
    tagged = remote.action.package_search(fq='tags:"vital statistics"')
    assert [p["name"] for p in tagged["results"]] == ["birth-file"]
    both = remote.action.package_search(fq='organization:dol +tags:"births"')
    assert both["count"] == 0 and both["results"] == []
    pages = [
        remote.action.package_search(rows=1, start=i, sort="title_string desc")
        for i in range(len(PUBLIC))
    ]
    titles = [p["results"][0]["title"] for p in pages]
    assert titles == sorted((r["title"] for r in PUBLIC), key=str.lower, reverse=True)
    facets = remote.action.package_search(**{"facet.field": ["organization", "tags"]})
    assert facets["facets"]["organization"]["dol"] == 1
    assert sum(facets["facets"]["organization"].values()) == len(PUBLIC)
    items = facets["search_facets"]["organization"]["items"]
    assert {i["display_name"] for i in items} == {r["agency"] for r in PUBLIC}
    assert "marmoset" not in facets["facets"]["tags"]  # a hidden dataset's keyword


def test_organizations_groups_tags_and_status(remote: ckanapi.RemoteCKAN) -> None:
    slugs = remote.action.organization_list()
    assert "zephoqo" not in slugs  # only hidden datasets
    assert len(slugs) == len({r["agency"] for r in PUBLIC})
    full = remote.action.organization_list(all_fields=True)
    dcf = next(o for o in full if o["name"] == "dcf")
    assert dcf["package_count"] == 1  # its internal dataset is not counted
    shown = remote.action.organization_show(id="dol", include_datasets=True)
    assert shown["package_count"] == 1 and [p["name"] for p in shown["packages"]] == ["ui-claims"]
    with pytest.raises(ckanapi.NotFound):
        remote.action.organization_show(id="zephoqo")
    assert remote.action.group_list() == []
    tags = remote.action.tag_list()
    assert "foster care" in tags and "marmoset" not in tags
    assert remote.action.tag_list(query="vital") == ["vital statistics"]
    status = remote.action.status_show()
    assert status["ckan_version"].startswith("2.11") and "datastore" in status["extensions"]


def test_datastore_info_and_search_give_the_dictionary_only(remote: ckanapi.RemoteCKAN) -> None:
    package = remote.action.package_show(id="ui-claims")
    resource_id = package["resources"][0]["id"]
    info = remote.action.datastore_info(id=resource_id)
    assert [f["id"] for f in info["fields"]] == [
        "CLAIM_ID",
        "CLMT_BIRTH_DT",
        "HH_INCOME_APP",
        "WBA_AMT",
    ]
    assert info["fields"][2]["info"]["label"] == "Household income at application"
    assert info["fields"][2]["type"] == "numeric"
    search = remote.action.datastore_search(resource_id=resource_id, limit=0)
    assert search["records"] == [] and search["fields"][0] == {"id": "_id", "type": "int"}
    assert search["fields"][1:] == info["fields"]
    with pytest.raises(ckanapi.ValidationError) as refused:
        remote.action.datastore_search(resource_id=resource_id, limit=5)
    assert "limit=0" in str(refused.value.error_dict["limit"])
    hidden_id = f"{package['id']}0-dictionary"
    with pytest.raises(ckanapi.NotFound):
        remote.action.datastore_info(id=hidden_id)


def test_errors_come_in_ckans_envelope(client: Any, web_catalog: WebCatalog) -> None:
    unknown = client.get("/api/3/action/package_delete")
    assert unknown.status_code == 400 and unknown.json["success"] is False
    assert "Action name not known: package_delete" in unknown.json["error"]["message"]
    bad = client.get("/api/3/action/package_search?rows=many")
    assert bad.status_code == 409
    assert bad.json["error"] == {"__type": "Validation Error", "rows": ["Invalid integer: 'many'"]}
    fq = client.get("/api/3/action/package_search?fq=res_format:CSV")
    assert fq.status_code == 409 and "organization: and tags:" in fq.json["error"]["fq"][0]
    sort = client.get("/api/3/action/package_search?sort=views_recent desc")
    assert sort.status_code == 409 and "Cannot sort by" in sort.json["error"]["sort"][0]
    missing = client.get("/api/3/action/package_show")
    assert missing.status_code == 409 and missing.json["error"]["id"] == ["Missing value"]
    for hidden_id in web_catalog.hidden_datasets:
        answer = client.get(f"/api/3/action/package_show?id={hidden_id}")
        assert answer.status_code == 404 and answer.json["error"]["__type"] == "Not Found Error"
        assert not any(w in answer.get_data(as_text=True).lower() for w in HIDDEN_WORDS)
    assert (
        client.get("/api/3/action/help_show?name=package_search")
        .json["result"]
        .startswith("Search packages")
    )


def test_our_ckan_harvester_reads_this_catalog_back(live_url: str) -> None:
    with Fetcher(retries=0) as fetcher:
        items = list(ckan.harvest(live_url, fetcher=fetcher, options={"rows": 2}))
    assert [i.error for i in items] == [None] * len(PUBLIC)
    harvested = {i.dataset["identifier"]: i.dataset for i in items}
    assert set(harvested) == {r["identifier"] for r in PUBLIC}
    for record in PUBLIC:
        got = harvested[record["identifier"]]
        assert got["title"] == record["title"]
        assert got["description"] == record.get("description")
        assert got["agency"] == record["agency"]
        assert got["keywords"] == record.get("keywords", [])
        assert got["access_level"] == "public"
        same = [
            (f["position"], f["name"], f.get("label"), f.get("description")) for f in got["fields"]
        ]
        assert same == [
            (f["position"], f["name"], f.get("label"), f.get("description"))
            for f in record["fields"]
        ], record["identifier"]
