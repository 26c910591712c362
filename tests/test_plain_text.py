"""Control and bidi characters in names, external ids and dispatch text: the partner API, the Verifications
and Dispatch API and the command line apply one rule (refuse controls; strip bidi controls from free text,
refuse them in identifiers)."""

from __future__ import annotations

import pytest

from tests.conftest import PHONE

SITES = "/partner/v1/dealers/12345/sites"
CONTACT = {"external_contact_id": "1234", "first_name": "John", "last_name": "Doe", "phone_number": PHONE}
RLO, PDF, LRI = "\u202e", "\u202c", "\u2066"


async def refused(resp) -> str:
    body = await resp.json()
    assert resp.status == 422 and body["error"]["code"] == "VALIDATION_ERROR", body
    return body["error"]["details"]["field"]


@pytest.mark.parametrize("fields, field", [
    ({"first_name": "Jo\x00hn"}, "first_name"),
    ({"last_name": "Doe\x1b[2J"}, "last_name"),
    ({"title": "Key\x07holder"}, "title"),
    ({"first_name": "John\nDoe"}, "first_name"),
    ({"last_name": "Doe\x9b31m"}, "last_name"),  # C1 CSI: a terminal escape too
    ({"external_contact_id": "12\x0034"}, "external_contact_id"),
    ({"external_contact_id": f"12{RLO}34"}, "external_contact_id"),
    ({"email": "john\x00@example.com"}, "email"),
])
async def test_partner_contact_with_control_characters_is_422_naming_the_field(client, partner, site, fields, field):
    resp = await client.post(f"{SITES}/{site.id}/contacts", json={**CONTACT, **fields}, headers=partner)
    assert await refused(resp) == field
    listed = await client.get(f"{SITES}/{site.id}/contacts", headers=partner)
    assert await listed.json() == []


async def test_partner_names_lose_their_bidi_overrides(client, partner, site):
    resp = await client.post(f"{SITES}/{site.id}/contacts", headers=partner,
                             json={**CONTACT, "first_name": f"{RLO}nhoJ{PDF}", "last_name": f"{LRI}Doe\u2069"})
    assert resp.status == 201
    body = await resp.json()
    assert (body["first_name"], body["last_name"]) == ("nhoJ", "Doe")
    put = await client.put(f"{SITES}/{site.id}/contacts/{body['contact_id']}", json={"last_name": "D\x00"},
                           headers=partner)
    assert await refused(put) == "last_name"
    site_resp = await client.post(SITES, json={"name": "Main\x00Office"}, headers=partner)
    assert await refused(site_resp) == "name"


@pytest.mark.parametrize("path, body, field", [
    ("/ext/v1/dispatches", {"contacts": ["all"], "text": "Police\x00 on the way"}, "text"),
    ("/ext/v1/dispatches", {"contacts": ["all"], "template": "police-dispatched",
                            "variables": {"reference": "R\x1b42"}}, "variables.reference"),
    ("/ext/v1/verifications", {"contacts": ["all"], "method": "sms", "message": "Alarm\x07"}, "message"),
    ("/ext/v1/verifications", {"contacts": ["all"], "method": "sms", "subject": "A\nB"}, "subject"),
    ("/ext/v1/events/evt%001/verifications", {"contacts": ["all"], "method": "sms"}, "event_id"),
])
async def test_verification_and_dispatch_text_with_control_characters_is_422(client, auth, site, contact, path,
                                                                             body, field):
    from tests.helpers import outbox

    resp = await client.post(path, json={"site_id": site.id, **body}, headers=auth)
    assert await refused(resp) == field
    assert await outbox(client) == []


async def test_dispatch_text_keeps_its_lines_and_loses_its_bidi_overrides(client, auth, site, contact):
    resp = await client.post("/ext/v1/dispatches", headers=auth, json={
        "site_id": site.id, "contacts": ["all"], "text": f"Police on the way.\nRef {RLO}24-R{PDF}"})
    assert resp.status == 201
    assert (await resp.json())["data"]["sent_to"][0]["text"] == "Police on the way.\nRef 24-R"


@pytest.mark.parametrize("option, message", [
    (("--first-name", "A\x1b[2J"), "--first-name must not contain control characters (found U+001B)"),
    (("--external-id", f"X{RLO}1"), "--external-id must not contain bidi control characters (found U+202E)"),
    (("--title", "\x07"), "--title must not contain control characters (found U+0007)"),
])
def test_cli_contact_add_applies_the_same_rule(tmp_path, option, message):
    from tests.daemon import Daemon

    d = Daemon(tmp_path)
    try:
        site_id = d.cli("site", "add", "--dealer", "1", "--name", f"Main {RLO}eciffO").stdout.split("\t")[0]
        assert d.cli("site", "list").stdout.split("\t")[1] == "Main eciffO"
        names = {"--first-name": "A", "--last-name": "B", **dict([option])}
        result = d.cli("contact", "add", "--site", site_id, *[x for pair in names.items() for x in pair], check=False)
        assert result.returncode == 2 and f"error: {message}" in result.stderr
        assert d.cli("contact", "list", "--site", site_id).stdout == ""
        assert d.cli("site", "add", "--dealer", "1", "--name", "S\x01", check=False).returncode == 2  # argv holds no NUL
    finally:
        d.close()
