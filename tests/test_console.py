"""The operator console's doors: sign-in with an API key, the session cookie, CSRF, sign-out."""

from __future__ import annotations

import msgspec
import pytest

from gateway.auth.apikeys import create_key
from gateway.web.app import create_app
from gateway.web.appkeys import API_KEYS, CONFIG, STORE
from tests.console_helpers import csrf_of, sign_in, signed_in


@pytest.fixture
async def key(store, clock) -> str:
    return await create_key(store, "staff", clock)


async def test_without_a_session_every_console_path_redirects_to_sign_in(client):
    for path in ("/console/", "/console/sites", "/console/sites/site_main", "/console/health",
                 "/console/no/such/page", "/console/static/console.js"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 303, path
        assert resp.headers["Location"].startswith("/console/sign-in?next="), path
    resp = await client.post("/console/sites/site_main/dispatch", data={"text": "x"}, allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (303, "/console/sign-in?next=%2Fconsole%2F")
    resp = await client.get("/console", allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (308, "/console/")


async def test_api_paths_keep_their_bearer_rules(client, key):
    await signed_in(client, key)  # the session cookie is in the client's jar now
    resp = await client.get("/ext/v1/event-log")
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "UNAUTHORIZED"


async def test_sign_in_sets_a_locked_down_session_cookie(client, key, app):
    resp = await sign_in(client, key, "/console/health")
    assert resp.status == 303 and resp.headers["Location"] == "/console/health"
    cookie = resp.cookies["gateway_console"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/console/"
    assert not cookie["secure"]  # http.public_url is http://
    assert int(cookie["max-age"]) == app[CONFIG].console.session_minutes * 60
    assert key not in cookie.value and key.split("_", 2)[2] not in cookie.value  # the whole secret (it may hold "_" too)
    page = await client.get("/console/health")
    assert page.status == 200 and "Outbox and carrier health" in await page.text()
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


async def test_the_cookie_is_secure_behind_https(aiohttp_client, config, clock):
    https = msgspec.structs.replace(config, http=msgspec.structs.replace(config.http,
                                                                         public_url="https://gw.example.com"))
    client = await aiohttp_client(create_app(https, clock=clock, run_loops=False))
    key = await create_key(client.app[STORE], "staff", clock)
    form = await client.get("/console/sign-in")
    nonce = form.cookies["gateway_console_sign_in"]
    assert nonce["secure"]  # so the test client (plain http) keeps it to itself: hand it over as a browser would
    resp = await client.post("/console/sign-in", data={"csrf": csrf_of(await form.text()), "key": key},
                             headers={"Cookie": f"gateway_console_sign_in={nonce.value}"}, allow_redirects=False)
    assert resp.status == 303
    assert resp.cookies["gateway_console"]["secure"] and resp.cookies["gateway_console"]["httponly"]


async def test_a_wrong_key_is_refused_and_sets_no_session(client, key):
    resp = await sign_in(client, key[:-2] + "xx")
    assert resp.status == 401 and "That API key is not valid." in await resp.text()
    assert "gateway_console" not in resp.cookies
    assert (await client.get("/console/", allow_redirects=False)).status == 303


async def test_a_forged_sign_in_form_is_refused(client, key):
    """Another site cannot post the form: it has neither the form's token nor (SameSite=Strict) its cookie."""
    resp = await client.post("/console/sign-in", data={"csrf": "forged", "key": key}, allow_redirects=False)
    assert resp.status == 403 and "gateway_console" not in resp.cookies
    form = await client.get("/console/sign-in")
    client.session.cookie_jar.clear()
    resp = await client.post("/console/sign-in", data={"csrf": csrf_of(await form.text()), "key": key},
                             allow_redirects=False)
    assert resp.status == 403


async def test_a_form_without_the_sessions_csrf_token_is_refused(client, key, store, site, contact):
    csrf = await signed_in(client, key)
    url = f"/console/sites/{site.id}/contacts/{contact.id}/welcome"
    for forged in ({}, {"csrf": "forged"}, {"csrf": csrf[:-1] + ("A" if csrf[-1] != "A" else "B")}):
        resp = await client.post(url, data=forged, allow_redirects=False)
        assert resp.status == 403, forged
        assert "did not come from this console session" in await resp.text()
    assert await store.get_welcome(contact.id) is None
    resp = await client.post(url, data={"csrf": csrf}, allow_redirects=False)
    assert resp.status == 303
    assert (await store.get_welcome(contact.id)).state == "pending"


async def test_a_session_expires(client, key, clock, app):
    await signed_in(client, key)
    clock.advance(minutes=app[CONFIG].console.session_minutes - 1)
    assert (await client.get("/console/", allow_redirects=False)).status == 200
    clock.advance(minutes=1)
    resp = await client.get("/console/", allow_redirects=False)
    assert resp.status == 303
    form = await client.get(resp.headers["Location"])
    assert "Your session has ended" in await form.text()


async def test_revoking_the_key_ends_its_sessions_at_once(client, key, store, clock):
    await signed_in(client, key)
    assert await store.revoke_api_key(key.split("_")[1], clock.now())
    assert (await client.get("/console/", allow_redirects=False)).status == 303


async def test_a_cookie_for_another_key_or_tampered_with_is_refused(client, key, store, clock):
    await signed_in(client, key)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/console/"))["gateway_console"].value
    other = await create_key(store, "other", clock)
    fields = cookie.split(".")
    for forged in (".".join([fields[0], other.split("_")[1], *fields[2:]]),
                   ".".join([*fields[:2], str(int(fields[2]) + 86400), *fields[3:]])):
        client.session.cookie_jar.clear()
        client.session.cookie_jar.update_cookies({"gateway_console": forged}, client.make_url("/console/"))
        assert (await client.get("/console/", allow_redirects=False)).status == 303


async def test_sign_out_ends_the_session_even_for_a_copied_cookie(client, key):
    csrf = await signed_in(client, key)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/console/"))["gateway_console"].value
    resp = await client.post("/console/sign-out", data={"csrf": csrf}, allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (303, "/console/sign-in")
    client.session.cookie_jar.update_cookies({"gateway_console": cookie}, client.make_url("/console/"))
    assert (await client.get("/console/", allow_redirects=False)).status == 303


async def test_sign_in_is_rate_limited_per_remote_address(client, key, clock, app):
    for _ in range(5):
        assert (await sign_in(client, "gwk_000000000000_wrong")).status == 401
    resp = await sign_in(client, key)
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    assert "Too many sign-in attempts" in await resp.text()
    clock.advance(seconds=12)  # 5 a minute: one attempt back
    assert (await sign_in(client, key)).status == 303


async def test_sign_in_goes_back_only_to_a_console_path(client, key):
    for wanted in ("https://evil.example/", "//evil.example/console/", "/ext/v1/event-log", "/console//evil"):
        client.session.cookie_jar.clear()
        resp = await sign_in(client, key, wanted)
        assert resp.headers.get("Location") == "/console/", (wanted, resp.status, await resp.text())


async def test_the_operator_key_signs_in_until_the_daemon_restarts(client, app):
    operator = app[API_KEYS].operator_key
    assert (await sign_in(client, operator)).status == 303
    assert (await client.get("/console/", allow_redirects=False)).status == 200
    app[API_KEYS].operator_key = "gwk_operator_" + "x" * 32  # what the next start writes
    assert (await client.get("/console/", allow_redirects=False)).status == 303


async def test_the_console_is_not_in_the_openapi_document(client):
    doc = await (await client.get("/openapi.json")).json()
    assert not [p for p in doc["paths"] if p.startswith("/console")]


async def test_the_console_secret_is_made_once_and_kept(client, key, app, tmp_path):
    secret = (tmp_path / "console.key")
    assert secret.exists() and oct(secret.stat().st_mode & 0o777) == "0o600"
    assert len(secret.read_text().strip()) == 64


async def test_the_script_is_served_to_a_session_only_and_the_sign_in_page_does_not_load_it(client, key):
    assert "<script" not in await (await client.get("/console/sign-in")).text()
    await signed_in(client, key)
    assert '<script src="/console/static/console.js" defer></script>' in await (await client.get("/console/")).text()
    resp = await client.get("/console/static/console.js")
    assert resp.status == 200 and resp.content_type == "text/javascript"
    assert "data-live" in await resp.text()


async def test_daemons_with_the_same_secret_file_accept_each_others_sessions(aiohttp_client, config, clock,
                                                                            tmp_path):
    (tmp_path / "console.secret").write_text("ab" * 32 + "\n")
    shared = msgspec.structs.replace(config, console=msgspec.structs.replace(
        config.console, secret_file=str(tmp_path / "console.secret")))
    first = await aiohttp_client(create_app(shared, clock=clock, run_loops=False))
    second = await aiohttp_client(create_app(shared, clock=clock, run_loops=False))
    await signed_in(first, await create_key(first.app[STORE], "staff", clock))
    cookie = first.session.cookie_jar.filter_cookies(first.make_url("/console/"))["gateway_console"].value
    second.session.cookie_jar.update_cookies({"gateway_console": cookie}, second.make_url("/console/"))
    assert (await second.get("/console/", allow_redirects=False)).status == 200
    assert not (tmp_path / "console.key").exists()


def test_a_missing_secret_file_stops_the_daemon_at_start(tmp_path):
    import subprocess
    import sys

    from tests.daemon import Daemon

    daemon = Daemon(tmp_path, console={"secret_file": "missing.key"})
    try:
        result = subprocess.run([sys.executable, "-m", "gateway", "serve", "-c", str(daemon.config)],
                                capture_output=True, text=True, timeout=60, cwd=tmp_path)
    finally:
        daemon.close()
    assert result.returncode == 2
    assert "console.secret_file:" in result.stderr and "missing.key does not exist" in result.stderr
    assert not (tmp_path / "operator.key").exists()
