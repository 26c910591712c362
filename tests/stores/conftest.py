"""The contract suite's fixtures: one open store per engine (``sqlite``, ``postgres``), reached only
through the manager, and the records most tests start from."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.model import Contact, Decision, OutboundMessage, Recipient, Site, Verification
from gateway.stores import Store, open_store
from tests.conftest import PHONE


@pytest.fixture
async def store(db_url, clock) -> Store:
    store = open_store(db_url, clock=clock)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def site(store, clock) -> Site:
    return await store.add_site(Site(id="site_main", dealer_id="12345", name="Main Office",
                                     time_zone="America/New_York", created_at=clock.now()))


@pytest.fixture
async def contact(store, site, clock) -> Contact:
    return await store.add_contact(Contact(id=0, site_id=site.id, first_name="John", last_name="Doe", phone=PHONE,
                                           auto_notify=True, created_at=clock.now()))


def verification(site: Site, contacts: list[Contact], clock, vid: str = "ver_1", minutes: int = 5,
                 **fields) -> Verification:
    """An open SMS verification of ``site`` sent to ``contacts``."""
    return Verification(id=vid, site_id=site.id, event_id=fields.pop("event_id", None), process="burglary",
                        status="pending", created_at=clock.now(), timeout_at=clock.now() + timedelta(minutes=minutes),
                        recipients=tuple(Recipient(contact_id=c.id, phone=c.phone) for c in contacts), **fields)


def text_for(v: Verification, contact: Contact, body: str = "Reply YES or NO", **fields) -> OutboundMessage:
    return OutboundMessage(to_phone=contact.phone, from_phone="+15550000000", body=body, kind="verification",
                           priority=100, site_id=v.site_id, contact_id=contact.id, verification_id=v.id, **fields)


async def open_verification(store: Store, site: Site, contacts: list[Contact], clock, **fields) -> Verification:
    """Commit a verification with one text per contact, as an alarm's decision does."""
    v = verification(site, contacts, clock, **fields)
    await store.commit(Decision(opened=[v], outbound=[text_for(v, c) for c in contacts]))
    return v
