"""The carrier family: one backend per module, chosen by ``carrier.backend``.

A backend sends outbox messages (``send``) and, where the carrier calls us, mounts its
webhook routes under ``/carriers/<name>/``.
"""

from __future__ import annotations

import importlib

from gateway.carriers.base import Carrier, CarrierServices
from gateway.errors import ConfigurationError

BACKENDS = {
    "loopback": "gateway.carriers.loopback:LoopbackCarrier",
    "twilio": "gateway.carriers.twilio:TwilioCarrier",
}


def backend_class(name: str) -> type[Carrier]:
    """The class registered as ``name`` (KeyError for an unknown one)."""
    module, _, cls = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def create_carrier(name: str, services: CarrierServices) -> Carrier:
    """An instance of the backend registered as ``name``."""
    if name not in BACKENDS:
        raise ConfigurationError(f"carrier.backend: unknown backend {name!r} (have: {', '.join(sorted(BACKENDS))})")
    return backend_class(name)(services)


__all__ = ["BACKENDS", "Carrier", "backend_class", "CarrierServices", "create_carrier"]
