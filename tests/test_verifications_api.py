"""The Verifications API and Dispatch SMS through HTTP, as the seed describes them."""

from __future__ import annotations

import pytest

from gateway.model import Contact
from gateway.web.appkeys import EXPIRY
from tests.conftest import OTHER_PHONE, PHONE
from tests.helpers import codes, deliver, event_log, outbox, post_alarm, text


@pytest.fixture
async def mary(store, site, clock):
    return await store.add_contact(Contact(id=0, site_id=site.id, first_name="Mary", last_name="Roe", phone=OTHER_PHONE,
                                           email="mary@example.com", title="Manager", slot_number=2,
                                           created_at=clock.now()))


async def verify(client, auth, path, body, status=200):
    resp = await client.post(path, json=body, headers=auth)
    payload = await resp.json()
    assert resp.status == status, payload
    return payload.get("data", payload)


async def test_event_verification_round_trip(client, auth, site, contact, mary):
    await post_alarm(client, auth, site.id, "BA", event_id="event_789", text="Motion")
    data = await verify(client, auth, "/ext/v1/events/event_789/verifications",
                        {"contacts": [f"contact_{contact.id}", str(mary.id)], "method": "sms", "timeout_seconds": 180,
                         "message": "Alarm triggered at your property. Reply YES to confirm or NO to cancel."})
    assert data["event_id"] == "event_789" and data["method"] == "sms" and data["status"] == "pending"
    assert data["verification_id"].startswith("ver_") and data["timeout_at"] and data["sent_at"]
    assert [(r["contact_id"], r["name"], r["phone"]) for r in data["sent_to"]] == [
        (contact.id, "John Doe", PHONE), (mary.id, "Mary Roe", OTHER_PHONE)]
    await deliver(client)
    assert (await outbox(client, OTHER_PHONE))[-1]["body"].startswith("Alarm triggered at your property.")
    resp = await client.get(f"/ext/v1/verifications/{data['verification_id']}", headers=auth)
    got = (await resp.json())["data"]
    assert got["status"] == "sent" and {r["status"] for r in got["sent_to"]} == {"sent"}
    assert (await text(client, OTHER_PHONE, "YES"))["replies"][0].startswith("Thank you Mary.")
    got = (await (await client.get(f"/ext/v1/verifications/{data['verification_id']}", headers=auth)).json())["data"]
    assert (got["status"], got["response"], got["responded_by"]) == ("responded", "confirmed", mary.id)
    rows = [r for r in await event_log(client, auth, site.id) if r["contact_id"] == mary.id]
    assert [r["code"] for r in rows] == ["SMSSENT", "SMSYES"]
    assert all(r["details"]["title"] == "Manager" and r["details"]["slot_number"] == 2 for r in rows)


async def test_first_decisive_answer_wins_for_everyone(client, auth, site, contact, mary):
    await verify(client, auth, "/ext/v1/events/e1/verifications", {"contacts": ["all"], "method": "sms",
                                                                   "site_id": site.id})
    await text(client, PHONE, "NO")
    answer = await text(client, OTHER_PHONE, "YES")
    assert answer["replies"] == ["The alarm at Main Office was already cancelled by John Doe."]
    rows = await event_log(client, auth, site.id)
    assert rows[-1]["code"] == "SMSReply" and rows[-1]["details"] == {"already": "cancelled", "by": contact.id}


async def test_unknown_event_needs_contacts_of_one_site(client, auth, site, contact):
    data = await verify(client, auth, "/ext/v1/events/not-seen/verifications", {"contacts": [contact.id],
                                                                                "method": "sms"})
    assert data["site_id"] == site.id
    body = await verify(client, auth, "/ext/v1/events/not-seen/verifications", {"contacts": ["all"], "method": "sms"},
                        status=422)
    assert body["error"]["details"]["field"] == "site_id"


async def test_invalid_contacts_are_listed(client, auth, site, contact):
    body = await verify(client, auth, "/ext/v1/verifications",
                        {"site_id": site.id, "contacts": [contact.id, "contact_999", "bogus"], "method": "sms"},
                        status=400)
    assert body["error"] == {"code": "INVALID_CONTACT", "message": "One or more contact IDs are invalid",
                             "details": {"invalid_contacts": ["contact_999", "bogus"]}}


@pytest.mark.parametrize("method, status, code", [("push", 422, "UNSUPPORTED_METHOD"),  # push.backend: none
                                                  ("fax", 422, "VALIDATION_ERROR")])
async def test_methods(client, auth, site, contact, method, status, code):
    body = await verify(client, auth, "/ext/v1/verifications",
                        {"site_id": site.id, "contacts": [contact.id], "method": method}, status=status)
    assert body["error"]["code"] == code


