"""Sites, their contacts and alarm events, and what the SMS interface keeps: site groups, PINs,
sites on test."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from gateway.model import AlarmEvent, Contact, LogEntry, Site, SiteGroup
from gateway.stores.connector import Body, Op
from gateway.stores.manager.base import StoreBase, write_log
from gateway.stores.records import alarm_from_row, contact_from_row, group_from_row, site_from_row


class SiteStore(StoreBase):
    # Sites and contacts
    async def add_site(self, site: Site) -> Site:
        await self.db.execute("insert_site", id=site.id, dealer_id=site.dealer_id, name=site.name,
                              time_zone=site.time_zone, created_at=site.created_at)
        return site

    async def get_site(self, site_id: str) -> Site | None:
        row = await self.db.fetch_few("get_site", id=site_id)
        return site_from_row(row) if row else None

    async def list_sites(self, dealer_id: str | None = None) -> list[Site]:
        return [site_from_row(r) for r in await self.db.fetch("list_sites", dealer_id=dealer_id)]

    async def add_contact(self, contact: Contact) -> Contact:
        """Insert ``contact`` (its ``id`` is ignored) and return it with the id assigned."""
        return contact_from_row(await self.db.transaction(_add_contact, contact))

    async def get_contact(self, contact_id: int) -> Contact | None:
        row = await self.db.fetch("get_contact", id=contact_id)
        return contact_from_row(row) if row else None

    async def list_contacts(self, site_id: str) -> list[Contact]:
        return [contact_from_row(r) for r in await self.db.fetch("list_site_contacts", site_id=site_id)]

    async def contacts_by_phone(self, phone: str) -> list[Contact]:
        return [contact_from_row(r) for r in await self.db.fetch("contacts_by_phone", phone=phone)]

    async def get_alarm_event(self, event_id: str) -> AlarmEvent | None:
        row = await self.db.fetch("get_alarm_event", id=event_id)
        return alarm_from_row(row) if row else None

    # SMS interface: site groups, PINs, sites on test
    async def add_site_group(self, group: SiteGroup) -> SiteGroup:
        await self.db.execute("insert_site_group", id=group.id, dealer_id=group.dealer_id, name=group.name,
                              created_at=group.created_at)
        return group

    async def get_site_group(self, group_id: str) -> SiteGroup | None:
        row = await self.db.fetch("get_site_group", id=group_id)
        return group_from_row(row) if row else None

    async def list_site_groups(self) -> list[SiteGroup]:
        return [group_from_row(r) for r in await self.db.fetch("list_site_groups")]

    async def add_site_to_group(self, group_id: str, site_id: str) -> None:
        await self.db.execute("add_site_to_group", group_id=group_id, site_id=site_id)

    async def group_sites(self, group_id: str) -> list[Site]:
        """The sites of a group, by name."""
        return [site_from_row(r) for r in await self.db.fetch_few("group_sites", group_id=group_id)]

    async def set_pin(self, contact_id: int, pin_hash: str | None, expires_at: datetime | None) -> None:
        await self.db.execute("set_contact_pin", id=contact_id, pin_hash=pin_hash, pin_expires_at=expires_at)

    async def set_duress_pin(self, contact_id: int, pin_hash: str | None) -> None:
        await self.db.execute("set_contact_duress_pin", id=contact_id, duress_pin_hash=pin_hash)

    async def set_on_test_permission(self, contact_id: int, allowed: bool) -> None:
        await self.db.execute("set_contact_on_test_permission", id=contact_id, allowed=allowed)

    async def end_site_tests(self, now: datetime, log_for: Callable[[str, str], Sequence[LogEntry]]) -> list[str]:
        """Take every site whose test time ran out off test, logging ``log_for(site_id, name)``; the site ids."""
        return await self.db.transaction(_end_site_tests, now, log_for)


def contact_params(contact: Contact) -> dict[str, Any]:
    """What a contact's insert and update write (the update ignores site, group and creation time)."""
    return dict(
        site_id=contact.site_id, group_id=contact.group_id, external_contact_id=contact.external_contact_id,
        first_name=contact.first_name, last_name=contact.last_name, phone=contact.phone, email=contact.email,
        auto_notify=contact.auto_notify, email_notify=contact.email_notify, title=contact.title,
        slot_number=contact.slot_number, time_zone=contact.time_zone, on_test_permission=contact.on_test_permission,
        created_at=contact.created_at, call_order=contact.call_order, quiet_hours=contact.quiet_hours,
        language=contact.language)


def _add_contact(contact: Contact) -> Body[dict[str, Any]]:
    new_id = yield Op("insert_contact", contact_params(contact))
    return (yield Op("get_contact", {"id": new_id}))


def _end_site_tests(now: datetime, log_for: Callable[[str, str], Sequence[LogEntry]]) -> Body[list[str]]:
    rows = yield Op("end_site_tests", {"now": now})
    for row in rows:
        yield from write_log(log_for(row["id"], row["name"]))
    return [row["id"] for row in rows]
