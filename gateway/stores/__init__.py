"""The store family: one engine per module, chosen by the database URL's scheme."""

from __future__ import annotations

from gateway.stores.base import CommitResult, OutboxItem, Store

ENGINES = {"sqlite": "gateway.stores.sqlite:SQLiteStore"}


def open_store(url: str, *, clock=None) -> Store:
    """The engine registered for ``url``'s scheme, not yet connected (call ``await store.open()``)."""
    import importlib

    scheme = url.split(":", 1)[0].split("+", 1)[0]
    engine = {"postgresql": "postgres", "postgres": "postgres"}.get(scheme, scheme)
    if engine not in ENGINES:
        from gateway.errors import ConfigurationError

        raise ConfigurationError(f"database.url: no store engine for {scheme!r} (have: {', '.join(sorted(ENGINES))})")
    module, _, name = ENGINES[engine].partition(":")
    return getattr(importlib.import_module(module), name)(url, clock=clock)


__all__ = ["CommitResult", "OutboxItem", "Store", "open_store"]
