"""Finding, reading and checking the configuration file; every problem names its file, line and key."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

import msgspec
import phonenumbers

from gateway.config.channels import check_channels
from gateway.config.secrets import masked_url
from gateway.config.sections import EMAIL_BACKENDS, WEBHOOK_EVENTS, Config, Email, Welcome
from gateway.errors import InvalidPhoneNumber
from gateway.core.phone import to_e164
from gateway.core.templates import placeholders
from gateway.config.validation import validation_problem
from gateway.config.yamlsource import InvalidFile, LineMap, Path_, Problem, YamlSyntaxError, load_yaml, type_name

DEFAULT_PATH = Path("config/gateway.yaml")
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class ConfigFileError(InvalidFile):
    """The configuration file is invalid."""


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

    url = url_parts(config.http.public_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        bad(("http", "public_url"), f"{config.http.public_url!r} is not an http:// or https:// URL")
    db = config.database.url
    if not re.match(r"^(sqlite:///.+|postgres(ql)?(\+\w+)?://.+)$", db):
        bad(("database", "url"), f"{masked_url(db)!r}: expected sqlite:///relative/path, sqlite:////absolute/path or "
                                 "postgresql://...")
    elif config.database.password_file and config.database.engine == "sqlite":
        bad(("database", "password_file"), "is for a postgresql:// url (SQLite has no password)")
    region = config.phone.default_region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        bad(("phone", "default_region"), f"{config.phone.default_region!r} is not a supported ISO region code like US or GB")
    else:
        config.phone.default_region = region
    _check_e164(config.carrier.from_number, ("carrier", "from_number"), bad)
    if config.canary is not None:
        _check_canary(config, bad)
    if config.logging.level.upper() not in LOG_LEVELS:
        bad(("logging", "level"), f"{config.logging.level!r} is not one of {', '.join(LOG_LEVELS)}")
    config.logging.level = config.logging.level.upper()
    if config.outbox.backoff_base_seconds > config.outbox.backoff_max_seconds:
        bad(("outbox", "backoff_base_seconds"), "must not exceed backoff_max_seconds")
    _check_email(config.email, bad)
    check_channels(config, bad)
    _check_welcome(config.welcome, bad)
    for key, allowed in VERIFICATION_TEXT_PLACEHOLDERS.items():
        _check_text(("verifications", key), getattr(config.verifications, key), allowed, bad)
    seen_urls = set()
    for i, hook in enumerate(config.webhooks):
        if url_parts(hook.url).scheme not in ("http", "https"):
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


def url_parts(url: str) -> SplitResult:
    """``url``'s parts; none at all for what urlsplit refuses (``http://[::1``, ``http://host:abc``)."""
    try:
        parts = urlsplit(url)
        _ = parts.hostname, parts.port  # parsed lazily, and may refuse too
        return parts
    except ValueError:
        return SplitResult("", "", "", "", "")


def _check_e164(number: str, path: Path_, bad: Callable[[Path_, str], None]) -> bool:
    try:
        if to_e164(number, "ZZ") == number:
            return True
    except InvalidPhoneNumber:
        pass
    bad(path, f"{number!r} is not an E.164 number like +15550000000")
    return False


def _check_canary(config: Config, bad: Callable[[Path_, str], None]) -> None:
    canary = config.canary
    valid = _check_e164(canary.to_number, ("canary", "to_number"), bad)
    if canary.from_number is not None:
        valid = _check_e164(canary.from_number, ("canary", "from_number"), bad) and valid
    if valid and canary.to_number == (canary.from_number or config.carrier.from_number):
        bad(("canary", "to_number"), "must be another of the gateway's numbers than the one the canary is sent from")
    if canary.timeout_seconds >= canary.every_minutes * 60:
        bad(("canary", "timeout_seconds"), "must be shorter than every_minutes: one canary at a time")


def _check_email(email: Email, bad: Callable[[Path_, str], None]) -> None:
    if email.backend not in EMAIL_BACKENDS:
        bad(("email", "backend"), f"unknown backend {email.backend!r} (have: {', '.join(sorted(EMAIL_BACKENDS))})")
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
    if welcome.logo_url is not None and url_parts(welcome.logo_url).scheme not in ("https", "http", "data"):
        bad(("welcome", "logo_url"), f"{welcome.logo_url!r} is not an http(s):// or data: URL")
    if welcome.video_url is not None and url_parts(welcome.video_url).scheme not in ("https", "http"):
        bad(("welcome", "video_url"), f"{welcome.video_url!r} is not an http:// or https:// URL")
    names = _check_text(("welcome", "text"), welcome.text, WELCOME_TEXT_PLACEHOLDERS, bad)
    if names is not None and "link" not in names:
        bad(("welcome", "text"), "the text must contain {link}, the confirmation page's address")


# The answers the pipeline words from ``verifications`` (README "Several open alarms for one contact").
_WHICH = frozenset({"ref", "alarm", "site_name", "open"})
VERIFICATION_TEXT_PLACEHOLDERS = {
    "already_answered": frozenset({"site_name", "response", "responder", "answered"}),
    "unknown_reference": _WHICH, "newest_closed": _WHICH,
}


def _check_text(path: Path_, text: str, allowed: frozenset[str], bad) -> set[str] | None:
    """The placeholders of ``text``; None (and a problem) when it is malformed or names one not ``allowed``."""
    try:
        names = placeholders(text)
    except ValueError as exc:
        bad(path, str(exc))
        return None
    if unknown := names - allowed:
        bad(path, f"unknown placeholder(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(allowed))}")
        return None
    return names
