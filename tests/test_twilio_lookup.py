"""Lookup v2 line type intelligence: `gateway contact validate`, the lookup at creation, the cache."""

from __future__ import annotations

import argparse

import pytest

from gateway.cli.admin import contact_add
from gateway.cli.validate import contact_validate
from gateway.errors import GatewayError
from gateway.web.appkeys import STORE
from tests.conftest import PHONE
from tests.fake_twilio import with_twilio


@pytest.fixture
def config(config, fake_twilio):
    return with_twilio(config, fake_twilio)


async def validate(config, contact_id: int) -> None:
    await contact_validate(config, argparse.Namespace(contact_id=contact_id))


@pytest.mark.parametrize("line, status", [("mobile", "valid"), ("landline", "invalid"), (None, "invalid"),
                                          ("fixedVoip", "unknown")])
async def test_validate_marks_the_phone(app, store, config, fake_twilio, contact, capsys, line, status):
    fake_twilio.lines[PHONE] = line
    await validate(config, contact.id)
    updated = await app[STORE].get_contact(contact.id)
    assert (updated.phone_status, updated.line_type) == (status, line)
    assert f"\t{status}\t" in capsys.readouterr().out


async def test_results_are_cached(app, store, config, fake_twilio, contact, capsys):
    await validate(config, contact.id)
    await validate(config, contact.id)
    assert fake_twilio.lookups == [PHONE]
    assert capsys.readouterr().out.splitlines()[-1].endswith("(cached)")


async def test_lookup_at_contact_creation_when_configured(app, store, config, fake_twilio, site, capsys):
    args = argparse.Namespace(site=site.id, group=None, first_name="Jane", last_name="Roe", phone="(555) 012-3457",
                              email=None, auto_notify=True, email_notify=False, title=None, slot_number=None,
                              time_zone=None, external_id=None, on_test_permission=False, call_order=None,
                              quiet_hours=None, language=None)
    fake_twilio.lines["+15550123457"] = "landline"
    await contact_add(config, args)
    assert fake_twilio.lookups == []  # off by default
    await contact_add(with_twilio(config, fake_twilio, lookup_on_create=True), args)
    assert fake_twilio.lookups == ["+15550123457"]
    assert "\tinvalid\tlandline" in capsys.readouterr().out


async def test_a_failed_lookup_at_creation_leaves_the_contact_created_and_unknown(app, store, config, fake_twilio,
                                                                                  site, capsys, caplog):
    args = argparse.Namespace(site=site.id, group=None, first_name="Jane", last_name="Roe", phone="(555) 012-3457",
                              email=None, auto_notify=True, email_notify=False, title=None, slot_number=None,
                              time_zone=None, external_id=None, on_test_permission=False, call_order=None,
                              quiet_hours=None, language=None)
    config = with_twilio(config, fake_twilio, lookup_on_create=True)
    fake_twilio.auth_token = "not the gateway's"  # every lookup is refused
    assert await contact_add(config, args) == 0
    assert capsys.readouterr().out.strip().split("\t") == ["1", "Jane Roe", "+1 555-012-3457"]
    assert [(c.name, c.phone_status) for c in await store.list_contacts(site.id)] == [("Jane Roe", "unknown")]
    assert "phone lookup failed" in caplog.text


async def test_loopback_has_no_lookup(store, contact, config):
    import msgspec

    from gateway.config import Carrier

    with pytest.raises(GatewayError, match="no number lookup"):
        await validate(msgspec.structs.replace(config, carrier=Carrier()), contact.id)


@pytest.fixture
def lookup_config(config, fake_twilio):
    return with_twilio(config, fake_twilio, lookup_on_create=True)


async def test_partner_api_contact_is_looked_up_when_configured(aiohttp_client, lookup_config, clock, fake_twilio):
    from gateway.model import Site
    from gateway.auth.oauth import create_client
    from gateway.web.app import create_app
    from gateway.web.appkeys import STORE

    client = await aiohttp_client(create_app(lookup_config, clock=clock, run_loops=False))
    store = client.app[STORE]
    await store.add_site(Site(id="site_main", dealer_id="12345", name="Main Office", created_at=clock.now()))
    client_id, secret = await create_client(store, "12345", "tests", clock)
    token = await (await client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                           "client_secret": secret})).json()
    resp = await client.post("/partner/v1/dealers/12345/sites/site_main/contacts",
                             headers={"Authorization": f"Bearer {token['access_token']}"},
                             json={"external_contact_id": "x1", "first_name": "A", "last_name": "B",
                                   "phone_number": "5550123457"})
    body = await resp.json()
    assert resp.status == 201 and fake_twilio.lookups == ["+15550123457"]
    assert body["verification"]["phone"] == "valid"
    fake_twilio.auth_token = "not the gateway's"  # a lookup that fails: the contact is created all the same
    resp = await client.post("/partner/v1/dealers/12345/sites/site_main/contacts",
                             headers={"Authorization": f"Bearer {token['access_token']}"},
                             json={"external_contact_id": "x2", "first_name": "C", "last_name": "D",
                                   "phone_number": "5550123458"})
    assert resp.status == 201 and (await resp.json())["verification"]["phone"] == "unknown"
