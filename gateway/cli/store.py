"""The subcommands: ``admin`` and ``interface`` work on the store directly, ``live`` talks to a running daemon."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from gateway.config import Config
from gateway.stores import Store, configured_store


@contextlib.asynccontextmanager
async def opened(config: Config) -> AsyncIterator[Store]:
    """The configured store, open (and migrated) for one command."""
    store = configured_store(config)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
