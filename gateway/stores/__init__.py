"""The store family: one manager (gateway/stores/manager/) over one connector per engine, chosen by
the database URL's scheme."""

from __future__ import annotations

import importlib
from typing import Any

from gateway.errors import ConfigurationError
from gateway.stores.connector import masked
from gateway.stores.manager import Store
from gateway.stores.records import (
    CarrierReport, CommitResult, DeliveryResult, FailedText, InboundText, InboundView, OAuthClient, OptOutState,
    OutboundText, OutboxItem, TokenGrant, WebhookDelivery, Welcome,
)

CONNECTORS = {"sqlite": "gateway.stores.sqlite:SQLiteConnector",
              "postgres": "gateway.stores.postgres:PostgresConnector"}
SCHEMES = {"sqlite": "sqlite", "postgresql": "postgres", "postgres": "postgres"}


def engine_of(url: str) -> str:
    """The engine ``url``'s scheme names; ConfigurationError for one no engine serves."""
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in SCHEMES:
        raise ConfigurationError(f"database.url: no store engine for {scheme!r} (have: {', '.join(SCHEMES)})")
    return SCHEMES[scheme]


def open_store(url: str, *, clock=None, **options: Any) -> Store:
    """The store on ``url``, not yet connected (call ``await store.open()``). ``options`` go to the
    engine's connector (PostgreSQL: ``password``, ``pool_size``)."""
    module, _, name = CONNECTORS[engine_of(url)].partition(":")
    connector = getattr(importlib.import_module(module), name)(url, **options)
    return Store(connector, clock=clock)


def configured_store(config, *, clock=None) -> Store:
    """The store ``config.database`` describes, with its password read (PostgreSQL)."""
    from gateway.config.secrets import read_secret

    db = config.database
    if engine_of(db.url) == "sqlite":
        return open_store(db.url, clock=clock)
    password = read_secret(None, config.resolve(db.password_file) if db.password_file else None, "PGPASSWORD",
                           key="database.password")
    return open_store(db.url, clock=clock, password=password, pool_size=db.pool_size)


__all__ = [
    "CarrierReport", "CommitResult", "DeliveryResult", "FailedText", "InboundText", "InboundView", "OptOutState",
    "OutboundText", "OAuthClient", "OutboxItem", "Store", "TokenGrant",
    "WebhookDelivery", "Welcome", "configured_store", "engine_of", "masked", "open_store",
]
