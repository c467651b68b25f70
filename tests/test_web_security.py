"""The web app as an attacker tries it: redirects, sessions, guessing, cookies, hosts, ids.

Each test drives the real app (Flask's test client over the real catalog and accounts).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.service import Catalog
from tests.webfixtures import PASSWORD, WebCatalog, add_account, build_catalog, csrf_of, sign_in
from web.app import create_app
from web.auth import safe_next


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
            ) -> Iterator[WebCatalog]:
    """A small real catalog with a viewer, a DOL steward and an administrator."""
    catalog = Catalog(load_settings(data_dir=tmp_path_factory.mktemp("secure"),
                                    database_url=None, elasticsearch_url=None),
                      embedder=embedder)
    built = build_catalog(catalog)
    add_account(catalog, "viewer@example.org", "viewer")
    add_account(catalog, "steward@example.org", "steward", ("dol",))
    add_account(catalog, "admin@example.org", "admin")
    yield built
    catalog.close()


def app_with(secured: WebCatalog, **settings: Any) -> Flask:
    """Another app over the same catalog, with other settings."""
    catalog = secured.catalog
    changed = load_settings(**{**{f: getattr(catalog.settings, f)
                                  for f in catalog.settings.__dataclass_fields__}, **settings})
    catalog.settings = changed
    try:
        return create_app(catalog, changed)
    finally:
        catalog.settings = secured.app.config["CATALOG_SETTINGS"]


# ------------------------------------------------------------------------ redirects


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
    "/%09/evil.example/phish", "/%2F/evil.example", "/%5Cevil.example", "/\t/evil.example",
    "/%0d%0aSet-Cookie:%20x=1", "/\r\nSet-Cookie: x=1", "javascript:alert(1)",
    "http:/evil.example", "/%252F%252Fevil.example", "", "x" * 3000,
])
def test_next_refuses_everything_but_a_same_site_path(secured: WebCatalog, target: str) -> None:
    with secured.app.test_request_context("/"):
        assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", ["/", "/search?q=birth+date", "/datasets/3#fields"])
def test_next_keeps_a_same_site_path(secured: WebCatalog, target: str) -> None:
    with secured.app.test_request_context("/"):
        assert safe_next(target, "/fallback") == target


@pytest.mark.parametrize("target", ["/%09/evil.example/phish", "//evil.example",
                                    "/\r\nX-Injected: 1"])
def test_sign_in_never_redirects_off_site(secured: WebCatalog, target: str) -> None:
    client = secured.app.test_client()
    csrf = csrf_of(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"email": "viewer@example.org", "password": PASSWORD,
                                         "csrf": csrf, "next": target})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"
    assert "X-Injected" not in answer.headers
    assert client.get(f"/login?next={target}").status_code in (200, 302)


# ------------------------------------------------------------------------- sessions


def test_signing_out_ends_the_session_on_the_server(secured: WebCatalog) -> None:
    client = secured.app.test_client()
    csrf = sign_in(client, "viewer@example.org")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert client.get("/account").status_code == 200
    assert client.post("/logout", data={"csrf": csrf}).status_code == 302
    thief = secured.app.test_client()
    thief.set_cookie("session", cookie.value)  # a copy taken before the sign-out
    answer = thief.get("/account")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_new_sign_in_drops_the_old_session_content(secured: WebCatalog) -> None:
    client = secured.app.test_client()
    before = csrf_of(client.get("/login").get_data(as_text=True))
    after = sign_in(client, "viewer@example.org")
    assert before != after  # no session fixation: the anonymous session is not carried over


def test_a_password_reset_ends_every_session_of_the_account(secured: WebCatalog) -> None:
    from catalog import accounts

    add_account(secured.catalog, "reset@example.org", "viewer")
    client = secured.app.test_client()
    sign_in(client, "reset@example.org")
    with secured.catalog.transaction() as session:
        user = accounts.get_user(session, "reset@example.org")
        assert user is not None
        accounts.set_password(session, user, "another long password")
    assert client.get("/account").status_code == 302


def test_failed_sign_ins_are_throttled_per_account(secured: WebCatalog) -> None:
    add_account(secured.catalog, "guessed@example.org", "viewer")
    client = secured.app.test_client()
    csrf = csrf_of(client.get("/login").get_data(as_text=True))
    codes = [client.post("/login", data={"email": "guessed@example.org", "password": f"no{i}",
                                         "csrf": csrf}).status_code for i in range(8)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    # Even the right password is refused while throttled, and says when to come back.
    right = client.post("/login", data={"email": "guessed@example.org", "password": PASSWORD,
                                        "csrf": csrf})
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0


def test_failed_sign_ins_are_throttled_per_address(secured: WebCatalog) -> None:
    client = secured.app.test_client()
    csrf = csrf_of(client.get("/login").get_data(as_text=True))
    environ = {"REMOTE_ADDR": "198.51.100.7"}
    codes = [client.post("/login", data={"email": f"nobody{i}@example.org", "password": "x" * 12,
                                         "csrf": csrf}, environ_base=environ).status_code
             for i in range(22)]
    assert codes.count(401) == 20 and codes[-1] == 429
    other = client.post("/login", data={"email": "viewer@example.org", "password": PASSWORD,
                                        "csrf": csrf}, environ_base={"REMOTE_ADDR": "198.51.100.8"})
    assert other.status_code == 302  # another address is not locked out


def test_cookies_are_samesite_httponly_and_secure_on_https(secured: WebCatalog) -> None:
    plain = secured.app.test_client()
    header = plain.get("/login").headers.get("Set-Cookie", "")
    assert "SameSite=Lax" in header and "HttpOnly" in header and "Secure" not in header
    https = app_with(secured, base_url="https://catalog.example.gov").test_client()
    header = https.get("/login").headers.get("Set-Cookie", "")
    assert "SameSite=Lax" in header and "HttpOnly" in header and "Secure" in header


# --------------------------------------------------------------------- CSRF, tokens


def post_routes(app: Flask) -> list[tuple[str, str]]:
    """Every rule that accepts POST, PATCH or DELETE, with its arguments filled in."""
    urls = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & {"POST", "PATCH", "DELETE"}):
            values = {arg: ("1" if "id" in arg else "x") for arg in rule.arguments}
            urls.append((method, rule.build(values, append_unknown=False)[1]))
    return urls


def test_every_form_and_endpoint_refuses_a_request_without_the_csrf_token(
    secured: WebCatalog
) -> None:
    client = secured.app.test_client()
    sign_in(client, "admin@example.org")
    routes = post_routes(secured.app)
    urls = [url for _, url in routes]
    assert len(routes) >= 8 and "/logout" in urls and "/admin/users" in urls
    # The stewards' forms and endpoints are among them (edits, reverts, uploads, suggestions).
    assert {"/datasets/1/edit", "/fields/1/edit", "/changes/1/revert",
            "/datasets/1/documentation", "/documentation/1/apply", "/fields/1/suggest",
            "/suggestions/1/decide", "/api/v1/datasets/1", "/api/v1/fields/1"} <= set(urls)
    for method, url in routes:
        assert client.open(url, method=method, data={}).status_code == 400, url
        assert client.open(url, method=method, data={"csrf": "forged"}).status_code == 400, url
        assert client.open(url, method=method, json={},
                           headers={"X-CSRF-Token": "forged"}).status_code == 400, url


def test_a_refused_form_page_says_why(secured: WebCatalog) -> None:
    """The HTML error page carries the reason given where the request was refused (an
    expired form), and keeps its friendly wording for an error raised without one."""
    client = secured.app.test_client()
    sign_in(client, "viewer@example.org")
    page = client.post("/logout", data={"csrf": "expired"})
    assert page.status_code == 400
    assert "The form expired or did not come from this site" in page.get_data(as_text=True)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    text = missing.get_data(as_text=True)
    assert "There is nothing at this address" in text
    assert "requested URL was not found" not in text  # werkzeug's generic description


def test_api_tokens_work_until_revoked(secured: WebCatalog) -> None:
    client = secured.app.test_client()
    sign_in(client, "viewer@example.org")
    page = client.post("/account/tokens",
                       data={"label": "script", "csrf": csrf_of(client.get("/account")
                                                                .get_data(as_text=True))})
    assert page.status_code == 201
    token = page.get_data(as_text=True).split('<code id="new-token">', 1)[1].split("<", 1)[0]
    assert token.startswith("cat_")
    api = secured.app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    internal = secured.datasets["quokka-casework"]
    assert api.get(f"/api/v1/datasets/{internal}").status_code == 404  # anonymous
    assert api.get(f"/api/v1/datasets/{internal}", headers=headers).status_code == 200
    assert api.get(f"/api/v1/datasets/{internal}", headers={"Authorization": token}
                   ).status_code == 200  # bare, as CKAN clients send a key
    assert token not in client.get("/account").get_data(as_text=True)  # shown once
    token_id = int(client.get("/account").get_data(as_text=True)
                   .split("/account/tokens/", 1)[1].split("/", 1)[0])
    csrf = csrf_of(client.get("/account").get_data(as_text=True))
    assert client.post(f"/account/tokens/{token_id}/revoke", data={"csrf": csrf}
                       ).status_code == 302
    refused = api.get(f"/api/v1/datasets/{internal}", headers=headers)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["status"] == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.get("/api/v1/agencies", headers={"Authorization": "Bearer cat_made-up"}
                   ).status_code == 401
    # Credentials of another scheme are refused, not served as an anonymous visitor.
    basic = api.get("/api/v1/agencies", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401 and "Bearer" in basic.get_json()["error"]["message"]
    assert api.get("/api/v1/agencies").status_code == 200
    # A bare key, as CKAN clients send one, is read as the token it is.
    assert api.get("/api/v1/agencies", headers={"Authorization": "cat_made-up"}
                   ).status_code == 401


def test_a_disabled_account_is_shut_out_and_an_enabled_one_comes_back(
        secured: WebCatalog) -> None:
    """An administrator disables an account in the web app: its open session ends, its
    API token stops working, its password no longer signs it in (told so, not "wrong
    password"); enabled again, the same token works and it signs in."""
    add_account(secured.catalog, "leaver@example.org", "viewer")
    person = secured.app.test_client()
    csrf = sign_in(person, "leaver@example.org")
    made = person.post("/account/tokens", data={"label": "etl", "csrf": csrf})
    token = made.get_data(as_text=True).split('<code id="new-token">', 1)[1].split("<", 1)[0]
    bearer = {"Authorization": f"Bearer {token}"}
    internal = secured.datasets["quokka-casework"]
    api = secured.app.test_client()
    assert api.get(f"/api/v1/datasets/{internal}", headers=bearer).status_code == 200

    admin = secured.app.test_client()
    admin_csrf = sign_in(admin, "admin@example.org")
    page = admin.get("/admin/users").get_data(as_text=True)
    user_id = int(page.split("leaver@example.org", 1)[1]
                  .split("/admin/users/", 1)[1].split("/", 1)[0])
    done = admin.post(f"/admin/users/{user_id}/active",
                      data={"active": "0", "csrf": admin_csrf}, follow_redirects=True)
    assert "Disabled leaver@example.org" in done.get_data(as_text=True)
    assert person.get("/account").status_code == 302  # the session ended
    assert api.get(f"/api/v1/datasets/{internal}", headers=bearer).status_code == 401
    again = secured.app.test_client()
    login_csrf = csrf_of(again.get("/login").get_data(as_text=True))
    refused = again.post("/login", data={"email": "leaver@example.org", "password": PASSWORD,
                                         "csrf": login_csrf})
    assert refused.status_code == 403 and "This account is disabled" in \
        refused.get_data(as_text=True)
    wrong = again.post("/login", data={"email": "leaver@example.org", "password": "not it",
                                       "csrf": login_csrf})
    assert wrong.status_code == 401  # a wrong password learns nothing of the account's state
    # An administrator cannot disable their own account.
    from catalog import accounts

    with secured.catalog.session() as session:
        admin_user = accounts.get_user(session, "admin@example.org")
        assert admin_user is not None
        own_id = admin_user.id
    assert "Active (you)" in page
    own = admin.post(f"/admin/users/{own_id}/active", data={"active": "0", "csrf": admin_csrf},
                     follow_redirects=True)
    assert "you cannot disable your own account" in own.get_data(as_text=True)

    admin.post(f"/admin/users/{user_id}/active", data={"active": "1", "csrf": admin_csrf})
    assert api.get(f"/api/v1/datasets/{internal}", headers=bearer).status_code == 200
    sign_in(again, "leaver@example.org")


def test_tokens_are_stored_hashed(secured: WebCatalog) -> None:
    from sqlalchemy import select

    from catalog import accounts
    from catalog.models import ApiToken

    with secured.catalog.transaction() as session:
        user = accounts.get_user(session, "admin@example.org")
        assert user is not None
        token, _ = accounts.issue_token(session, user, "x")
    with secured.catalog.session() as session:
        stored = [t.token_hash for t in session.scalars(select(ApiToken))]
    assert token not in stored and all(len(h) == 64 for h in stored)


# ---------------------------------------------------------------- hosts, ids, types


def test_absolute_urls_come_from_the_base_url_not_the_host_header(secured: WebCatalog) -> None:
    app = app_with(secured, base_url="https://catalog.example.gov")
    client = app.test_client()
    data = client.get("/api/v1/search?q=birth", headers={"Host": "evil.example"}).get_json()
    assert data["hits"] and all(h["url"].startswith("https://catalog.example.gov/")
                                for h in data["hits"])
    dataset = client.get(f"/api/v1/datasets/{secured.datasets['ui-claims']}",
                         headers={"Host": "evil.example"}).get_json()
    assert dataset["url"].startswith("https://catalog.example.gov/datasets/")


def test_ids_beyond_what_the_database_holds_are_not_found(secured: WebCatalog) -> None:
    client = secured.app.test_client()
    huge = 2**63
    routes = [r for r in secured.app.url_map.iter_rules()
              if "GET" in (r.methods or set()) and any(
                  type(r._converters[a]).__name__ == "DatabaseId" for a in r.arguments)]
    assert len(routes) >= 5
    for rule in routes:
        values = {a: (huge if type(rule._converters[a]).__name__ == "DatabaseId" else "x")
                  for a in rule.arguments}
        url = rule.rule
        for key, value in values.items():
            url = url.replace(f"<int:{key}>", str(value)).replace(f"<{key}>", str(value))
        assert client.get(url).status_code == 404, url
        assert client.get(url.replace(str(huge), str(10**30))).status_code == 404, url


def test_csv_exports_say_their_charset_once(secured: WebCatalog) -> None:
    client = secured.app.test_client()
    answer = client.get(f"/datasets/{secured.datasets['ui-claims']}/fields.csv")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].count("charset") == 1


