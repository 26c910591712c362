"""The typed sections of the configuration file, and :class:`Config`, the whole of it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from gateway.config.base import Positive, PositiveFloat, Section
from gateway.config.carrier import Carrier
from gateway.config.channels import Push, Voice


class Http(Section):
    """``http``: where the daemon listens, and the URL the outside world reaches it at."""

    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8080
    public_url: str = "http://127.0.0.1:8080"
    max_body_bytes: Positive = 65536
    header_timeout_seconds: PositiveFloat = 10.0
    body_timeout_seconds: PositiveFloat = 30.0
    keepalive_seconds: PositiveFloat = 75.0
    max_connections: Positive = 1000
    # After SIGTERM, /readyz answers 503 this long while the daemon still serves, so a load balancer takes it out
    # before it stops accepting (behind one: above the health check's interval x fall; alone: 0)
    stop_grace_seconds: Annotated[float, msgspec.Meta(ge=0, le=60)] = 0.0


class Database(Section):
    """``database``: ``sqlite:///relative/path``, ``sqlite:////absolute/path`` or ``postgresql://...``."""

    url: str = "sqlite:///var/gateway.sqlite3"
    password_file: str | None = None  # PostgreSQL: its password (else $PGPASSWORD, else ~/.pgpass)
    pool_size: Positive = 10  # PostgreSQL: connections one daemon keeps open at most

    @property
    def engine(self) -> Literal["sqlite", "postgres"]:
        """The store family the URL names."""
        return "sqlite" if self.url.startswith("sqlite:") else "postgres"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file (relative paths are relative to the working directory); None for PostgreSQL."""
        return Path(self.url[len("sqlite:///"):]) if self.engine == "sqlite" else None


class Phone(Section):
    """``phone``: the ISO region assumed for numbers written without a +country code."""

    default_region: str = "US"


# The names ``email.backend`` may take. The registry that maps each to its class is gateway/mail's BACKENDS
# (a test keeps the two equal): config stays a leaf that imports no family it configures.
EMAIL_BACKENDS = ("none", "smtp")


class Email(Section):
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


class InterfaceCodes(Section):
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


class Interface(Section):
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
    hidden_codes: list[str] = msgspec.field(default_factory=list)  # never shown to a phone (gateway/core/interface/shown.py)
    reply_budget: Positive = 10
    reply_budget_minutes: Positive = 10
    mute_minutes: Positive = 60
    codes: InterfaceCodes = msgspec.field(default_factory=InterfaceCodes)


class Api(Section):
    """``api``: credential files of the automation-platform and partner APIs."""

    keys_file: str | None = None
    oauth_clients_file: str | None = None
    oauth_token_seconds: Annotated[int, msgspec.Meta(ge=60, le=86400)] = 3600


AtLeastTwo = Annotated[int, msgspec.Meta(ge=2)]  # a PIN text costs two checks: less would refuse every one


class CredentialChecks(Section):
    """``credential_checks``: the argon2 time (PINs, API keys, OAuth client secrets) callers may take.

    Counted in checks: a PIN text costs 2 (the PIN and the duress PIN), an API key or a client secret 1.
    """

    per_second: PositiveFloat = 20.0
    burst: AtLeastTwo = 40
    per_caller_per_minute: PositiveFloat = 10.0
    per_caller_burst: AtLeastTwo = 10
    queue: AtLeastTwo = 64
    stranger_queue: AtLeastTwo = 16


class Welcome(Section):
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


class Webhook(Section):
    """One ``webhooks`` entry: where to POST which events (none listed: all), signed with the secret
    in ``secret_file`` or ``$secret_env``; a delivery not accepted within ``max_age_seconds`` is given up."""

    url: str
    secret_file: str | None = None
    secret_env: str | None = None
    events: list[str] = msgspec.field(default_factory=list)
    timeout_seconds: PositiveFloat = 10.0
    max_age_seconds: Positive = 86400


class Outbox(Section):
    """``outbox``: how queued texts are sent and retried."""

    poll_seconds: PositiveFloat = 1.0
    max_attempts: Positive = 8
    backoff_base_seconds: PositiveFloat = 2.0
    backoff_max_seconds: PositiveFloat = 300.0
    drain_seconds: Annotated[float, msgspec.Meta(ge=0)] = 10.0
    batch_size: Positive = 50
    sending_lease_seconds: Positive = 60
    max_in_flight: Positive = 8


class Verifications(Section):
    """``verifications``: the expiry loop and the longest timeout an API caller may ask for."""

    expiry_poll_seconds: PositiveFloat = 1.0
    max_timeout_seconds: Positive = 86400
    default_timeout_seconds: Positive = 300
    process: str | None = None  # the keywords.yaml auto process whose keywords and codes API verifications use
    already_answered: str = "The alarm at {site_name} was already {response} by {responder}."
    # A contact with several open alarms (see "Several open alarms" in the README): a reference none holds ...
    unknown_reference: str = "No open alarm has the reference {ref}. Nothing was changed.{open}"
    # ... and a bare YES/NO after the newest alarm texted to the contact timed out (it may mean that one).
    newest_closed: str = "Alarm {ref} ({alarm}) is no longer open. Nothing was changed.{open}"


class Console(Section):
    """``console``: the operator console at /console/, signed in with an API key into a session cookie."""

    session_minutes: Annotated[int, msgspec.Meta(ge=5, le=10080)] = 480
    secret_file: str | None = None  # the cookies' HMAC key; None: console.key in the daemon's folder, made once
    sign_in_per_minute: PositiveFloat = 5.0  # sign-in attempts per remote address ...
    sign_in_burst: Positive = 5  # ... with this many saved up


class Canary(Section):
    """``canary``: every ``every_minutes`` the gateway texts ``to_number`` (one of its own) from ``from_number``
    (None: ``carrier.from_number``) through the carrier, and expects it back within ``timeout_seconds``."""

    to_number: str
    from_number: str | None = None
    every_minutes: Positive = 15
    timeout_seconds: Annotated[int, msgspec.Meta(ge=10)] = 120


class Logging(Section):
    """``logging``: level name and line format."""

    level: str = "INFO"
    format: Literal["text", "json"] = "text"


class Config(Section, dict=True):
    """The whole configuration. ``source`` is the file it came from, None for built-in defaults."""

    http: Http = msgspec.field(default_factory=Http)
    database: Database = msgspec.field(default_factory=Database)
    carrier: Carrier = msgspec.field(default_factory=Carrier)
    phone: Phone = msgspec.field(default_factory=Phone)
    email: Email = msgspec.field(default_factory=Email)
    keywords: str | None = None
    interface: Interface = msgspec.field(default_factory=Interface)
    api: Api = msgspec.field(default_factory=Api)
    credential_checks: CredentialChecks = msgspec.field(default_factory=CredentialChecks)
    webhooks: list[Webhook] = msgspec.field(default_factory=list)
    welcome: Welcome = msgspec.field(default_factory=Welcome)
    outbox: Outbox = msgspec.field(default_factory=Outbox)
    verifications: Verifications = msgspec.field(default_factory=Verifications)
    console: Console = msgspec.field(default_factory=Console)
    canary: Canary | None = None
    logging: Logging = msgspec.field(default_factory=Logging)
    voice: Voice = msgspec.field(default_factory=Voice)
    push: Push = msgspec.field(default_factory=Push)

    source = None

    @property
    def own_numbers(self) -> list[str]:
        """The gateway's own numbers, where texts to it arrive: the default sender, the senders with a pace of
        their own, the canary's."""
        senders = self.carrier.twilio.max_per_second_by_sender if self.carrier.twilio else {}
        canary = [self.canary.from_number or self.carrier.from_number, self.canary.to_number] if self.canary else []
        return list(dict.fromkeys([self.carrier.from_number, *senders, *canary]))

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

    @property
    def state_folder(self) -> Path:
        """Where the daemon keeps its own files (operator.key, console.key, the lock): beside the SQLite
        file, else ./var."""
        sqlite = self.database.sqlite_path
        return sqlite.parent if sqlite else Path("var")

    def resolve(self, value: str | os.PathLike[str]) -> Path:
        """A path written in the config file, made relative to that file's folder."""
        return self.folder / Path(value).expanduser()
