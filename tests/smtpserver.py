"""A real SMTP server (aiosmtpd) on 127.0.0.1, in the test's own event loop.

``async with SMTPServer() as server:`` then send to ``server.port`` and assert on
``server.messages`` (parsed :class:`email.message.EmailMessage` objects). ``reply``
makes the server answer every RCPT (``at="RCPT"``) or DATA with a fixed line instead,
e.g. ``"451 4.3.0 try later"``. ``users`` turns on AUTH with those logins; ``tls``
is a server-side SSLContext: STARTTLS (required) by default, implicit TLS with
``implicit_tls=True``.
"""

from __future__ import annotations

import asyncio
import email.policy
import ssl
import warnings
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session: Session, envelope: Envelope, address: str, options) -> str:
        if self.server.reply and self.server.reply_at == "RCPT":
            return self.server.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session: Session, envelope: Envelope) -> str:
        if self.server.reply and self.server.reply_at == "DATA":
            return self.server.reply
        message = BytesParser(policy=email.policy.default).parsebytes(envelope.original_content or envelope.content)
        self.server.messages.append(message)
        self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), bool(session.authenticated)))
        return "250 OK"


class SMTPServer:
    def __init__(self, *, users: dict[str, str] | None = None, tls: ssl.SSLContext | None = None,
                 implicit_tls: bool = False, reply: str | None = None, reply_at: str = "DATA") -> None:
        self.users = users
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.reply = reply
        self.reply_at = reply_at
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str], bool]] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and self.users is not None
              and self.users.get(auth_data.login.decode()) == auth_data.password.decode())
        return AuthResult(success=ok, handled=False)

    def _protocol(self) -> SMTP:
        starttls = self.tls if self.tls and not self.implicit_tls else None
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            return SMTP(_Handler(self), hostname="mail.test", tls_context=starttls, require_starttls=starttls is not None,
                        authenticator=self._authenticate if self.users is not None else None,
                        # aiosmtpd only counts STARTTLS as TLS: with implicit TLS the whole session is.
                        auth_require_tls=starttls is not None, auth_required=self.users is not None,
                        enable_SMTPUTF8=True)

    async def __aenter__(self) -> SMTPServer:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, "127.0.0.1", 0,
                                                ssl=self.tls if self.implicit_tls else None)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
