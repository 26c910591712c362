"""The daemon's configuration: typed, validated once at start, every key with a default.

The file is found at an explicit path (``gateway -c FILE``), else ``$GATEWAY_CONFIG``,
else ``config/gateway.yaml`` in the working directory, else the built-in defaults, which
run as they are. ``config/gateway.yaml`` documents every key.

``sections`` holds the typed sections and the whole :class:`Config`, ``carrier`` the
carrier's, ``loading`` finds, reads and checks the file, ``secrets`` resolves a secret.
"""

from __future__ import annotations

from gateway.config.base import Positive, PositiveFloat
from gateway.config.carrier import Carrier, Loopback, Twilio
from gateway.config.loading import (DEFAULT_PATH, LOG_LEVELS, WELCOME_TEXT_PLACEHOLDERS, ConfigFileError, load_config,
                                    parse_config)
from gateway.config.channels import Push, Voice
from gateway.config.secrets import read_secret
from gateway.config.sections import (WEBHOOK_EVENTS, Api, Canary, Config, Console, CredentialChecks, Database, Email, Http,
                                     Interface, InterfaceCodes, Logging, Outbox, Phone, Verifications, Webhook, Welcome)

__all__ = [
    "DEFAULT_PATH", "LOG_LEVELS", "WEBHOOK_EVENTS", "WELCOME_TEXT_PLACEHOLDERS",
    "Api", "Canary", "Carrier", "Config", "Console", "ConfigFileError", "CredentialChecks", "Database", "Email", "Http",
    "Interface", "InterfaceCodes",
    "Logging", "Loopback", "Outbox", "Phone", "Positive", "PositiveFloat", "Twilio", "Verifications", "Webhook", "Welcome",
    "load_config", "parse_config", "read_secret",
    "Push", "Voice",
]
