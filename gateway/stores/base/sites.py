"""Sites, their contacts and alarm events, and what the SMS interface keeps: site groups, PINs,
per-number state, sites on test."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from datetime import datetime

from gateway.model import AlarmEvent, Contact, InterfaceState, LogEntry, Site, SiteGroup


class SiteStore(abc.ABC):
    """Sites and contacts, and the SMS interface's state."""

    # Sites and contacts
    @abc.abstractmethod
    async def add_site(self, site: Site) -> Site: ...

    @abc.abstractmethod
    async def get_site(self, site_id: str) -> Site | None: ...

    @abc.abstractmethod
    async def list_sites(self, dealer_id: str | None = None) -> list[Site]: ...

    @abc.abstractmethod
    async def add_contact(self, contact: Contact) -> Contact:
        """Insert ``contact`` (its ``id`` is ignored) and return it with the id assigned."""

    @abc.abstractmethod
    async def get_contact(self, contact_id: int) -> Contact | None: ...

    @abc.abstractmethod
    async def list_contacts(self, site_id: str) -> list[Contact]: ...

    @abc.abstractmethod
    async def contacts_by_phone(self, phone: str) -> list[Contact]: ...

    @abc.abstractmethod
    async def get_alarm_event(self, event_id: str) -> AlarmEvent | None: ...

    @abc.abstractmethod
    async def last_alarm_event(self, site_id: str) -> AlarmEvent | None:
        """The newest alarm event the site received."""

    # SMS interface: site groups, PINs, per-number state, sites on test
    @abc.abstractmethod
    async def add_site_group(self, group: SiteGroup) -> SiteGroup: ...

    @abc.abstractmethod
    async def get_site_group(self, group_id: str) -> SiteGroup | None: ...

    @abc.abstractmethod
    async def list_site_groups(self) -> list[SiteGroup]: ...

    @abc.abstractmethod
    async def add_site_to_group(self, group_id: str, site_id: str) -> None: ...

    @abc.abstractmethod
    async def group_sites(self, group_id: str) -> list[Site]:
        """The sites of a group, by name."""

    @abc.abstractmethod
    async def set_pin(self, contact_id: int, pin_hash: str | None, expires_at: datetime | None) -> None: ...

    @abc.abstractmethod
    async def set_duress_pin(self, contact_id: int, pin_hash: str | None) -> None: ...

    @abc.abstractmethod
    async def set_on_test_permission(self, contact_id: int, allowed: bool) -> None: ...

    @abc.abstractmethod
    async def interface_state(self, phone: str) -> InterfaceState | None: ...

    @abc.abstractmethod
    async def end_site_tests(self, now: datetime, log_for: Callable[[str, str], Sequence[LogEntry]]) -> list[str]:
        """Take every site whose test time ran out off test, logging ``log_for(site_id, name)``; the site ids."""
