"""The welcome confirmation: a text with a one-time link, a page, a Confirm button.

The link's token is the only secret: 256 random bits, kept as a SHA-256 digest, valid for
``welcome.token_days``. It is minted when the outbox hands the text to the carrier
(:meth:`WelcomeService.compose`), so the outbox keeps the text with a ``{link}`` slot and never
the token; each text sent voids the link of the one before.
"""

from __future__ import annotations

import logging
import secrets

import msgspec
from collections.abc import Callable
from datetime import timedelta

from gateway import codes
from gateway.core import segments
from gateway.clock import Clock, isoformat
from gateway.config import Config
from gateway.errors import NoPhone
from gateway.auth.hashes import token_digest
from gateway.core.keywords import KeywordTable
from gateway.daemon.metrics import Metrics
from gateway.model import PRIORITY_NOTICE, Contact, LogEntry, Notification, OutboundMessage, Site
from gateway.stores import OutboxItem, Store
from gateway.stores import Welcome
from gateway.core.templates import render

log = logging.getLogger(__name__)
KIND = "welcome"
LINK_SLOT = "{link}"  # kept in the queued text; the outbox puts the link in as it sends



class WelcomeService:
    def __init__(self, store: Store, config: Config, table: Callable[[], KeywordTable], clock: Clock,
                 metrics: Metrics, wake_sender: Callable[[], None]) -> None:
        self.store = store
        self.config = config
        self.table = table
        self.clock = clock
        self.metrics = metrics
        self.wake_sender = wake_sender

    @property
    def central_station(self) -> str:
        return self.config.welcome.central_station or self.table().central_station

    def link(self, token: str) -> str:
        return f"{self.config.http.public_url.rstrip('/')}/welcome/{token}"

    async def send(self, site: Site, contact: Contact, trace_id: str | None) -> None:
        """Queue the welcome text for ``contact`` and set it pending; the link is made as the text goes out."""
        if not contact.phone:
            raise NoPhone(field="phone_number")
        now = self.clock.now()
        expires = now + timedelta(days=self.config.welcome.token_days)
        body = render(self.config.welcome.text, {
            "central_station": self.central_station, "first_name": contact.first_name,
            "last_name": contact.last_name, "site_name": site.name, "link": LINK_SLOT})
        message = OutboundMessage(to_phone=contact.phone, body=body, kind=KIND, priority=PRIORITY_NOTICE,
                                  from_phone=self.config.carrier.from_number, site_id=site.id,
                                  contact_id=contact.id, expires_at=expires)
        entry = LogEntry(code=codes.WELCOME_SENT, at=now, site_id=site.id, contact_id=contact.id,
                         phone=contact.phone, comment=f"Welcome text queued for {contact.name}.", trace_id=trace_id)
        await self.store.start_welcome(contact.id, None, None, message, [entry], now)
        self.metrics.logged([entry])
        self.wake_sender()
        log.info("trace=%s welcome queued for contact %d of site %s", trace_id, contact.id, site.id)

    async def compose(self, item: OutboxItem) -> OutboxItem:
        """The queued welcome text with a fresh link in its slot (the outbox calls this as it sends)."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        if item.contact_id is not None:
            await self.store.set_welcome_token(item.contact_id, token_digest(token),
                                               now + timedelta(days=self.config.welcome.token_days), now)
        body = item.body.replace(LINK_SLOT, self.link(token))
        return msgspec.structs.replace(item, body=body, segments=segments.count(body).segments)

    async def find(self, token: str) -> tuple[Welcome, Contact, Site] | None:
        """The welcome an unexpired token opens, with its contact and site; None for anything else."""
        if not token or len(token) > 128:
            return None
        welcome = await self.store.welcome_by_token(token_digest(token), self.clock.now())
        contact = await self.store.get_contact(welcome.contact_id) if welcome else None
        site = await self.store.get_site(contact.site_id) if contact else None
        return (welcome, contact, site) if welcome and contact and site else None

    async def confirm(self, welcome: Welcome, contact: Contact, trace_id: str | None) -> bool:
        """Mark confirmed, log it and tell webhook subscribers (``contact.confirmed``); False when it already was."""
        now = self.clock.now()
        entry = LogEntry(code=codes.WELCOME_CONFIRMED, at=now, site_id=contact.site_id, contact_id=contact.id,
                         phone=contact.phone, comment=f"{contact.name} confirmed the welcome message.",
                         trace_id=trace_id)
        notice = Notification(event_type="contact.confirmed", at=now, data={
            "contact_id": contact.id, "external_contact_id": contact.external_contact_id, "site_id": contact.site_id,
            "confirmed_at": isoformat(now)})
        confirmed = await self.store.confirm_welcome(welcome.contact_id, now, [entry], [notice])
        if confirmed:
            self.metrics.logged([entry])
            log.info("trace=%s contact %d confirmed the welcome", trace_id, contact.id)
        return confirmed

    async def send_failed(self, item: OutboxItem, reason: str) -> None:
        """The outbox gave up on a welcome text: the contact's welcome shows send_error."""
        if item.contact_id is not None:
            await self.store.welcome_send_failed(item.contact_id, reason, self.clock.now())