@pytest.mark.parametrize("timeout", [5, 86401])
async def test_timeout_is_bounded(client, auth, site, contact, timeout):
    body = await verify(client, auth, "/ext/v1/events/e/verifications",
                        {"contacts": [contact.id], "method": "sms", "timeout_seconds": timeout}, status=422)
    assert body["error"]["code"] == "VALIDATION_ERROR"


async def test_email_to_a_contact_without_email_is_delivery_failed(client, auth, site, contact):
    body = await verify(client, auth, "/ext/v1/verifications",
                        {"site_id": site.id, "contacts": [contact.id], "method": "email"}, status=422)
    assert body["error"]["code"] == "DELIVERY_FAILED"
    assert body["error"]["details"] == {"reason": "no email address", "contact_id": contact.id}


async def test_notice_without_response(client, auth, site, contact):
    data = await verify(client, auth, "/ext/v1/verifications",
                        {"site_id": site.id, "contacts": [contact.id], "method": "sms", "require_response": False,
                         "message": "This is a TEST of the emergency notification system. No response required."})
    assert data["timeout_at"] is None and data["require_response"] is False
    await text(client, PHONE, "YES")
    assert codes(await event_log(client, auth, site.id))[-1] == "SMSIN"  # nothing to answer


async def test_expiry_marks_api_verification_expired(client, auth, site, contact, clock):
    data = await verify(client, auth, "/ext/v1/events/e/verifications",
                        {"contacts": [contact.id], "method": "sms", "timeout_seconds": 60})
    clock.advance(61)
    await client.app[EXPIRY].run_once()
    got = (await (await client.get(f"/ext/v1/verifications/{data['verification_id']}", headers=auth)).json())["data"]
    assert got["status"] == "expired"


async def test_unknown_verification_is_404(client, auth):
    resp = await client.get("/ext/v1/verifications/ver_nope", headers=auth)
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "NOT_FOUND"


async def test_dispatch_with_template_and_reply_window(client, auth, site, contact, clock):
    data = await verify(client, auth, "/ext/v1/dispatches",
                        {"site_id": site.id, "contacts": [contact.id], "template": "police-dispatched",
                         "variables": {"reference": "R-42"}}, status=201)
    assert data["code"] == "SMSDISP" and "R-42" in data["sent_to"][0]["text"]
    await deliver(client)
    assert "R-42" in (await outbox(client, PHONE))[-1]["body"]
    rows = await event_log(client, auth, site.id)
    assert rows[-1]["code"] == "SMSDISP" and "R-42" in rows[-1]["comment"]
    await text(client, PHONE, "on my way")
    row = (await event_log(client, auth, site.id))[-1]
    assert (row["code"], row["comment"], row["details"]["dispatch_id"]) == ("SMSReply", "on my way", data["dispatch_id"])
    clock.advance(minutes=61)
    await text(client, PHONE, "still there?")
    assert codes(await event_log(client, auth, site.id))[-1] == "SMSIN"


async def test_dispatch_edited_text_and_bad_requests(client, auth, site, contact):
    data = await verify(client, auth, "/ext/v1/dispatches",
                        {"site_id": site.id, "contacts": ["all"], "text": "Keyholder: please go to {site_name}."},
                        status=201)
    assert data["sent_to"][0]["text"] == "Keyholder: please go to Main Office."
    missing = await verify(client, auth, "/ext/v1/dispatches",
                           {"site_id": site.id, "contacts": ["all"], "template": "police-dispatched"}, status=422)
    assert missing["error"]["details"]["missing"] == ["reference"]
    unknown = await verify(client, auth, "/ext/v1/dispatches",
                           {"site_id": site.id, "contacts": ["all"], "template": "nope"}, status=422)
    assert unknown["error"]["details"]["field"] == "template"


async def test_a_deleted_contact_leaves_the_dispatch_reply_window(client, auth, site, contact, partner, store,
                                                                  clock):
    # The same phone belongs to a second contact (a spouse sharing a number), who stays.
    await store.add_contact(Contact(id=0, site_id=site.id, first_name="Joan", last_name="Doe", phone=PHONE,
                                    created_at=clock.now()))
    await verify(client, auth, "/ext/v1/dispatches", {"site_id": site.id, "contacts": [contact.id], "text": "Go"},
                 status=201)
    resp = await client.delete(f"/partner/v1/dealers/12345/sites/{site.id}/contacts/{contact.id}", headers=partner)
    assert resp.status == 204
    await text(client, PHONE, "on my way")
    assert codes(await event_log(client, auth))[-1] == "SMSIN"  # not a reply to John's dispatch any more
