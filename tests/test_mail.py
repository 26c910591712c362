"""The email backends against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from datetime import datetime, timezone
from pathlib import Path

import pytest
import trustme

from gateway.config import Email, parse_config
from gateway.config import ConfigFileError
from gateway.errors import ConfigurationError, MailError
from gateway.mail import BACKENDS, compose, create_mailer
from tests.smtpserver import SMTPServer

FROM = "Central Station <alarms@station.example>"
PASSWORD = "correct horse battery"


def smtp(port: int, **settings) -> Email:
    return Email(**{"backend": "smtp", "host": "127.0.0.1", "port": port, "starttls": False, "from_address": FROM,
                    "timeout_seconds": 2.0, **settings})


async def started(settings: Email, folder: Path = Path("."), env: dict[str, str] | None = None):
    mailer = create_mailer(settings, folder=folder, env=env or {})
    await mailer.start()
    return mailer


def message(to: str = "anna@example.com"):
    return compose(to, "Alarm at Main St: confirm?", "Burglary, zone 3.\nConfirm: https://gw/c/abc",
                   "<p>Burglary, zone 3.</p>", from_address=FROM)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_tls(ca) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def secrets_folder(tmp_path, ca) -> Path:
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    (tmp_path / "smtp.password").write_text(PASSWORD + "\n")
    return tmp_path


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_compose_sets_unique_id_date_and_both_parts():
    a = compose(["anna@example.com", "ben@example.com"], "Subject", "plain", "<b>html</b>", from_address=FROM,
                now=datetime(2026, 1, 15, 15, 30, tzinfo=timezone.utc))
    b = message()
    assert a["Message-ID"] != b["Message-ID"] and a["Message-ID"].endswith("@station.example>")
    assert a["Date"] == "Thu, 15 Jan 2026 15:30:00 +0000"
    assert a["To"] == "anna@example.com, ben@example.com"
    assert [p.get_content_type() for p in a.iter_parts()] == ["text/plain", "text/html"]


async def test_plain_delivery_arrives_with_headers_and_body():
    async with SMTPServer() as server:
        mailer = await started(smtp(server.port))
        sent = message()
        message_id = await mailer.send(sent)
        await mailer.close()
    assert message_id == sent["Message-ID"]
    [got] = server.messages
    assert got["Message-ID"] == message_id
    assert (got["From"], got["To"], got["Subject"]) == (FROM, "anna@example.com", "Alarm at Main St: confirm?")
    assert got["Date"] == sent["Date"]
    assert got.get_body(("plain",)).get_content().splitlines() == ["Burglary, zone 3.", "Confirm: https://gw/c/abc"]
    assert got.get_body(("html",)).get_content().strip() == "<p>Burglary, zone 3.</p>"
    assert server.envelopes == [("alarms@station.example", ["anna@example.com"], False)]


async def test_send_fills_in_from_and_message_id():
    async with SMTPServer() as server:
        mailer = await started(smtp(server.port))
        bare = compose("anna@example.com", "s", "t", from_address=FROM)
        del bare["From"], bare["Message-ID"]
        message_id = await mailer.send(bare)
    assert server.messages[0]["From"] == FROM and server.messages[0]["Message-ID"] == message_id


async def test_starttls_with_auth_from_password_file_never_logs_the_password(server_tls, secrets_folder, caplog):
    caplog.set_level(logging.DEBUG)
    async with SMTPServer(users={"alarms": PASSWORD}, tls=server_tls) as server:
        settings = smtp(server.port, starttls=True, username="alarms", password_file="smtp.password",
                        ca_file="ca.pem")
        mailer = await started(settings, folder=secrets_folder)
        await mailer.send(message())
    assert server.envelopes == [("alarms@station.example", ["anna@example.com"], True)]
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("gateway", "aiosmtplib"))]
    assert ours and not any(PASSWORD in line for line in ours)


async def test_implicit_tls_with_password_from_env(server_tls, secrets_folder):
    async with SMTPServer(users={"alarms": PASSWORD}, tls=server_tls, implicit_tls=True) as server:
        settings = smtp(server.port, tls=True, username="alarms", password_env="SMTP_PASSWORD", ca_file="ca.pem")
        mailer = await started(settings, folder=secrets_folder, env={"SMTP_PASSWORD": PASSWORD})
        await mailer.send(message())
    assert len(server.messages) == 1 and server.envelopes[0][2] is True


async def test_wrong_password_is_final_and_not_in_the_error(server_tls, secrets_folder):
    async with SMTPServer(users={"alarms": "another password"}, tls=server_tls) as server:
        settings = smtp(server.port, starttls=True, username="alarms", password_file="smtp.password",
                        ca_file="ca.pem")
        mailer = await started(settings, folder=secrets_folder)
        with pytest.raises(MailError) as caught:
            await mailer.send(message())
    assert caught.value.retryable is False and caught.value.code == "535"
    assert PASSWORD not in str(caught.value) and server.messages == []


async def test_untrusted_certificate_is_final(server_tls):
    async with SMTPServer(tls=server_tls) as server:
        mailer = await started(smtp(server.port, starttls=True))  # the system CAs do not know the test CA
        with pytest.raises(MailError) as caught:
            await mailer.send(message())
    assert caught.value.retryable is False and "ca_file" in caught.value.message


async def test_server_down_is_retryable():
    mailer = await started(smtp(closed_port()))
    with pytest.raises(MailError) as caught:
        await mailer.send(message())
    assert caught.value.retryable is True and "127.0.0.1" in caught.value.message


async def test_silent_server_times_out_retryably():
    async def never_greets(reader, writer):
        await asyncio.sleep(30)

    server = await asyncio.start_server(never_greets, "127.0.0.1", 0)
    try:
        mailer = await started(smtp(server.sockets[0].getsockname()[1], timeout_seconds=0.3))
        with pytest.raises(MailError) as caught:
            await mailer.send(message())
    finally:
        server.close()
    assert caught.value.retryable is True


@pytest.mark.parametrize(("reply", "at", "retryable"), [
    ("451 4.3.0 try later", "DATA", True),
    ("452 4.2.2 mailbox full", "RCPT", True),
    ("550 5.1.1 no such user", "RCPT", False),
    ("554 5.7.1 rejected as spam", "DATA", False),
])
async def test_server_replies_are_classified(reply, at, retryable):
    async with SMTPServer(reply=reply, reply_at=at) as server:
        mailer = await started(smtp(server.port))
        with pytest.raises(MailError) as caught:
            await mailer.send(message())
    assert caught.value.retryable is retryable
    assert caught.value.code == reply[:3] and reply[4:] in caught.value.message


async def test_none_backend_refuses():
    mailer = await started(Email())
    with pytest.raises(MailError, match=r"email is not configured \(email.backend: none\)") as caught:
        await mailer.send(message())
    assert caught.value.retryable is False


async def test_start_names_a_missing_password_file_or_unset_env(tmp_path):
    with pytest.raises(ConfigurationError, match="email.password_file: cannot read .*nope"):
        await started(smtp(25, username="u", password_file="nope"), folder=tmp_path)
    with pytest.raises(ConfigurationError, match=r"email.password_env: \$SMTP_PW is not set"):
        await started(smtp(25, username="u", password_env="SMTP_PW"))
    with pytest.raises(ConfigurationError, match="email.ca_file: cannot load"):
        await started(smtp(25, ca_file="missing.pem"), folder=tmp_path)


def test_registry_names():
    """The config checks email.backend against EMAIL_BACKENDS without importing the mail family."""
    from gateway.config.sections import EMAIL_BACKENDS

    assert set(BACKENDS) == set(EMAIL_BACKENDS) == {"none", "smtp"}


def config_problems(text: str) -> list[str]:
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text, "g.yaml")
    return [str(p) for p in caught.value.problems]


def test_config_problems_name_the_key_and_line():
    assert config_problems("email:\n  backend: smtp\n") == [
        "g.yaml:1: email.host: required when backend is smtp",
        "g.yaml:1: email.from_address: required when backend is smtp (e.g. alarms@example.com)",
    ]
    assert config_problems("email:\n  backend: sendmail\n") == [
        "g.yaml:2: email.backend: unknown backend 'sendmail' (have: none, smtp)"]
    assert config_problems("email:\n  backend: smtp\n  host: mx\n  from_address: a@b\n  tls: true\n"
                           "  username: u\n") == [
        "g.yaml:5: email.tls: tls (implicit TLS, port 465) and starttls exclude each other: set starttls: false",
        "g.yaml:6: email.username: needs password_file or password_env",
    ]
    assert config_problems("email:\n  backend: smtp\n  host: mx\n  from_address: nobody\n") == [
        "g.yaml:4: email.from_address: 'nobody' is not an address like alarms@example.com"]
    assert config_problems("email: {port: 0}\n")[0].startswith("g.yaml:1: email.port:")


def test_config_smtp_section():
    email = parse_config("email: {backend: smtp, host: mx.example.com, port: 465, tls: true, starttls: false,"
                         " from_address: alarms@example.com, username: u, password_env: SMTP_PW}\n").email
    assert (email.host, email.port, email.tls, email.starttls, email.timeout_seconds) == (
        "mx.example.com", 465, True, False, 10.0)
