"""Bad input gets a clear error in the INTERFACE shape (never a 500) and loses nothing stored."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from tests.conftest import PHONE
from tests.helpers import codes, event_log, post_alarm, raw_http, text


def error_code(body: dict) -> str:
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]["code"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer gwk_123456789abc_wrongsecret"}])
async def test_ext_api_needs_a_valid_key(client, site, headers):
    for method, path in (("POST", "/ext/v1/events"), ("GET", "/ext/v1/event-log")):
        resp = await client.request(method, path, json={"site_id": site.id, "event_code": "BA"}, headers=headers)
        assert resp.status == 401 and error_code(await resp.json()) == "UNAUTHORIZED"


@pytest.mark.parametrize("raw, content_type, status, code", [
    (b"{not json", "application/json", 400, "BAD_REQUEST"),
    (b'{"site_id": 5, "event_code": "BA"}', "application/json", 422, "VALIDATION_ERROR"),
    (b'{"event_code": "BA"}', "application/json", 422, "VALIDATION_ERROR"),
    (b'{"site_id": "site_main", "event_code": "B A!"}', "application/json", 422, "VALIDATION_ERROR"),
    (b'{"site_id": "site_main", "event_code": "BA", "extra": 1}', "application/json", 422, "VALIDATION_ERROR"),
    (b'site_id=x', "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
    (b'{"site_id": "site_nope", "event_code": "BA"}', "application/json", 404, "SITE_NOT_FOUND"),
])
async def test_bad_alarm_bodies(client, auth, site, raw, content_type, status, code):
    resp = await client.post("/ext/v1/events", data=raw, headers={**auth, "Content-Type": content_type})
    assert resp.status == status
    assert error_code(await resp.json()) == code


async def test_validation_error_names_the_field(client, auth, site):
    resp = await client.post("/ext/v1/events", json={"site_id": site.id, "event_code": "BA", "zone": [1]},
                             headers=auth)
    body = await resp.json()
    assert resp.status == 422 and body["error"]["details"]["field"] == "zone"


async def test_oversize_body_is_413_and_nothing_lost(client, auth, site, contact, config):
    await post_alarm(client, auth, site.id, "BA", event_id="evt_keep")
    before = await event_log(client, auth, site.id)
    big = b'{"site_id": "site_main", "event_code": "BA", "text": "' + b"x" * config.http.max_body_bytes + b'"}'
    resp = await client.post("/ext/v1/events", data=big, headers={**auth, "Content-Type": "application/json"})
    assert resp.status == 413 and error_code(await resp.json()) == "PAYLOAD_TOO_LARGE"
    assert await event_log(client, auth, site.id) == before


async def test_unknown_route_and_method(client):
    resp = await client.get("/no/such/path")
    assert resp.status == 404 and error_code(await resp.json()) == "NOT_FOUND"
    resp = await client.get("/ext/v1/events")
    assert resp.status == 405 and error_code(await resp.json()) == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize("params", [{"after": "x"}, {"limit": "0"}, {"limit": "100000"}, {"after": "-1"}])
async def test_bad_event_log_queries(client, auth, params):
    resp = await client.get("/ext/v1/event-log", params=params, headers=auth)
    assert resp.status == 422 and error_code(await resp.json()) == "VALIDATION_ERROR"


async def test_event_log_for_unknown_site_is_404(client, auth):
    resp = await client.get("/ext/v1/event-log", params={"site_id": "nope"}, headers=auth)
    assert resp.status == 404 and error_code(await resp.json()) == "SITE_NOT_FOUND"


@pytest.mark.parametrize("body", ["x" * 2000, "🚨 Alarm? 😱", "نعم", "Ünïcödé ✓", "", "   ", "a\x00b"])
async def test_any_text_is_logged_not_crashed(client, auth, site, contact, body):
    await post_alarm(client, auth, site.id, "BA")
    answer = await text(client, PHONE, body)
    assert answer["replies"] == []
    row = (await event_log(client, auth, site.id))[-1]
    assert row["code"] == "SMSReply" and row["comment"] == body[:1600]


async def test_non_gsm_alarm_text_is_sent(client, auth, site, contact):
    from tests.helpers import deliver, outbox

    await post_alarm(client, auth, site.id, "BA", text="Détecteur 🚨 cuisine")
    assert await deliver(client) == 1
    assert "Détecteur 🚨 cuisine" in (await outbox(client, PHONE))[0]["body"]


@pytest.mark.parametrize("payload, status", [
    ({"from": "not a number", "body": "hi"}, 422),
    ({"from": "", "body": "hi"}, 422),
    ({"body": "hi"}, 422),
    ({"from": PHONE}, 422),
    ({"from": PHONE, "body": 5}, 422),
])
async def test_bad_loopback_inbound(client, payload, status):
    resp = await client.post("/carriers/loopback/inbound", json=payload)
    assert resp.status == status
    error_code(await resp.json())


async def test_trace_id_is_echoed_and_logged(client, auth, site, contact, caplog):
    caplog.set_level("INFO")
    resp = await client.post("/ext/v1/events", json={"site_id": site.id, "event_code": "BA"},
                             headers={**auth, "x-partner-trace-id": "550e8400-e29b-41d4-a716-123456789000"})
    assert resp.headers["x-partner-trace-id"] == "550e8400-e29b-41d4-a716-123456789000"
    rows = await event_log(client, auth, site.id)
    assert {r["trace_id"] for r in rows} == {"550e8400-e29b-41d4-a716-123456789000"}
    assert codes(rows) == ["BA", "SMSSENT"]
    assert "trace=550e8400-e29b-41d4-a716-123456789000 alarm" in caplog.text


async def test_keys_from_the_keys_file(aiohttp_client, config, clock, tmp_path, site):
    import msgspec

    from gateway.auth.apikeys import new_key
    from gateway.config import Api
    from gateway.auth.hashes import hash_secret
    from gateway.web.app import create_app

    key_id, secret, key = new_key()
    keys = tmp_path / "keys.yaml"
    keys.write_text(f"- id: {key_id}\n  name: automation\n  hash: '{hash_secret(secret)}'\n")
    config = msgspec.structs.replace(config, api=Api(keys_file=str(keys)))
    client = await aiohttp_client(create_app(config, clock=clock, run_loops=False))
    ok = await client.get("/ext/v1/event-log", headers={"Authorization": f"Bearer {key}"})
    wrong = await client.get("/ext/v1/event-log", headers={"Authorization": f"Bearer {key[:-2]}xx"})
    assert ok.status == 200 and wrong.status == 401


def test_a_bad_keys_file_is_one_clear_line(tmp_path):
    import pytest as _pytest

    from gateway.auth.apikeys import load_keys_file
    from gateway.errors import ConfigurationError

    keys = tmp_path / "keys.yaml"
    keys.write_text("- id: nothex\n  name: x\n  hash: plain\n")
    with _pytest.raises(ConfigurationError, match=f"api.keys_file: {keys}"):
        load_keys_file(keys)


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/ext/v1/events/x/verifications", {"contacts": [10**20], "method": "sms"}),
    ("GET", "/ext/v1/event-log?after=99999999999999999999999", None),
    ("GET", "/carriers/loopback/outbox?after=99999999999999999999999", None),
    ("POST", "/ext/v1/dispatches", {"site_id": "site_main", "contacts": ["all"], "text": "hi {nope"}),
])
async def test_out_of_range_and_malformed_values_are_422(client, auth, site, contact, method, path, body):
    resp = await client.request(method, path, json=body, headers=auth)
    assert resp.status == 422, await resp.text()
    error_code(await resp.json())


async def test_a_revoked_key_stops_working_within_the_recheck_time(client, store, clock, site):
    from gateway.auth.apikeys import RECHECK_SECONDS, create_key, split_key

    key = await create_key(store, "soon gone", clock)
    headers = {"Authorization": f"Bearer {key}"}
    assert (await client.get("/ext/v1/event-log", headers=headers)).status == 200
    assert await store.revoke_api_key(split_key(key)[0], clock.now())
    assert (await client.get("/ext/v1/event-log", headers=headers)).status == 200  # remembered for a while
    clock.advance(RECHECK_SECONDS)
    assert (await client.get("/ext/v1/event-log", headers=headers)).status == 401
    assert [k["revoked_at"] is not None for k in await store.api_keys()] == [True]


# Bytes no HTTP library would send: each is a 4xx in the usual shape, and nothing is logged as an error.
MANY_FIELDS = b"&".join([b"a="] * 10_000)  # 30 kB: under the byte cap, over the field cap
RAW_BEARER = b"Authorization: Bearer gwk_\xe9\xff\r\n"


def no_error_logged(caplog) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


@pytest.mark.parametrize("method, path, headers, body, status, code", [
    ("GET", "/ext/v1/event-log", RAW_BEARER, b"", 401, "UNAUTHORIZED"),
    ("POST", "/ext/v1/events", RAW_BEARER, b"{}", 401, "UNAUTHORIZED"),
    ("GET", "/partner/v1/dealers/12345/sites", RAW_BEARER, b"", 401, "UNAUTHORIZED"),
    ("POST", "/carriers/loopback/inbound", b"", b'{"from": "+15550123456", "body": "' + b"x" * 70_000 + b'"}',
     413, "PAYLOAD_TOO_LARGE"),
])
async def test_raw_bytes_and_big_bodies_are_4xx_not_500(client, site, caplog, method, path, headers, body, status,
                                                        code):
    with caplog.at_level(logging.DEBUG):
        got, payload = await raw_http(client, method, path, headers, body, content_type=b"application/json")
    assert got == status and error_code(json.loads(payload)) == code, payload
    no_error_logged(caplog)


@pytest.mark.parametrize("headers, body, status, error, says", [
    (b"Authorization: Basic \xe9\xff\r\n", b"grant_type=client_credentials", 401, "invalid_client", "Basic"),
    (b"Authorization: Basic " + base64.b64encode(b"\xe9\xff:x") + b"\r\n", b"grant_type=client_credentials", 401,
     "invalid_client", "Basic"),
    (b"", b"grant_type=client_credentials&client_id=\xff&client_secret=x", 400, "invalid_request", "UTF-8"),
    (b"", b"grant_type=client_credentials&client_id=%FF&client_secret=x", 400, "invalid_request", "UTF-8"),
    (b"", MANY_FIELDS, 413, "invalid_request", "more than 1000 fields"),
])
async def test_raw_bytes_at_the_token_endpoint_are_oauth_errors(client, caplog, headers, body, status, error, says):
    with caplog.at_level(logging.DEBUG):
        got, payload = await raw_http(client, "POST", "/oauth/token", headers, body)
    answer = json.loads(payload)
    assert got == status and answer["error"] == error and says in answer["error_description"], payload
    no_error_logged(caplog)


@pytest.mark.parametrize("body, status, code, says", [
    (b"Body=\xff\xfe&From=%2B15550123456", 400, "BAD_REQUEST", "UTF-8"),
    (MANY_FIELDS, 413, "PAYLOAD_TOO_LARGE", "more than 1000 fields"),
])
async def test_raw_bytes_at_a_twilio_webhook_are_4xx_before_the_signature(aiohttp_client, config, clock, fake_twilio,
                                                                         caplog, body, status, code, says):
    from gateway.web.app import create_app
    from tests.fake_twilio import with_twilio

    client = await aiohttp_client(create_app(with_twilio(config, fake_twilio), clock=clock, run_loops=False))
    with caplog.at_level(logging.DEBUG):
        got, payload = await raw_http(client, "POST", "/carriers/twilio/inbound", b"X-Twilio-Signature: x\r\n", body)
    answer = json.loads(payload)
    assert got == status and error_code(answer) == code and says in answer["error"]["message"], payload
    no_error_logged(caplog)
