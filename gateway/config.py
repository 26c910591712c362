"""The daemon's configuration: typed, validated once at start, every key with a default.

The file is found at an explicit path (``gateway -c FILE``), else ``$GATEWAY_CONFIG``,
else ``config/gateway.yaml`` in the working directory, else the built-in defaults, which
run as they are. ``config/gateway.yaml`` documents every key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import msgspec
import phonenumbers

from gateway.errors import ConfigurationError, InvalidPhoneNumber
from gateway.mail import BACKENDS as MAIL_BACKENDS
from gateway.phone import to_e164
from gateway.templates import placeholders
from gateway.yamlsource import (InvalidFile, LineMap, Path_, Problem, YamlSyntaxError, load_yaml, type_name,
                                validation_problem)

Positive = Annotated[int, msgspec.Meta(gt=0)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]
DEFAULT_PATH = Path("config/gateway.yaml")
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class ConfigFileError(InvalidFile):
    """The configuration file is invalid."""


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class Http(_Section):
    """``http``: where the daemon listens, and the URL the outside world reaches it at."""

    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8080
    public_url: str = "http://127.0.0.1:8080"
    max_body_bytes: Positive = 65536


class Database(_Section):
    """``database``: ``sqlite:///relative/path``, ``sqlite:////absolute/path`` or ``postgresql://...``."""

    url: str = "sqlite:///var/gateway.sqlite3"

    @property
    def engine(self) -> Literal["sqlite", "postgres"]:
        """The store family the URL names."""
        return "sqlite" if self.url.startswith("sqlite:") else "postgres"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file (relative paths are relative to the working directory); None for PostgreSQL."""
        return Path(self.url[len("sqlite:///"):]) if self.engine == "sqlite" else None


class Twilio(_Section):
    """``carrier.twilio``: the account, webhook signatures, sending pace, validity and lookups.

    ``account_sid`` and ``auth_token`` may also come from ``$TWILIO_ACCOUNT_SID`` and
    ``$TWILIO_AUTH_TOKEN``, the token from ``auth_token_file``.
    """

    account_sid: str | None = None
    auth_token: str | None = None
    auth_token_file: str | None = None
    messaging_service_sid: str | None = None
    validate_signatures: bool = True
    status_callback: bool = True
    max_per_second: PositiveFloat = 1.0
    max_per_second_by_sender: dict[str, PositiveFloat] = msgspec.field(default_factory=dict)
    request_timeout_seconds: PositiveFloat = 10.0
    alarm_validity_seconds: Annotated[int, msgspec.Meta(ge=1, le=36000)] = 600
    lookup_on_create: bool = False
    lookup_cache_days: Positive = 30
    api_base_url: str | None = None  # tests point the client at a fake Twilio


class Carrier(_Section):
    """``carrier``: the SMS backend by registry name, and the default sender number."""

    backend: str = "loopback"
    from_number: str = "+15550000000"
    twilio: Twilio | None = None
    # The loopback carrier's simulated network time per send (load runs, crash tests).
    loopback_latency_seconds: Annotated[float, msgspec.Meta(ge=0, le=10)] = 0.0


class Phone(_Section):
    """``phone``: the ISO region assumed for numbers written without a +country code."""

    default_region: str = "US"


class Email(_Section):
    """``email``: the email backend by registry name (``none`` or ``smtp``) and its SMTP server."""

    backend: str = "none"
    host: str | None = None
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 587
    username: str | None = None
    password_file: str | None = None
    password_env: str | None = None
    starttls: bool = True
    tls: bool = False
    ca_file: str | None = None
    from_address: str | None = None
    timeout_seconds: PositiveFloat = 10.0


class InterfaceCodes(_Section):
    """``interface.codes``: the event code logged for each thing the SMS interface does."""

    login: str = "SMSLOGIN"
    logout: str = "SMSLOGOUT"
    failed_pin: str = "SMSBADPIN"
    lockout: str = "SMSLOCKOUT"
    expired_pin: str = "SMSPINEXP"
    duress: str = "DURESS"
    muted: str = "SMSMUTED"
    help: str = "SMSCMDHELP"
    sites: str = "SMSCMDSITES"
    status: str = "SMSCMDSTAT"
    test: str = "SMSCMDTEST"
    untest: str = "SMSCMDUNTEST"
    events: str = "SMSCMDEVENTS"
    unknown_command: str = "SMSCMDUNK"
    test_start: str = "ONTEST"
    test_end: str = "OFFTEST"


class Interface(_Section):
    """``interface``: the PIN-authenticated SMS interface."""

    pin_duration_days: Positive = 365
    session_minutes: Positive = 15
    max_pin_failures: Positive = 5
    pin_failure_window_minutes: Positive = 15
    lockout_minutes: Positive = 30
    pending_command_seconds: Positive = 120
    max_test_minutes: Positive = 480
    status_events: Positive = 3
    max_events: Positive = 20
    reply_budget: Positive = 10
    reply_budget_minutes: Positive = 10
    mute_minutes: Positive = 60
    codes: InterfaceCodes = msgspec.field(default_factory=InterfaceCodes)


class Api(_Section):
    """``api``: credential files of the automation-platform and partner APIs."""

    keys_file: str | None = None
    oauth_clients_file: str | None = None
    oauth_token_seconds: Annotated[int, msgspec.Meta(ge=60, le=86400)] = 3600


class Welcome(_Section):
    """``welcome``: the text and page that welcome a contact added through the partner API."""

    central_station: str | None = None  # None: keywords.yaml's central_station
    logo_url: str | None = None
    video_url: str | None = None
    message: str = ("You have been added as an alarm contact. When an alarm goes off we will text you "
                    "and ask you to confirm or cancel it. Please watch the short introduction video, "
                    "then press Confirm.")
    text: str = ("{central_station}: Hello {first_name}, you are now an alarm contact for {site_name}. "
                 "Please open {link} to confirm.")
    token_days: Annotated[int, msgspec.Meta(ge=1, le=90)] = 14


WEBHOOK_EVENTS = ("verification.responded", "verification.expired", "verification.failed", "contact.confirmed",
                  "contact.opted_out")


class Webhook(_Section):
    """One ``webhooks`` entry: where to POST which events (none listed: all), signed with the secret
    in ``secret_file`` or ``$secret_env``; a delivery not accepted within ``max_age_seconds`` is given up."""

    url: str
    secret_file: str | None = None
    secret_env: str | None = None
    events: list[str] = msgspec.field(default_factory=list)
    timeout_seconds: PositiveFloat = 10.0
    max_age_seconds: Positive = 86400


class Outbox(_Section):
    """``outbox``: how queued texts are sent and retried."""

    poll_seconds: PositiveFloat = 1.0
    max_attempts: Positive = 8
    backoff_base_seconds: PositiveFloat = 2.0
    backoff_max_seconds: PositiveFloat = 300.0
    drain_seconds: Annotated[float, msgspec.Meta(ge=0)] = 10.0
    batch_size: Positive = 50
    sending_lease_seconds: Positive = 60
    max_in_flight: Positive = 8


class Verifications(_Section):
    """``verifications``: the expiry loop and the longest timeout an API caller may ask for."""

    expiry_poll_seconds: PositiveFloat = 1.0
    max_timeout_seconds: Positive = 86400
    default_timeout_seconds: Positive = 300
    process: str | None = None  # the keywords.yaml auto process whose keywords and codes API verifications use
    already_answered: str = "The alarm at {site_name} was already {response} by {responder}."


class Logging(_Section):
    """``logging``: level name and line format."""

    level: str = "INFO"
    format: Literal["text", "json"] = "text"


class Config(_Section, dict=True):
    """The whole configuration. ``source`` is the file it came from, None for built-in defaults."""

    http: Http = msgspec.field(default_factory=Http)
    database: Database = msgspec.field(default_factory=Database)
    carrier: Carrier = msgspec.field(default_factory=Carrier)
    phone: Phone = msgspec.field(default_factory=Phone)
    email: Email = msgspec.field(default_factory=Email)
    keywords: str | None = None
    interface: Interface = msgspec.field(default_factory=Interface)
    api: Api = msgspec.field(default_factory=Api)
    webhooks: list[Webhook] = msgspec.field(default_factory=list)
    welcome: Welcome = msgspec.field(default_factory=Welcome)
    outbox: Outbox = msgspec.field(default_factory=Outbox)
    verifications: Verifications = msgspec.field(default_factory=Verifications)
    logging: Logging = msgspec.field(default_factory=Logging)

    source = None

    @property
    def folder(self) -> Path:
        """The config file's folder (the working directory for built-in defaults)."""
        return Path(self.source).parent if self.source is not None else Path(".")

    @property
    def keywords_path(self) -> Path:
        """The keyword file: ``keywords`` relative to the config's folder; by default beside that folder."""
        if self.keywords is not None:
            return self.resolve(self.keywords)
        return self.folder.parent / "keywords.yaml" if self.source is not None else Path("keywords.yaml")

    def resolve(self, value: str | os.PathLike[str]) -> Path:
        """A path written in the config file, made relative to that file's folder."""
        return self.folder / Path(value).expanduser()


