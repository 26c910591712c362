"""The store as the subcommands that work on it directly open it, and the sites and groups they name."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from gateway.config import Config
from gateway.errors import GatewayError, UnknownSite
from gateway.model import Site, SiteGroup
from gateway.services.sites import find_site
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


async def named_site(store: Store, site_id: str) -> Site:
    """The site ``--site`` names; an error pointing to ``gateway site list`` when there is none."""
    try:
        return await find_site(store, site_id)
    except UnknownSite:
        raise GatewayError(f"--site: no site {site_id!r} (see `gateway site list`)") from None


async def named_group(store: Store, group_id: str) -> SiteGroup:
    """The site group ``--group`` names; an error pointing to ``gateway group list`` when there is none."""
    group = await store.get_site_group(group_id)
    if group is None:
        raise GatewayError(f"--group: no site group {group_id!r} (see `gateway group list`)")
    return group
