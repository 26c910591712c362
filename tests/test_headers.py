"""Security headers: the token pages' lock-down, HSTS behind https, no Server banner on any response."""

from __future__ import annotations

import msgspec
import pytest

from tests.helpers import assert_locked_down_page


@pytest.mark.parametrize("path", ["/v/made-up-token/confirm", "/welcome/made-up-token"])
async def test_token_pages_are_locked_down_even_when_the_token_is_unknown(client, path):
    resp = await client.get(path)
    assert resp.status == 404
    assert_locked_down_page(resp, await resp.text())


async def test_token_pages_share_one_page_shell(client):
    """Both ask robots not to index them in the page itself too, not only in X-Robots-Tag."""
    heads = []
    for path in ("/v/made-up-token/confirm", "/welcome/made-up-token"):
        html = await (await client.get(path)).text()
        heads.append(html[:html.index("<title>")])
    assert heads[0] == heads[1] and '<meta name="robots" content="noindex">' in heads[0]


@pytest.mark.parametrize("method, path", [("GET", "/healthz"), ("GET", "/no/such/path"), ("GET", "/v/x/confirm"),
                                          ("POST", "/carriers/loopback/inbound"), ("GET", "/openapi.json")])
async def test_no_response_names_the_server_software(client, method, path):
    resp = await client.request(method, path)
    assert "Server" not in resp.headers, resp.headers.get("Server")
    assert "Strict-Transport-Security" not in resp.headers  # http://127.0.0.1: HSTS would mean nothing


async def test_hsts_when_the_public_url_is_https(aiohttp_client, config, clock):
    from gateway.web.app import create_app

    https = msgspec.structs.replace(config, http=msgspec.structs.replace(config.http,
                                                                         public_url="https://sms.example.com"))
    client = await aiohttp_client(create_app(https, clock=clock, run_loops=False))
    for path in ("/healthz", "/welcome/x", "/carriers/loopback/outbox"):
        resp = await client.get(path)
        assert resp.headers["Strict-Transport-Security"] == "max-age=31536000" and "Server" not in resp.headers
