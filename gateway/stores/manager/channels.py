"""The call and push methods' own records: the calls a carrier placed, the loopback carrier's calls, push
subscriptions. (A contact's ``language`` is written with the rest of the contact.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.stores.manager.base import StoreBase
from gateway.stores.records import OutboxItem, outbox_item_from_row


class ChannelStore(StoreBase):
    async def outbound_by_carrier_id(self, carrier: str, carrier_message_id: str) -> tuple[OutboxItem, str] | None:
        """The outbox message a carrier knows as ``carrier_message_id`` (a call's sid), with its outbox status."""
        row = await self.db.fetch("outbound_by_carrier_id", carrier=carrier, carrier_message_id=carrier_message_id)
        return None if row is None else (outbox_item_from_row(row), row["status"])

    async def loopback_call(self, call_id: int) -> dict[str, Any] | None:
        """A call the loopback carrier placed (its outbox row's status is ``outbound_status``), or None."""
        return await self.db.fetch("loopback_call", id=call_id)

    async def save_push_subscription(self, contact_id: int, endpoint: str, p256dh: str, auth: str,
                                     now: datetime) -> None:
        """Keep a browser's push subscription for ``contact_id`` (one endpoint belongs to one contact)."""
        await self.db.execute("save_push_subscription", contact_id=contact_id, endpoint=endpoint, p256dh=p256dh,
                              auth=auth, created_at=now)

    async def push_subscriptions(self, contact_id: int) -> list[dict[str, Any]]:
        return await self.db.fetch("push_subscriptions", contact_id=contact_id)

    async def delete_push_subscription(self, endpoint: str) -> None:
        """Forget a subscription the push service said is gone (404/410)."""
        await self.db.execute("delete_push_subscription", endpoint=endpoint)
