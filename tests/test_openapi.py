"""GET /openapi.json: a valid OpenAPI 3.1 document that real responses of every endpoint conform to."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator

from gateway.auth.apikeys import create_key, split_key
from gateway.config import CredentialChecks
from gateway.auth.oauth import create_client
from tests.channels_helpers import exercise_channels


class Recorder:
    """Makes requests and keeps (method, path, status, body) of each answer."""

    def __init__(self, client) -> None:
        self.client = client
        self.seen: list[tuple[str, str, int, object, dict]] = []

    async def __call__(self, method: str, path: str, **kwargs):
        resp = await self.client.request(method, path, **kwargs)
        body = await resp.json() if resp.content_type == "application/json" else None
        if resp.status != 204:
            assert body is not None or resp.status == 204, f"{method} {path}: {resp.content_type}"
        self.seen.append((method.lower(), path.split("?")[0], resp.status, body, dict(resp.headers)))
        return resp.status, body


def template_for(doc: dict, path: str) -> str:
    for template in doc["paths"]:
        pattern = "^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return template
    raise AssertionError(f"{path} is not in the document")


@pytest.fixture
def config(config, tmp_path):
    """Push alerts on, so that their paths are mounted and documented."""
    import msgspec

    from gateway.config import Push

    return msgspec.structs.replace(config, push=Push(backend="webpush", subject="mailto:ops@acme.test",
                                                     vapid_private_key_file=str(tmp_path / "vapid.pem")))


@pytest.fixture
async def doc(client) -> dict:
    resp = await client.get("/openapi.json")
    assert resp.status == 200
    return await resp.json()


def test_document_is_openapi_3_1_with_both_security_schemes(doc):
    assert doc["openapi"] == "3.1.0"
    schemes = doc["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "http", "scheme": "bearer"}
    assert schemes["partnerOAuth"]["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    assert doc["paths"]["/ext/v1/events"]["post"]["security"] == [{"apiKey": []}]
    contacts = "/partner/v1/dealers/{dealerId}/sites/{siteId}/contacts/{contactId}"
    assert doc["paths"][contacts]["get"]["security"] == [{"partnerOAuth": []}]
    contact_id = next(p for p in doc["paths"][contacts]["get"]["parameters"] if p["name"] == "contactId")
    assert contact_id["schema"]["type"] == "integer"
    assert doc["components"]["schemas"]["ContactOut"]["properties"]["contact_id"] == {"type": "integer"}
    assert set(doc["paths"]) >= {
        "/oauth/token", "/ext/v1/events", "/ext/v1/event-log", "/partner/v1/dealers/{dealerId}/sites",
        "/partner/v1/dealers/{dealerId}/sites/{siteId}",
        "/partner/v1/dealers/{dealerId}/sites/{siteId}/contacts", contacts, contacts + "/welcome"}


def test_every_route_of_the_json_apis_is_documented(app, doc):
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith(("/ext/", "/partner/", "/oauth/")) and route.method != "HEAD":
            assert route.method.lower() in doc["paths"].get(path, {}), \
                f"{route.method} {path}: decorate its handler with gateway.web.openapi.operation"


def test_request_schemas_are_the_validating_types(doc):
    contact_in = doc["components"]["schemas"]["ContactIn"]
    assert set(contact_in["required"]) == {"external_contact_id", "first_name", "last_name"}
    assert contact_in["additionalProperties"] is False
    assert doc["components"]["schemas"]["ContactUpdate"].get("required", []) == []


async def test_real_responses_of_every_endpoint_match_the_document(client, doc, store, clock, auth, site, contact):
    call = Recorder(client)
    client_id, secret = await create_client(store, "12345", None, clock)
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    status, body = await call("POST", "/oauth/token", data=form)
    partner = {"Authorization": f"Bearer {body['access_token']}"}
    await call("POST", "/oauth/token", data={**form, "grant_type": "password"})
    await call("POST", "/oauth/token", data={**form, "client_secret": "wrong"})
    await call("POST", "/oauth/token", data=b"x" * 70000,
               headers={"Content-Type": "application/x-www-form-urlencoded"})

    sites = "/partner/v1/dealers/12345/sites"
    await call("POST", sites, json={"name": "Second"}, headers=partner)
    await call("POST", sites, json={"name": ""}, headers=partner)
    await call("POST", sites, data=b"{", headers={**partner, "Content-Type": "application/json"})
    await call("POST", sites, data=b"x", headers={**partner, "Content-Type": "text/plain"})
    await call("POST", sites, data=b"[" + b"0," * 40000 + b"0]",
               headers={**partner, "Content-Type": "application/json"})
    await call("POST", "/partner/v1/dealers/other/sites", json={"name": "x"}, headers=partner)
    await call("POST", sites, json={"name": "x"})
    await call("GET", sites)
    await call("GET", sites, headers=partner)
    await call("GET", "/partner/v1/dealers/other/sites", headers=partner)
    await call("GET", f"{sites}/{site.id}", headers=partner)
    await call("GET", f"{sites}/site_nope", headers=partner)
    await call("GET", f"{sites}/{site.id}", headers={"Authorization": "Bearer nope"})
    await call("GET", f"/partner/v1/dealers/other/sites/{site.id}", headers=partner)
    contacts = f"{sites}/{site.id}/contacts"
    new = {"external_contact_id": "e1", "first_name": "Ann", "last_name": "Lee", "phone_number": "5550123458"}
    _, created = await call("POST", contacts, json=new, headers=partner)
    await call("POST", contacts, json=new, headers=partner)
    await call("POST", contacts, json={**new, "phone_number": "1"}, headers=partner)
    await call("POST", contacts, data=b"{", headers={**partner, "Content-Type": "application/json"})
    await call("POST", contacts, data=b"a", headers={**partner, "Content-Type": "text/plain"})
    await call("POST", contacts, data=b"[" + b"0," * 40000 + b"0]",
               headers={**partner, "Content-Type": "application/json"})
    await call("POST", f"{sites}/site_nope/contacts", json=new, headers=partner)
    await call("POST", "/partner/v1/dealers/other/sites/x/contacts", json=new, headers=partner)
    await call("POST", contacts, json=new)
    await call("GET", contacts, headers=partner)
    await call("GET", f"{sites}/site_nope/contacts", headers=partner)
    await call("GET", "/partner/v1/dealers/other/sites/x/contacts", headers=partner)
    await call("GET", contacts)
    one = f"{contacts}/{created['contact_id']}"
    for method in ("GET", "PUT", "DELETE"):
        await call(method, f"{contacts}/999", headers=partner, json={} if method == "PUT" else None)
        await call(method, f"/partner/v1/dealers/other/sites/{site.id}/contacts/1", headers=partner,
                   json={} if method == "PUT" else None)
        await call(method, one, json={} if method == "PUT" else None)
    await call("GET", one, headers=partner)
    await call("PUT", one, json={"first_name": "Anne", "email": None}, headers=partner)
    await call("PUT", one, json={"external_contact_id": contact.external_contact_id or "x"}, headers=partner)
    await call("POST", contacts, json={**new, "external_contact_id": "e2"}, headers=partner)
    await call("PUT", one, json={"external_contact_id": "e2"}, headers=partner)
    await call("PUT", one, json={"slot_number": -1}, headers=partner)
    await call("PUT", one, data=b"{", headers={**partner, "Content-Type": "application/json"})
    await call("PUT", one, data=b"a", headers={**partner, "Content-Type": "text/plain"})
    await call("PUT", one, data=b"[" + b"0," * 40000 + b"0]", headers={**partner, "Content-Type": "application/json"})
    await call("POST", f"{one}/welcome", headers=partner)
    await call("POST", f"{one}/welcome")
    await call("POST", f"{contacts}/999/welcome", headers=partner)
    await call("POST", f"/partner/v1/dealers/other/sites/{site.id}/contacts/1/welcome", headers=partner)
    await call("PUT", one, json={"phone_number": None, "auto_notify": False}, headers=partner)
    await call("POST", f"{one}/welcome", headers=partner)
    await call("DELETE", one, headers=partner)

    await call("POST", "/ext/v1/events", json={"site_id": site.id, "event_code": "BA", "event_id": "e-1"}, headers=auth)
    await call("POST", "/ext/v1/events", json={"site_id": site.id, "event_code": "BA", "event_id": "e-1"}, headers=auth)
    await call("POST", "/ext/v1/events", json={"site_id": "nope", "event_code": "BA"}, headers=auth)
    await call("POST", "/ext/v1/events", json={"site_id": site.id, "event_code": "!"}, headers=auth)
    await call("POST", "/ext/v1/events", data=b"{", headers={**auth, "Content-Type": "application/json"})
    await call("POST", "/ext/v1/events", data=b"a", headers={**auth, "Content-Type": "text/plain"})
    await call("POST", "/ext/v1/events", data=b"[" + b"0," * 40000 + b"0]",
               headers={**auth, "Content-Type": "application/json"})
    await call("POST", "/ext/v1/events", json={"site_id": site.id, "event_code": "BA"})
    await call("GET", f"/ext/v1/event-log?site_id={site.id}", headers=auth)
    await call("GET", "/ext/v1/event-log?site_id=nope", headers=auth)
    await call("GET", "/ext/v1/event-log?limit=0", headers=auth)
    await call("GET", "/ext/v1/event-log")

    big = b"[" + b"0," * 40000 + b"0]"
    for path, good in (("/ext/v1/events/e-1/verifications", {"contacts": ["all"], "method": "sms"}),
                       ("/ext/v1/verifications", {"site_id": site.id, "contacts": [contact.id], "method": "sms"}),
                       ("/ext/v1/dispatches", {"site_id": site.id, "contacts": [contact.id], "text": "Go"})):
        await call("POST", path, json=good, headers=auth)
        await call("POST", path, json={**good, "contacts": ["contact_999"]}, headers=auth)  # 400 INVALID_CONTACT
        await call("POST", path, json=good)  # 401
        await call("POST", path, data=b"{", headers={**auth, "Content-Type": "application/json"})  # 400
        await call("POST", path, data=b"a", headers={**auth, "Content-Type": "text/plain"})  # 415
        await call("POST", path, data=big, headers={**auth, "Content-Type": "application/json"})  # 413
        await call("POST", path, json={**good, "contacts": []}, headers=auth)  # 422
        if "site_id" in good:
            await call("POST", path, json={**good, "site_id": "nope"}, headers=auth)  # 404
    await call("POST", "/ext/v1/events/unseen/verifications", json={"contacts": [1], "method": "sms",
                                                                     "site_id": "nope"}, headers=auth)  # 404
    _, general = await call("POST", "/ext/v1/verifications", headers=auth,
                            json={"site_id": site.id, "contacts": ["all"], "method": "sms"})
    await call("GET", f"/ext/v1/verifications/{general['data']['verification_id']}", headers=auth)
    await call("GET", "/ext/v1/verifications/ver_nope", headers=auth)
    await call("GET", "/ext/v1/verifications/ver_nope")

    # A known key id and a known client whose buckets are spent on wrong secrets (the clock stands still): 429.
    key_id = split_key(await create_key(store, "guessed", clock))[0]
    guessed = {"Authorization": f"Bearer gwk_{key_id}_wrong"}
    for _ in range(CredentialChecks().per_caller_burst):
        assert (await call("GET", "/ext/v1/event-log", headers=guessed))[0] == 401
    await call("GET", "/ext/v1/event-log", headers=guessed)
    await call("POST", "/ext/v1/events", json={"site_id": site.id, "event_code": "BA"}, headers=guessed)
    for path in ("/ext/v1/events/e-1/verifications", "/ext/v1/verifications", "/ext/v1/dispatches"):
        await call("POST", path, json={}, headers=guessed)
    await call("GET", f"/ext/v1/verifications/{general['data']['verification_id']}", headers=guessed)
    statuses = [(await call("POST", "/oauth/token", data={**form, "client_secret": "wrong"}))[0]
                for _ in range(CredentialChecks().per_caller_burst - 1)]  # two checks were spent above
    assert statuses == [401] * (CredentialChecks().per_caller_burst - 2) + [429]

    await exercise_channels(call, client, auth, site, contact)

    covered: dict[tuple[str, str], set[int]] = {}
    for method, path, status, body, headers in call.seen:
        template = template_for(doc, path)
        responses = doc["paths"][template][method]["responses"]
        assert str(status) in responses, f"{method.upper()} {path} answered undocumented {status}: {body}"
        assert "x-partner-trace-id" in {h.lower() for h in headers}
        content = responses[str(status)].get("content")
        if content is None:
            assert body is None, f"{method.upper()} {path} {status} has a body the document does not describe"
        else:
            schema = {**content["application/json"]["schema"], "components": doc["components"]}
            errors = list(Draft202012Validator(schema).iter_errors(body))
            assert not errors, f"{method.upper()} {path} {status}: {errors[0].message}"
        covered.setdefault((template, method), set()).add(status)
    for template, operations in doc["paths"].items():
        for method, op in operations.items():
            documented = {int(s) for s in op["responses"]}
            assert covered.get((template, method)) == documented, \
                f"{method.upper()} {template}: documented {sorted(documented)}, " \
                f"exercised {sorted(covered.get((template, method), ()))}"
