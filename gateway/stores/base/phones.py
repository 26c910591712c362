"""What the gateway knows about phone numbers: opt-outs (STOP / START) and cached lookups."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime

from gateway.model import LogEntry, PhoneLookup
from gateway.stores.records import OptOutState


class PhoneStore(abc.ABC):
    """Opt-outs and number lookups."""

    # Opt-outs (STOP / START)
    @abc.abstractmethod
    async def opted_out(self, phone: str) -> bool:
        """True when ``phone`` asked (STOP) not to be texted and has not asked back in (START)."""

    @abc.abstractmethod
    async def opt_out_state(self, phone: str) -> OptOutState | None:
        """The number's last opt-out change (None: it never opted out)."""

    @abc.abstractmethod
    async def set_opt_out(self, phone: str, opted_out: bool, source: str, now: datetime,
                          log: Sequence[LogEntry]) -> bool:
        """Record that ``phone`` opted out (or back in); log ``log`` only when that changed anything."""

    # Number lookups
    @abc.abstractmethod
    async def cached_lookup(self, phone: str) -> PhoneLookup | None: ...

    @abc.abstractmethod
    async def save_lookup(self, lookup: PhoneLookup) -> None:
        """Cache ``lookup`` and mark every contact with that phone valid, invalid or unknown."""
