"""The /partner/v1 Contacts API through HTTP: the seed's shapes and codes, isolation, deletion."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from gateway.model import Contact, Site
from tests.conftest import PHONE
from tests.helpers import codes, deliver, event_log, outbox, post_alarm, text

BASE = "/partner/v1/dealers/12345/sites"
SEED_CONTACT = {"external_contact_id": "1234", "first_name": "John", "last_name": "Doe",
                "phone_number": "(555) 012-3456", "email": "john.doe@example.com"}
ISO_MILLIS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def create(client, partner, site_id, **fields):
    resp = await client.post(f"{BASE}/{site_id}/contacts", json={**SEED_CONTACT, **fields}, headers=partner)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def error(resp) -> tuple[int, str, dict]:
    body = await resp.json()
    return resp.status, body["error"]["code"], body["error"]["details"]


async def test_sites_create_list_get(client, partner):
    resp = await client.post(BASE, json={"name": "Warehouse", "time_zone": "Europe/Berlin"}, headers=partner)
    assert resp.status == 201
    site = await resp.json()
    assert site["dealer_id"] == "12345" and site["name"] == "Warehouse" and site["time_zone"] == "Europe/Berlin"
    assert ISO_MILLIS_Z.match(site["created_at"]) and resp.headers["Location"].endswith(site["site_id"])
    assert [s["site_id"] for s in await (await client.get(BASE, headers=partner)).json()] == [site["site_id"]]
    assert await (await client.get(f"{BASE}/{site['site_id']}", headers=partner)).json() == site


@pytest.mark.parametrize("body, field", [({"name": ""}, "name"), ({"name": "   "}, "name"),
                                         ({"name": "X", "time_zone": "Mars/Olympus"}, "time_zone"),
                                         ({"name": "X", "extra": 1}, None)])
async def test_bad_site_is_422(client, partner, body, field):
    status, code, details = await error(await client.post(BASE, json=body, headers=partner))
    assert (status, code) == (422, "VALIDATION_ERROR")
    assert details.get("field") == field


async def test_contact_create_matches_the_seed_plus_our_fields(client, partner, site, clock):
    resp = await client.post(f"{BASE}/{site.id}/contacts", json=SEED_CONTACT, headers=partner)
    assert resp.status == 201
    body = await resp.json()
    assert body == {
        "contact_id": body["contact_id"], "external_contact_id": "1234", "first_name": "John", "last_name": "Doe",
        "phone_number": "+15550123456", "email": "john.doe@example.com", "created_at": "2026-01-15T15:30:00.000Z",
        "title": None, "slot_number": None, "email_verification": False, "auto_notify": True,
        "verification": {"phone": "unknown", "welcome": "none", "send_error": None},
    }
    assert isinstance(body["contact_id"], int)
    assert resp.headers["Location"] == f"{BASE}/{site.id}/contacts/{body['contact_id']}"
    listed = await (await client.get(f"{BASE}/{site.id}/contacts", headers=partner)).json()
    assert listed == [body]
    got = await client.get(f"{BASE}/{site.id}/contacts/{body['contact_id']}", headers=partner)
    assert await got.json() == body


async def test_optional_fields_title_slot_email_verification(client, partner, site):
    body = await create(client, partner, site.id, title="Key holder", slot_number=3, email_verification=True,
                        auto_notify=False)
    assert (body["title"], body["slot_number"], body["email_verification"], body["auto_notify"]) == \
        ("Key holder", 3, True, False)
    no_phone = await create(client, partner, site.id, external_contact_id="2", phone_number=None)
    assert no_phone["phone_number"] is None and no_phone["auto_notify"] is False


@pytest.mark.parametrize("fields, field", [
    ({"phone_number": "12"}, "phone_number"),
    ({"phone_number": "call me maybe"}, "phone_number"),
    ({"email": "not-an-email"}, "email"),
    ({"first_name": " "}, "first_name"),
    ({"first_name": None}, "first_name"),
    ({"slot_number": 0}, "slot_number"),
    ({"email_verification": True, "email": None}, "email"),
    ({"auto_notify": True, "phone_number": None}, "phone_number"),
])
async def test_invalid_contact_is_422_naming_the_field(client, partner, site, fields, field):
    resp = await client.post(f"{BASE}/{site.id}/contacts", json={**SEED_CONTACT, **fields}, headers=partner)
    status, code, details = await error(resp)
    assert (status, details.get("field")) == (422, field)


async def test_missing_required_field_is_422(client, partner, site):
    body = {k: v for k, v in SEED_CONTACT.items() if k != "external_contact_id"}
    resp = await client.post(f"{BASE}/{site.id}/contacts", json=body, headers=partner)
    assert resp.status == 422 and "external_contact_id" in (await resp.json())["error"]["message"]


async def test_malformed_and_non_json_bodies(client, partner, site):
    url = f"{BASE}/{site.id}/contacts"
    resp = await client.post(url, data=b"{", headers={**partner, "Content-Type": "application/json"})
    assert (await error(resp))[:2] == (400, "BAD_REQUEST")
    resp = await client.post(url, data=b"x=1", headers={**partner, "Content-Type": "text/plain"})
    assert (await error(resp))[:2] == (415, "UNSUPPORTED_MEDIA_TYPE")
    resp = await client.post(url, data=b"[" + b"1," * 40000 + b"1]",
                             headers={**partner, "Content-Type": "application/json"})
    assert (await error(resp))[:2] == (413, "PAYLOAD_TOO_LARGE")


async def test_duplicate_external_id_is_409_on_create_and_update(client, partner, site, store, clock):
    await create(client, partner, site.id)
    resp = await client.post(f"{BASE}/{site.id}/contacts", json=SEED_CONTACT, headers=partner)
    assert await error(resp) == (409, "DUPLICATE_CONTACT", {"field": "external_contact_id"})
    other = await create(client, partner, site.id, external_contact_id="9")
    resp = await client.put(f"{BASE}/{site.id}/contacts/{other['contact_id']}",
                            json={"external_contact_id": "1234"}, headers=partner)
    assert (await error(resp))[:2] == (409, "DUPLICATE_CONTACT")
    second_site = await store.add_site(Site(id="site_two", dealer_id="12345", name="Two", created_at=clock.now()))
    await create(client, partner, second_site.id)  # unique per site only


async def test_put_is_a_partial_update(client, partner, site):
    created = await create(client, partner, site.id, title="Owner", slot_number=2)
    url = f"{BASE}/{site.id}/contacts/{created['contact_id']}"
    resp = await client.put(url, json={"first_name": "Jane", "last_name": "Smith", "phone_number": "9876543210",
                                       "email": "jane.smith@example.com"}, headers=partner)
    assert resp.status == 200
    body = await resp.json()
    assert body == {**created, "first_name": "Jane", "last_name": "Smith", "phone_number": "+19876543210",
                    "email": "jane.smith@example.com"}
    body = await (await client.put(url, json={"title": None, "email": None}, headers=partner)).json()
    assert body["title"] is None and body["email"] is None and body["slot_number"] == 2
    assert await (await client.put(url, json={}, headers=partner)).json() == body
    resp = await client.put(url, json={"phone_number": "nope"}, headers=partner)
    assert (await error(resp))[::2] == (422, {"field": "phone_number"})
    resp = await client.put(url, json={"contact_id": 5}, headers=partner)
    assert resp.status == 422


async def test_delete_is_204_then_404(client, partner, site):
    created = await create(client, partner, site.id)
    url = f"{BASE}/{site.id}/contacts/{created['contact_id']}"
    resp = await client.delete(url, headers=partner)
    assert resp.status == 204 and await resp.read() == b""
    assert (await error(await client.get(url, headers=partner)))[:2] == (404, "CONTACT_NOT_FOUND")
    assert (await error(await client.delete(url, headers=partner)))[:2] == (404, "CONTACT_NOT_FOUND")


@pytest.mark.parametrize("contact_id", ["999", "abc", "-1", "0", "99999999999999999999999"])
async def test_unknown_contact_ids_are_404(client, partner, site, contact_id):
    resp = await client.get(f"{BASE}/{site.id}/contacts/{contact_id}", headers=partner)
    assert (await error(resp))[:2] == (404, "CONTACT_NOT_FOUND")


async def test_deleting_a_contact_takes_it_out_of_auto_processes_and_open_verifications(
        client, partner, auth, site, store, clock):
    keep = await create(client, partner, site.id, external_contact_id="keep", phone_number="+15550123499")
    gone = await create(client, partner, site.id, external_contact_id="gone")
    # The same number is also a contact of another site: it must not answer this site's verification.
    other_site = await store.add_site(Site(id="site_other", dealer_id="12345", name="Other", created_at=clock.now()))
    await store.add_contact(Contact(id=0, site_id=other_site.id, first_name="John", last_name="Doe", phone=PHONE,
                                    created_at=clock.now()))
    alarm = await post_alarm(client, auth, site.id)
    verification_id = alarm["verifications"][0]["verification_id"]
    resp = await client.delete(f"{BASE}/{site.id}/contacts/{gone['contact_id']}", headers=partner)
    assert resp.status == 204
    await deliver(client)
    assert await outbox(client, PHONE) == []  # its queued alarm text was cancelled
    assert len(await outbox(client, "+15550123499")) == 1
    reply = await text(client, PHONE, "YES")
    assert reply["replies"] == []
    resp = await client.get(f"/ext/v1/event-log?site_id={site.id}", headers=auth)
    assert "SMSYES" not in codes((await resp.json())["data"])
    verification = await store.get_verification(verification_id)
    assert verification.status != "responded"
    assert {r.contact_id: r.status for r in verification.recipients}[gone["contact_id"]] == "removed"
    later = await post_alarm(client, auth, site.id)
    assert [r["contact_id"] for r in later["verifications"][0]["sent_to"]] == [keep["contact_id"]]


async def test_deleting_the_last_contact_logs_a_warning_with_the_trace_id(client, partner, auth, site):
    first = await create(client, partner, site.id)
    second = await create(client, partner, site.id, external_contact_id="2")
    for contact, trace in ((first, "trace-one"), (second, "trace-two")):
        resp = await client.delete(f"{BASE}/{site.id}/contacts/{contact['contact_id']}",
                                   headers={**partner, "x-partner-trace-id": trace})
        assert resp.status == 204 and resp.headers["x-partner-trace-id"] == trace
    rows = await event_log(client, auth, site.id)
    assert [(r["code"], r["contact_id"], r["trace_id"]) for r in rows] == [
        ("CONTACTDEL", first["contact_id"], "trace-one"),
        ("CONTACTDEL", second["contact_id"], "trace-two"),
        ("SITENOCONTACT", second["contact_id"], "trace-two"),
    ]
    assert rows[-1]["details"] == {"severity": "warning"}


async def test_another_dealer_is_403_whether_or_not_it_exists(client, partner, partner_token, site):
    theirs = await partner_token("99999")
    resp = await client.post("/partner/v1/dealers/99999/sites", json={"name": "Theirs"}, headers=theirs)
    their_site = (await resp.json())["site_id"]
    for dealer in ("99999", "00000-does-not-exist"):
        for method, path in (("GET", ""), ("POST", ""), ("GET", f"/{their_site}"),
                             ("GET", f"/{their_site}/contacts"), ("GET", f"/{their_site}/contacts/1")):
            resp = await client.request(method, f"/partner/v1/dealers/{dealer}/sites{path}", headers=partner,
                                        json={"name": "x"} if method == "POST" else None)
            assert await resp.json() == {"error": {"code": "DEALER_FORBIDDEN", "details": {},
                                                   "message": "This client may not act for that dealer."}}
            assert resp.status == 403


async def test_another_dealers_site_is_404_exactly_like_a_missing_one(client, partner, partner_token, site):
    theirs = await partner_token("99999")
    their_site = (await (await client.post("/partner/v1/dealers/99999/sites", json={"name": "Theirs"},
                                           headers=theirs)).json())["site_id"]
    their_contact = await (await client.post(f"/partner/v1/dealers/99999/sites/{their_site}/contacts",
                                             json=SEED_CONTACT, headers=theirs)).json()
    for suffix in ("", "/contacts", f"/contacts/{their_contact['contact_id']}"):
        existing = await client.get(f"{BASE}/{their_site}{suffix}", headers=partner)
        missing_id = "site_" + "0" * (len(their_site) - 5)
        missing = await client.get(f"{BASE}/{missing_id}{suffix}", headers=partner)
        assert existing.status == missing.status == 404
        assert (await existing.text()).replace(their_site, "X") == (await missing.text()).replace(missing_id, "X")
    # Their contact through our own site: 404 like any unknown contact id.
    ours = await client.get(f"{BASE}/{site.id}/contacts/{their_contact['contact_id']}", headers=partner)
    unknown = await client.get(f"{BASE}/{site.id}/contacts/424242", headers=partner)
    assert (await ours.text()).replace(str(their_contact["contact_id"]), "N") == \
        (await unknown.text()).replace("424242", "N")
    # And nothing of theirs changed.
    resp = await client.get(f"/partner/v1/dealers/99999/sites/{their_site}/contacts", headers=theirs)
    assert [c["contact_id"] for c in await resp.json()] == [their_contact["contact_id"]]
    assert [s["site_id"] for s in await (await client.get(BASE, headers=partner)).json()] == [site.id]


async def test_deleting_a_contact_ends_its_sms_interface_session(client, partner, site, store):
    from gateway.auth.hashes import hash_secret

    created = await create(client, partner, site.id)
    await store.set_pin(created["contact_id"], hash_secret("48213579"), None)
    assert (await text(client, PHONE, "48213579"))["replies"][0].startswith("PIN accepted until")
    assert (await store.interface_state(PHONE)).session_contact_id == created["contact_id"]
    assert (await client.delete(f"{BASE}/{site.id}/contacts/{created['contact_id']}", headers=partner)).status == 204
    state = await store.interface_state(PHONE)
    assert (state.session_contact_id, state.session_expires_at) == (None, None)


async def test_phone_validity_comes_from_the_carrier_lookup_and_resets_with_a_new_number(client, partner, site, store,
                                                                                          clock):
    from gateway.model import PhoneLookup

    created = await create(client, partner, site.id)
    assert created["verification"]["phone"] == "unknown"
    url = f"{BASE}/{site.id}/contacts/{created['contact_id']}"
    await store.save_lookup(PhoneLookup(phone=PHONE, valid=True, line_type="landline", looked_up_at=clock.now()))
    assert (await (await client.get(url, headers=partner)).json())["verification"]["phone"] == "invalid"
    await store.save_lookup(PhoneLookup(phone=PHONE, valid=True, line_type="mobile", looked_up_at=clock.now()))
    assert (await (await client.get(url, headers=partner)).json())["verification"]["phone"] == "valid"
    body = await (await client.put(url, json={"first_name": "Johnny"}, headers=partner)).json()
    assert body["verification"]["phone"] == "valid"
    body = await (await client.put(url, json={"phone_number": "+15550199999"}, headers=partner)).json()
    assert body["verification"]["phone"] == "unknown"


async def test_deleting_a_contact_voids_its_email_response_links(client, partner, auth, site, store, clock):
    created = await create(client, partner, site.id)
    alarm = await post_alarm(client, auth, site.id)
    verification_id = alarm["verifications"][0]["verification_id"]
    await store.add_response_token("a" * 64, verification_id, created["contact_id"], clock.now() + timedelta(hours=1))
    assert (await client.delete(f"{BASE}/{site.id}/contacts/{created['contact_id']}", headers=partner)).status == 204
    token = await store.response_token("a" * 64)
    assert token["expires_at"] <= clock.now()


async def test_a_contacts_language_for_calls(client, partner, site):
    body = await create(client, partner, site.id, language="es-mx")
    assert body["language"] == "es-MX"
    one = f"{BASE}/{site.id}/contacts/{body['contact_id']}"
    resp = await client.put(one, json={"language": "english!"}, headers=partner)
    assert await error(resp) == (422, "VALIDATION_ERROR", {"field": "language"})
    resp = await client.put(one, json={"first_name": "Juan"}, headers=partner)
    assert (await resp.json())["language"] == "es-MX"  # kept when not given
    resp = await client.put(one, json={"language": None}, headers=partner)
    assert "language" not in await resp.json()  # unset: left out, like call_order
