"""The OpenAPI description of /api/v1, and schemathesis fuzzing the real app against it.

The fuzzing runs with a bounded budget (``EXAMPLES`` cases per operation and caller, fixed
seed), anonymous and with a viewer's API token, on a catalog of its own (the signed-in
caller drafts requests). Every response must be no server error and conform to the
description (status documented, content type, body schema): schemathesis's checks.
"""

from __future__ import annotations

import contextlib
import warnings
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate as validate_openapi

from catalog import accounts
from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.service import Catalog
from tests.webfixtures import add_account, build_catalog

EXAMPLES = 25


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[tuple[Flask, str]]:
    catalog = Catalog(
        load_settings(data_dir=tmp_path_factory.mktemp("openapi"), database_url=None),
        embedder=embedder,
    )
    built = build_catalog(catalog)
    email = add_account(catalog, "fuzzer@example.org", "viewer")
    with catalog.transaction() as session:
        token, _ = accounts.issue_token(session, accounts.get_user(session, email), "fuzz")
    yield built.app, token
    catalog.close()


def test_the_description_is_valid_openapi_3_1_and_covers_every_route(
    client: Any, web_catalog: Any
) -> None:
    spec = client.get("/api/v1/openapi.json").json
    validate_openapi(spec)
    assert spec["openapi"] == "3.1.0"
    routes = {
        r.rule
        for r in web_catalog.app.url_map.iter_rules()
        if r.rule.startswith("/api/v1") and r.endpoint.split(".")[0] != "openapi"
    }
    described = {p.replace("{", "<").replace("}", ">") for p in spec["paths"]}
    assert {r.replace("<int:", "<") for r in routes} == described
    dataset = spec["components"]["schemas"]["DatasetOut"]["properties"]
    assert dataset["fields"]["items"] == {"$ref": "#/components/schemas/FieldOut"}
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "GET /api/v1/search" in page.get_data(as_text=True)
    assert "cdn" not in page.get_data(as_text=True).lower()


def fuzz(
    operation: Any, who: str, headers: dict[str, str], counts: Counter[str], failures: list[str]
) -> Any:
    """A hypothesis test of one operation as one caller, counting what it sees."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        counts["cases"] += 1
        counts[f"{response.status_code // 100}xx"] += 1
        try:
            case.validate_response(response, headers=headers)
        except Exception as exc:  # a check failed: note it, and let hypothesis shrink it
            failures.append(f"{who} {operation.label}: {str(exc)[:600]}")
            raise

    return run


def test_schemathesis_finds_no_server_error_and_no_answer_off_the_spec(
    fuzzed: tuple[Flask, str],
) -> None:
    app, token = fuzzed
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    counts: Counter[str] = Counter()
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for who, headers in (("anonymous", {}), ("viewer", {"Authorization": f"Bearer {token}"})):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # A failure is noted in ``failures`` (hypothesis shrank it to one case).
                with contextlib.suppress(Exception, BaseExceptionGroup):
                    fuzz(operation, who, headers, counts, failures)()
    print(
        f"\nschemathesis: {operations} operations, {counts['cases']} cases, "
        f"{counts['5xx']} server errors, {len(failures)} failing operations; "
        f"statuses {dict(sorted((k, v) for k, v in counts.items() if k.endswith('xx')))}"
    )
    for failure in failures:
        print(" -", failure.replace("\n", " ")[:600])
    assert operations >= 16 and counts["cases"] >= operations * 2
    assert counts["5xx"] == 0
    assert failures == []
