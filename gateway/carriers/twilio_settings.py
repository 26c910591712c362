"""The Twilio carrier's settings: ``carrier.twilio`` with its secrets resolved, and what is wrong with it.

Used at start (a problem stops the daemon) and by ``gateway check``. Secrets come from the
config, a ``*_file`` or the environment and never appear in a message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.config import Config, Twilio, read_secret
from gateway.config.loading import url_parts
from gateway.errors import ConfigurationError

DEFAULT_FROM = "+15550000000"
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_SENDER = re.compile(r"^(\+[1-9]\d{6,14}|\d{3,8})$")  # E.164 long code or a short code


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str = field(repr=False)
    options: Twilio = field(repr=False)  # may hold the token inline
    public_url: str
    from_number: str

    @property
    def status_callback_url(self) -> str:
        return self.public_url + "/carriers/twilio/status"

    def rate_for(self, sender: str) -> float:
        return self.options.max_per_second_by_sender.get(sender, self.options.max_per_second)


def load_settings(config: Config, env: Mapping[str, str] = os.environ) -> TwilioSettings:
    """The settings, or :class:`ConfigurationError` listing every problem (each naming its key)."""
    settings, problems = _resolve(config, env)
    if problems:
        raise ConfigurationError("; ".join(problems), problems=problems)
    assert settings is not None
    return settings


def problems(config: Config, env: Mapping[str, str] = os.environ) -> list[str]:
    """Every problem of the Twilio configuration, as ``key: message``."""
    return _resolve(config, env)[1]


def warnings(config: Config) -> list[str]:
    options = config.carrier.twilio
    if options is not None and not options.validate_signatures:
        return ["carrier.twilio.validate_signatures: OFF. Anyone who can reach /carriers/twilio/ can forge "
                "texts and delivery reports (confirm or cancel alarms). Only for local development."]
    return []


def _resolve(config: Config, env: Mapping[str, str]) -> tuple[TwilioSettings | None, list[str]]:
    options = config.carrier.twilio
    if options is None:
        return None, ["carrier.twilio: required when carrier.backend is twilio (account_sid, auth_token, ...)"]
    found: list[str] = []
    sid = options.account_sid or env.get("TWILIO_ACCOUNT_SID") or None
    if not sid:
        found.append("carrier.twilio.account_sid: missing (set it, or $TWILIO_ACCOUNT_SID)")
    elif not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
        found.append("carrier.twilio.account_sid: not an account SID (AC followed by 32 hex digits)")
    token = None
    try:
        token = read_secret(options.auth_token,
                            config.resolve(options.auth_token_file) if options.auth_token_file else None,
                            "TWILIO_AUTH_TOKEN", env, key="carrier.twilio.auth_token")
    except ConfigurationError as exc:
        found.append(exc.message)
    else:
        if not token:
            found.append("carrier.twilio.auth_token: missing (set auth_token_file, auth_token or $TWILIO_AUTH_TOKEN)")
    service = options.messaging_service_sid
    if service is not None and not re.fullmatch(r"MG[0-9a-fA-F]{32}", service):
        found.append("carrier.twilio.messaging_service_sid: not a Messaging Service SID (MG followed by 32 hex digits)")
    if service is None and config.carrier.from_number == DEFAULT_FROM:
        found.append("carrier.from_number: set your Twilio number (or carrier.twilio.messaging_service_sid): "
                     f"{DEFAULT_FROM} is the placeholder")
    for sender in options.max_per_second_by_sender:
        if not _SENDER.fullmatch(sender):
            found.append(f"carrier.twilio.max_per_second_by_sender: {sender!r} is not an E.164 number or short code")
    public = url_parts(config.http.public_url)
    if public.scheme != "https" and public.hostname not in _LOCAL_HOSTS:
        found.append(f"http.public_url: {config.http.public_url!r} must be https:// for Twilio webhooks "
                     "(only a localhost URL may be http://)")
    if options.api_base_url is not None and url_parts(options.api_base_url).scheme not in ("http", "https"):
        found.append(f"carrier.twilio.api_base_url: {options.api_base_url!r} is not an http(s) URL")
    if found:
        return None, found
    return TwilioSettings(account_sid=sid, auth_token=token, options=options,
                          public_url=config.http.public_url.rstrip("/"),
                          from_number=config.carrier.from_number), []
