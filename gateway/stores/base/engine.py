"""What every engine does to itself (connect, migrate, answer), the pipeline's one read and one write, and
what recovery from the carrier asks of the inbound texts recorded."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime

from gateway.model import Decision
from gateway.stores.records import CommitResult, InboundView


class StoreEngine(abc.ABC):
    """Store lifecycle and the pipeline's read and write."""

    engine: str

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and bring the schema up to date."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def migrate(self) -> list[str]:
        """Apply pending schema migrations; return the names applied."""

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True when the store answers a trivial query and takes a tiny write (a full disk fails it); raises
        StoreUnavailable when it cannot write."""

    # The pipeline's read and write
    @abc.abstractmethod
    async def inbound_view(self, phone: str, now: datetime) -> InboundView:
        """The contacts with this number, its interface state and the verifications it may answer."""

    @abc.abstractmethod
    async def commit(self, decision: Decision) -> CommitResult:
        """Write everything ``decision`` holds in one transaction.

        The inbound message (or alarm event) is recorded first; when its id was seen
        before, nothing is written and ``duplicate`` is true. Replies are recorded as
        outbound messages already sent inline.
        """

    # Inbound texts recorded: what recovery from the carrier asks (gateway/loops/recovery.py)
    @abc.abstractmethod
    async def newest_inbound_at(self, carrier: str, to_phone: str) -> datetime | None:
        """When the newest inbound text to ``to_phone`` through ``carrier`` was recorded; None: never."""

    @abc.abstractmethod
    async def seen_inbound(self, carrier: str, carrier_message_ids: Sequence[str]) -> set[str]:
        """Those of ``carrier_message_ids`` already recorded as inbound texts of ``carrier``."""
