"""What a carrier backend is: a ``send`` for the outbox and, optionally, webhook routes and the inbound
texts it holds that the gateway may have missed."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from gateway.daemon.metrics import Metrics

if TYPE_CHECKING:
    from aiohttp import web

    from gateway.clock import Clock
    from gateway.config import Config
    from gateway.services.calls import CallDesk
    from gateway.services.inbound import InboundService
    from gateway.model import DeliveryReport, InboundMessage, LogEntry, PhoneLookup
    from gateway.stores import OutboxItem, Store


@dataclass(frozen=True)
class CarrierServices:
    """What a backend may use: the gateway hands these in, the backend imports none of them."""

    config: Config
    store: Store
    clock: Clock
    inbound: InboundService
    metrics: Metrics = field(default_factory=Metrics)  # the daemon's; a command's own, never scraped
    calls: CallDesk | None = None  # what a verification call says and does; None where no call is placed


class Carrier(abc.ABC):
    name: str
    places_calls: ClassVar[bool] = False  # True for a backend that sends outbox messages of channel "call"

    def __init__(self, services: CarrierServices) -> None:
        self.services = services

    async def start(self) -> None:
        """Open connections (HTTP sessions, clients). Called once before the first send."""

    async def close(self) -> None:
        """Release what ``start`` opened."""

    @abc.abstractmethod
    async def send(self, item: OutboxItem) -> str:
        """Hand one message to the carrier and return the carrier's message id.

        Raise :class:`gateway.errors.CarrierError` with ``retryable`` set to say whether
        the outbox should try again.
        """

    def routes(self) -> list[web.RouteDef]:
        """Webhook routes, mounted under ``/carriers/<name>/``."""
        return []

    def delivery_log(self, item: OutboxItem, report: DeliveryReport) -> list[LogEntry]:
        """What the event log keeps of the carrier's delivery ``report`` on ``item``, wherever it is applied (its
        webhook, or the outbox's record of the send it overtook); nothing for a backend without reports."""
        return []

    def max_per_second(self, sender: str) -> float | None:
        """SMS segments per second ``sender`` may send through this carrier; None for no limit."""
        return None

    def recover_inbound_minutes(self) -> int:
        """How far back recovery asks this carrier for inbound texts the gateway missed; 0: it never asks."""
        return 0

    async def missed_inbound(self, to_phone: str, since: datetime) -> list[InboundMessage]:
        """The inbound texts to ``to_phone`` the carrier took at or after ``since`` (``received_at``: when it
        took each), in any order, whether or not the gateway saw them. Raise CarrierError when it cannot say."""
        return []

    async def lookup(self, phone: str) -> PhoneLookup:
        """The carrier's line-type lookup of ``phone``; raise CarrierError when it has none."""
        from gateway.errors import CarrierError

        raise CarrierError(f"The {self.name} carrier has no number lookup.", retryable=False)
