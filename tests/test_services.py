"""The test plumbing itself: a real PostgreSQL, a real headless Chromium, the fail/skip rule."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from tests import conftest


@pytest.mark.postgres
def test_postgres_answers_select_1(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar_one() == 1
            assert conn.execute(text("select current_database()")).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.browser
def test_browser_reads_title_of_a_data_url(page) -> None:
    html = "<!doctype html><title>Catalog plumbing</title><p>ok</p>"
    page.goto("data:text/html," + quote(html))
    assert page.title() == "Catalog plumbing"
    assert page.text_content("p") == "ok"


def test_missing_service_skips_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "REQUIRE_SERVICES", False)
    with pytest.raises(pytest.skip.Exception, match="redis unavailable: not running"):
        conftest.require_service("redis", "not running")


def test_missing_service_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "REQUIRE_SERVICES", True)
    with pytest.raises(pytest.fail.Exception, match="CATALOG_REQUIRE_SERVICES=1"):
        conftest.require_service("redis", "not running")
