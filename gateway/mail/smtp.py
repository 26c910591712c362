"""The ``smtp`` backend: one connection per message through aiosmtplib.

Verification emails are few and urgent, so there is no pooled connection to go stale:
each send connects, upgrades (STARTTLS) or starts in TLS, logs in if configured, sends
and quits, all within ``email.timeout_seconds`` per step.
"""

from __future__ import annotations

import logging
import ssl
from email.message import EmailMessage

import aiosmtplib

from gateway.config import read_secret
from gateway.errors import ConfigurationError, MailError
from gateway.mail.base import Mailer
from gateway.mail.message import message_id

log = logging.getLogger(__name__)


class SMTPMailer(Mailer):
    name = "smtp"
    _password: str | None = None
    _tls_context: ssl.SSLContext | None = None

    async def start(self) -> None:
        s = self.settings
        file = self.folder / s.password_file if s.password_file else None
        self._password = read_secret(None, file, s.password_env, self.env, key="email.password")
        if s.username and self._password is None:
            raise ConfigurationError(f"email.password_env: ${s.password_env} is not set"
                                     if s.password_env else "email.username: needs password_file or password_env")
        if s.ca_file:
            try:
                self._tls_context = ssl.create_default_context(cafile=self.folder / s.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigurationError(f"email.ca_file: cannot load {self.folder / s.ca_file}: "
                                         f"{getattr(exc, 'strerror', None) or exc}") from None

    async def send(self, message: EmailMessage) -> str:
        s = self.settings
        if "From" not in message:
            message["From"] = s.from_address
        if "Message-ID" not in message:
            message["Message-ID"] = message_id(s.from_address)
        where = f"smtp {s.host}:{s.port}"
        try:
            refused, _ = await aiosmtplib.send(
                message, hostname=s.host, port=s.port, use_tls=s.tls, start_tls=s.starttls and not s.tls,
                tls_context=self._tls_context, username=s.username, password=self._password,
                timeout=s.timeout_seconds)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            raise MailError(f"{where}: recipients refused: {detail}", retryable=all(400 <= c < 500 for c in codes),
                            code=str(codes[0])) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise MailError(f"{where}: {exc.code} {exc.message}", retryable=400 <= exc.code < 500,
                            code=str(exc.code)) from None
        except aiosmtplib.SMTPNotSupported as exc:
            # STARTTLS or AUTH not offered: a configuration mismatch, not a passing fault.
            raise MailError(f"{where}: {exc.message}", retryable=False) from None
        except ssl.SSLCertVerificationError as exc:
            raise MailError(f"{where}: TLS certificate not trusted: {exc.verify_message} (see email.ca_file)",
                            retryable=False) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            if isinstance(exc.__cause__, ssl.SSLCertVerificationError):
                raise MailError(f"{where}: TLS certificate not trusted: {exc.__cause__.verify_message} "
                                "(see email.ca_file)", retryable=False) from None
            raise MailError(f"{where}: {exc}", retryable=True) from None
        if refused:
            log.warning("email %s: some recipients refused: %s", message["Message-ID"],
                        ", ".join(f"{rcpt} ({code})" for rcpt, (code, _) in refused.items()))
        log.info("email %s sent to %s via %s", message["Message-ID"], message["To"], where)
        return str(message["Message-ID"])