def test_load_exits_non_zero_when_a_file_failed(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from web.cli import main

    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "good.csv").write_text("name,description\nCLIENT_ID,Client identifier\n", "utf-8")
    (folder / "broken.json").write_text('{"dataset": [', "utf-8")
    monkeypatch.setenv("CATALOG_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["load", str(folder), "--no-index"])
    assert result.exit_code == 1, result.output
    assert "1 loaded" in result.output and "1 failed" in result.output
    assert "FAILED: 1 of 2 file(s) could not be loaded" in result.output


def test_the_secret_key_is_configured_or_kept_in_the_data_directory(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from dataclasses import replace as with_

    from catalog.config import load_settings
    from web.app import secret_key

    settings = load_settings(data_dir=tmp_path / "data", database_url=None)
    settings = with_(settings, secret_key=None)
    first = secret_key(settings)
    assert len(first) == 64 and secret_key(settings) == first  # every process reads it
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert secret_key(with_(settings, secret_key="configured-key-" * 3)) == "configured-key-" * 3
    (tmp_path / "file").write_text("not a directory")
    with caplog.at_level("ERROR"):
        fallback = secret_key(with_(settings, data_dir=tmp_path / "file"))
    assert len(fallback) == 64 and "set CATALOG_SECRET_KEY" in caplog.text
