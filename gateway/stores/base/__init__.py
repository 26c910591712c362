"""What every store engine provides. The rest of the gateway sees only this interface.

``Store`` is composed of one abstract class per area, each in its own module here; an engine
implements them all (``gateway/stores/sqlite/`` mirrors these modules one for one).
"""

from __future__ import annotations

from gateway.stores.base.engine import StoreEngine
from gateway.stores.base.events import EventStore
from gateway.stores.base.outbox import OutboxStore
from gateway.stores.base.partner import PartnerStore
from gateway.stores.base.phones import PhoneStore
from gateway.stores.base.sites import SiteStore
from gateway.stores.records import (
    CarrierReport, CommitResult, DeliveryResult, FailedText, InboundText, InboundView, OAuthClient, OptOutState,
    OutboundText, OutboxItem, TokenGrant, WebhookDelivery, Welcome,
)


class Store(StoreEngine, SiteStore, OutboxStore, EventStore, PartnerStore, PhoneStore):
    """Durable state: sites, contacts, verifications, the outbox, the event log."""


__all__ = [
    "CarrierReport", "CommitResult", "DeliveryResult", "EventStore", "FailedText", "InboundText", "InboundView",
    "OAuthClient", "OptOutState", "OutboundText", "OutboxItem", "OutboxStore", "PartnerStore", "PhoneStore", "SiteStore",
    "Store", "StoreEngine", "TokenGrant", "WebhookDelivery", "Welcome",
]
