"""What an email backend is: ``start``, ``close`` and one ``send`` of a composed message."""

from __future__ import annotations

import abc
import os
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.config import Email


class Mailer(abc.ABC):
    """One email backend, built from the ``email`` config section.

    ``folder`` is the config file's folder: relative ``*_file`` paths are relative to it.
    """

    name: str

    def __init__(self, settings: Email, *, folder: Path = Path("."), env: Mapping[str, str] = os.environ) -> None:
        self.settings = settings
        self.folder = folder
        self.env = env

    async def start(self) -> None:
        """Read secrets and files the backend needs; raise ConfigurationError naming the key.

        No network here: a mail server that is down must not stop the daemon starting.
        """

    async def close(self) -> None:
        """Release what ``start`` opened."""

    @abc.abstractmethod
    async def send(self, message: EmailMessage) -> str:
        """Deliver one message (see :func:`gateway.mail.compose`) and return its Message-ID.

        Raise :class:`gateway.errors.MailError` with ``retryable`` set to say whether
        sending again later may succeed.
        """
