"""The store: one engine-agnostic manager over a connector (gateway/stores/connector.py).

It knows what to read and write for each thing the gateway does (a decision, a claim, a
delivery report ...); the connector knows how to run a named query or a transaction on its
engine. Each area is one module here; ``Store`` is all of them.
"""

from __future__ import annotations

from gateway.stores.manager.call_lists import CallListStore
from gateway.stores.manager.channels import ChannelStore
from gateway.stores.manager.events import EventStore
from gateway.stores.manager.outbox import OutboxStore
from gateway.stores.manager.partner import PartnerStore
from gateway.stores.manager.phones import PhoneStore
from gateway.stores.manager.pipeline import PipelineStore
from gateway.stores.manager.recovery import RecoveryStore
from gateway.stores.manager.sites import SiteStore
from gateway.stores.manager.trace import TraceStore
from gateway.stores.manager.verifications import VerificationStore


class Store(PipelineStore, SiteStore, VerificationStore, OutboxStore, EventStore, PartnerStore, PhoneStore,
            TraceStore, RecoveryStore, CallListStore, ChannelStore):
    """Durable state: sites, contacts, verifications, the outbox, the event log."""


__all__ = ["Store"]
