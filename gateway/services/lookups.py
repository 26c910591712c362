"""Checking a contact's phone with the carrier's number lookup, with results cached in the store.

A landline or an invalid number cannot take a verification text: the contact's phone is
marked invalid (the "Send Error" an operator sees); a mobile number is marked valid.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec

from gateway.carriers import Carrier
from gateway.clock import Clock
from gateway.config import Config
from gateway.errors import GatewayError
from gateway.model import Contact, PhoneLookup
from gateway.stores import Store


def lookup_on_create(config: Config) -> bool:
    """Whether a new contact's phone is looked up as it is created (``carrier.twilio.lookup_on_create``)."""
    return config.carrier.twilio is not None and config.carrier.twilio.lookup_on_create


class Validation(msgspec.Struct, frozen=True, kw_only=True):
    contact: Contact
    lookup: PhoneLookup
    cached: bool


class PhoneLookups:
    def __init__(self, store: Store, carrier: Carrier, clock: Clock, cache_days: int) -> None:
        self.store = store
        self.carrier = carrier
        self.clock = clock
        self.max_age = timedelta(days=cache_days)

    async def look_up(self, phone: str) -> tuple[PhoneLookup, bool]:
        """The lookup of ``phone`` (from the cache while fresh), and whether it came from the cache.

        A fresh answer is cached and marks every contact with that phone.
        """
        cached = await self.store.cached_lookup(phone)
        if cached is not None and self.clock.now() - cached.looked_up_at < self.max_age:
            return cached, True
        result = await self.carrier.lookup(phone)
        await self.store.save_lookup(result)
        return result, False

    async def validate_contact(self, contact_id: int) -> Validation:
        """Look up the contact's phone and return the contact with its phone status updated."""
        contact = await self.store.get_contact(contact_id)
        if contact is None:
            raise GatewayError(f"No contact {contact_id}.")
        if not contact.phone:
            raise GatewayError(f"Contact {contact_id} has no phone number.")
        result, cached = await self.look_up(contact.phone)
        if cached and contact.phone_status != result.phone_status:
            await self.store.save_lookup(result)
        return Validation(contact=await self.store.get_contact(contact_id), lookup=result, cached=cached)
