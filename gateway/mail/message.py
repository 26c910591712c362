"""Composing an email: plain text with an optional HTML alternative, Message-ID and Date set."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr


def compose(to: str | Sequence[str], subject: str, text: str, html: str | None = None, *,
            from_address: str, now: datetime | None = None) -> EmailMessage:
    """A message ready for :meth:`Mailer.send`, with a unique Message-ID and a Date header.

    ``now`` comes from the gateway's clock (UTC) so tests can fix it.
    """
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = [to] if isinstance(to, str) else list(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(now or datetime.now(timezone.utc))
    message["Message-ID"] = message_id(from_address)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def message_id(from_address: str) -> str:
    """A unique ``<...@domain>`` id on the sender's domain (never a DNS lookup of our hostname)."""
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "alarm-sms-gateway.invalid"
    return make_msgid(domain=domain)


__all__ = ["compose", "message_id"]
