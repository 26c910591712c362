"""POST /oauth/token and the bearer tokens it issues: RFC 6749 answers, expiry, revocation, clients file."""

from __future__ import annotations

import base64
from urllib.parse import quote_plus

import pytest
import yaml

from gateway.clock import ManualClock
from gateway.config import Api, Config
from gateway.errors import ConfigurationError
from gateway.auth.hashes import hash_secret
from gateway.auth.oauth import create_client, load_clients_file
from gateway.web.app import create_app
from tests import storage

SITES = "/partner/v1/dealers/12345/sites"


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.fixture
async def credentials(store, clock):
    return await create_client(store, "12345", "acme", clock)


async def token_call(client, data=None, headers=None):
    resp = await client.post("/oauth/token", data=data if data is not None else {}, headers=headers or {})
    return resp.status, await resp.json(), resp.headers


async def test_form_credentials_give_a_bearer_token_that_opens_the_partner_api(client, credentials):
    client_id, secret = credentials
    status, body, headers = await token_call(client, {"grant_type": "client_credentials", "client_id": client_id,
                                                      "client_secret": secret})
    assert status == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and len(body["access_token"]) >= 40
    assert headers["Cache-Control"] == "no-store"
    resp = await client.get(SITES, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert resp.status == 200 and await resp.json() == []


async def test_basic_credentials_are_url_decoded(client, store, clock):
    from gateway.stores import OAuthClient

    await store.add_oauth_client(OAuthClient(client_id="acme:east", dealer_id="12345", name=None,
                                             secret_hash=hash_secret("s3cr:t+/="), created_at=clock.now()))
    status, body, _ = await token_call(client, {"grant_type": "client_credentials"}, basic("acme:east", "s3cr:t+/="))
    assert status == 200, body


@pytest.mark.parametrize("form, error", [
    ({"grant_type": "password", "username": "x", "password": "y"}, "unsupported_grant_type"),
    ({"client_id": "x", "client_secret": "y"}, "invalid_request"),
])
async def test_bad_grants_are_400(client, form, error):
    status, body, _ = await token_call(client, form)
    assert (status, body["error"]) == (400, error)


async def test_json_body_is_invalid_request(client, credentials):
    resp = await client.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert resp.status == 400 and (await resp.json())["error"] == "invalid_request"


async def test_credentials_in_both_places_is_invalid_request(client, credentials):
    client_id, secret = credentials
    status, body, _ = await token_call(client, {"grant_type": "client_credentials", "client_id": client_id,
                                                "client_secret": secret}, basic(client_id, secret))
    assert (status, body["error"]) == (400, "invalid_request")


@pytest.mark.parametrize("case", ["wrong secret", "unknown client", "no credentials", "garbled basic"])
async def test_failed_client_authentication_is_401_invalid_client(client, credentials, case):
    client_id, secret = credentials
    form = {"grant_type": "client_credentials"}
    headers = {}
    if case == "wrong secret":
        form |= {"client_id": client_id, "client_secret": secret + "x"}
    elif case == "unknown client":
        form |= {"client_id": "gwc_nobody", "client_secret": secret}
    elif case == "garbled basic":
        headers = {"Authorization": "Basic !!!"}
    status, body, resp_headers = await token_call(client, form, headers)
    assert (status, body["error"]) == (401, "invalid_client")
    assert resp_headers["WWW-Authenticate"].startswith("Basic")


async def test_token_expires_with_the_clock(client, credentials, clock: ManualClock):
    client_id, secret = credentials
    _, body, _ = await token_call(client, {"grant_type": "client_credentials", "client_id": client_id,
                                           "client_secret": secret})
    auth = {"Authorization": f"Bearer {body['access_token']}"}
    clock.advance(3599)
    assert (await client.get(SITES, headers=auth)).status == 200
    clock.advance(1)
    resp = await client.get(SITES, headers=auth)
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "UNAUTHORIZED"
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not-a-token", "Basic abc"])
async def test_missing_or_unknown_token_is_401(client, authorization):
    resp = await client.get(SITES, headers={"Authorization": authorization} if authorization else {})
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


async def test_revoked_client_loses_its_tokens_and_its_secret(client, store, credentials, clock):
    client_id, secret = credentials
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    _, body, _ = await token_call(client, form)
    assert await store.revoke_oauth_client(client_id, clock.now())
    resp = await client.get(SITES, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert resp.status == 401
    status, body, _ = await token_call(client, form)
    assert (status, body["error"]) == (401, "invalid_client")
    assert not await store.revoke_oauth_client(client_id, clock.now())


async def test_secret_is_stored_as_argon2_and_token_as_sha256(store, client, credentials, config):
    client_id, secret = credentials
    stored = await store.oauth_client(client_id)
    assert stored.secret_hash.startswith("$argon2id$") and secret not in stored.secret_hash
    _, body, _ = await token_call(client, {"grant_type": "client_credentials", "client_id": client_id,
                                           "client_secret": secret})
    raw = storage.stored_bytes(config.database.url)
    assert body["access_token"].encode() not in raw and secret.encode() not in raw


def write_clients(path, entries) -> str:
    path.write_text(yaml.safe_dump(entries))
    return str(path)


async def test_clients_file_clients_get_tokens_and_expiry_is_configurable(aiohttp_client, config, clock, tmp_path):
    path = write_clients(tmp_path / "clients.yaml", [
        {"client_id": "acme-alarm", "secret_hash": hash_secret("file-secret"), "dealer_id": "777"}])
    config = Config(http=config.http, database=config.database, keywords=config.keywords,
                    api=Api(oauth_clients_file=path, oauth_token_seconds=600))
    client = await aiohttp_client(create_app(config, clock=clock, run_loops=False))
    status, body, _ = await token_call(client, {"grant_type": "client_credentials"}, basic("acme-alarm", "file-secret"))
    assert status == 200 and body["expires_in"] == 600
    auth = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await client.get("/partner/v1/dealers/777/sites", headers=auth)).status == 200
    assert (await client.get(SITES, headers=auth)).status == 403
    clock.advance(600)
    assert (await client.get("/partner/v1/dealers/777/sites", headers=auth)).status == 401


@pytest.mark.parametrize("content, message", [
    ("- {client_id: a, dealer_id: d}", "secret_hash"),
    ("- {client_id: a, secret_hash: plain, dealer_id: d}", "argon2"),
    ("[", "not YAML"),
])
def test_bad_clients_file_is_a_configuration_error(tmp_path, content, message):
    path = tmp_path / "clients.yaml"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        load_clients_file(path)


def test_cli_adds_a_client_whose_token_works_until_revoked(tmp_path):
    import json
    from urllib.parse import urlencode

    from tests.daemon import Daemon

    d = Daemon(tmp_path)
    try:
        out = d.cli("oauth-client", "add", "--dealer", "12345", "--name", "Acme").stdout
        fields = dict(line.split(": ", 1) for line in out.strip().splitlines())
        client_id, secret = fields["client_id"], fields["client_secret"]
        assert client_id.startswith("gwc_") and len(secret) >= 40
        assert f"{client_id}\tdealer 12345\tAcme\tactive" in d.cli("oauth-client", "list").stdout
        d.start()
        form = urlencode({"grant_type": "client_credentials"}).encode()
        status, body = d.request("POST", "/oauth/token", form, {
            "Content-Type": "application/x-www-form-urlencoded", **basic(client_id, secret)})
        assert status == 200, body
        auth = {"Authorization": f"Bearer {json.loads(body)['access_token']}"}
        assert d.request("GET", SITES, headers=auth)[0] == 200
        assert "revoked" in d.cli("oauth-client", "revoke", client_id).stdout
        assert d.request("GET", SITES, headers=auth)[0] == 401
        again = d.cli("oauth-client", "revoke", client_id, check=False)
        assert again.returncode == 2 and "no active stored client" in again.stderr
    finally:
        d.close()


def test_check_reports_a_bad_clients_file(tmp_path):
    from tests.daemon import Daemon

    (tmp_path / "clients.yaml").write_text("- {client_id: a, dealer_id: d, secret_hash: plain}\n")
    d = Daemon(tmp_path, api={"oauth_clients_file": str(tmp_path / "clients.yaml")})
    try:
        result = d.cli("check", check=False)
        assert result.returncode == 1 and "api.oauth_clients_file" in result.stdout
    finally:
        d.close()
