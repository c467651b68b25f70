"""Single sign-on with OpenID Connect, against a real provider on loopback.

The provider below is small but speaks the protocol for real: discovery, the authorization
endpoint (redirecting back with a code and the state), the token endpoint (checking the
client's secret, the code and the redirect URI, and returning an RS256-signed ID token with
the nonce), the JWKS and userinfo. The catalog's Authlib client talks to it over HTTP; the
catalog's rules decide who may come in: a linked subject, or a verified e-mail address of an
existing account; never an unverified one; roles always from the catalog.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask, jsonify, redirect
from flask import request as provider_request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.service import Catalog
from tests.webfixtures import add_account, sign_in
from web.app import create_app

CLIENT_ID = "catalog-test"
CLIENT_SECRET = "provider-secret-for-tests"


@dataclass
class Provider:
    """A live OpenID Connect provider: who signs in next, and the codes it has issued."""

    url: str = ""
    person: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0


def provider_app(state: Provider) -> Flask:
    key = RSAKey.generate_key(2048, parameters={"kid": "test-1"})
    app = Flask("oidc-provider")

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify(issuer=state.url, authorization_endpoint=f"{state.url}/authorize",
                       token_endpoint=f"{state.url}/token", jwks_uri=f"{state.url}/jwks",
                       userinfo_endpoint=f"{state.url}/userinfo",
                       response_types_supported=["code"], subject_types_supported=["public"],
                       id_token_signing_alg_values_supported=["RS256"])

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(keys=[key.as_dict(private=False)])

    @app.get("/authorize")
    def authorize() -> Any:
        args = provider_request.args
        assert args["client_id"] == CLIENT_ID and args["response_type"] == "code"
        code = secrets.token_urlsafe(16)
        state.codes[code] = {"nonce": args.get("nonce"), "redirect_uri": args["redirect_uri"]}
        query = urlencode({"code": code, "state": args["state"]})
        return redirect(f"{args['redirect_uri']}?{query}")

    @app.post("/token")
    def token() -> Any:
        state.token_requests += 1
        form = provider_request.form
        auth = provider_request.authorization
        client = (auth.username, auth.password) if auth else (form.get("client_id"),
                                                              form.get("client_secret"))
        if client != (CLIENT_ID, CLIENT_SECRET):
            return jsonify(error="invalid_client"), 401
        issued = state.codes.pop(form.get("code", ""), None)
        if issued is None or issued["redirect_uri"] != form.get("redirect_uri"):
            return jsonify(error="invalid_grant"), 400
        now = int(time.time())
        claims = {"iss": state.url, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "nonce": issued["nonce"], **state.person}
        id_token = jwt.encode({"alg": "RS256", "kid": "test-1"}, claims, key)
        return jsonify(access_token=secrets.token_urlsafe(16), token_type="Bearer",
                       expires_in=300, id_token=id_token)

    @app.get("/userinfo")
    def userinfo() -> Any:
        return jsonify(state.person)

    return app


@pytest.fixture
def provider() -> Iterator[Provider]:
    state = Provider()
    server = make_server("127.0.0.1", 0, provider_app(state), threaded=True)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def sso_site(tmp_path: Path, embedder: Embedder, provider: Provider) -> Iterator[Catalog]:
    settings = replace(load_settings(data_dir=tmp_path / "data", database_url=None,
                                     elasticsearch_url=None, redis_url=None),
                       oidc_issuer=provider.url, oidc_client_id=CLIENT_ID,
                       oidc_client_secret=CLIENT_SECRET, oidc_label="State Login",
                       base_url="http://catalog.test")
    catalog = Catalog(settings, embedder=embedder)
    add_account(catalog, "steward@ct.example", "viewer")
    yield catalog
    catalog.close()


def sign_in_with_provider(app: Flask, provider: Provider, person: dict[str, Any],
                          next_path: str = "/agencies") -> tuple[Any, Any]:
    """Walk the real redirects: catalog → provider → catalog callback (which fetches tokens)."""
    provider.person = person
    client = app.test_client()
    login = client.get(f"/login?next={next_path}").get_data(as_text=True)
    assert "Sign in with State Login" in login
    start = client.get(f"/login/sso?next={next_path}")
    assert start.status_code == 302
    location = start.headers["Location"]
    assert location.startswith(provider.url + "/authorize?"), location
    assert parse_qs(urlsplit(location).query)["nonce"]
    back = requests.get(location, allow_redirects=False, timeout=10)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    assert callback.path == "/login/sso/callback"
    done = client.get(f"{callback.path}?{callback.query}")
    return client, done


def test_a_verified_address_of_an_existing_account_signs_in_and_is_linked(
        sso_site: Catalog, provider: Provider) -> None:
    app = create_app(sso_site)
    person = {"sub": "ct-0001", "email": "Steward@CT.example", "email_verified": True,
              "name": "A Steward", "role": "admin"}
    client, done = sign_in_with_provider(app, provider, person)
    assert done.status_code == 302 and done.headers["Location"].endswith("/agencies")
    account = client.get("/account").get_data(as_text=True)
    assert "steward@ct.example" in account
    assert provider.token_requests == 1
    users = client.get("/users")  # the provider's "role" claim gives nothing: not an admin
    assert users.status_code == 404
    # Linked: the same subject signs in again even with another (unverified) address.
    client, done = sign_in_with_provider(app, provider, {**person, "email": "other@x.example",
                                                          "email_verified": False})
    assert "steward@ct.example" in client.get("/account").get_data(as_text=True)


def test_unverified_or_unknown_people_are_refused(sso_site: Catalog, provider: Provider) -> None:
    app = create_app(sso_site)
    for person in ({"sub": "ct-0002", "email": "steward@ct.example", "email_verified": False},
                   {"sub": "ct-0003", "email": "stranger@ct.example", "email_verified": True}):
        client, done = sign_in_with_provider(app, provider, person)
        assert done.status_code == 302 and done.headers["Location"].endswith("/login")
        assert client.get("/account").status_code in (302, 401)


def test_a_replayed_or_forged_callback_is_refused(sso_site: Catalog, provider: Provider) -> None:
    app = create_app(sso_site)
    provider.person = {"sub": "ct-0001", "email": "steward@ct.example", "email_verified": True}
    victim = app.test_client()
    location = victim.get("/login/sso").headers["Location"]
    back = urlsplit(requests.get(location, allow_redirects=False, timeout=10).headers["Location"])
    attacker = app.test_client()  # another browser: no state in its session
    done = attacker.get(f"{back.path}?{back.query}")
    assert done.headers["Location"].endswith("/login")
    assert attacker.get("/account").status_code in (302, 401)
    assert provider.token_requests == 0


def test_a_provider_that_is_down_leaves_password_sign_in_working(
        sso_site: Catalog, provider: Provider) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings = replace(sso_site.settings, oidc_issuer=f"http://127.0.0.1:{closed}")
    down = Catalog(settings, embedder=sso_site.embedder)
    try:
        client = create_app(down).test_client()
        answer = client.get("/login/sso")
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")
        assert "unavailable right now" in client.get("/login").get_data(as_text=True)
        sign_in(client, "steward@ct.example")
        assert "steward@ct.example" in client.get("/account").get_data(as_text=True)
    finally:
        down.close()