def load_config(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] = os.environ) -> Config:
    """Find, read and validate the configuration; :class:`ConfigFileError` names file, line and key."""
    if path is None and env.get("GATEWAY_CONFIG"):
        path = env["GATEWAY_CONFIG"]
    if path is None:
        if not DEFAULT_PATH.is_file():
            return Config()
        path = DEFAULT_PATH
    filename = os.fspath(path)
    try:
        text = Path(filename).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError([Problem(filename, 0, "", f"cannot read the config file: {exc.strerror}")]) from None
    config = parse_config(text, filename)
    config.source = Path(filename)
    return config


def parse_config(text: str, filename: str = "<config>") -> Config:
    """Validate YAML text as a :class:`Config`; the file name is for messages only."""
    try:
        data, lines = load_yaml(text, filename)
    except YamlSyntaxError as exc:
        raise ConfigFileError(exc.problems) from None
    if lines.problems:
        raise ConfigFileError(lines.problems)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigFileError([lines.problem((), f"expected a mapping of sections, got {type_name(data)}")])
    try:
        config = msgspec.convert(data, Config, strict=True)
    except msgspec.ValidationError as exc:
        raise ConfigFileError([validation_problem(exc, lines, Config)]) from None
    problems = _check(config, lines)
    if problems:
        raise ConfigFileError(problems)
    return config


