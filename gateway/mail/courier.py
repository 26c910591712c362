"""Emails in the outbox: a verification email with one-time confirm and cancel links.

The outbox hands email-channel messages here as it hands texts to the carrier. Each email
gets a fresh 256-bit token; only its SHA-256 is stored, it expires with the verification and
works once (gateway/web/response_pages.py). Minting the token at send time keeps it out of
the outbox table.
"""

from __future__ import annotations

from gateway.clock import Clock
from gateway.mail.base import Mailer
from gateway.mail.message import compose
from gateway.services.responses import response_link
from gateway.stores import OutboxItem, Store


class EmailCourier:
    """Sends email-channel outbox messages; a MailError is a DeliveryError, so the outbox retries it as a carrier's."""

    name = "email"

    def __init__(self, mailer: Mailer, store: Store, clock: Clock, public_url: str, from_address: str | None) -> None:
        self.mailer = mailer
        self.store = store
        self.clock = clock
        self.public_url = public_url.rstrip("/")
        self.from_address = from_address or "gateway@localhost"

    async def send(self, item: OutboxItem) -> str:
        text = item.body
        link = await response_link(self.store, self.public_url, item)
        if link is not None:
            text += (f"\n\nConfirm the alarm: {link}/confirm\nCancel the alarm: {link}/cancel\n"
                     "Each link works once, until the verification times out. You may also reply by SMS.")
        message = compose(item.to_address or "", item.subject or "Alarm verification", text,
                          from_address=self.from_address, now=self.clock.now())
        return await self.mailer.send(message)
