"""The email family: one backend per module, chosen by ``email.backend``.

A backend sends one composed message (:func:`compose`) and returns its Message-ID, or
raises :class:`gateway.errors.MailError` saying whether a retry may help.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.errors import ConfigurationError
from gateway.mail.base import Mailer
from gateway.mail.message import compose

if TYPE_CHECKING:
    from gateway.config import Email

BACKENDS = {
    "none": "gateway.mail.none:NoMailer",
    "smtp": "gateway.mail.smtp:SMTPMailer",
}


def create_mailer(settings: Email, *, folder: Path = Path("."), env: Mapping[str, str] = os.environ) -> Mailer:
    """An instance of the backend ``settings.backend`` names; pass ``folder=config.folder``."""
    if settings.backend not in BACKENDS:
        raise ConfigurationError(f"email.backend: unknown backend {settings.backend!r} "
                                 f"(have: {', '.join(sorted(BACKENDS))})")
    module, _, cls = BACKENDS[settings.backend].partition(":")
    return getattr(importlib.import_module(module), cls)(settings, folder=folder, env=env)


__all__ = ["BACKENDS", "Mailer", "compose", "create_mailer"]
