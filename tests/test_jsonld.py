"""schema.org Dataset JSON-LD, extracted from the dataset pages with extruct."""

from __future__ import annotations

from typing import Any

import extruct

from tests.webfixtures import RECORDS, WebCatalog, add_account, sign_in


def jsonld_of(html: str, url: str) -> list[dict[str, Any]]:
    """The JSON-LD items extruct finds in a page."""
    return extruct.extract(html, base_url=url, syntaxes=["json-ld"])["json-ld"]


def test_every_public_dataset_page_describes_itself(client: Any, web_catalog: WebCatalog) -> None:
    for record in RECORDS:
        if record.get("access_level", "public") != "public":
            continue
        url = f"/datasets/{web_catalog.datasets[record['identifier']]}"
        [item] = jsonld_of(client.get(url).get_data(as_text=True), f"http://localhost{url}")
        assert item["@type"] == "Dataset" and item["name"] == record["title"]
        assert item["description"] == record["description"]
        assert item["identifier"] == record["identifier"]
        assert item["publisher"] == {
            "@type": "Organization",
            "name": record["agency"],
            "url": item["publisher"]["url"],
        }
        assert item["keywords"] == record["keywords"]
        assert item["url"].endswith(url) and item["dateModified"]
        assert {d["encodingFormat"] for d in item["distribution"]} == {
            "text/csv",
            "application/schema+json",
        }
        variables = item["variableMeasured"]
        assert [v["name"] for v in variables] == [f["name"] for f in record["fields"]]
        assert all(v["@type"] == "PropertyValue" for v in variables)
        for variable, field in zip(variables, record["fields"], strict=True):
            assert variable.get("description") == (field.get("description") or field["label"])


def test_foster_care_page_in_full(client: Any, web_catalog: WebCatalog) -> None:
    url = f"/datasets/{web_catalog.datasets['foster-care-placements']}"
    [item] = jsonld_of(client.get(url).get_data(as_text=True), f"http://localhost{url}")
    print("\nJSON-LD of", url, item)
    assert item["dateModified"] == "2024-03-31"
    assert item["sameAs"] == "https://portal.ct.gov/dcf/data"
    dob = item["variableMeasured"][1]
    assert dob["name"] == "DOB_DT" and dob["alternateName"] == "Birth date"
    assert dob["description"] == "Child's date of birth (MM/DD/YYYY)."


def test_hidden_datasets_carry_no_jsonld_even_for_those_who_may_see_them(
    web_catalog: WebCatalog,
) -> None:
    add_account(web_catalog.catalog, "jsonld-admin@example.org", "admin")
    client = web_catalog.app.test_client()
    sign_in(client, "jsonld-admin@example.org")
    for dataset_id in web_catalog.hidden_datasets:
        page = client.get(f"/datasets/{dataset_id}")
        assert page.status_code == 200
        assert jsonld_of(page.get_data(as_text=True), "http://localhost/") == []


def test_text_cannot_close_the_script(web_catalog: WebCatalog) -> None:
    from catalog.models import Agency, Dataset
    from web.jsonld import dataset_jsonld

    dataset = Dataset(
        id=1,
        identifier="x",
        title="</script><b>bold</b> & more",
        access_level="public",
        fields=[],
        keywords=[],
        agency=Agency(slug="a", name="A"),
        last_modified="2024-01-01",
    )
    with web_catalog.app.test_request_context("/"):
        block = str(dataset_jsonld(dataset))
    assert block.count("</script>") == 1 and "\\u003c/script\\u003e" in block
    [item] = jsonld_of(f"<html><head>{block}</head></html>", "http://localhost/")
    assert item["name"] == "</script><b>bold</b> & more"
