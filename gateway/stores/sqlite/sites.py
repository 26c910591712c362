"""Sites, contacts and alarm events; the SMS interface's site groups, PINs and sites on test."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from gateway.model import AlarmEvent, Contact, InterfaceState, LogEntry, Site, SiteGroup
from gateway.stores.records import (
    alarm_from_row, contact_from_row, group_from_row, interface_state_from_row, site_from_row,
)
from gateway.stores.sqlite.engine import SQLiteEngine
from gateway.stores.sqlite.queries import QUERIES, _t


class SQLiteSites(SQLiteEngine):
    """``SiteStore`` (gateway/stores/base/sites.py) on SQLite."""

    # Sites and contacts
    async def add_site(self, site: Site) -> Site:
        async with self._transaction() as conn:
            await QUERIES.insert_site(conn, id=site.id, dealer_id=site.dealer_id, name=site.name,
                                      time_zone=site.time_zone, created_at=_t(site.created_at))
        return site

    async def get_site(self, site_id: str) -> Site | None:
        row = await QUERIES.get_site(self._read, id=site_id)
        return site_from_row(row) if row else None

    async def list_sites(self, dealer_id: str | None = None) -> list[Site]:
        return [site_from_row(r) async for r in QUERIES.list_sites(self._read, dealer_id=dealer_id)]

    async def add_contact(self, contact: Contact) -> Contact:
        async with self._transaction() as conn:
            new_id = await QUERIES.insert_contact(
                conn, site_id=contact.site_id, group_id=contact.group_id, external_contact_id=contact.external_contact_id,
                first_name=contact.first_name, last_name=contact.last_name, phone=contact.phone,
                email=contact.email, auto_notify=int(contact.auto_notify), email_notify=int(contact.email_notify),
                title=contact.title, slot_number=contact.slot_number, time_zone=contact.time_zone,
                on_test_permission=int(contact.on_test_permission), created_at=_t(contact.created_at),
            )
        return contact_from_row(await QUERIES.get_contact(self._read, id=new_id))

    async def get_contact(self, contact_id: int) -> Contact | None:
        row = await QUERIES.get_contact(self._read, id=contact_id)
        return contact_from_row(row) if row else None

    async def list_contacts(self, site_id: str) -> list[Contact]:
        return [contact_from_row(r) async for r in QUERIES.list_site_contacts(self._read, site_id=site_id)]

    async def contacts_by_phone(self, phone: str) -> list[Contact]:
        return [contact_from_row(r) async for r in QUERIES.contacts_by_phone(self._read, phone=phone)]

    async def get_alarm_event(self, event_id: str) -> AlarmEvent | None:
        row = await QUERIES.get_alarm_event(self._read, id=event_id)
        return alarm_from_row(row) if row else None

    async def last_alarm_event(self, site_id: str) -> AlarmEvent | None:
        row = await QUERIES.get_last_alarm_event(self._read, site_id=site_id)
        return alarm_from_row(row) if row else None

    # SMS interface: site groups, PINs, per-number state, sites on test
    async def add_site_group(self, group: SiteGroup) -> SiteGroup:
        async with self._transaction() as conn:
            await QUERIES.insert_site_group(conn, id=group.id, dealer_id=group.dealer_id, name=group.name,
                                            created_at=_t(group.created_at))
        return group

    async def get_site_group(self, group_id: str) -> SiteGroup | None:
        row = await QUERIES.get_site_group(self._read, id=group_id)
        return group_from_row(row) if row else None

    async def list_site_groups(self) -> list[SiteGroup]:
        return [group_from_row(r) async for r in QUERIES.list_site_groups(self._read)]

    async def add_site_to_group(self, group_id: str, site_id: str) -> None:
        async with self._transaction() as conn:
            await QUERIES.add_site_to_group(conn, group_id=group_id, site_id=site_id)

    async def group_sites(self, group_id: str) -> list[Site]:
        return [site_from_row(r) async for r in QUERIES.group_sites(self._read, group_id=group_id)]

    async def set_pin(self, contact_id: int, pin_hash: str | None, expires_at: datetime | None) -> None:
        async with self._transaction() as conn:
            await QUERIES.set_contact_pin(conn, id=contact_id, pin_hash=pin_hash, pin_expires_at=_t(expires_at))

    async def set_duress_pin(self, contact_id: int, pin_hash: str | None) -> None:
        async with self._transaction() as conn:
            await QUERIES.set_contact_duress_pin(conn, id=contact_id, duress_pin_hash=pin_hash)

    async def set_on_test_permission(self, contact_id: int, allowed: bool) -> None:
        async with self._transaction() as conn:
            await QUERIES.set_contact_on_test_permission(conn, id=contact_id, allowed=int(allowed))

    async def interface_state(self, phone: str) -> InterfaceState | None:
        row = await QUERIES.get_interface_state(self._read, phone=phone)
        return interface_state_from_row(row) if row else None

    async def end_site_tests(self, now: datetime, log_for: Callable[[str, str], Sequence[LogEntry]]) -> list[str]:
        async with self._transaction() as conn:
            rows = [(r["id"], r["name"]) async for r in QUERIES.end_site_tests(conn, now=_t(now))]
            for site_id, name in rows:
                await self._insert_log(conn, log_for(site_id, name))
        return [site_id for site_id, _ in rows]
