"""``gateway contact validate ID`` and the lookup at contact creation: the carrier's line-type lookup."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator

from gateway.carriers import CarrierServices, create_carrier
from gateway.clock import Clock
from gateway.cli.store import opened
from gateway.config import Config
from gateway.services.lookups import PhoneLookups, Validation, lookup_on_create
from gateway.stores import Store


def register_lookup(contact, common: argparse.ArgumentParser) -> None:
    p = contact.add_parser("validate", parents=[common],
                           help="check a contact's phone with the carrier's lookup (mobile, landline...)")
    p.add_argument("contact_id", type=int, metavar="ID")
    p.set_defaults(run=contact_validate)


@contextlib.asynccontextmanager
async def phone_lookups(config: Config, store: Store) -> AsyncIterator[PhoneLookups]:
    clock = Clock()
    carrier = create_carrier(config.carrier.backend, CarrierServices(config, store, clock, None))
    await carrier.start()
    try:
        days = config.carrier.twilio.lookup_cache_days if config.carrier.twilio else 30
        yield PhoneLookups(store, carrier, clock, days)
    finally:
        await carrier.close()


def describe(result: Validation) -> str:
    c, found = result.contact, result.lookup
    return (f"{c.id}\t{c.name}\t{c.phone}\t{c.phone_status}\t{found.line_type or '-'}"
            f"{'' if found.valid else ' (not a valid number)'}{' (cached)' if result.cached else ''}")


async def contact_validate(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store, phone_lookups(config, store) as lookups:
        print(describe(await lookups.validate_contact(args.contact_id)))
    return 0


@contextlib.asynccontextmanager
async def creation_lookups(config: Config, store: Store, phone: str | None) -> AsyncIterator[PhoneLookups | None]:
    """The lookups for a new contact with ``phone`` when ``carrier.twilio.lookup_on_create`` wants one, else None."""
    if not (phone and lookup_on_create(config)):
        yield None
        return
    async with phone_lookups(config, store) as lookups:
        yield lookups
