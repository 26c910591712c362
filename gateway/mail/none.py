"""The ``none`` backend: email is not configured, and every send says so."""

from __future__ import annotations

from email.message import EmailMessage

from gateway.errors import MailError
from gateway.mail.base import Mailer


class NoMailer(Mailer):
    name = "none"

    async def send(self, message: EmailMessage) -> str:
        raise MailError("email is not configured (email.backend: none)", retryable=False)