def _check(config: Config, lines: LineMap) -> list[Problem]:
    problems = []

    def bad(path: Path_, message: str) -> None:
        problems.append(lines.problem(path, message))

    url = urlsplit(config.http.public_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        bad(("http", "public_url"), f"{config.http.public_url!r} is not an http:// or https:// URL")
    db = config.database.url
    if not re.match(r"^(sqlite:///.+|postgres(ql)?(\+\w+)?://.+)$", db):
        bad(("database", "url"), f"{db!r}: expected sqlite:///relative/path, sqlite:////absolute/path or postgresql://...")
    region = config.phone.default_region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        bad(("phone", "default_region"), f"{config.phone.default_region!r} is not a supported ISO region code like US or GB")
    else:
        config.phone.default_region = region
    number = config.carrier.from_number
    try:
        if to_e164(number, "ZZ") != number:
            raise InvalidPhoneNumber()
    except InvalidPhoneNumber:
        bad(("carrier", "from_number"), f"{number!r} is not an E.164 number like +15550000000")
    if config.logging.level.upper() not in LOG_LEVELS:
        bad(("logging", "level"), f"{config.logging.level!r} is not one of {', '.join(LOG_LEVELS)}")
    config.logging.level = config.logging.level.upper()
    if config.outbox.backoff_base_seconds > config.outbox.backoff_max_seconds:
        bad(("outbox", "backoff_base_seconds"), "must not exceed backoff_max_seconds")
    _check_email(config.email, bad)
    _check_welcome(config.welcome, bad)
    seen_urls = set()
    for i, hook in enumerate(config.webhooks):
        if urlsplit(hook.url).scheme not in ("http", "https"):
            bad(("webhooks", i, "url"), f"{hook.url!r} is not an http:// or https:// URL")
        elif hook.url in seen_urls:
            bad(("webhooks", i, "url"), "listed twice: the URL is the subscriber's key")
        seen_urls.add(hook.url)
        if (hook.secret_file is None) == (hook.secret_env is None):
            bad(("webhooks", i), "give secret_file or secret_env (exactly one): deliveries are signed")
        for j, event in enumerate(hook.events):
            if event not in WEBHOOK_EVENTS:
                bad(("webhooks", i, "events", j), f"{event!r} is not one of {', '.join(WEBHOOK_EVENTS)}")
    return sorted(problems, key=lambda p: p.line)


def _check_email(email: Email, bad: Callable[[Path_, str], None]) -> None:
    if email.backend not in MAIL_BACKENDS:
        bad(("email", "backend"), f"unknown backend {email.backend!r} (have: {', '.join(sorted(MAIL_BACKENDS))})")
    if email.backend != "smtp":
        return
    if not email.host:
        bad(("email", "host"), "required when backend is smtp")
    if not email.from_address:
        bad(("email", "from_address"), "required when backend is smtp (e.g. alarms@example.com)")
    elif "@" not in parseaddr(email.from_address)[1]:
        bad(("email", "from_address"), f"{email.from_address!r} is not an address like alarms@example.com")
    if email.tls and email.starttls:
        bad(("email", "tls"), "tls (implicit TLS, port 465) and starttls exclude each other: set starttls: false")
    if email.password_file and email.password_env:
        bad(("email", "password_file"), "give password_file or password_env, not both")
    if email.username and not (email.password_file or email.password_env):
        bad(("email", "username"), "needs password_file or password_env")
    if not email.username and (email.password_file or email.password_env):
        bad(("email", "password_file" if email.password_file else "password_env"), "needs username")


WELCOME_TEXT_PLACEHOLDERS = frozenset({"central_station", "first_name", "last_name", "site_name", "link"})


def _check_welcome(welcome: Welcome, bad) -> None:
    if welcome.logo_url is not None and urlsplit(welcome.logo_url).scheme not in ("https", "http", "data"):
        bad(("welcome", "logo_url"), f"{welcome.logo_url!r} is not an http(s):// or data: URL")
    if welcome.video_url is not None and urlsplit(welcome.video_url).scheme not in ("https", "http"):
        bad(("welcome", "video_url"), f"{welcome.video_url!r} is not an http:// or https:// URL")
    try:
        names = placeholders(welcome.text)
    except ValueError as exc:
        bad(("welcome", "text"), str(exc))
        return
    if unknown := names - WELCOME_TEXT_PLACEHOLDERS:
        bad(("welcome", "text"), f"unknown placeholder(s) {', '.join(sorted(unknown))}; "
                                 f"use {', '.join(sorted(WELCOME_TEXT_PLACEHOLDERS))}")
    elif "link" not in names:
        bad(("welcome", "text"), "the text must contain {link}, the confirmation page's address")


def read_secret(value: str | None, file: str | os.PathLike[str] | None, env_name: str | None,
                env: Mapping[str, str] = os.environ, *, key: str = "secret") -> str | None:
    """A secret from its ``*_file`` (content stripped), else the inline value, else ``$env_name``.

    ``key`` names the setting in error messages, which never contain the secret itself.
    Giving both a value and a file is an error, as is a file that is missing or empty.
    """
    if value is not None and file is not None:
        raise ConfigurationError(f"{key}: give either {key} or {key}_file, not both", key=key)
    if file is not None:
        try:
            text = Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"{key}_file: cannot read {os.fspath(file)}: {exc.strerror}", key=key) from None
        if not text:
            raise ConfigurationError(f"{key}_file: {os.fspath(file)} is empty", key=key)
        return text
    if value is not None:
        return value
    return env.get(env_name) or None if env_name else None
